"""How newsearch's costs grow with the archive: 5k, 10k, 20k, every real article, 200k, 1M.

For each size: index time and throughput, the CPU time of the indexing processes (main and
workers: what the run cost, however busy the shared machine was), index size on disk, the
indexing run's peak memory (the largest process; the main process and the largest worker
apiece), then, in a fresh searching process:

* first pass: the query-path benchmark's 38 queries, once each (the process's first
  queries: files opened, per-segment arrays built);
* warm: the same 38 queries, ROUNDS more times (what they cost once read and decoded);
* cold: the cold-query benchmark's 42 queries (bench/test_cold_queries.py), once each:
  words no earlier query asked for, as most of a real archive's queries are;
* the searching process's peak memory, sampled from /proc: RSS (resident, including file
  pages mapped from the index, which the kernel can drop), USS (Private_Clean +
  Private_Dirty) and anonymous memory (its heap and arrays: never file cache).

The articles are every article of ../shared/corpora (Reuters-21578, BBC, RIA, the Reuters
financial slice, the HTML pages; about 46,000 after exact duplicates), parsed once with
newsearch's readers and written as JSON Lines files of 1,000 articles (untimed). A size N
indexes the first N articles; 200k and 1M repeat the real articles with new ids and a
"[copy k]" mark in the headline (so they are not exact duplicates), labelled "replicated".
Each size is indexed and searched in its own subprocess, so peak memory is that run's.
Between the two, the index is flushed to disk (``os.sync``; the megabytes still unwritten
are reported as ``unwritten_MB``): at a million articles 1.6 GB of the 2.8 GB just built
was still unwritten, and the kernel writing it out while the searches ran cost them a fifth
to a third more CPU (warm p50 7.1 against 5.5 ms on the same code; cold 6.9 against 5.8),
where a 20k index has little left to write: the growth from one size to the next would
include the build's disk writes.

Quick mode (NEWSEARCH_BENCH_QUICK=1): 2,000 and 5,000 articles only. The 1M size needs
about 10 GB of free disk for the JSON Lines and the index (``df -h``; it is skipped with
less) and runs only in full mode.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsearch.article import Article
from newsearch.corpus import load, walk
from newsearch.readers import read_source

from .conftest import QUICK, need_corpora, percentile, record, run_child, tree_bytes
from .test_cold_queries import COLD_QUERIES
from .test_query_path import QUERIES

SIZES: list[tuple[str, int | None]] = (
    [("2k", 2_000), ("5k", 5_000)] if QUICK else
    [("5k", 5_000), ("10k", 10_000), ("20k", 20_000), ("all real", None),
     ("200k (replicated)", 200_000), ("1M (replicated)", 1_000_000)]
)
FILE_ARTICLES = 1_000
ROUNDS = 1 if QUICK else 3
SUBDIRS = ["reuters21578", "bbc", "cyrillic", "large", "html_articles/html"]
# Free disk a size needs, per article (JSON Lines input plus the index, with room to spare).
DISK_PER_ARTICLE = 10_000
TABLE = "Scale (all real corpora, JSON Lines input)"


def real_articles() -> list[Article]:
    """Every real article of the shared corpora, exact duplicates dropped."""
    corpora = need_corpora()
    seen: set[str] = set()
    out: list[Article] = []
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
                out.append(a)
    return out


def _row(a: Article) -> dict[str, object]:
    # The language a reader found declared (Reuters SGML: English; HTML: <html lang>) goes
    # along, as the real corpora give it: without it every copy is language-detected, a
    # fifth of the workers' CPU that indexing the real files does not spend.
    return {"id": a.id, "title": a.title, "body": a.body,
            "date": a.date.isoformat() if a.date else None,
            "section": a.sections, "url": a.url, "subtitle": a.subtitle, "lang": a.lang}


@pytest.fixture(scope="module")
def articles() -> list[dict[str, object]]:
    return [_row(a) for a in real_articles()]


def write_jsonl(folder: Path, rows: Iterator[Any]) -> int:
    """Write ``rows`` (dicts or Articles) as JSON Lines files of FILE_ARTICLES; the count."""
    folder.mkdir(parents=True)
    n = 0
    batch: list[str] = []
    for row in rows:
        batch.append(json.dumps(_row(row) if isinstance(row, Article) else row,
                                ensure_ascii=False))
        n += 1
        if len(batch) == FILE_ARTICLES:
            _write_part(folder, n, batch)
    if batch:
        _write_part(folder, n, batch)
    return n


def _write_part(folder: Path, n: int, batch: list[str]) -> None:
    name = f"part-{(n - 1) // FILE_ARTICLES:05d}.jsonl"
    (folder / name).write_text("\n".join(batch) + "\n", encoding="utf-8")
    batch.clear()


def _rows(articles: list[dict[str, object]], size: int | None) -> Iterator[dict[str, object]]:
    """The first ``size`` articles; beyond the real ones, marked copies (streamed: a million
    rows are never held at once)."""
    if size is None or size <= len(articles):
        yield from (articles[:size] if size else articles)
        return
    yield from articles
    n, copy = len(articles), 1
    while n < size:
        copy += 1
        for a in articles:
            yield {**a, "id": f"{a['id']}-copy{copy}", "title": f"{a['title']} [copy {copy}]"}
            n += 1
            if n == size:
                return


_INDEX = textwrap.dedent("""
    import json, resource, sys, time
    from newsearch import index_paths
    t = time.perf_counter()
    report = index_paths([sys.argv[1]], sys.argv[2])
    seconds = time.perf_counter() - t
    # VmHWM is this process's own peak (ru_maxrss survives exec and would report the
    # launching pytest process); the workers were forked from this one.
    own = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = max(own, children.ru_maxrss)
    # CPU of this process and the workers: what the run cost whatever else the machine ran.
    me = resource.getrusage(resource.RUSAGE_SELF)
    cpu = me.ru_utime + me.ru_stime + children.ru_utime + children.ru_stime
    print(json.dumps({"documents": report.documents, "seconds": seconds, "peak_kb": peak,
                      "main_peak_kb": own, "worker_peak_kb": children.ru_maxrss, "cpu": cpu}))
