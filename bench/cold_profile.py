"""Where a cold query's CPU goes: cProfile over the cold queries on an existing index.

    PYTHONPATH=<checkout>/src .venv/bin/python -m bench.cold_profile INDEX [LINES]

Opens INDEX, runs the query-path queries as a warm-up (files opened, per-segment arrays
built), then the cold-query benchmark's queries once each under cProfile; prints their CPU
time and the functions by own time, then by cumulative time.
"""

from __future__ import annotations

import cProfile
import pstats
import sys
import time

from newsearch import open_index

from .test_cold_queries import COLD_QUERIES
from .test_query_path import QUERIES
from .test_scale import _plain


def main() -> None:
    ix = open_index(sys.argv[1], results_cache=0)
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    for text, filters in _plain(QUERIES):
        ix.search(text, date_granularity="month", **filters)
    profile = cProfile.Profile()
    cpu = time.process_time()
    profile.enable()
    for text, filters in _plain(COLD_QUERIES):
        ix.search(text, date_granularity="month", **filters)
    profile.disable()
    print(f"{len(COLD_QUERIES)} cold queries: {time.process_time() - cpu:.3f} s of CPU "
          "(profiled)")
    stats = pstats.Stats(profile)
    stats.sort_stats("tottime").print_stats(lines)
    stats.sort_stats("cumtime").print_stats(lines)


if __name__ == "__main__":
    main()
