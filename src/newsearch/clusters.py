"""Story clusters: the versions of one story (re-filed wire copies, updates, rewrites under
a new headline) grouped at index time.

    worker:  article ─▶ word_hashes() of the words its duplicate key splits ─▶ at the end
             of each part, signatures(): MinHash over the word 3-shingles (datasketch's
             permutations, applied with numpy to the whole part at once)
    main:    sketch ─▶ Clusters.assign(): LSH candidates (band_keys(), a dict of buckets)
             ─▶ the most similar one at or above THRESHOLD (estimated Jaccard) gives its
             cluster, else a new cluster
             deleted / replaced articles ─▶ Clusters.remove()
    commit:  Clusters.save() beside the manifest, named for the generation it describes
             (the sketches; the buckets are rebuilt from them on load)

Each article carries its cluster number in the index (a column, see
:mod:`newsearch.backends.whoosh.schema`),
written once when the article is added: a cluster is never renumbered, so later arrivals
join it and deletions only shrink it (the query path counts the live members per
generation; a story's members are read by :mod:`newsearch.backends.whoosh.stories`). Exact
duplicates are not indexed at all (see :mod:`newsearch.runs`); this is for the near ones.
This module imports no engine: the worker's sketches, the main process's assignment and its
file, and the array rules the query path applies.

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
import zlib
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

import numpy as np
from datasketch import MinHash

from .article import key_words
from .ranking import top_k

__all__ = ["BANDS", "FILE_RE", "NUM_PERM", "ROWS", "SHINGLE_WORDS", "SKETCH_WINDOW", "THRESHOLD",
           "Clusters",
           "band_keys", "cluster_sizes", "collapse", "count_stories", "signature_rows",
           "signatures", "sketch",
           "sketches", "story_leaders", "story_numbers", "top_stories", "word_hashes"]

NUM_PERM = 64  # permutations per sketch: 256 bytes per article, Jaccard ± 0.06
SHINGLE_WORDS = 3
THRESHOLD = 0.5
# Only the sketches of the most recently added SKETCH_WINDOW articles are kept: a sketched
# article costs the main process about 2 KB (sketch, 14 LSH buckets, number), so an unbounded
# LSH would hold ~1.9 GB at a million articles (bench/cluster_memory.py).
# New versions of a story are filed within days of it, well inside the window; an article
# older than the window keeps its cluster, and a version of it arriving later starts a new
# one.
SKETCH_WINDOW = 50_000
# Below this many shingles (about 22 words) a text is too short to tell a version from a
# template: one-line briefs and reports that differ by a figure ("harbour closed on day 3")
# share half their shingles. Such articles stay alone.
MIN_SHINGLES = 20
FILE_RE = re.compile(r"^newsearch-clusters-(\d+)\.pkl(\.tmp)?$")
_FORMAT = 2  # 2: the LSH buckets rebuilt from the sketches, not pickled

_MASK32 = np.uint64(0xFFFFFFFF)
# Odd multipliers that mix three word hashes into one shingle hash (order matters).
_MIX = (np.uint64(0x9E3779B1), np.uint64(0x85EBCA77))
# The permutations of datasketch's MinHash (its "affine32" scheme: h -> a*h + b mod 2^32
# after the MurmurHash3 finalizer), applied here to many articles at once: datasketch's
# update_batch hashes value by value in Python and pays its numpy calls per article, which
# was most of the sketch's cost. tests/test_clusters.py checks the signatures are its own.
_TEMPLATE = MinHash(num_perm=NUM_PERM, hashfunc=int)
_PERM_A, _PERM_B = (np.asarray(p, dtype=np.uint32) for p in _TEMPLATE.permutations)
_PERM_A_COL, _PERM_B_COL = _PERM_A[:, None], _PERM_B[:, None]
# Shingles multiplied out against the permutations per block: 1 MB of uint32 at a time,
# which stays in the CPU's cache (Reuters-21578's sketches: 0.10-0.14 s against 0.23 s
# with 4 MB blocks, /tmp micro-benchmark in bench/README.md's issue-16 section).
_BLOCK_SHINGLES = 4_096
# LSH bands: datasketch's choice for THRESHOLD 0.5 and 64 permutations (the b, r that
# minimise its weighted false positive and negative rates), 14 bands of 4 rows.
BANDS, ROWS = 14, 4
# Odd multipliers folding a band's four values (and its number) into one 64-bit key.
_BAND_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9,
                      0x85EBCA77C2B2AE63], dtype=np.uint64)
_BAND_SALT = np.arange(BANDS, dtype=np.uint64) * np.uint64(0xD6E8FEB86659FD93)


class _WordHashes(dict[str, int]):
    """crc32 of each word, remembered (news vocabulary repeats; hashing is the hot spot)."""

    def __missing__(self, word: str) -> int:
        if len(self) > 1_000_000:
            self.clear()
        h = self[word] = zlib.crc32(word.encode("utf-8"))
        return h


_hashes = _WordHashes()


def _fmix32(h: np.ndarray) -> np.ndarray:
    # MurmurHash3's 32-bit finalizer (datasketch pre-mixes each value with it).
    h = h ^ (h >> np.uint32(16))
    h = h * np.uint32(0x85EBCA6B)
    h = h ^ (h >> np.uint32(13))
    h = h * np.uint32(0xC2B2AE35)
    return h ^ (h >> np.uint32(16))


def sketch(title: str, body: str) -> np.ndarray | None:
    """The MinHash signature (``NUM_PERM`` uint32) of an article's text, or None when it is
    too short to compare (see :func:`sketches`)."""
    return sketches([(title, body)])[0]


def sketches(texts: Sequence[tuple[str, str]]) -> list[np.ndarray | None]:
    """The MinHash signatures of many articles' (title, body), computed together; None for
    a text too short to compare. The body decides (a rewrite keeps it under a new
    headline); a headline-only article is sketched by its headline."""
    return signatures([word_hashes(key_words(body or title or "")) for title, body in texts])


def word_hashes(words: list[str]) -> np.ndarray | None:
    """The hashes of a text's words (:func:`newsearch.article.key_words`), the first half of
    a sketch, or None when the text is too short to compare."""
    if len(words) < MIN_SHINGLES + SHINGLE_WORDS - 1:
        return None
    return np.fromiter(map(_hashes.__getitem__, words), dtype=np.uint64, count=len(words))


def signatures(hashes: Sequence[np.ndarray | None]) -> list[np.ndarray | None]:
    """The MinHash signatures of texts given by their :func:`word_hashes`, computed
    together (a few numpy calls for them all rather than a dozen per text)."""
    rows, sketched = signature_rows(hashes)
    return [rows[i] if ok else None for i, ok in enumerate(sketched.tolist())]


def signature_rows(hashes: Sequence[np.ndarray | None]) -> tuple[np.ndarray, np.ndarray]:
    """:func:`signatures` as one array, a row per text (zeros for a text too short to
    compare), and which rows hold a signature: what a worker sends (one array pickles in a
    twentieth of the time a list of a thousand small ones takes)."""
    rows = np.zeros((len(hashes), NUM_PERM), dtype=np.uint32)
    which = [i for i, h in enumerate(hashes) if h is not None]
    sketched = np.zeros(len(hashes), dtype=bool)
    sketched[which] = True
    if not which:
        return rows, sketched
    # Shingles over all the texts end to end; the two that straddle each border are dropped.
    words_h = [cast(np.ndarray, hashes[i]) for i in which]
    h = np.concatenate(words_h)
    lengths = np.fromiter(map(len, words_h), dtype=np.int64, count=len(words_h))
    ends = np.cumsum(lengths)
    keep = np.ones(len(h) - 2, dtype=bool)
    keep[ends[:-1] - 2] = False
    keep[ends[:-1] - 1] = False
    shingles = ((h[:-2] * _MIX[0] + h[1:-1] * _MIX[1] + h[2:]) & _MASK32)[keep]
    mixed = _fmix32(shingles.astype(np.uint32))
    counts = lengths - (SHINGLE_WORDS - 1)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    sigs = np.empty((len(which), NUM_PERM), dtype=np.uint32)
    # Blocks of whole texts (a longer text is a block of its own), permutations as rows:
    # each text's minimum is one reduceat along contiguous rows, five times faster than
    # down the columns of a shingle-per-row block. Block limits in plain ints: a numpy
    # scalar per text compared in Python cost as much as the arithmetic.
    starts_l, ends_l = starts.tolist(), (starts + counts).tolist()
    first = 0
    while first < len(which):
        lo = starts_l[first]
        last = first + 1
        while last < len(which) and ends_l[last] - lo <= _BLOCK_SHINGLES:
            last += 1
        hi = ends_l[last - 1]
        permuted = np.multiply(_PERM_A_COL, mixed[None, lo:hi])
        permuted += _PERM_B_COL
        sigs[first:last] = np.minimum.reduceat(permuted, starts[first:last] - lo, axis=1).T
        first = last
    rows[which] = sigs
    return rows, sketched


def band_keys(sigs: np.ndarray) -> np.ndarray:
    """The LSH bucket of each band of each signature (rows of ``NUM_PERM`` uint32): one
    64-bit key per band, the band's number mixed in so that the bands share one table."""
    bands = sigs[..., :BANDS * ROWS].reshape(*sigs.shape[:-1], BANDS, ROWS).astype(np.uint64)
    return (bands * _BAND_MIX).sum(axis=-1, dtype=np.uint64) + _BAND_SALT


