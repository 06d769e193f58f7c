"""CPU time of the cold-query protocol on an existing index, for one or more versions of
the code side by side.

    .venv/bin/python -m bench.cold_cpu INDEX [PROCESSES] [SRC ...]

Each SRC is a checkout's ``src`` folder (default: whichever newsearch is importable). Per
round, each SRC in turn runs ``bench/test_cold_queries.py``'s child in a fresh process
(warm-up on the query-path queries, each cold query once, then the warm rounds) on INDEX
(built beforehand with ``newsearch index``); PROCESSES rounds (default 3). Unlike
``bench/compare_commits.py`` nothing is rebuilt, so versions that read the same index
format compare on the very same files. Prints cold and warm CPU and wall p50/p95 per SRC,
then the p50, p95 and sum of each query's best CPU time over the rounds, and the cold
queries' best times by kind (words, phrase, near, prefix ...).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys

from .conftest import ROOT, percentile
from .test_cold_queries import COLD_QUERIES


def _child(index: str, src: str | None) -> dict[str, list[float]]:
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.pathsep.join([src, str(ROOT)])
    code = ("import json, sys; from pathlib import Path; "
            "from bench.test_cold_queries import child; "
            "print(json.dumps(child('newsearch', Path(sys.argv[1]))))")
    out = subprocess.run([sys.executable, "-c", code, index], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    index = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    sources: list[str | None] = list(sys.argv[3:]) or [None]
    got: dict[str | None, dict[str, list[float]]] = {s: {} for s in sources}
    for r in range(rounds):
        order = sources[r % len(sources):] + sources[:r % len(sources)]
        for src in order:
            data = _child(index, src)
            for key in ("cold", "warm", "cold_cpu", "warm_cpu"):
                got[src].setdefault(key, []).extend(data[key])
    for src, data in got.items():
        print(f"{src or 'installed'}: " + "; ".join(
            f"{key} p50 {statistics.median(v):.2f} p95 {percentile(v, 95):.2f}"
            for key, v in data.items()))
    # Each query's best CPU time over the rounds: what the code costs with the machine's
    # other load mostly filtered out (a round's times are its queries' in order).
    for src, data in got.items():
        print(f"{src or 'installed'}, best of {rounds} per query: " + "; ".join(
            f"{key} p50 {statistics.median(b):.2f} p95 {percentile(b, 95):.2f} "
            f"sum {sum(b):.0f}"
            for key in ("cold_cpu", "warm_cpu")
            if (b := _best(data[key], rounds))))
        best = _best(data["cold_cpu"], rounds)
        kinds: dict[str, list[float]] = {}
        for q, ms in zip(COLD_QUERIES, best, strict=True):
            kinds.setdefault(q["kind"], []).append(ms)
        print("    cold CPU by kind, best of rounds, median ms: " + ", ".join(
            f"{kind} {statistics.median(v):.2f}" for kind, v in kinds.items()))


def _best(times: list[float], rounds: int) -> list[float]:
    per = len(times) // rounds
    return [min(times[r * per + i] for r in range(rounds)) for i in range(per)]


if __name__ == "__main__":
    main()
