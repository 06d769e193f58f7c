"""The scale benchmark's searching step on indexes built beforehand, one fresh process each.

    PYTHONPATH=<checkout>/src .venv/bin/python -m bench.scale_search INDEX [INDEX ...]

Runs ``bench/test_scale.py``'s searching child (the query-path queries once, then ROUNDS
warm rounds, then the cold queries once) and prints cold, warm and first-pass p50/p95 (wall
and CPU) and the process's peak USS/RSS/anonymous memory: how a change of the query path
does on a large index without rebuilding it (bench/README.md, "The query path at a million
articles").
"""

from __future__ import annotations

import json
import statistics
import sys

from .conftest import percentile, run_child
from .test_cold_queries import COLD_QUERIES
from .test_query_path import QUERIES
from .test_scale import _SEARCH, ROUNDS, _plain


def main() -> None:
    plan = json.dumps({"queries": _plain(QUERIES), "cold": _plain(COLD_QUERIES)})
    for index in sys.argv[1:]:
        out, peaks = run_child(["-c", _SEARCH, index, plan, str(ROUNDS)])
        cold, warm = out["cpu"]["cold"], out["cpu"]["warm"]
        print(f"{index}: cold p50/p95 {statistics.median(out['cold']):.1f}/"
              f"{percentile(out['cold'], 95):.1f} ms, CPU {statistics.median(cold):.1f}/"
              f"{percentile(cold, 95):.1f}; warm {statistics.median(out['warm']):.1f}/"
              f"{percentile(out['warm'], 95):.1f}, CPU {statistics.median(warm):.1f}/"
              f"{percentile(warm, 95):.1f}; first pass {statistics.median(out['first']):.1f}; "
              f"USS/RSS/anon {peaks['uss_kb'] // 1024}/{peaks['rss_kb'] // 1024}/"
              f"{peaks['anon_kb'] // 1024} MB", flush=True)


if __name__ == "__main__":
    main()
