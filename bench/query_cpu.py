"""CPU time per query of the query-path queries, with whichever newsearch is importable.

    .venv/bin/python -m bench.query_cpu INDEX [ROUNDS] [--fuzzy]

The 38 queries of ``bench/test_query_path.py`` (``--fuzzy``: the 14 of
``bench/test_fuzzy.py``) on an existing index (built with ``newsearch index``), one warm-up
round, then ROUNDS (default 8); p50/p95 over every
(query, round) of the process's CPU time and of the wall clock. On a loaded machine the wall
clock mostly measures waiting for a core; CPU time does not, so two versions of the code
(``PYTHONPATH=<checkout>/src``, one after the other on the same index) compare within a few
per cent. Per-query medians of CPU time are printed as JSON after the summary line.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from typing import Any

import newsearch

from . import test_fuzzy, test_query_path


def main() -> None:
    args = [a for a in sys.argv[1:] if a != "--fuzzy"]
    ix = newsearch.open_index(args[0], results_cache=0)
    rounds = int(args[1]) if len(args) > 1 else 8
    queries: dict[str, tuple[str, dict[str, Any]]] = \
        {q: (q, {}) for q in test_fuzzy.QUERIES} if "--fuzzy" in sys.argv else \
        {q["label"]: q["newsearch"] for q in test_query_path.QUERIES}
    for text, filters in queries.values():
        ix.search(text, date_granularity="month", **filters)
    cpu: dict[str, list[float]] = {label: [] for label in queries}
    wall: list[float] = []
    for _ in range(rounds):
        for label, (text, filters) in queries.items():
            c, w = time.process_time(), time.perf_counter()
            ix.search(text, date_granularity="month", **filters)
            cpu[label].append(time.process_time() - c)
            wall.append(time.perf_counter() - w)
    every = [t for ts in cpu.values() for t in ts]
    qc = statistics.quantiles(every, n=100, method="inclusive")
    qw = statistics.quantiles(wall, n=100, method="inclusive")
    print(f"{newsearch.__file__}: CPU p50 {qc[49] * 1000:.2f} ms, p95 {qc[94] * 1000:.2f}; "
          f"wall p50 {qw[49] * 1000:.2f}, p95 {qw[94] * 1000:.2f} ({rounds} rounds)")
    print(json.dumps({k: round(statistics.median(v) * 1000, 2) for k, v in cpu.items()}))


if __name__ == "__main__":
    main()
