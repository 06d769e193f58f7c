"""What the story clusters' state costs the main process per article, with the sketch window.

Usage: ``python bench/cluster_memory.py N`` assigns N random sketches (no two alike, so every
article keeps its own buckets: the worst case for the LSH) to a fresh ``Clusters`` and prints
the bytes it holds per article (tracemalloc) and how many sketches it keeps.
"""

from __future__ import annotations

import sys
import time
import tracemalloc

import numpy as np

from newsearch.clusters import NUM_PERM, SKETCH_WINDOW, Clusters


def main(n: int) -> None:
    sigs = np.random.default_rng(1).integers(0, 2**32, size=(n, NUM_PERM), dtype=np.uint32)
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    c = Clusters()
    t = time.process_time()
    for i in range(n):
        c.assign(f"article-{i:09d}", sigs[i].copy())
    cpu = time.process_time() - t
    held = tracemalloc.get_traced_memory()[0] - base
    print(f"{n:,} articles, window {SKETCH_WINDOW:,}: {held / 1e6:.0f} MB held, "
          f"{held / n:.0f} bytes/article, {len(c.sigs):,} sketches kept, "
          f"{cpu:.1f} s CPU (traced)")


if __name__ == "__main__":
    main(int(sys.argv[1]))
