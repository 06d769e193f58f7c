"""How newsearch's costs grow with the archive: 5k, 10k, 20k, every real article, 200k.

For each size: index time and throughput, index size on disk, the indexing run's peak
memory (the largest of the main and worker processes), then query p50/p95 over the
query-path benchmark's newsearch queries and the peak memory of the searching process.

The articles are every article of ../shared/corpora (Reuters-21578, BBC, RIA, the Reuters
financial slice, the HTML pages; about 47,000 after exact duplicates), parsed once with
newsearch's readers and written as JSON Lines files of 1,000 articles (untimed). A size N
indexes the first N articles; 200k repeats the real articles with new ids and a
"[copy k]" mark in the headline (so they are not exact duplicates), labelled "replicated".
Each size is indexed and searched in its own subprocess, so peak memory is that run's.

Quick mode (NEWSEARCH_BENCH_QUICK=1): 2,000 and 5,000 articles only.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from newsearch.article import Article
from newsearch.corpus import load, walk
from newsearch.readers import read_source

from .conftest import QUICK, need_corpora, record
from .test_query_path import QUERIES

SIZES: list[tuple[str, int | None]] = (
    [("2k", 2_000), ("5k", 5_000)] if QUICK else
    [("5k", 5_000), ("10k", 10_000), ("20k", 20_000), ("all real", None),
     ("200k (replicated)", 200_000)]
)
FILE_ARTICLES = 1_000
ROUNDS = 1 if QUICK else 3
SUBDIRS = ["reuters21578", "bbc", "cyrillic", "large", "html_articles/html"]


def _all_articles() -> list[dict[str, object]]:
    corpora = need_corpora()
    seen: set[str] = set()
    out: list[dict[str, object]] = []
    for sub in SUBDIRS:
        for f in walk([str(corpora / sub)]):
            if not hasattr(f, "signature"):
                continue
            try:
                items = list(read_source(load(f)))
            except Exception:
                continue
            for a in items:
                if not isinstance(a, Article) or a.dedup in seen:
                    continue
                seen.add(a.dedup)
                out.append({"id": a.id, "title": a.title, "body": a.body,
                            "date": a.date.isoformat() if a.date else None,
                            "section": a.sections, "url": a.url, "subtitle": a.subtitle})
    return out


@pytest.fixture(scope="module")
def articles() -> list[dict[str, object]]:
    return _all_articles()


def _write_corpus(folder: Path, rows: list[dict[str, object]]) -> None:
    folder.mkdir(parents=True)
    for i in range(0, len(rows), FILE_ARTICLES):
        with open(folder / f"part-{i // FILE_ARTICLES:04d}.jsonl", "w", encoding="utf-8") as fh:
            for row in rows[i : i + FILE_ARTICLES]:
                fh.write(json.dumps(row, ensure_ascii=False) + "\n")


def _rows(articles: list[dict[str, object]], size: int | None) -> list[dict[str, object]]:
    if size is None or size <= len(articles):
        return articles[:size] if size else articles
    rows = list(articles)
    copy = 1
    while len(rows) < size:
        copy += 1
        for a in articles:
            rows.append({**a, "id": f"{a['id']}-copy{copy}",
                         "title": f"{a['title']} [copy {copy}]"})
            if len(rows) == size:
                break
    return rows


_INDEX = textwrap.dedent("""
    import json, resource, sys, time
    from newsearch import index_paths
    t = time.perf_counter()
    report = index_paths([sys.argv[1]], sys.argv[2])
    seconds = time.perf_counter() - t
    # VmHWM is this process's own peak (ru_maxrss survives exec and would report the
    # launching pytest process); the workers were forked from this one.
    own = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
    peak = max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
    print(json.dumps({"documents": report.documents, "seconds": seconds, "peak_kb": peak}))
""")

_SEARCH = textwrap.dedent("""
    import json, sys, time
    from newsearch import open_index
    index, queries, rounds = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    ix = open_index(index, results_cache=0)
    times, first = [], []
    for r in range(rounds + 1):
        for text, filters in queries:
            t = time.perf_counter()
            res = ix.search(text, date_granularity="month", **filters)
            (first if r == 0 else times).append((time.perf_counter() - t) * 1000)
            assert "section" in res.facets and "date" in res.facets
    peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
    print(json.dumps({"times": times, "first": first, "peak_kb": peak}))
""")


def _child(script: str, *args: str) -> dict[str, object]:
    out = subprocess.run([sys.executable, "-c", script, *args], capture_output=True, text=True,
                         check=True, env={**os.environ})
    return json.loads(out.stdout.strip().splitlines()[-1])


def _queries() -> list[tuple[str, dict[str, object]]]:
    out = []
    for q in QUERIES:
        text, filters = q["newsearch"]
        out.append((text, {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                           for k, v in filters.items()}))
    return out


def _pct(values: list[float], p: int) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


@pytest.mark.parametrize(("label", "size"), SIZES, ids=[s[0] for s in SIZES])
def test_scale(benchmark, articles, tmp_path: Path, label: str, size: int | None) -> None:
    rows = _rows(articles, size)
    corpus = tmp_path / "corpus"
    _write_corpus(corpus, rows)
    index = tmp_path / "index"
    built: dict[str, object] = {}
    benchmark.pedantic(lambda: built.update(_child(_INDEX, str(corpus), str(index))),
                       rounds=1, iterations=1)
    searched = _child(_SEARCH, str(index), json.dumps(_queries()), str(ROUNDS))
    times = searched["times"]
    size_mb = sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 1e6
    docs = built["documents"]
    row = {
        "articles": f"{len(rows):,}", "label": label, "indexed": f"{docs:,}",
        "index_s": f"{built['seconds']:.1f}",
        "articles_per_s": f"{len(rows) / built['seconds']:,.0f}",
        "index_MB": f"{size_mb:.0f}",
        "index_peak_MB": f"{built['peak_kb'] / 1024:.0f}",
        "query_p50_ms": f"{statistics.median(times):.1f}",
        "query_p95_ms": f"{_pct(times, 95):.1f}",
        "first_pass_p50_ms": f"{statistics.median(searched['first']):.1f}",
        "search_peak_MB": f"{searched['peak_kb'] / 1024:.0f}",
    }
    benchmark.extra_info.update(row)
    record("Scale (all real corpora, JSON Lines input)", **row)
    assert docs > 0.9 * len(rows)
    assert searched["peak_kb"] < 1024 * 1024  # searching stays under 1 GB resident
