"""What an index run and the small runs after it cost, and the segments they leave, for
one checkout: the end-of-run merge's price (issue 14, bench/README.md).

    .venv/bin/python -m bench.incremental_runs SRC [OUT] [FOLDER]

Builds FOLDER (default: Reuters-21578) into OUT/ix with ``newsearch index`` run from the
checkout's ``src`` (SRC), then adds three small files of five articles each, one run per
file. Prints each run's wall seconds, CPU seconds (the command and its worker processes)
and the index's segment count afterwards. Run the checkouts alternately, a few times each.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .conftest import CORPORA

_SEGMENTS = ("import sys; from whoosh import index; "
             "print(len(index.open_dir(sys.argv[1])._segments()))")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _run(src: str, paths: list[str], index: Path, label: str) -> None:
    env = dict(os.environ, PYTHONPATH=src)
    cpu, t = _children_cpu(), time.perf_counter()
    subprocess.run([sys.executable, "-m", "newsearch.cli", "index", *paths, "--index",
                    str(index), "--quiet"], env=env, check=True)
    wall, cpu = time.perf_counter() - t, _children_cpu() - cpu
    segments = subprocess.run([sys.executable, "-c", _SEGMENTS, str(index)], env=env,
                              capture_output=True, text=True, check=True).stdout.strip()
    print(f"{label}: wall {wall:.2f} s, cpu {cpu:.2f} s, segments {segments}", flush=True)


def main() -> None:
    src = sys.argv[1]
    out = Path(sys.argv[2] if len(sys.argv) > 2 else "/tmp/incremental-runs")
    folder = sys.argv[3] if len(sys.argv) > 3 else str(CORPORA / "reuters21578")
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    _run(src, [folder], out / "ix", "build")
    for k in range(3):
        small = out / f"small-{k}"
        small.mkdir()
        rows = [{"id": f"s{k}-{i}", "title": f"Harbour note {k} {i}",
                 "body": f"Cargo number {i} of run {k} was logged at the harbour of Rotterdam."}
                for i in range(5)]
        (small / "feed.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), "utf-8")
        _run(src, [str(small)], out / "ix", f"small run {k + 1} (5 articles)")


if __name__ == "__main__":
    main()
