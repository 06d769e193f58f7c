"""Bulk writing into the local OpenSearch cluster: default refresh against ``loading()``.

    .venv/bin/python bench/opensearch_load.py [ROUNDS]   (after opensearch-cluster.sh start)

Reads Reuters-21578 once and turns it into documents (newsearch's analysis, timed apart),
then writes all of it into a fresh index with the shipped layout (3 shards, 1 replica)
ROUNDS times per variant, the variants interleaved so the machine's drift hits both:

    default   BulkWriter alone: the index refreshes every second
    loading   BulkWriter inside bulk.loading(): every 30 s, one refresh at the end

Not a pytest benchmark: it needs the cluster, which the benchmark run does not start.
"""

from __future__ import annotations

import statistics
import sys
import time
from contextlib import nullcontext
from pathlib import Path

from newsearch.backends.opensearch import BulkWriter, create_news_index, document
from newsearch.backends.opensearch.bulk import loading
from newsearch.corpus import CorpusFile, walk
from newsearch.runs import PART_ARTICLES, PART_CHARS, read_file_parts
from opensearch_scale import loop_seconds
from opensearch_scratch import scratch

REUTERS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "reuters21578"
INDEX = "bench-opensearch-load"


def main(rounds: int) -> None:
    started = time.perf_counter()
    articles = [a for f in walk([str(REUTERS)]) if isinstance(f, CorpusFile)
                for _meta, part in read_file_parts(f, PART_ARTICLES, PART_CHARS)
                for a in part]
    read = time.perf_counter() - started
    started = time.perf_counter()
    docs = [(a.id, document(a, key)) for a, key in articles]
    analysed = time.perf_counter() - started
    print(f"{len(docs):,} articles: read {read:.1f} s, analysed into documents {analysed:.1f} s "
          f"({len(docs) / analysed:,.0f}/s); loop {loop_seconds():.2f} s")
    times: dict[str, list[float]] = {"default": [], "loading": []}
    with scratch(INDEX) as s:
        cluster = s.cluster
        for _ in range(rounds):
            for variant in times:
                cluster.client.indices.delete(index=INDEX, ignore=[404])
                create_news_index(cluster, INDEX)
                started = time.perf_counter()
                with loading(cluster, INDEX) if variant == "loading" else nullcontext():
                    with BulkWriter(cluster, INDEX) as w:
                        w.index_many(docs)
                    cluster.client.indices.refresh(index=INDEX)
                times[variant].append(time.perf_counter() - started)
                assert cluster.client.count(index=INDEX)["count"] == len(docs)
    for variant, ts in times.items():
        med = statistics.median(ts)
        print(f"{variant:8} median {med:.1f} s ({len(docs) / med:,.0f} articles/s), "
              f"runs {', '.join(f'{t:.1f}' for t in ts)}")
    print(f"loop {loop_seconds():.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 3)