class Clusters:
    """Cluster numbers of the indexed articles, their sketches and the LSH over them."""

    def __init__(self) -> None:
        # article id -> cluster number, for the sketched articles in the window only: the
        # index holds every article's number; this is what a new version joins.
        self.of: dict[str, int] = {}
        # article id -> sketch (sketched ones only), oldest first: the window drops from the
        # front (an OrderedDict: a plain dict's iteration slows as its front is deleted).
        self.sigs: OrderedDict[str, np.ndarray] = OrderedDict()
        # LSH bucket (band key) -> the id in it, or a list of them when several (most
        # buckets hold one article: no list for those).
        self.buckets: dict[int, str | list[str]] = {}
        self.next = 0

    def _bucket_add(self, article_id: str, keys: list[int]) -> None:
        buckets = self.buckets
        for k in keys:
            held = buckets.get(k)
            if held is None:
                buckets[k] = article_id
            elif isinstance(held, list):
                held.append(article_id)
            else:
                buckets[k] = [held, article_id]

    def candidates(self, sig: np.ndarray, keys: list[int] | None = None) -> set[str]:
        """Ids sharing at least one LSH band with ``sig``."""
        found: set[str] = set()
        buckets = self.buckets
        for k in band_keys(sig).tolist() if keys is None else keys:
            held = buckets.get(k)
            if held is None:
                continue
            if isinstance(held, list):
                found.update(held)
            else:
                found.add(held)
        return found

    def assign(self, article_id: str, sig: np.ndarray | None,
               keys: list[int] | None = None) -> int:
        """Put an article into the cluster of its most similar indexed version, or a new one;
        return the cluster number. ``keys`` are the sketch's :func:`band_keys` when they were
        computed with others'."""
        self.remove([article_id])
        best, best_j = None, THRESHOLD
        if sig is not None:
            if keys is None:
                keys = band_keys(sig).tolist()
            for other in self.candidates(sig, keys):
                j = float(np.count_nonzero(self.sigs[other] == sig)) / NUM_PERM
                if j > best_j or (j == best_j and best is None):
                    best, best_j = other, j
            self._bucket_add(article_id, keys)
            self.sigs[article_id] = sig
        if best is not None:
            cluster = self.of[best]
        else:
            cluster = self.next
            self.next += 1
        if sig is not None:
            self.of[article_id] = cluster
            self._trim()  # after the number is read: the most similar may be the oldest
        return cluster

    def recall(self, article_id: str, sig: np.ndarray, cluster: int) -> None:
        """Hold an indexed article this run has not seen (its sketch and cluster number, read
        back from an index that keeps them, the OpenSearch cluster), so that a new version
        of it joins its cluster."""
        if article_id in self.sigs:
            return
        self._bucket_add(article_id, band_keys(sig).tolist())
        self.sigs[article_id] = sig
        self.of[article_id] = cluster
        self.next = max(self.next, cluster + 1)
        self._trim()

    def remove(self, article_ids: Iterable[str]) -> None:
        for aid in article_ids:
            self.of.pop(aid, None)
            sig = self.sigs.pop(aid, None)
            if sig is not None:
                self._unbucket(aid, sig)

    def _unbucket(self, aid: str, sig: np.ndarray) -> None:
        buckets = self.buckets
        for k in band_keys(sig).tolist():
            held = buckets.get(k)
            if held == aid:
                del buckets[k]
            elif isinstance(held, list):
                held.remove(aid)
                if len(held) == 1:
                    buckets[k] = held[0]

    def _trim(self) -> None:
        """Forget the oldest sketches beyond :data:`SKETCH_WINDOW` (their clusters stay)."""
        while len(self.sigs) > SKETCH_WINDOW:
            aid, sig = self.sigs.popitem(last=False)
            self.of.pop(aid, None)
            self._unbucket(aid, sig)

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
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError,
                ImportError):
            return None
        if not isinstance(state, dict) or state.get("format") != _FORMAT:
            return None
        c = cls()
        c.next = state["next"]
        of = state["of"]
        c._index(state["ids"], state["sigs"])
        c.of = {aid: of[aid] for aid in c.sigs}
        return c

    def _index(self, ids: list[str], sigs: np.ndarray) -> None:
        # The buckets are rebuilt rather than stored: one vectorised pass at load instead of
        # pickling a dict of every band at each commit.
        if len(ids) > SKETCH_WINDOW:
            ids, sigs = ids[-SKETCH_WINDOW:], sigs[-SKETCH_WINDOW:]
        self.sigs.update(zip(ids, sigs, strict=True))
        if ids:
            for aid, keys in zip(ids, band_keys(sigs).tolist(), strict=True):
                self._bucket_add(aid, keys)
        self._trim()

    @classmethod
    def from_articles(cls, articles: Iterable[tuple[str, int, str, str]]) -> Clusters:
        """Rebuilt from the index's own articles (id, cluster, title, body) when the file for
        the generation is missing: the numbers the index holds are kept."""
        c = cls()
        ids: list[str] = []
        texts: list[tuple[str, str]] = []
        for aid, cluster, title, body in articles:
            c.of[aid] = cluster
            c.next = max(c.next, cluster + 1)
            ids.append(aid)
            texts.append((title, body))
        for lo in range(0, len(ids), 2_000):  # in parts: a shingle matrix per part
            sigs = sketches(texts[lo:lo + 2_000])
            done = [(aid, sig) for aid, sig in zip(ids[lo:lo + 2_000], sigs, strict=True)
                    if sig is not None]
            if done:
                c._index([aid for aid, _ in done], np.stack([sig for _, sig in done]))
        c.of = {aid: c.of[aid] for aid in c.sigs}
        return c

    @staticmethod
    def prune(folder: Path, keep: int) -> None:
        """Remove the files of other generations (after ``keep`` was committed)."""
        for p in folder.iterdir():
            m = FILE_RE.match(p.name)
            if m and (m.group(2) or int(m.group(1)) != keep):
                with contextlib.suppress(OSError):
                    p.unlink()


