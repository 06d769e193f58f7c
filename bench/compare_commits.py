"""Compare commits by what their code costs in CPU time: one row per commit.

    .venv/bin/python bench/compare_commits.py a5a599e HEAD

For each commit: ``git archive`` into a temporary folder, index Reuters-21578 with that
code (``PYTHONPATH`` at its ``src``, two worker processes), then the cold-query protocol of
``bench/test_cold_queries.py`` in three fresh processes (warm-up on the query-path queries,
each cold query once, then three warm rounds). Times are the processes' CPU time, which
other load on a shared machine barely moves (wall time is printed beside it). The benchmark
code and queries are this checkout's; only ``newsearch`` comes from each commit.

Prints a Markdown table: index MB, indexing CPU per article (the worker processes'),
cold and warm CPU p50/p95 per query, and the wall-clock p50s.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
REUTERS = ROOT.parent / "shared" / "corpora" / "reuters21578"

_INDEX = """
import json, resource, sys
from newsearch import index_paths
report = index_paths([sys.argv[1]], sys.argv[2], jobs=2)
used = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"documents": report.documents, "cpu": used.ru_utime + used.ru_stime}))
"""

_SEARCH = """
import json, sys, time
sys.path.insert(0, sys.argv[2])
from bench.test_cold_queries import COLD_QUERIES
from bench.test_query_path import QUERIES
from newsearch import open_index
ix = open_index(sys.argv[1], results_cache=0)
for q in QUERIES:
    text, filters = q["newsearch"]
    ix.search(text, date_granularity="month", **filters)
out = {"cold": [], "warm": [], "cold_wall": [], "warm_wall": []}
for r in range(4):
    kind = "cold" if r == 0 else "warm"
    for q in COLD_QUERIES:
        text, filters = q["newsearch"]
        cpu, wall = time.process_time(), time.perf_counter()
        ix.search(text, date_granularity="month", **filters)
        out[kind].append((time.process_time() - cpu) * 1000)
        out[kind + "_wall"].append((time.perf_counter() - wall) * 1000)
print(json.dumps(out))
"""


def _pct(values: list[float], p: int) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def _run(code: Path, script: str, *args: str) -> dict[str, object]:
    env = {**os.environ, "PYTHONPATH": str(code / "src")}
    done = subprocess.run([sys.executable, "-c", script, *args], env=env, check=True,
                          capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def measure(commit: str, work: Path) -> str:
    code = work / commit
    code.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit], check=True,
                             capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(code)], input=archive, check=True)
    index = work / f"index-{commit}"
    built = _run(code, _INDEX, str(REUTERS), str(index))
    size = sum(p.stat().st_size for p in index.rglob("*") if p.is_file())
    times: dict[str, list[float]] = {"cold": [], "warm": [], "cold_wall": [], "warm_wall": []}
    for _ in range(3):
        got = _run(code, _SEARCH, str(index), str(ROOT))
        for key in times:
            times[key] += got[key]  # type: ignore[operator]
    per_article = float(built["cpu"]) * 1000 / int(built["documents"])  # type: ignore[arg-type]
    return (f"| {commit} | {size / 1e6:.1f} | {per_article:.3f} | "
            f"{statistics.median(times['cold']):.2f} / {_pct(times['cold'], 95):.2f} | "
            f"{statistics.median(times['warm']):.2f} / {_pct(times['warm'], 95):.2f} | "
            f"{statistics.median(times['cold_wall']):.2f} / "
            f"{statistics.median(times['warm_wall']):.2f} |")


def main(commits: list[str]) -> None:
    print("| commit | index MB | indexing CPU ms/article | cold CPU p50 / p95 ms | "
          "warm CPU p50 / p95 ms | cold / warm wall p50 ms |")
    print("|---|---|---|---|---|---|")
    work = Path(tempfile.mkdtemp(prefix="newsearch-commits-"))
    try:
        for commit in commits:
            print(measure(commit, work), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1:])
