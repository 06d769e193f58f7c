"""What the any-word fallback from three words costs the queries it changes.

    python -m bench.fallback_cost

Indexes Reuters-21578 as the effectiveness suite does, then times its three-word known-item
queries (tuning seed: three rare words of one article, so exactly one article holds all
three and each falls back from three words) with ``FALLBACK_MIN_WORDS`` at 4 and at 3,
interleaved, three rounds after a warm-up, in CPU time of this process (other load on a
shared machine barely moves it). Prints p50 / p95 per setting.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path


def main() -> int:
    # The Whoosh backend reads the constant it imported from newsearch.search.
    import newsearch.backends.whoosh.index as searcher

    from . import test_effectiveness as te

    c = te.corpus("reuters")
    queries = [t for s in c.sets if not s.held_out for t in s.queries.values()
               if len(t.split()) == 3]
    cpu_ms: dict[int, list[float]] = {4: [], 3: []}
    shipped = searcher.FALLBACK_MIN_WORDS
    with tempfile.TemporaryDirectory(prefix="bench-fallback-") as tmp:
        ix = te.Newsearch(c, Path(tmp)).ix
        try:
            for q in queries:
                ix.search(q)  # warm-up: postings and stored fields read once
            for _ in range(3):
                for q in queries:
                    for setting in cpu_ms:
                        searcher.FALLBACK_MIN_WORDS = setting
                        started = time.process_time()
                        ix.search(q)
                        cpu_ms[setting].append((time.process_time() - started) * 1000)
        finally:
            searcher.FALLBACK_MIN_WORDS = shipped
            ix.close()
    for setting, values in cpu_ms.items():
        values.sort()
        p95 = values[int(0.95 * len(values)) - 1]
        print(f"FALLBACK_MIN_WORDS = {setting}: {len(queries)} queries x 3, CPU p50 "
              f"{statistics.median(values):.2f} ms, p95 {p95:.2f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