# Leaders are picked in arrays over the cluster numbers when the matching versions number at
# least 1/_DENSE_LEADERS of the largest cluster number; by a sort below that.
_DENSE_LEADERS = 16


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
    over ``ids``; of equal keys the first in ``ids``), or None when no two of them share a
    cluster's versions."""
    multi = sizes[ids] > 1
    if not multi.any():
        return None
    where = np.flatnonzero(multi)
    chosen = _best_of_each(clusters[ids[where]].astype(np.int64), keys[where])
    keep = ~multi
    keep[where[chosen]] = True
    return keep


def _best_of_each(groups: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """Where each group's best key is (of equal keys the first), given each item's group
    (non-negative) and key."""
    top = int(groups.max()) + 1
    if len(groups) * _DENSE_LEADERS >= top:
        # Many items for the groups' range (a re-filed archive's versions): each group's
        # best key and first holder in arrays over the group numbers, where a sort of every
        # match cost most of a query at a million articles.
        low = -np.inf if keys.dtype.kind == "f" else np.iinfo(keys.dtype).min
        best = np.full(top, low, dtype=keys.dtype)
        np.maximum.at(best, groups, keys)
        cand = np.flatnonzero(keys == best[groups])
        first = np.full(top, len(groups), dtype=np.int64)
        np.minimum.at(first, groups[cand], cand)
        return cand[first[groups[cand]] == cand]
    order = np.lexsort((-keys, groups))
    g = groups[order]
    head = np.ones(len(order), dtype=bool)
    head[1:] = g[1:] != g[:-1]
    return order[head]


def story_numbers(clusters: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """Each document's story as one number: its cluster's when the cluster has versions
    (``sizes`` > 1), else a number of its own after those. Two documents share a number
    exactly when they are versions of one story, and the numbers stay below the count of
    clusters with versions plus the documents alone, so a set of them is counted in an array
    of flags."""
    multi = sizes > 1
    stories = np.empty(len(clusters), dtype=np.int64)
    stories[multi] = clusters[multi]
    top = int(clusters[multi].max()) + 1 if multi.any() else 0
    stories[~multi] = top + np.arange(len(clusters) - int(np.count_nonzero(multi)))
    return stories


def top_stories(ids: np.ndarray, keys: np.ndarray, stories: np.ndarray,
                k: int) -> tuple[np.ndarray, int]:
    """The leaders of the ``k`` best stories among ``ids`` (ascending document numbers;
    parallel ``keys``, larger is better; ``stories`` from :func:`story_numbers`) in rank
    order, and how many stories ``ids`` hold.

    The same page as :func:`story_leaders` then :func:`~newsearch.ranking.top_k` (a story's
    leader is its best-keyed version, of equal keys the lowest document number; ties between
    stories by lower document number), mostly from the head of the ranking alone: in the
    order by (key, document number) a story's first version is its leader, so the page is
    the first ``k`` stories met in a prefix of that order. At a million articles most hits
    of a common word are versions of some story (a re-filed wire, a replicated archive) and
    finding every story's leader cost more than ranking. When the prefix does not hold the
    page (few stories, a page deep in the ranking, the best stories with many versions),
    every story's leader is found in one pass and the best of them ranked."""
    numbers = stories[ids]
    count = _distinct(numbers)
    if count == len(ids):  # no two hits of one story
        return top_k(ids, keys, k), count
    if k <= 0:
        return ids[:0], count
    # Twice the hits' versions per story: the head holds the page unless the best-ranked
    # stories have many more versions than the rest.
    width = k * (2 * len(ids) // count + 1)
    if 4 * width < len(ids):
        head = top_k(ids, keys, width)
        # return_index gives each story's first place in the head (numpy sorts stably).
        _st, first = np.unique(stories[head], return_index=True)
        if len(first) >= k:
            return head[np.sort(first)][:k], count
    # Few stories for the page, or a page deep in the ranking: every story's leader (one
    # pass in arrays), then the best of them.
    chosen = _best_of_each(numbers, keys)
    return top_k(ids[chosen], keys[chosen], k), count


# A set of story numbers is counted with flags over 0 .. its largest when it holds at least
# 1/_DENSE_COUNT as many numbers (a pass over the flags is cheaper than sorting the set).
_DENSE_COUNT = 64


def _distinct(values: np.ndarray) -> int:
    """How many distinct non-negative integers ``values`` holds: flags over the range when
    the values are many for it (no sort), else a sort."""
    if not len(values):
        return 0
    top = int(values.max()) + 1
    if len(values) * _DENSE_COUNT >= top:
        seen = np.zeros(top, dtype=bool)
        seen[values] = True
        return int(np.count_nonzero(seen))
    return len(np.unique(values))


def count_stories(stories: np.ndarray, mask: np.ndarray) -> int:
    """How many distinct stories the documents in ``mask`` hold (``stories`` from
    :func:`story_numbers`)."""
    return _distinct(stories[mask])