""")

_SEARCH = textwrap.dedent("""
    import json, sys, time
    from newsearch import open_index
    index, plan, rounds = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3])
    ix = open_index(index, results_cache=0)

    cpu = {"first": [], "warm": [], "cold": []}

    def run(queries, kind):
        times = []
        for text, filters in queries:
            c, t = time.process_time(), time.perf_counter()
            res = ix.search(text, date_granularity="month", **filters)
            times.append((time.perf_counter() - t) * 1000)
            cpu[kind].append((time.process_time() - c) * 1000)
            assert "section" in res.facets and "date" in res.facets
        return times

    first = run(plan["queries"], "first")
    warm = [ms for _ in range(rounds) for ms in run(plan["queries"], "warm")]
    cold = run(plan["cold"], "cold")
    peak = int(open("/proc/self/status").read().split("VmHWM:")[1].split()[0])
    print(json.dumps({"first": first, "warm": warm, "cold": cold, "cpu": cpu,
                      "peak_rss_kb": peak}))
""")


def _unwritten_kb() -> int:
    """Dirty and writeback page cache, in kB (/proc/meminfo; 0 where there is none)."""
    try:
        text = Path("/proc/meminfo").read_text()
    except OSError:
        return 0
    fields = dict(line.split(":", 1) for line in text.splitlines() if ":" in line)
    return sum(int(fields.get(k, "0 kB").split()[0]) for k in ("Dirty", "Writeback"))


def _plain(queries: list[dict[str, Any]]) -> list[tuple[str, dict[str, object]]]:
    out = []
    for q in queries:
        text, filters = q["newsearch"]
        out.append((text, {k: (v.isoformat() if hasattr(v, "isoformat") else v)
                           for k, v in filters.items()}))
    return out


@pytest.mark.parametrize(("label", "size"), SIZES, ids=[s[0] for s in SIZES])
def test_scale(benchmark, articles, tmp_path: Path, label: str, size: int | None) -> None:
    need = (size or len(articles)) * DISK_PER_ARTICLE
    if shutil.disk_usage(tmp_path).free < need:
        pytest.skip(f"{label} needs about {need / 1e9:.0f} GB free under {tmp_path}")
    corpus = tmp_path / "corpus"
    n = write_jsonl(corpus, _rows(articles, size))
    index = tmp_path / "index"
    built: dict[str, Any] = {}
    # The build reports its own peak (VmHWM of the main process and its workers): no sampler
    # thread taking CPU from the workers.
    benchmark.pedantic(lambda: built.update(run_child(["-c", _INDEX, str(corpus),
                                                       str(index)], every=None)[0]),
                       rounds=1, iterations=1)
    shutil.rmtree(corpus)  # room for the next size; the index is what is searched
    unwritten = _unwritten_kb()
    os.sync()  # the build's writes are the build's cost, not the searches' (docstring)
    plan = json.dumps({"queries": _plain(QUERIES), "cold": _plain(COLD_QUERIES)})
    searched, peaks = run_child(["-c", _SEARCH, str(index), plan, str(ROUNDS)])
    warm, cold = searched["warm"], searched["cold"]
    docs = built["documents"]
    row = {
        "articles": f"{n:,}", "label": label, "indexed": f"{docs:,}",
        "index_s": f"{built['seconds']:.1f}",
        "articles_per_s": f"{n / built['seconds']:,.0f}",
        "index_cpu_s": f"{built['cpu']:.0f}",
        "index_MB": f"{tree_bytes(index) / 1e6:.0f}",
        "index_peak_MB": f"{built['peak_kb'] / 1024:.0f}",
        "unwritten_MB": f"{unwritten / 1024:.0f}",
        "index_peak_main_worker_MB": (f"{built['main_peak_kb'] / 1024:.0f} / "
                                      f"{built['worker_peak_kb'] / 1024:.0f}"),
        "warm_p50_ms": f"{statistics.median(warm):.1f}",
        "warm_p95_ms": f"{percentile(warm, 95):.1f}",
        "cold_p50_ms": f"{statistics.median(cold):.1f}",
        "cold_p95_ms": f"{percentile(cold, 95):.1f}",
        "warm_cpu_p50_ms": f"{statistics.median(searched['cpu']['warm']):.1f}",
        "cold_cpu_p50_ms": f"{statistics.median(searched['cpu']['cold']):.1f}",
        "first_pass_p50_ms": f"{statistics.median(searched['first']):.1f}",
        "search_peak_rss_MB": f"{searched['peak_rss_kb'] / 1024:.0f}",
        "search_peak_uss_MB": f"{peaks['uss_kb'] / 1024:.0f}",
        "search_peak_anon_MB": f"{peaks['anon_kb'] / 1024:.0f}",
    }
    benchmark.extra_info.update(row)
    record(TABLE, **row)
    assert docs > 0.9 * n
    assert peaks["uss_kb"] < 1024 * 1024  # the searching process owns less than 1 GB
