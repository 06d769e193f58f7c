"""Do two versions of the code give the same results on an existing index? For a change
to the query path that must not change what users get.

    .venv/bin/python -m bench.compare_results INDEX SRC_A SRC_B

Each SRC is a checkout's ``src`` folder. Each runs, in a fresh process on INDEX, the cold
and the query-path benchmarks' queries (with their filters) plus a few more phrases and
prefixes, each first in a cold order and then once more warm, and prints every result:
the ids, scores and snippets of the page, the total, the stories, the facets, the
fallback and the notices (``took_ms`` left out). Prints the queries whose results differ
and exits 1 if any does.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from .conftest import ROOT

# Phrases and prefixes beyond the benchmarks' (long phrases, common words, stop words).
EXTRA = ['"federal reserve"', '"net loss"', '"bank of england"', '"the company said"',
         '"chief executive officer"', '"oil" "prices"', 'title:"trade deficit"',
         '"per cent"~3', "stock*", "exp* oil", '"interest rates" rise*']


def _queries() -> list[tuple[str, dict[str, Any]]]:
    from .test_cold_queries import COLD_QUERIES
    from .test_query_path import QUERIES
    from .test_scale import _plain
    return _plain(COLD_QUERIES) + _plain(QUERIES) + [(q, {}) for q in EXTRA]


def run(index: str) -> list[dict[str, Any]]:
    """Every query's results on ``index`` by the importable newsearch, cold then warm."""
    from newsearch import open_index

    ix = open_index(index, results_cache=0)
    out = []
    for rnd in ("cold", "warm"):
        for text, filters in _queries():
            d = ix.search(text, date_granularity="month", **filters).to_dict()
            d.pop("took_ms", None)
            out.append({"round": rnd, "query": text, "filters": filters, "result": d})
    return out


def _child(index: str, src: str) -> list[dict[str, Any]]:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([src, str(ROOT)]))
    code = ("import json, sys; from bench.compare_results import run; "
            "print(json.dumps(run(sys.argv[1]), default=str))")
    out = subprocess.run([sys.executable, "-c", code, index], cwd=ROOT, env=env,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    index, a, b = sys.argv[1:4]
    got_a, got_b = _child(index, a), _child(index, b)
    differ = 0
    for x, y in zip(got_a, got_b, strict=True):
        if x != y:
            differ += 1
            print(f"differs ({x['round']}): {x['query']} {x['filters']}")
    print(f"{len(got_a)} results compared, {differ} differ")
    sys.exit(1 if differ else 0)


if __name__ == "__main__":
    main()
