"""Story clusters: the versions of one story (re-filed wire copies, updates, rewrites under
a new headline) grouped at index time.

    worker:  article ─▶ sketch(): MinHash over the body's word 3-shingles (datasketch)
    main:    sketch ─▶ Clusters.assign(): LSH candidates ─▶ the most similar one at or above
             THRESHOLD (estimated Jaccard) gives its cluster, else a new cluster
             deleted / replaced articles ─▶ Clusters.remove()
    commit:  Clusters.save() beside the manifest, named for the generation it describes

Each article carries its cluster number in the index (a column, see :mod:`newsearch.schema`),
written once when the article is added: a cluster is never renumbered, so later arrivals
join it and deletions only shrink it (the query path counts the live members per
generation). Exact duplicates are not indexed at all (see :mod:`newsearch.indexer`); this
is for the near ones.

Threshold, measured on ``../shared/corpora/large`` (21,434 indexed articles; pairs judged
independently of the sketch by difflib's ratio over the body's word sequence, see
``tests/test_clusters.py``): at 0.5 the clusters recall 98.1 % of the re-filed stories (same
URL slug or same headline, ratio ≥ 0.8) and 99.8 % of the pairs they group share at least
half their words in order; 0.6 loses recall (90 %), 0.4 and below start grouping unrelated
market reports.

Crash safety follows the manifest: ``newsearch-clusters-G.pkl`` is written before
generation G is committed and older ones are removed after; a missing file (an index
restored by hand) is rebuilt from the stored articles.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import re
import threading
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from .article import PUNCTUATION

__all__ = ["FILE_RE", "NUM_PERM", "SHINGLE_WORDS", "THRESHOLD", "Clusters", "cluster_sizes",
           "collapse", "count_stories", "sketch", "story_leaders", "story_members"]

NUM_PERM = 64  # permutations per sketch: 256 bytes per article, Jaccard ± 0.06
SHINGLE_WORDS = 3
THRESHOLD = 0.5
# Below this many shingles (about 22 words) a text is too short to tell a version from a
# template: one-line briefs and reports that differ by a figure ("harbour closed on day 3")
# share half their shingles. Such articles stay alone.
MIN_SHINGLES = 20
FILE_RE = re.compile(r"^newsearch-clusters-(\d+)\.pkl(\.tmp)?$")
_FORMAT = 1

_MASK32 = np.uint64(0xFFFFFFFF)
# Odd multipliers that mix three word hashes into one shingle hash (order matters).
_MIX = (np.uint64(0x9E3779B1), np.uint64(0x85EBCA77))
_TEMPLATE = MinHash(num_perm=NUM_PERM, hashfunc=int)  # permutations computed once
_scratch = threading.local()


class _WordHashes(dict[str, int]):
    """crc32 of each word, remembered (news vocabulary repeats; hashing is the hot spot)."""

    def __missing__(self, word: str) -> int:
        if len(self) > 1_000_000:
            self.clear()
        h = self[word] = zlib.crc32(word.encode("utf-8"))
        return h


_hashes = _WordHashes()


def sketch(title: str, body: str) -> np.ndarray | None:
    """The MinHash signature (``NUM_PERM`` uint32) of an article's text, or None when it is
    too short to compare. The body decides (a rewrite keeps it under a new headline); a
    headline-only article is sketched by its headline."""
    # Words as the duplicate key splits them (case and punctuation dropped): a C-speed split,
    # a third of the time of a regular expression.
    words = (body or title or "").casefold().translate(PUNCTUATION).split()
    if len(words) < MIN_SHINGLES + SHINGLE_WORDS - 1:
        return None
    h = np.fromiter(map(_hashes.__getitem__, words), dtype=np.uint64, count=len(words))
    shingles = (h[:-2] * _MIX[0] + h[1:-1] * _MIX[1] + h[2:]) & _MASK32
    m = _scratch_minhash()
    m.clear()
    m.update_batch(shingles.tolist())
    return m.hashvalues.astype(np.uint32)


def _scratch_minhash() -> MinHash:
    # One MinHash per thread, cleared for each article: MinHash.copy() re-validates the
    # permutations every time (a fifth of the sketch's cost).
    m: MinHash | None = getattr(_scratch, "minhash", None)
    if m is None:
        m = _scratch.minhash = _TEMPLATE.copy()
    return m


def _minhash(sig: np.ndarray) -> LeanMinHash:
    # The LSH reads only the hash values: the lean kind skips building the permutations.
    return LeanMinHash(seed=_TEMPLATE.seed, hashvalues=sig, scheme=_TEMPLATE.scheme)


class Clusters:
    """Cluster numbers of the indexed articles, their sketches and the LSH over them."""

    def __init__(self) -> None:
        self.of: dict[str, int] = {}  # article id -> cluster number
        self.sigs: dict[str, np.ndarray] = {}  # article id -> sketch (sketched ones only)
        self.lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
        self.next = 0

    def assign(self, article_id: str, sig: np.ndarray | None) -> int:
        """Put an article into the cluster of its most similar indexed version, or a new one;
        return the cluster number."""
        self.remove([article_id])
        best, best_j = None, THRESHOLD
        if sig is not None:
            m = _minhash(sig)
            for other in self.lsh.query(m):
                j = float(np.count_nonzero(self.sigs[other] == sig)) / NUM_PERM
                if j > best_j or (j == best_j and best is None):
                    best, best_j = other, j
            self.lsh.insert(article_id, m, check_duplication=False)
            self.sigs[article_id] = sig
        if best is not None:
            cluster = self.of[best]
        else:
            cluster = self.next
            self.next += 1
        self.of[article_id] = cluster
        return cluster

    def remove(self, article_ids: Iterable[str]) -> None:
        for aid in article_ids:
            self.of.pop(aid, None)
            if self.sigs.pop(aid, None) is not None:
                self.lsh.remove(aid)

    # -- persistence, one file per generation (like the manifest) --

    @staticmethod
    def filename(generation: int) -> str:
        return f"newsearch-clusters-{generation}.pkl"

    def save(self, folder: Path, generation: int) -> None:
        target = folder / self.filename(generation)
        tmp = target.with_name(target.name + ".tmp")
        ids = list(self.sigs)
        state = {
            "format": _FORMAT, "next": self.next, "of": self.of, "ids": ids,
            "sigs": np.stack([self.sigs[i] for i in ids]) if ids else
            np.zeros((0, NUM_PERM), dtype=np.uint32),
            "lsh": self.lsh,
        }
        with open(tmp, "wb") as fh:
            pickle.dump(state, fh, protocol=pickle.HIGHEST_PROTOCOL)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)

    @classmethod
    def load(cls, folder: Path, generation: int) -> Clusters | None:
        try:
            with open(folder / cls.filename(generation), "rb") as fh:
                state = pickle.load(fh)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError):
            return None
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            return None
        c = cls()
        c.next = state["next"]
        c.of = state["of"]
        c.sigs = dict(zip(state["ids"], state["sigs"], strict=True))
        c.lsh = state["lsh"]
        return c

    @classmethod
    def from_articles(cls, articles: Iterable[tuple[str, int, str, str]]) -> Clusters:
        """Rebuilt from the index's own articles (id, cluster, title, body) when the file for
        the generation is missing: the numbers the index holds are kept."""
        c = cls()
        for aid, cluster, title, body in articles:
            c.of[aid] = cluster
            c.next = max(c.next, cluster + 1)
            sig = sketch(title, body)
            if sig is not None:
                c.sigs[aid] = sig
                c.lsh.insert(aid, _minhash(sig), check_duplication=False)
        return c

    @staticmethod
    def prune(folder: Path, keep: int) -> None:
        """Remove the files of other generations (after ``keep`` was committed)."""
        for p in folder.iterdir():
            m = FILE_RE.match(p.name)
            if m and (m.group(2) or int(m.group(1)) != keep):
                with contextlib.suppress(OSError):
                    p.unlink()


def cluster_sizes(clusters: np.ndarray, live: np.ndarray) -> np.ndarray:
    """For each document, how many live documents share its cluster (0 for deleted ones)."""
    sizes = np.zeros(len(clusters), dtype=np.int32)
    if not len(clusters):
        return sizes
    _values, inverse, counts = np.unique(np.where(live, clusters, -1), return_inverse=True,
                                         return_counts=True)
    sizes = counts[inverse].astype(np.int32)
    sizes[~live] = 0
    return sizes


def collapse(ids: np.ndarray, keys: np.ndarray, clusters: np.ndarray,
             sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Keep the best-keyed document of each cluster among ``ids`` (parallel ``keys``, larger
    is better). Lone articles (most of them) pass untouched; only members of clusters with
    versions are sorted."""
    keep = story_leaders(ids, keys, clusters, sizes)
    return (ids, keys) if keep is None else (ids[keep], keys[keep])


