"""Repeated queries: a skewed query log replayed against Reuters-21578.

Real traffic repeats itself: a few queries (a big story, the front page's sections) arrive
far more often than the long tail. The log here draws from 200 distinct queries (the query
path benchmark's 38 plus single words and pairs taken from Reuters headlines) with Zipf
weights (the query of rank r has weight 1/r^1.1), 3,000 requests, seeded.

Reported, for the same log: throughput and p50/p95 with newsearch's result cache (keyed by
the index generation) and without it. A last step commits a new article and checks that a
repeated query sees it: the cache never answers from an older generation.
"""

from __future__ import annotations

import random
import re
import statistics
import time
from collections import Counter
from pathlib import Path

import pytest

from newsearch import index_paths, open_index
from newsearch.corpus import load, walk
from newsearch.readers import read_source

from .conftest import QUICK, need_corpora, record
from .test_query_path import QUERIES

REQUESTS = 300 if QUICK else 3_000
DISTINCT = 200
ZIPF_S = 1.1
_WORD = re.compile(r"[A-Za-z]{4,}")


@pytest.fixture(scope="module")
def reuters(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Path]]:
    files = sorted((need_corpora() / "reuters21578").glob("reut2-*.sgm"))
    files = files[:2] if QUICK else files
    index = tmp_path_factory.mktemp("replay") / "index"
    index_paths(files, index)
    return index, files


def _query_log(files: list[Path]) -> list[tuple[str, dict[str, object]]]:
    words: Counter[str] = Counter()
    for f in walk([str(p) for p in files[:3]]):
        for a in read_source(load(f)):
            if hasattr(a, "title"):
                words.update(w.lower() for w in _WORD.findall(a.title))
    common = [w for w, _ in words.most_common(400) if w not in {"said", "with", "from"}]
    pool: list[tuple[str, dict[str, object]]] = [q["newsearch"] for q in QUERIES]
    rng = random.Random(7)
    i = 0
    while len(pool) < DISTINCT:
        w = common[i % len(common)]
        pool.append((w if i % 2 else f"{w} {rng.choice(common)}", {}))
        i += 1
    rng.shuffle(pool)
    weights = [1 / (r + 1) ** ZIPF_S for r in range(len(pool))]
    return rng.choices(pool, weights=weights, k=REQUESTS)


def _replay(ix, log) -> list[float]:
    times = []
    for text, filters in log:
        t = time.perf_counter()
        res = ix.search(text, **filters)
        times.append((time.perf_counter() - t) * 1000)
        assert res.facets["section"] is not None
    return times


@pytest.mark.parametrize("cache", [True, False], ids=["result-cache", "no-cache"])
def test_replay_skewed_log(benchmark, reuters, cache: bool) -> None:
    index, files = reuters
    log = _query_log(files)
    with open_index(index, results_cache=2048 if cache else 0) as ix:
        _replay(ix, log[:50])  # the server has been up for a while
        times: list[float] = []

        def run() -> None:
            t = time.perf_counter()
            times.extend(_replay(ix, log))
            times.append(time.perf_counter() - t)  # the last entry is the wall time

        benchmark.pedantic(run, rounds=1, iterations=1)
    wall = times.pop()
    distinct = len({(q, repr(sorted(f.items()))) for q, f in log})
    row = {"cache": "results cache" if cache else "none", "requests": len(log),
           "distinct_queries": distinct, "queries_per_s": f"{len(log) / wall:,.0f}",
           "p50_ms": f"{statistics.median(times):.2f}",
           "p95_ms": f"{sorted(times)[int(0.95 * (len(times) - 1))]:.2f}"}
    benchmark.extra_info.update(row)
    record("Replaying a skewed query log (Reuters-21578)", **row)


def test_cache_follows_new_commits(reuters, tmp_path: Path) -> None:
    index, _files = reuters
    extra = tmp_path / "extra"
    extra.mkdir()
    with open_index(index) as ix:
        # Reuters has airships but no zeppelin: before the commit the query is answered by
        # the any-word fallback, after it by the new article holding both words.
        documents = ix.stats().documents
        before = ix.search("zeppelin airship")
        again = ix.search("zeppelin airship")  # from the cache
        assert (again.total, again.hits) == (before.total, before.hits)
        (extra / "z.txt").write_text("Zeppelin airship returns\n\nA zeppelin airship flew.\n")
        index_paths([extra], index)
        after = ix.search("zeppelin airship")
        assert "Zeppelin airship returns" not in [h.title for h in before.hits]
        assert after.hits[0].title == "Zeppelin airship returns"
        assert ix.stats().documents == documents + 1
