"""Fuzzy words (``almaty~``) on the full query path: what they cost and what comes first.

    newsearch   NewsIndex.search() on one open_index(..., results_cache=0), as in
                bench/test_query_path.py: the whole path (look-alikes from the vocabulary,
                ranking, facets, snippets) per query

Two archives: Reuters-21578 (the query-path corpus) and the Reuters financial slice of
2006-2008 (``large/``, 22,181 articles, where *Almaty* is one article's word among look-alikes
such as *Amatil* and *Armani*). Timings: the first pass over the queries (each query's first
run: the vocabulary of its first letter is read from the index then, once per index
generation), then ROUNDS timed rounds; p50/p95 over all (query, round) timings. The top hit
of each query goes to ``bench/out/fuzzy_top_hits.md``. No peer is timed: SQLite FTS5 has no
fuzzy terms, and stock Whoosh and tantivy-py spell them differently enough (a parser plugin,
a per-field query object) that the comparison would be of their setup, not of their cost.

Quick mode: Reuters-21578's first two files only.
"""

from __future__ import annotations

import re
import statistics
import time
from pathlib import Path

import pytest

from newsearch import NewsIndex, index_paths, open_index
from newsearch.search import MAX_PER_PAGE

from .conftest import OUT, QUICK, need_corpora, record, reuters_files

ROUNDS = 1 if QUICK else 5
TABLE = "Fuzzy queries (newsearch, full query path)"
QUERIES = ["oil~", "gas~1", "oil~3", "yen~", "tokyo~", "coffe~", "bundesbank~",
           "petroleum~", "opec~ output", "takeover~ bid", "almaty~", "kazakhstan~",
           "intrest~ rates", "goverment~"]
_TOP: list[str] = []


def _archives() -> list[tuple[str, list[Path]]]:
    out = [("Reuters-21578", reuters_files())]
    if not QUICK:
        out.append(("Reuters 2006-2008 (large/)",
                    [need_corpora() / "large" / "reuters_financial_ding2014"]))
    return out


def _matches(ix: NewsIndex, query: str) -> set[str]:
    """The ids of every article the words themselves find together (their stems, spellings
    and names), none if they need the any-word fallback."""
    ids: set[str] = set()
    page = 1
    while True:
        res = ix.search(query, page=page, per_page=MAX_PER_PAGE, facets=False, snippets=False)
        if res.fallback:
            return set()
        ids.update(h.id for h in res.hits)
        if len(ids) >= res.total or not res.hits:
            return ids
        page += 1


@pytest.mark.parametrize("archive", [name for name, _ in _archives()])
def test_fuzzy_query_path(archive: str, tmp_path_factory: pytest.TempPathFactory) -> None:
    files = dict(_archives())[archive]
    index = tmp_path_factory.mktemp("fuzzy") / "index"
    index_paths(files, index)
    ix = open_index(index, results_cache=0)
    first: list[float] = []
    exact_first: dict[str, bool] = {}
    for q in QUERIES:
        t = time.perf_counter()
        res = ix.search(q)
        first.append(time.perf_counter() - t)
        top = res.hits[0].title if res.hits else "(none)"
        _TOP.append(f"| {archive} | `{q}` | {res.total:,} | {top} |")
        exact = re.sub(r"~\d*", "", q)  # the same words without look-alikes
        if res.hits and (own := _matches(ix, exact)):
            exact_first[q] = res.hits[0].id in own
    timings = []
    for _ in range(ROUNDS):
        for q in QUERIES:
            t = time.perf_counter()
            ix.search(q)
            timings.append(time.perf_counter() - t)
    ix.close()
    tq = statistics.quantiles(timings, n=100, method="inclusive")
    fq = statistics.quantiles(first, n=100, method="inclusive")
    record(TABLE, archive=archive, p50_ms=f"{tq[49] * 1000:.1f}", p95_ms=f"{tq[94] * 1000:.1f}",
           first_pass_p50_ms=f"{fq[49] * 1000:.1f}", first_pass_p95_ms=f"{fq[94] * 1000:.1f}",
           first_pass_max_ms=f"{max(first) * 1000:.0f}", queries=len(QUERIES), rounds=ROUNDS)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ("fuzzy_top_hits-quick.md" if QUICK else "fuzzy_top_hits.md")).write_text(
        "| archive | query | hits | first hit |\n|---|---|---|---|\n" + "\n".join(_TOP) + "\n",
        "utf-8")
    # Where the words themselves find articles, one of them comes first (the words as the
    # analysis sees them: on the large slice ``almaty`` also finds *Almatis*, stemmed alike).
    assert all(exact_first.values()), [q for q, ok in exact_first.items() if not ok]