def story_leaders(ids: np.ndarray, keys: np.ndarray, clusters: np.ndarray,
                  sizes: np.ndarray) -> np.ndarray | None:
    """Which of ``ids`` to keep so that each cluster keeps its best-keyed document (a mask
    over ``ids``), or None when no two of them share a cluster's versions."""
    multi = sizes[ids] > 1
    if not multi.any():
        return None
    m_ids, m_keys = ids[multi], keys[multi]
    order = np.lexsort((-m_keys, clusters[m_ids]))
    cl = clusters[m_ids][order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = cl[1:] != cl[:-1]
    keep = ~multi
    keep[np.flatnonzero(multi)[order[first]]] = True
    return keep


def count_stories(clusters: np.ndarray, sizes: np.ndarray, mask: np.ndarray) -> int:
    """How many distinct stories the documents in ``mask`` hold."""
    multi = mask & (sizes > 1)
    return int((mask & (sizes <= 1)).sum()) + len(np.unique(clusters[multi]))


def story_members(view: Any, docnum: int, *, oldest_first: bool = False) -> np.ndarray:
    """The live documents in the cluster of ``docnum`` (itself included), in doc number
    order or oldest first (undated last)."""
    members = np.flatnonzero((view.clusters == view.clusters[docnum]) & view.live)
    if oldest_first:
        from .view import NO_DAY  # view.py imports this module

        dates = view.dates[members]
        undated = view.days[members] == NO_DAY
        members = members[np.lexsort((members, dates, undated))]
    return members
