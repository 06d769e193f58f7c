"""Query latency of the OpenSearch backend beside Whoosh's, on the parity corpora.

    .venv/bin/python bench/opensearch_latency.py [LABEL]   (after opensearch-cluster.sh start)

Reuters-21578 and RIA (``../shared/corpora/reuters21578`` and ``cyrillic``, the corpora of
tests/test_opensearch_parity.py) indexed into a fresh Whoosh folder and a fresh cluster index
(shipped defaults), then :data:`QUERIES` × :data:`PASSES` with the results cache off, the two
backends alternating query by query so the shared machine's drift hits both alike. Prints
p50/p95/mean per backend, for all queries and for those answered by the any-word fallback
(the OpenSearch side's extra requests: feedback), and the OpenSearch/Whoosh ratio of the
medians, the figure to compare between two runs on a noisy machine.

To measure a change, run it with the code before (``PYTHONPATH=<old checkout>/src``) and
after, one after the other; ``LABEL`` names the cluster index so two runs never share one.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

import newsearch
from newsearch import index_paths, open_index
from opensearch_scale import loop_seconds, percentile
from opensearch_scratch import scratch

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
PASSES = 5
QUERIES = [
    "oil", "oil prices", "coffee brazil", '"bank of england"', '"crude oil prices"~3',
    "title:coffee", "body:opec", "section:crude", "section:acq takeover", "tags:japan trade",
    "date:[1987-03-01 TO 1987-03-10] dollar", "econom*", "opec~", "gold OR silver",
    "wheat -corn", "Путин", "putin", '"Владимир Путин"', "экономик*", "Алматы", "Путн~",
    # the any-word fallback
    "what did economists say about oil exports", "coffee brazil strike quota talks",
    "brazl coffe", "Бразилия кофе", "что сказали экономисты о ценах на нефть в России",
]


def main(label: str) -> None:
    paths = [CORPORA / "reuters21578", CORPORA / "cyrillic"]
    with scratch(f"bench-latency-{label}") as s:
        folder, where = s.folder / "whoosh", s.where
        print(f"newsearch from {Path(newsearch.__file__).parent}; loop {loop_seconds():.2f} s")
        for target in (str(folder), where):
            started = time.perf_counter()
            report = index_paths(paths, target)
            print(f"indexed {report.documents:,} articles in "
                  f"{time.perf_counter() - started:.1f} s: {target}", flush=True)
        times: dict[tuple[str, bool], list[float]] = {}
        with open_index(folder, results_cache=0) as w, open_index(where, results_cache=0) as o:
            fallback = {q: w.search(q).fallback is not None for q in QUERIES}
            for q in QUERIES:  # warm both (first-query data, caches per generation)
                o.search(q)
            for _ in range(PASSES):
                for q in QUERIES:
                    for backend, ix in (("Whoosh", w), ("OpenSearch", o)):
                        started = time.perf_counter()
                        ix.search(q)
                        ms = (time.perf_counter() - started) * 1000
                        times.setdefault((backend, False), []).append(ms)
                        if fallback[q]:
                            times.setdefault((backend, True), []).append(ms)
        print("\n| queries | backend | searches | p50 ms | p95 ms | mean ms |")
        print("|---|---|---|---|---|---|")
        for (backend, only_fallback), values in sorted(times.items(), key=lambda kv: kv[0][1]):
            print(f"| {'fallback' if only_fallback else 'all'} | {backend} | {len(values)} | "
                  f"{percentile(values, 50):.1f} | {percentile(values, 95):.1f} | "
                  f"{statistics.fmean(values):.1f} |")
        for only_fallback in (False, True):
            ratio = statistics.median(times[("OpenSearch", only_fallback)]) / \
                statistics.median(times[("Whoosh", only_fallback)])
            print(f"OpenSearch/Whoosh p50 ({'fallback' if only_fallback else 'all'}): "
                  f"{ratio:.1f}")
        print(f"loop {loop_seconds():.2f} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "run")
