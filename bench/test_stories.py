"""Latency of `similar` and `trend` (issue 16) on Reuters-21578 and BBC, next to the plain
search of the same index in the same run.

    similar   100 articles picked at even steps through the index: first pass (posting lists
              not yet decoded) and 3 warm rounds
    trend     the query-path benchmark's plain-word queries by month, by day and two side by
              side: 1 warm-up round, 5 timed
    search    the same queries with facets and snippets, for scale

One `open_index` object with `results_cache=0`, as a server would hold it.
"""

from __future__ import annotations

import shutil
import statistics
import time
from collections.abc import Callable
from typing import Any

import pytest

from newsearch import index_paths, open_index

from .conftest import QUICK, need_corpora, record, reuters_files

TABLE = "similar and trend (issue 16), ms"
ARTICLES = 20 if QUICK else 100
ROUNDS = 1 if QUICK else 5
WORDS = ["cocoa", "oil", "coffee", "gold", "wheat", "dollar", "bank", "tax", "strike",
         "japan", "opec", "shipping", "interest rates", "trade deficit"]


def _pct(values: list[float], p: int) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, round(p / 100 * (len(s) - 1)))] * 1000


def _time(fn: Callable[[], Any]) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


@pytest.fixture(scope="module", params=["reuters", "bbc"])
def index(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Any:
    path = tmp_path_factory.mktemp(f"stories-{request.param}") / "index"
    sources = reuters_files() if request.param == "reuters" else [need_corpora() / "bbc"]
    index_paths(sources, path)
    with open_index(path, results_cache=0) as ix:
        yield request.param, ix
    shutil.rmtree(path, ignore_errors=True)


def test_similar_and_trend_latency(index: Any) -> None:
    name, ix = index
    reader = ix._context().searcher.reader()
    ids = [f["id"] for _d, f in reader.iter_docs()]
    picked = ids[:: max(1, len(ids) // ARTICLES)][:ARTICLES]
    first = [_time(lambda a=a: ix.similar(a, limit=10)) for a in picked]
    warm = [_time(lambda a=a: ix.similar(a, limit=10)) for _ in range(3) for a in picked]
    record(TABLE, corpus=name, what="similar, first pass", n=len(first),
           p50=f"{_pct(first, 50):.1f}", p95=f"{_pct(first, 95):.1f}")
    record(TABLE, corpus=name, what="similar, warm", n=len(warm),
           p50=f"{_pct(warm, 50):.1f}", p95=f"{_pct(warm, 95):.1f}")
    for label, call in (
            ("trend by month", lambda w: ix.trend(w)),
            ("trend by day", lambda w: ix.trend(w, by="day")),
            ("trend, two queries", lambda w: ix.trend([w, "market"])),
            ("search (facets, snippets)", lambda w: ix.search(w))):
        for w in WORDS:
            call(w)  # warm-up
        times = [_time(lambda w=w, c=call: c(w)) for _ in range(ROUNDS) for w in WORDS]
        record(TABLE, corpus=name, what=label, n=len(times), p50=f"{_pct(times, 50):.1f}",
               p95=f"{_pct(times, 95):.1f}")
        assert statistics.fmean(times) > 0
