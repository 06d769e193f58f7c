"""Scale: every real corpus, then a replicated set, into Whoosh and into the OpenSearch cluster.

    .venv/bin/python bench/opensearch_scale.py [COPIES]   (after opensearch-cluster.sh start)

1. ``newsearch index ../shared/corpora`` into a fresh Whoosh folder and a fresh cluster index
   (shipped defaults: one worker per core; 3 shards, 1 replica), one after the other.
2. A replicated set: every article of the corpora written ``COPIES`` times (default 2) as
   JSON Lines with its headline marked ``[copy k]`` (so no copy counts as a duplicate),
   indexed *on top of* step 1's indexes (an incremental run that adds only the copies).
3. Query latency on the final indexes: :data:`QUERIES` (words, phrases, proximity, fields,
   dates, sections, prefixes, fuzzy words, Cyrillic, the any-word fallback), each run
   ``PASSES`` times per backend with the results cache off, the backends interleaved query
   by query so the shared machine's drift hits both alike; p50 and p95 per backend.

Prints one Markdown table per step (the figures in bench/README.md). Not a pytest benchmark:
it needs the cluster, which the benchmark run does not start.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from pathlib import Path

from newsearch import index_paths, open_index
from newsearch.corpus import CorpusFile, walk
from newsearch.runs import PART_ARTICLES, PART_CHARS, read_file_parts
from opensearch_scratch import scratch

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
NAME = "bench-scale"
PASSES = 3
QUERIES = [
    "oil", "oil prices", "coffee brazil", '"bank of england"', '"crude oil prices"~3',
    "title:coffee", "body:opec", "section:crude", "section:acq takeover", "tags:japan trade",
    "date:1987-03-05", "date:[1987-03-01 TO 1987-03-10] dollar", "econom*", "opec~",
    "gold OR silver", "wheat -corn", "what did economists say about oil exports",
    "Путин", "putin", '"Владимир Путин"', "экономик*", "Алматы", "election", "football",
    "music album", "government minister", "film award", "internet mobile phone",
]


def loop_seconds() -> float:
    """The machine's speed right now (5 M additions in a Python loop)."""
    started = time.perf_counter()
    s = 0
    for i in range(5_000_000):
        s += i * i
    return time.perf_counter() - started


def replicate(out: Path, copies: int) -> int:
    """Every article of the corpora ``copies`` times as JSON Lines; returns the count."""
    out.mkdir(parents=True, exist_ok=True)
    n = 0
    batch: list[str] = []
    part = 0

    def flush() -> None:
        nonlocal batch, part
        if batch:
            (out / f"copies-{part:04d}.jsonl").write_text("\n".join(batch), "utf-8")
            part += 1
            batch = []

    for f in walk([str(CORPORA)]):
        if not isinstance(f, CorpusFile):
            continue
        for a, _key in (a for _m, part in read_file_parts(f, PART_ARTICLES, PART_CHARS)
                        for a in part):
            for k in range(1, copies + 1):
                batch.append(json.dumps({
                    "id": f"{a.id}-c{k}", "title": f"[copy {k}] {a.title}", "body": a.body,
                    "subtitle": a.subtitle, "author": a.author, "url": a.url,
                    "date": a.date.isoformat() if a.date else None,
                    "section": a.sections, "tags": a.tags, "lang": a.lang},
                    ensure_ascii=False))
                n += 1
            if len(batch) >= 2_000:
                flush()
    flush()
    return n


def timed_index(paths: list[Path], where: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    report = index_paths(paths, where)
    return time.perf_counter() - started, report.added + report.updated, report.documents


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def main(copies: int) -> None:
    with scratch(NAME) as s:
        folder, where = s.folder / "whoosh", s.where
        print(f"loop {loop_seconds():.2f} s")
        print("| step | backend | articles indexed | seconds | articles/s | index size |")
        print("|---|---|---|---|---|---|")
        for label, paths in (("every real corpus", [CORPORA]),):
            for backend, target in (("Whoosh", str(folder)), ("OpenSearch", where)):
                secs, added, docs = timed_index(paths, target)
                print(f"| {label} | {backend} | {added:,} | {secs:.1f} | {added / secs:,.0f} "
                      f"| {docs:,} |", flush=True)
        copies_dir = s.folder / "copies"
        made = replicate(copies_dir, copies)
        for backend, target in (("Whoosh", str(folder)), ("OpenSearch", where)):
            secs, added, docs = timed_index([copies_dir], target)
            print(f"| + {made:,} copies ({copies}×) | {backend} | {added:,} | {secs:.1f} | "
                  f"{added / secs:,.0f} | {docs:,} |", flush=True)
        print(f"loop {loop_seconds():.2f} s")
        latencies: dict[str, list[float]] = {"Whoosh": [], "OpenSearch": []}
        with open_index(folder, results_cache=0) as w, open_index(where, results_cache=0) as o:
            for q in QUERIES:  # warm both (first-query data, caches per generation)
                w.search(q), o.search(q)
            for _ in range(PASSES):
                for q in QUERIES:
                    for backend, ix in (("Whoosh", w), ("OpenSearch", o)):
                        started = time.perf_counter()
                        ix.search(q)
                        latencies[backend].append((time.perf_counter() - started) * 1000)
        print("\n| backend | searches | p50 ms | p95 ms | mean ms |")
        print("|---|---|---|---|---|")
        for backend, values in latencies.items():
            print(f"| {backend} | {len(values)} | {percentile(values, 50):.1f} | "
                  f"{percentile(values, 95):.1f} | {statistics.fmean(values):.1f} |")
        print(f"loop {loop_seconds():.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2)
