"""Latency of ``similar`` and ``trend`` on the OpenSearch backend beside Whoosh's (issue 16).

    .venv/bin/python bench/opensearch_stories.py [LABEL]   (after opensearch-cluster.sh start)

Reuters-21578 (``../shared/corpora/reuters21578``) indexed into a fresh Whoosh folder and a
fresh cluster index (shipped defaults), then, with the results cache off and the two
backends alternating call by call (so the shared machine's drift hits both alike):
``similar`` for :data:`ARTICLES` articles picked at even steps (a first pass, then 2 more),
``trend`` by month, by day and of two queries side by side for :data:`WORDS`
(:data:`ROUNDS` rounds after a warm-up), and ``search`` of the same words for scale. Prints
p50/p95 per backend and call, and the OpenSearch/Whoosh ratio of the medians.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import newsearch
from newsearch import index_paths, open_index
from opensearch_scale import loop_seconds, percentile
from opensearch_scratch import scratch

CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"
ARTICLES = 100
ROUNDS = 5
WORDS = ["cocoa", "oil", "coffee", "gold", "wheat", "dollar", "bank", "tax", "strike",
         "japan", "opec", "shipping", "interest rates", "trade deficit"]


def _ms(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def main(label: str) -> None:
    with scratch(f"bench-stories-{label}") as s:
        folder, where = s.folder / "whoosh", s.where
        print(f"newsearch from {Path(newsearch.__file__).parent}; loop {loop_seconds():.2f} s")
        for target in (str(folder), where):
            started = time.perf_counter()
            report = index_paths([CORPORA / "reuters21578"], target)
            print(f"indexed {report.documents:,} articles in "
                  f"{time.perf_counter() - started:.1f} s: {target}", flush=True)
        times: dict[tuple[str, str], list[float]] = {}

        def both(what: str, call: Callable[[Any], Any], w: Any, o: Any) -> None:
            for backend, ix in (("Whoosh", w), ("OpenSearch", o)):
                times.setdefault((what, backend), []).append(_ms(lambda ix=ix: call(ix)))

        with open_index(folder, results_cache=0) as w, open_index(where, results_cache=0) as o:
            # As bench/test_stories.py: at even steps through the folder index.
            ids = [f["id"] for _d, f in w._context().searcher.reader().iter_docs()]
            picked = ids[:: max(1, len(ids) // ARTICLES)][:ARTICLES]
            for a in picked:
                both("similar, first pass", lambda ix, a=a: ix.similar(a, limit=10), w, o)
            for _ in range(2):
                for a in picked:
                    both("similar, warm", lambda ix, a=a: ix.similar(a, limit=10), w, o)
            for what, call in (
                    ("trend by month", lambda ix, q: ix.trend(q)),
                    ("trend by day", lambda ix, q: ix.trend(q, by="day")),
                    ("trend, two queries", lambda ix, q: ix.trend([q, "market"])),
                    ("search (facets, snippets)", lambda ix, q: ix.search(q))):
                for q in WORDS:  # warm-up: first-query data, caches per generation
                    call(w, q)
                    call(o, q)
                for _ in range(ROUNDS):
                    for q in WORDS:
                        both(what, lambda ix, q=q, c=call: c(ix, q), w, o)
        print("\n| what | backend | calls | p50 ms | p95 ms |")
        print("|---|---|---|---|---|")
        for (what, backend), values in times.items():
            print(f"| {what} | {backend} | {len(values)} | {percentile(values, 50):.1f} | "
                  f"{percentile(values, 95):.1f} |")
        for what in dict.fromkeys(w for w, _b in times):
            ratio = percentile(times[(what, "OpenSearch")], 50) / \
                max(percentile(times[(what, "Whoosh")], 50), 1e-3)
            print(f"OpenSearch/Whoosh p50, {what}: {ratio:.1f}")
        print(f"loop {loop_seconds():.2f} s")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "run")
