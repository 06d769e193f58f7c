"""CPU seconds of each part of the story clusters' index-time work, measured alone on the
articles of a folder (read once, untimed), and a digest of the results, so that a change
can be shown to keep every sketch and every cluster decision.

    PYTHONPATH=<checkout>/src .venv/bin/python bench/cluster_cpu.py FOLDER [--rounds 3]

Parts (each the best of ``--rounds``, ``time.process_time``): the words (the duplicate key's
split, which the index needs anyway), their hashes, the MinHash signatures (in parts of
2,000 articles, as the workers make them), ``Clusters.assign`` of every article in order,
one ``save`` of the resulting state. The digests are sha1 over the signatures and over the
cluster numbers assigned.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from newsearch import clusters
from newsearch.article import Article
from newsearch.corpus import load, walk
from newsearch.readers import read_source

PART = 2_000


def _best(rounds: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(rounds):
        t = time.process_time()
        result = fn()
        best = min(best, time.process_time() - t)
    return best, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    articles: list[Article] = []
    for f in walk([args.folder]):
        if not hasattr(f, "signature"):
            continue
        try:
            articles += [a for a in read_source(load(f)) if isinstance(a, Article)]
        except Exception:
            continue
    r = args.rounds
    t_words, words = _best(r, lambda: [a.dedup_and_words()[1] for a in articles])

    def hashes() -> list[Any]:
        clusters._hashes.clear()  # as a fresh worker starts
        return [clusters.word_hashes(w) for w in words]

    t_hash, hs = _best(r, hashes)

    def sigs() -> list[Any]:
        out: list[Any] = []
        for lo in range(0, len(hs), PART):
            out += clusters.signatures(hs[lo:lo + PART])
        return out

    t_sig, sg = _best(r, sigs)

    def assign() -> tuple[clusters.Clusters, list[int]]:
        c = clusters.Clusters()
        return c, [c.assign(a.id, s) for a, s in zip(articles, sg, strict=True)]

    t_assign, (state, numbers) = _best(r, assign)
    tmp = Path(tempfile.mkdtemp(prefix="cluster-cpu-"))
    try:
        t_save, _ = _best(r, lambda: state.save(tmp, 1))
        size = (tmp / state.filename(1)).stat().st_size
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    digest = hashlib.sha1()
    for s in sg:
        digest.update(b"-" if s is None else s.tobytes())
    print(f"{Path(clusters.__file__).parents[1]}: {len(articles)} articles, "
          f"{sum(s is not None for s in sg)} sketched, {len(set(numbers))} clusters")
    print(f"words {t_words:.3f} s, hashes {t_hash:.3f} s, signatures {t_sig:.3f} s, "
          f"assign {t_assign:.3f} s, save {t_save:.3f} s ({size / 1e6:.1f} MB)")
    print(f"signatures sha1 {digest.hexdigest()}, "
          f"clusters sha1 {hashlib.sha1(repr(numbers).encode()).hexdigest()}")


if __name__ == "__main__":
    main()
