"""What one index generation looks like to the query path: arrays, not objects.

    Whoosh segments ──▶ SegmentData (per segment, cached: dates, field lengths, sections,
                                     decoded posting lists)
                    ──▶ View (per generation: the segments side by side, global doc numbers,
                              deletions as a mask)

Segments never change once written (only their deletion lists do), so everything derived
from one is kept by segment id and reused by every later generation that still holds it: a
commit that adds one small segment costs the query path only that segment. A newsearch
segment's posting and position lists are numpy views of its memory-mapped files
(:mod:`.codec`): a term costs a hash lookup per segment, nothing is decoded. Lists
joined across segments (global document numbers, deletions removed) are kept in a bounded
LRU. The query path works with vector operations: masks for boolean logic and filters, score
arrays for BM25, ``bincount`` for facets. Segments in Whoosh's own format (written by
Whoosh's writer into a newsearch index) are read through Whoosh and their decoded lists
cached the same way.

A :class:`View` is read-only and shared by all threads; reading a segment needs a Whoosh
reader, which each thread passes in (Whoosh readers are not thread-safe).
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from itertools import accumulate
from pickle import loads
from typing import Any
from zlib import decompress

import numpy as np
from whoosh.codec.whoosh3 import W3Codec, W3LeafMatcher
from whoosh.columns import VarBytesColumn
from whoosh.matching.wrappers import FilterMatcher
from whoosh.util.numeric import byte_to_length

from ...article import section_key, section_keys
from ...clusters import cluster_sizes, story_numbers
from .codec import (
    SHORT_SUM,
    NewsTermsReader,
    SegmentPostings,
    buffer_of,
    position_offsets,
    ranges,
)
from .schema import NO_DATE

__all__ = ["DENSE_UNION", "POSTINGS_CACHE_ENTRIES", "TEXT_FIELDS", "SegmentData", "View",
           "positions_in", "read_values", "union_ids"]

TEXT_FIELDS = ("title", "subtitle", "body", "author")
DAY = 86_400
# The day number of an undated article: not -1, which is 31 December 1969 (dates reach 1800).
NO_DAY = int(np.iinfo(np.int32).min)
# Decoded posting lists kept per process (summed over segments, int32 + float32 each).
POSTINGS_CACHE_ENTRIES = 12_000_000
# Encoded position lists kept for phrase checks (a few dozen bytes each).
POSITIONS_CACHE_ENTRIES = 2_000_000
# Terms whose place in each segment's dictionary a prefix or family search found (kept per
# generation; a few dozen bytes each).
KNOWN_TERMS = 100_000
_LENGTH_TABLE = np.array([byte_to_length(b) for b in range(256)], dtype=np.float32)
_EMPTY_IDS = np.zeros(0, dtype=np.int32)
_EMPTY_W = np.zeros(0, dtype=np.float32)
_EMPTY_IDX = np.zeros(0, dtype=np.int64)


def leaf_readers(reader: Any) -> list[tuple[Any, int]]:
    """(segment reader, doc number offset) pairs; none for an index without segments (whose
    reader is Whoosh's EmptyReader)."""
    leaves = [(reader, 0)] if reader.is_atomic() else list(reader.leaf_readers())
    return [(r, off) for r, off in leaves if r.segment() is not None]


def segment_key(seg_reader: Any) -> str:
    return seg_reader.segment().segment_id()


def segment_postings(seg_reader: Any) -> SegmentPostings | None:
    """The segment's memory-mapped postings, or None for a segment in Whoosh's format."""
    terms = getattr(seg_reader, "_terms", None)
    return terms.segment_postings if isinstance(terms, NewsTermsReader) else None


def read_postings(seg_reader: Any, field: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Doc numbers and weights (term frequencies) of one term in one segment, deleted
    documents included (the view masks them)."""
    mapped = segment_postings(seg_reader)
    if mapped is not None:
        found = mapped.postings(field, btext)
        if found is None:
            return _EMPTY_IDS, _EMPTY_W
        doc_ids, tfs = found
        return (doc_ids.astype(np.int32),
                tfs.astype(np.float32) if tfs is not None else np.ones(len(doc_ids),
                                                                         np.float32))
    if (field, btext) not in seg_reader:
        return _EMPTY_IDS, _EMPTY_W
    m = seg_reader.postings(field, btext)
    if isinstance(m, FilterMatcher):  # Whoosh's deletion filter: the view does that
        m = m.child
    if not isinstance(m, W3LeafMatcher):
        ids, ws = [], []
        while m.is_active():
            ids.append(m.id())
            ws.append(m.weight())
            m.next()
        return np.array(ids, dtype=np.int32), np.array(ws, dtype=np.float32)
    # Whoosh 2.7 W3 blocks: a pickled (delta-coded ids, weights, values) tuple per block.
    id_parts: list[np.ndarray] = []
    w_parts: list[np.ndarray] = []
    while not m._atend:
        m._read_data()
        d_ids, d_w, _values = m._data
        block = np.cumsum(np.asarray(d_ids, dtype=np.int64)).astype(np.int32)
        id_parts.append(block)
        if d_w is None:
            w_parts.append(np.ones(len(block), dtype=np.float32))
        elif isinstance(d_w, (int, float)):
            w_parts.append(np.full(len(block), d_w, dtype=np.float32))
        else:
            w_parts.append(np.asarray(d_w, dtype=np.float32))
        m._next_block()
    if not id_parts:  # every posting deleted: Whoosh's deletion filter ran the matcher out
        return _EMPTY_IDS, _EMPTY_W
    if len(id_parts) == 1:
        return id_parts[0], w_parts[0]
    return np.concatenate(id_parts), np.concatenate(w_parts)


def _positions(value: bytes) -> list[int]:
    # Whoosh's Positions format: a 4-byte count, then the pickled position deltas (the
    # pickle's final STOP byte may have been trimmed).
    codes = loads(value[4:] if value.endswith(b".") else value[4:] + b".")
    return list(accumulate(codes))


def read_values(seg_reader: Any, field: str, btext: bytes) -> tuple[np.ndarray, list[bytes]]:
    """Doc numbers and encoded posting values (positions) of one term in one segment."""
    if (field, btext) not in seg_reader:
        return _EMPTY_IDS, []
    m = seg_reader.postings(field, btext)
    if isinstance(m, FilterMatcher):
        m = m.child
    ids: list[np.ndarray] = []
    values: list[bytes] = []
    if not isinstance(m, W3LeafMatcher):
        plain = []
        while m.is_active():
            plain.append(m.id())
            values.append(m.value())
            m.next()
        return np.array(plain, dtype=np.int64), values
    while not m._atend:
        m._read_data()
        d_ids, _w, block_values = m._data
        ids.append(np.cumsum(np.asarray(d_ids, dtype=np.int64)))
        values.extend(block_values)
        m._next_block()
    if not ids:  # every posting deleted (see read_postings)
        return _EMPTY_IDS, []
    return (np.concatenate(ids) if len(ids) > 1 else ids[0]), values


def positions_in(ids: np.ndarray, values: list[bytes], wanted: np.ndarray) -> dict[int, list[int]]:
    """Positions in the ``wanted`` documents (sorted), from :func:`read_values` output."""
    if not len(ids) or not len(wanted):
        return {}
    idx = np.searchsorted(ids, wanted)
    idx[idx >= len(ids)] = len(ids) - 1
    hit = ids[idx] == wanted
    return {int(d): _positions(values[i]) for d, i in zip(wanted[hit].tolist(),
                                                          idx[hit].tolist(), strict=True)}


class _StoredFields:
    """A segment's stored fields read straight from the mapped column (Whoosh's W3 layout:
    each document's pickled fields, zlib-compressed): no file reads, no reader layers."""

    def __init__(self, seg_reader: Any) -> None:
        storage = seg_reader.storage()
        name = W3Codec.column_filename(seg_reader.segment(), "_stored")
        n = seg_reader.doc_count_all()
        self.buf: Any = None
        if not storage.file_exists(name):
            return
        col = VarBytesColumn.Reader(storage.open_file(name), 0, storage.file_length(name), n)
        self.lengths = col._lengths
        self.offsets = col._offsets
        self.buf = buffer_of(storage, name)

    def get(self, docnum: int) -> dict[str, Any]:
        if self.buf is None or docnum >= len(self.lengths) or not self.lengths[docnum]:
            return {}
        start = self.offsets[docnum]
        return loads(decompress(self.buf[start:start + self.lengths[docnum]]))


class SegmentData:
    """Arrays for one segment (local doc numbers). Immutable, shared, cached by segment id."""

    def __init__(self, seg_reader: Any) -> None:
        self.key = segment_key(seg_reader)
        self.n = seg_reader.doc_count_all()
        # Read-only views of memory-mapped files: shared by every thread and generation.
        self.mapped = segment_postings(seg_reader)
        col = seg_reader.column_reader("date") if seg_reader.has_column("date") else None
        dates = np.fromiter(col, dtype=np.int64, count=self.n) if col is not None else \
            np.full(self.n, NO_DATE, dtype=np.int64)
        self.dates = dates
        self.days = np.where(dates > NO_DATE // 2, dates // DAY, NO_DAY).astype(np.int32)
        self.months = _months(self.days)  # for the date histogram
        self.clusters = read_column(seg_reader, "cluster", self.n, -1)
        self.added = read_column(seg_reader, "added", self.n, 0)  # index time, UTC µs
        self.lengths: dict[str, np.ndarray] = {}
        self.field_totals: dict[str, int] = {}
        perdoc = seg_reader._perdoc  # the W3 per-document reader holds the length columns
        from whoosh.codec.whoosh3 import LENGTHS_COLUMN, _lenfield

        for f in TEXT_FIELDS:
            lf = _lenfield(f)
            if perdoc.has_column(lf):
                raw = np.fromiter(perdoc.column_reader(lf, LENGTHS_COLUMN), dtype=np.uint8,
                                  count=self.n)
                self.lengths[f] = _LENGTH_TABLE[raw]
            else:
                self.lengths[f] = np.zeros(self.n, dtype=np.float32)
            self.field_totals[f] = seg_reader.field_length(f) if f in \
                seg_reader.indexed_field_names() else 0
        self.sections = _labels(seg_reader, "section")
        self.langs = _labels(seg_reader, "lang")
        self._lock = threading.Lock()
        self._initial: dict[str, frozenset[str]] = {}
        self._keywords: dict[str, dict[str, set[str]]] = {}
        self._dfs: dict[str, dict[str, int]] = {}
        self._stored: _StoredFields | None = None

    def stored_fields(self, seg_reader: Any, docnum: int) -> dict[str, Any]:
        """A document's stored fields (local doc number)."""
        stored = self._stored
        if stored is None:
            with self._lock:
                if self._stored is None:
                    self._stored = _StoredFields(seg_reader)
                stored = self._stored
        return stored.get(docnum)

    def keywords(self, seg_reader: Any, field: str) -> dict[str, set[str]]:
        """Casefolded keyword value → the spellings indexed in this segment."""
        with self._lock:
            table = self._keywords.get(field)
            if table is None:
                table = {}
                if field in seg_reader.indexed_field_names():
                    for btext in seg_reader.lexicon(field):
                        t = btext.decode("utf-8")
                        table.setdefault(t.casefold(), set()).add(t)
                self._keywords[field] = table
            return table

    def doc_frequencies(self, seg_reader: Any, field: str) -> dict[str, int]:
        """Term → number of documents holding it in ``field`` (deleted ones included), read
        once from the term table (more-like-this asks for hundreds of terms at a time)."""
        with self._lock:
            table = self._dfs.get(field)
            if table is None:
                table = {}
                if field in seg_reader.indexed_field_names():
                    for btext, info in seg_reader.iter_field(field):
                        table[btext.decode("utf-8")] = info.doc_frequency()
                self._dfs[field] = table
            return table

    def terms_starting(self, seg_reader: Any, fields: Sequence[str],
                       letter: str) -> frozenset[str]:
        """The segment's terms in ``fields`` that start with ``letter`` (for fuzzy matching
        and suggestions, which only compare words with the same first letter). Read from
        Whoosh's term table per letter: the whole vocabulary took seconds to read."""
        with self._lock:
            found = self._initial.get(letter)
        if found is None:
            terms: set[str] = set()
            for f in fields:
                if f in seg_reader.indexed_field_names():
                    for b in seg_reader.expand_prefix(f, letter):
                        terms.add(b.decode("utf-8") if isinstance(b, bytes) else b)
            found = frozenset(terms)
            with self._lock:
                self._initial[letter] = found
        return found


def read_column(seg_reader: Any, name: str, n: int, default: int) -> np.ndarray:
    """A numeric column of a segment (the story cluster, the index time) as an array."""
    if name not in seg_reader.schema or not seg_reader.has_column(name):
        return np.full(n, default, dtype=np.int64)
    return np.fromiter(seg_reader.column_reader(name), dtype=np.int64, count=n)


def view_clusters(clusters: np.ndarray, live: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cluster numbers over a generation (a document without one alone in its own, numbered
    below -1) and each document's number of live versions."""
    missing = clusters < 0
    if missing.any():
        clusters = clusters.copy()
        clusters[missing] = -2 - np.flatnonzero(missing)
    return clusters, cluster_sizes(clusters, live)


def _labels(seg_reader: Any, field: str) -> dict[str, np.ndarray]:
    """Each value of a keyword field with the (local) documents that carry it."""
    out: dict[str, np.ndarray] = {}
    if field in seg_reader.indexed_field_names():
        for btext in seg_reader.lexicon(field):
            out[btext.decode("utf-8")] = read_postings(seg_reader, field, btext)[0]
    return out


def _starts(hit: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray | None],
            idx: np.ndarray) -> np.ndarray:
    """Where the positions of postings ``idx`` of a :meth:`View._mapped_positions` entry
    begin."""
    return hit[3][idx] if hit[3] is not None else position_offsets(hit[1], idx)


# Two sorted lists whose lengths differ more than this are intersected by binary search
# of the shorter in the longer; closer ones by merging them (or by flags, see DENSE_UNION).
SEARCH_RATIO = 8


def sorted_common(a: np.ndarray, b: np.ndarray, n: int | None = None) -> np.ndarray:
    """The values in both sorted, duplicate-free arrays, ascending. A short list against a
    long one: binary search of the short one (no pass over the long one). Lists of about
    one length: flags over ``n`` (when given: the values are below it) where they hold at
    least n / DENSE_UNION values, else a stable sort of both, which merges their two runs
    in linear time (a binary search per value cost 4-5 times as much at 20,000 a side,
    and 14 times the flags at 70,000 among a million)."""
    small, big = (a, b) if len(a) <= len(b) else (b, a)
    if not len(small):
        return small
    if len(big) > SEARCH_RATIO * len(small):
        idx = np.minimum(np.searchsorted(big, small), len(big) - 1)
        return small[big[idx] == small]
    if n is not None and (len(a) + len(b)) * DENSE_UNION >= n:
        seen = np.zeros(n, dtype=bool)
        seen[big] = True
        return small[seen[small]]
    both = np.concatenate((a, b))
    both.sort(kind="stable")
    return both[1:][both[1:] == both[:-1]]


def postings_of(ids: np.ndarray, docs: np.ndarray,
                where: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """The postings of a term (``ids``: its sorted doc numbers) in the ``docs`` (sorted,
    distinct): their indexes in ``ids`` and in ``docs``, ascending. With ``where`` (the
    docs' :func:`doc_table`), one read of it per posting; otherwise the shorter list is
    looked up in the longer one, in the longer one's type: a rare spelling costs a few
    searches among thousands of candidates, not thousands in its few postings, and a long
    mapped list (uint32) is never converted whole."""
    if not len(ids) or not len(docs):
        return _EMPTY_IDX, _EMPTY_IDX
    if where is not None:
        ks = where[ids]
        idx = np.flatnonzero(ks >= 0)
        return idx, ks[idx].astype(np.int64)
    if len(ids) < len(docs):
        at = np.minimum(np.searchsorted(docs, ids.astype(docs.dtype)), len(docs) - 1)
        idx = np.flatnonzero(docs[at] == ids)
        return idx, at[idx]
    at = np.minimum(np.searchsorted(ids, docs.astype(ids.dtype)), len(ids) - 1)
    ks = np.flatnonzero(ids[at] == docs)
    return at[ks], ks


def doc_table(docs: np.ndarray, n: int) -> np.ndarray | None:
    """For at least n / DENSE_UNION of a segment's ``n`` documents (``docs``: sorted,
    distinct): each document's index in ``docs``, -1 for the others, so that finding a
    term's postings among them reads the table once per posting instead of searching
    (a binary search of 13,000 candidates in a list as long took 3-4 times as long).
    None for fewer."""
    if len(docs) * DENSE_UNION < n:
        return None
    where = np.full(n, -1, dtype=np.int32)
    where[docs] = np.arange(len(docs), dtype=np.int32)
    return where


# A union of id lists holding at least n / DENSE_UNION ids (n: documents in the view) is
# marked in an array of n flags: numpy.unique sorts or hashes every id, which at a million
# articles cost about half of a cold query's CPU (bench/README.md, "union of postings").
DENSE_UNION = 16


def union_ids(parts: Sequence[np.ndarray], n: int) -> np.ndarray:
    """The distinct ids (int64, ascending) of ``parts``, each an array of ids below ``n``."""
    if len(parts) == 1:
        return parts[0].astype(np.int64)
    if sum(len(p) for p in parts) * DENSE_UNION < n:
        return _sorted_union(parts)
    seen = np.zeros(n, dtype=bool)
    for p in parts:
        seen[p] = True
    return np.flatnonzero(seen).astype(np.int64)


def _sorted_union(parts: Sequence[np.ndarray]) -> np.ndarray:
    """The distinct values of several ascending arrays, ascending (int64). A stable sort is
    timsort for int64: it finds the ascending runs and merges them, linear for a few runs,
    where numpy.unique would sort or hash from scratch."""
    a = np.concatenate(parts).astype(np.int64)
    a.sort(kind="stable")
    return _sorted_unique(a)


def _sorted_unique(a: np.ndarray) -> np.ndarray:
    """``numpy.unique`` of an array already sorted (no sort)."""
    if len(a) < 2:
        return a
    keep = np.empty(len(a), dtype=bool)
    keep[0] = True
    np.not_equal(a[1:], a[:-1], out=keep[1:])
    return a[keep]


_U4 = np.dtype("<u4")
_I4 = np.dtype("<i4")


def _as_int32(ids: np.ndarray) -> np.ndarray:
    """Doc numbers as int32 without a copy where they are stored as little-endian uint32
    (a segment's are below 2**31, so the bits read the same either way): a read-only view
    of the map."""
    if ids.dtype == _U4 and _I4.isnative:
        return ids.view(_I4)
    return ids.astype(np.int32, copy=False)


def _joined(parts: Sequence[tuple[np.ndarray, np.ndarray | None, int]]
            ) -> tuple[np.ndarray, np.ndarray]:
    """One term's (global doc numbers int32, frequencies float32) from its per-segment
    (local doc numbers, frequencies or None for all 1, segment offset), in segment order.
    A single list at offset 0 keeps its doc numbers as a view of the map; otherwise each
    list is written once into the result, converted and offset on the way (no
    intermediate copies)."""
    if not parts:
        return _EMPTY_IDS, _EMPTY_W
    if len(parts) == 1 and not parts[0][2]:
        ids, tfs, _off = parts[0]
        return _as_int32(ids), (tfs.astype(np.float32, copy=False) if tfs is not None
                                else np.ones(len(ids), dtype=np.float32))
    total = sum(len(p[0]) for p in parts)
    out_ids = np.empty(total, dtype=np.int32)
    out_w = np.empty(total, dtype=np.float32)
    a = 0
    for ids, tfs, off in parts:
        b = a + len(ids)
        np.add(_as_int32(ids), off, out=out_ids[a:b], dtype=np.int32)
        if tfs is None:
            out_w[a:b] = 1.0
        else:
            out_w[a:b] = tfs
        a = b
    return out_ids, out_w


class _PostingsCache:
    """LRU of posting lists (or position lookups), bounded by the number of postings held
    (the length of each value's first array)."""

    def __init__(self, capacity: int) -> None:
        self.capacity = capacity
        self.size = 0
        self.items: OrderedDict[tuple[Any, ...], tuple[Any, ...]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[Any, ...] | None:
        with self.lock:
            v = self.items.get(key)
            if v is not None:
                self.items.move_to_end(key)
            return v

    def put(self, key: tuple[Any, ...], value: tuple[Any, ...]) -> None:
        n = len(value[0])
        if n > self.capacity // 4:
            return  # one huge list would flush everything else
        with self.lock:
            if key in self.items:
                return
            self.items[key] = value
            self.size += n
            while self.size > self.capacity and self.items:
                _k, old = self.items.popitem(last=False)
                self.size -= len(old[0])

    def drop_segments(self, keep: set[str]) -> None:
        with self.lock:
            for key in [k for k in self.items if k[0] not in keep]:
                self.size -= len(self.items.pop(key)[0])


def _parallel(parts: list[tuple[dict[str, np.ndarray], int]]
              ) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Label names, and (document, label number) pairs as two arrays, over the segments."""
    names = sorted({n for labels, _off in parts for n in labels})
    index = {n: i for i, n in enumerate(names)}
    doc_parts, id_parts = [], []
    for labels, off in parts:
        for name, ids in labels.items():
            doc_parts.append(ids.astype(np.int64) + off)
            id_parts.append(np.full(len(ids), index[name], dtype=np.int32))
    docs = np.concatenate(doc_parts) if doc_parts else np.zeros(0, dtype=np.int64)
    ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int32)
    return names, docs, ids


def _months(days: np.ndarray) -> np.ndarray:
    """Months since January 1970 of days since 1970-01-01 (NO_DAY stays NO_DAY)."""
    dated = days != NO_DAY
    months = np.full(len(days), NO_DAY, dtype=np.int32)
    months[dated] = days[dated].astype("datetime64[D]").astype("datetime64[M]").astype(np.int32)
    return months


class LabelTable:
    """A document → labels table for facet counts over the hits: each document's first
    label in an array over the documents (``first[d]`` is its label number + 1, 0 for none),
    so counting reads one entry per hit instead of every (document, label) pair of the
    index; the rarer further labels of documents with several (a Reuters article in three
    topics) as parallel arrays sorted by document."""

    def __init__(self, docs: np.ndarray, labels: np.ndarray, n: int, names: int) -> None:
        order = np.argsort(docs, kind="stable")
        docs, labels = docs[order], labels[order]
        head = np.ones(len(docs), dtype=bool)
        head[1:] = docs[1:] != docs[:-1]
        # int16 where it fits: the table is read once per hit of every query.
        self.first = np.zeros(n, dtype=np.int16 if names < 2**15 - 1 else np.int32)
        self.first[docs[head]] = labels[head] + 1
        self.extra_doc = docs[~head]
        self.extra_id = labels[~head]


class View:
    """One generation: segments concatenated into global doc numbers."""

    def __init__(self, generation: int, segs: list[tuple[SegmentData, int, Any]],
                 cache: _PostingsCache, positions_cache: _PostingsCache) -> None:
        self.generation = generation
        self.segments = [(s, off) for s, off, _ in segs]
        self.n = sum(s.n for s, _, _ in segs)
        self.offsets = {s.key: off for s, off, _ in segs}
        self._starts = [off for _s, off, _ in segs]
        self._cache = cache
        self._positions_cache = positions_cache
        live = np.ones(self.n, dtype=bool)
        for s, off, reader in segs:
            if reader.has_deletions():
                seg_live = np.zeros(s.n, dtype=bool)
                seg_live[np.fromiter(reader.all_doc_ids(), dtype=np.int64)] = True
                live[off : off + s.n] = seg_live
        self.live = live
        self.live_count = int(live.sum())

        def cat(arrays: list[np.ndarray], dtype: Any) -> np.ndarray:
            return np.concatenate(arrays) if arrays else np.zeros(0, dtype=dtype)

        self.dates = cat([s.dates for s, _, _ in segs], np.int64)
        self.days = cat([s.days for s, _, _ in segs], np.int32)
        self.clusters, self.cluster_size = view_clusters(
            cat([s.clusters for s, _, _ in segs], np.int64), live)
        self.stories = story_numbers(self.clusters, self.cluster_size)
        self.lengths = {f: cat([s.lengths[f] for s, _, _ in segs], np.float32)
                        for f in TEXT_FIELDS}
        docs = max(1, self.live_count)
        self.avg_length = {f: max(1.0, sum(s.field_totals[f] for s, _, _ in segs) / docs)
                           for f in TEXT_FIELDS}
        dated = self.dates[live & (self.days != NO_DAY)]
        self.newest = int(dated.max()) if len(dated) else None
        # Sections as parallel arrays: entry i says document sec_doc[i] is in sec_names[sec_id[i]].
        self.sec_names, self.sec_doc, self.sec_id = _parallel(
            [(s.sections, off) for s, off, _ in segs])
        names = self.sec_names
        # Languages the same way (one per article), and the set of them for query analysis.
        self.lang_names, self.lang_doc, self.lang_id = _parallel(
            [(s.langs, off) for s, off, _ in segs])
        self.languages = frozenset(n.lower() for n in self.lang_names)
        # The same entries by document (facets read only the hits' entries).
        self.sec_table = LabelTable(self.sec_doc, self.sec_id, self.n, len(names))
        self.lang_table = LabelTable(self.lang_doc, self.lang_id, self.n, len(self.lang_names))
        self.months = cat([s.months for s, _, _ in segs], np.int32)
        self.sections_by_key: dict[str, list[int]] = {}
        for i, n in enumerate(names):
            for key in section_keys(n):
                self.sections_by_key.setdefault(key, []).append(i)
        self._filters: dict[tuple[Any, ...], np.ndarray | None] = {}
        self._lock = threading.Lock()
        # Query words' families of cut-short terms in this generation (see plan.expand), and
        # the document frequency of a word's spellings (see ranking.bm25_scores).
        self.families: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self.spelling_df: dict[tuple[str, ...], int] = {}
        # Per field (and BM25's B): each document's length normalisation there (see
        # scoring._length_norms).
        self.length_norms: dict[tuple[str, float], np.ndarray] = {}
        # (field, term) → the term's index in each segment's dictionary (-1: not there), for
        # the terms a prefix or family range found: their postings need no lookup.
        self._known: dict[tuple[str, str], tuple[int, ...]] = {}
        self._seg_number = {s.key: k for k, (s, _off, _r) in enumerate(segs)}
        # Fields some segment has postings for (None: a segment in Whoosh's format, which
        # is not asked): a field no segment has (subtitle in Reuters) costs no lookups.
        self._fields: frozenset[str] | None = None if any(s.mapped is None for s, _o, _r in segs) \
            else frozenset(f for s, _o, _r in segs for f in s.mapped.fields)  # type: ignore[union-attr]

    # -- posting lists --

    def postings(self, readers: dict[str, Any], field: str,
                 term: str) -> tuple[np.ndarray, np.ndarray]:
        """Global doc numbers and term frequencies of live documents containing ``term``."""
        if self._fields is not None and field not in self._fields:
            return _EMPTY_IDS, _EMPTY_W
        key = ("view", self.generation, field, term)
        hit = self._cache.get(key)
        if hit is not None:
            return hit
        btext = term.encode("utf-8")
        # (doc numbers, frequencies or None for all 1, offset) per segment: views of the map.
        parts: list[tuple[np.ndarray, np.ndarray | None, int]] = []
        known = self._known.get((field, term))
        for k, (seg, off) in enumerate(self.segments):
            if seg.mapped is not None:
                if known is not None and known[k] < 0:
                    continue
                found = seg.mapped.postings(field, btext, None if known is None else known[k])
                if found is not None:
                    parts.append((found[0], found[1], off))
                continue
            skey = (seg.key, field, term)
            part = self._cache.get(skey)
            if part is None:  # a segment in Whoosh's format: decoded once, kept
                part = read_postings(readers[seg.key], field, btext)
                self._cache.put(skey, part)
            if len(part[0]):
                parts.append((part[0], part[1], off))
        ids, ws = _joined(parts)
        if self.live_count < self.n and len(ids):
            keep = self.live[ids]
            if not keep.all():
                ids, ws = ids[keep], ws[keep]
        value = (ids, ws)
        self._cache.put(key, value)
        return value

    def memo(self, key: tuple[Any, ...],
             compute: Any) -> tuple[np.ndarray, np.ndarray]:
        """``compute()`` (doc numbers and weights derived from this generation's postings,
        such as a word's spellings merged), kept in the postings cache under ``key``."""
        full = ("memo", self.generation, *key)
        hit = self._cache.get(full)
        if hit is None:
            hit = compute()
            self._cache.put(full, hit)
        return hit

    def _mapped_positions(self, seg: SegmentData, field: str, term: str
                          ) -> tuple[np.ndarray, np.ndarray, np.ndarray,
                                     np.ndarray | None] | None:
        """A mapped segment's (doc numbers, frequencies, positions, where each posting's
        positions begin) for a term; cached. The first three are views of the map; the
        last is computed only for a short list (None: a long one, whose few wanted
        postings :func:`_starts` sums up to), so a common word costs nothing per posting."""
        assert seg.mapped is not None
        key = (seg.key, field, term, "mapped")
        hit = self._positions_cache.get(key)
        if hit is None:
            known = self._known.get((field, term))
            i = None if known is None else known[self._seg_number[seg.key]]
            hit = seg.mapped.position_lists(field, term.encode("utf-8"), i) \
                if i is None or i >= 0 else None
            if hit is None:
                hit = (_EMPTY_IDS, _EMPTY_IDS, _EMPTY_IDS, None)
            else:
                ids, tfs, flat = hit
                hit = (ids, tfs, flat, position_offsets(tfs, np.arange(len(tfs)))
                       if len(tfs) < SHORT_SUM else None)
            self._positions_cache.put(key, hit)
        return hit if len(hit[0]) else None

    def positions(self, readers: dict[str, Any], seg: SegmentData, field: str, term: str,
                  wanted: np.ndarray) -> dict[int, list[int]]:
        """Positions of ``term`` in the ``wanted`` local documents of segment ``seg``."""
        if seg.mapped is not None:
            found = self._mapped_positions(seg, field, term)
            if found is None or not len(wanted):
                return {}
            ids, tfs, flat, _o = found
            idx, ks = postings_of(ids, wanted)
            starts = _starts(found, idx).tolist()
            return {d: flat[a:a + n].tolist() for d, a, n in
                    zip(wanted[ks].tolist(), starts, tfs[idx].tolist(), strict=True)}
        key = (seg.key, field, term, "values")
        hit_values = self._positions_cache.get(key)
        if hit_values is None:
            hit_values = read_values(readers[seg.key], field, term.encode("utf-8"))
            self._positions_cache.put(key, hit_values)
        return positions_in(hit_values[0], hit_values[1], wanted)

    def doc_positions(self, field: str, terms: Iterable[str],
                      docnum: int) -> dict[str, list[int]] | None:
        """Where each of ``terms`` occurs in one document's ``field`` (token positions); None
        when its segment is in Whoosh's format (the caller then finds the words itself)."""
        return self.page_positions(field, list(terms), [docnum])[docnum]

    def page_positions(self, field: str, terms: Sequence[str], docnums: Sequence[int]
                       ) -> dict[int, dict[str, list[int]] | None]:
        """:meth:`doc_positions` of several documents (a result page): each term is looked
        up once per segment and found in all of that segment's documents by one search."""
        by_seg: dict[int, list[int]] = {}
        for d in docnums:
            by_seg.setdefault(bisect_right(self._starts, d) - 1, []).append(d)
        out: dict[int, dict[str, list[int]] | None] = {}
        for i, docs in by_seg.items():
            seg, off = self.segments[i]
            if seg.mapped is None:
                out.update(dict.fromkeys(docs))
                continue
            local = np.array(docs, dtype=np.int64) - off
            order = np.argsort(local)  # a page is in rank order
            local = local[order]
            found: list[dict[str, list[int]]] = [{} for _ in docs]
            for term in terms:
                hit = self._mapped_positions(seg, field, term)
                if hit is None:
                    continue
                ids, tfs, flat, _o = hit
                idx, ks = postings_of(ids, local)
                for k, a, n in zip(order[ks].tolist(), _starts(hit, idx).tolist(),
                                   tfs[idx].tolist(), strict=True):
                    found[k][term] = flat[a:a + n].tolist()
            out.update(zip(docs, found, strict=True))
        return out

    def prefix_terms(self, fields: Sequence[str], prefix: str, limit: int,
                     scan: int) -> list[str] | None:
        """Up to ``limit`` terms of ``fields`` starting with ``prefix``, most frequent first
        (documents summed over fields and segments), among the first ``scan`` such terms:
        a binary search and a slice of each segment's sorted terms. None when a segment is
        in Whoosh's format."""
        if any(seg.mapped is None for seg, _off in self.segments):
            return None
        low = prefix.encode("utf-8")
        df: dict[bytes, int] = {}
        # Where each term found is, per field and segment: -1 where the range (complete
        # unless cut at ``scan``) does not have it.
        where: dict[tuple[str, bytes], list[int]] = {}
        complete = True
        nseg = len(self.segments)
        for k, (seg, _off) in enumerate(self.segments):
            assert seg.mapped is not None
            for name in fields:
                f = seg.mapped.fields.get(name)
                if f is None:
                    continue
                lo, hi = f.prefix_range(low, scan)
                if lo == hi:
                    continue
                complete = complete and hi - lo < scan
                counts = np.diff(f.starts[lo:hi + 1].astype(np.int64)).tolist()
                for i, n in zip(range(lo, hi), counts, strict=True):
                    key = f.key(i)
                    df[key] = df.get(key, 0) + n
                    where.setdefault((name, key), [-1] * nseg)[k] = i
        first = sorted(df)[:scan]
        best = sorted(first, key=lambda k: (-df[k], k))[:limit]
        if complete:
            if len(self._known) > KNOWN_TERMS:
                self._known.clear()
            for (name, key), found in where.items():
                if key in df:
                    self._known[(name, key.decode("utf-8"))] = tuple(found)
            for name in fields:  # absent from a whole field: no lookups there either
                for key in best:
                    self._known.setdefault((name, key.decode("utf-8")), (-1,) * nseg)
        return [k.decode("utf-8") for k in best]

    def docs_with_all(self, readers: dict[str, Any], field: str,
                      words: Sequence[tuple[str, ...]]) -> np.ndarray:
        """Live documents (sorted, int64) holding every one of ``words`` (each any of its
        terms: a word's spellings) in ``field``."""
        lists = sorted((self._word_docs(readers, field, alts) for alts in words), key=len)
        cand = lists[0] if lists else np.zeros(0, dtype=np.int64)
        for ids in lists[1:]:  # rarest first: each step searches the shortest list so far
            if not len(cand):
                break
            cand = sorted_common(cand, ids, self.n)
        return cand

    def _word_docs(self, readers: dict[str, Any], field: str,
                   alts: tuple[str, ...]) -> np.ndarray:
        parts = [p for t in alts if len(p := self.postings(readers, field, t)[0])]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        return union_ids(parts, self.n)

    def _position_keys(self, seg: SegmentData, field: str, alts: tuple[str, ...],
                       local: np.ndarray) -> np.ndarray | None:
        """``document << 32 | position`` for every position of any of a word's terms
        (``alts``) in the ``local`` documents of a mapped segment, ascending, each once
        (None: the segment has none of them)."""
        where = doc_table(local, seg.n)  # once for all the word's spellings
        parts = [k for t in alts
                 if (k := self._term_keys(seg, field, t, local, where)) is not None]
        if len(parts) <= 1:
            return parts[0] if parts else None
        return _sorted_union(parts)  # two spellings may share a position

    def _term_keys(self, seg: SegmentData, field: str, term: str, local: np.ndarray,
                   where: np.ndarray | None = None) -> np.ndarray | None:
        hit = self._mapped_positions(seg, field, term)
        if hit is None:
            return None
        ids, tfs, flat, _o = hit
        # Not every candidate need hold this spelling (another may stand for the word).
        idx, ks = postings_of(ids, local, where)
        counts = tfs[idx].astype(np.int64)
        at = flat[ranges(_starts(hit, idx), counts)].astype(np.int64)
        return (np.repeat(local[ks].astype(np.int64), counts) << 32) | at

    def _by_segment(self, candidates: np.ndarray) -> Iterable[tuple[SegmentData, int,
                                                                    np.ndarray]]:
        for seg, off in self.segments:
            lo, hi = np.searchsorted(candidates, [off, off + seg.n])
            if hi > lo:
                yield seg, off, candidates[lo:hi] - off

    def exact_phrase_docs(self, field: str, terms: Sequence[tuple[str, ...]],
                          candidates: np.ndarray) -> np.ndarray | None:
        """The ``candidates`` (global doc numbers, sorted; each holds every word) in which
        the words (``terms``: each any of its spellings) occur next to each other in this
        order: one vector operation per word and segment over the candidates' positions.
        None when a segment is in Whoosh's format."""
        if any(seg.mapped is None for seg, _off in self.segments):
            return None
        found: list[np.ndarray] = []
        for seg, off, local in self._by_segment(candidates):
            # Rarest terms first: each one narrows the documents whose positions the next,
            # commoner one ("of", "the") has to gather.
            order = sorted(range(len(terms)), key=lambda k: self._doc_count(seg, field,
                                                                            terms[k]))
            keys: np.ndarray | None = None
            for k in order:
                at = self._position_keys(seg, field, terms[k], local)
                if at is None:
                    keys = None
                    break
                # Shifted back by the term's place in the phrase: a phrase start is a
                # (document, position) that every term has.
                at -= k
                keys = at if keys is None else sorted_common(keys, at)
                if not len(keys):
                    break
                local = _sorted_unique(keys >> 32)
            if keys is not None and len(keys):
                found.append(_sorted_unique(keys >> 32) + off)
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def _doc_count(self, seg: SegmentData, field: str, alts: tuple[str, ...]) -> int:
        return sum(len(hit[0]) for t in alts
                   if (hit := self._mapped_positions(seg, field, t)) is not None)

    def near_docs(self, field: str, pair: tuple[tuple[str, ...], tuple[str, ...]], span: int,
                  candidates: np.ndarray) -> np.ndarray | None:
        """The ``candidates`` in which the two different words of ``pair`` (each any of its
        spellings) occur, in either order, at most ``span`` positions apart; vector
        operations as for exact phrases. None when a segment is in Whoosh's format."""
        if any(seg.mapped is None for seg, _off in self.segments):
            return None
        found: list[np.ndarray] = []
        for seg, off, local in self._by_segment(candidates):
            a = self._position_keys(seg, field, pair[0], local)
            b = self._position_keys(seg, field, pair[1], local)
            if a is None or b is None or not len(a) or not len(b):
                continue
            # The nearest b at or after each a, and the one before it: a key difference of at
            # most ``span`` is the same document (positions are far below 2**32).
            j = np.searchsorted(b, a)
            after = b[np.minimum(j, len(b) - 1)] - a
            before = a - b[np.maximum(j - 1, 0)]
            ok = ((after >= 0) & (after <= span)) | ((before >= 0) & (before <= span))
            if ok.any():
                found.append(_sorted_unique(a[ok] >> 32) + off)
        return np.concatenate(found) if found else np.zeros(0, dtype=np.int64)

    def stored_fields(self, readers: dict[str, Any], docnum: int) -> dict[str, Any]:
        """The stored fields of a document (global doc number)."""
        seg, off = self.segments[bisect_right(self._starts, docnum) - 1]
        return seg.stored_fields(readers[seg.key], docnum - off)

    def doc_frequency(self, readers: dict[str, Any], field: str, term: str) -> int:
        return sum(seg.doc_frequencies(readers[seg.key], field).get(term, 0)
                   for seg, _off in self.segments)

    def mask_of(self, ids: np.ndarray) -> np.ndarray:
        m = np.zeros(self.n, dtype=bool)
        m[ids] = True
        return m

    # -- filters --

    def keyword_terms(self, readers: dict[str, Any], field: str, value: str) -> list[str]:
        """The indexed spellings of a keyword value, matched regardless of case
        (``tags:usa`` finds ``USA``), from each segment's table (built once per segment)."""
        key = value.strip().casefold()
        found: set[str] = set()
        for seg, _off in self.segments:
            found |= seg.keywords(readers[seg.key], field).get(key, set())
        return sorted(found)

    def section_indexes(self, name: str) -> list[int]:
        return self.sections_by_key.get(section_key(name), [])

    def section_mask(self, names: Sequence[str]) -> np.ndarray:
        wanted = [i for n in names for i in self.section_indexes(n)]
        m = np.zeros(self.n, dtype=bool)
        if wanted:
            m[self.sec_doc[np.isin(self.sec_id, wanted)]] = True
        return m

    def day_mask(self, lo: int | None, hi: int | None) -> np.ndarray:
        m = self.days != NO_DAY
        if lo is not None:
            m &= self.days >= lo
        if hi is not None:
            m &= self.days <= hi
        return m

    def filter_mask(self, sections: tuple[str, ...], lo: int | None,
                    hi: int | None) -> np.ndarray | None:
        """Documents allowed by section and date filters (None: no filter); cached."""
        key = (sections, lo, hi)
        with self._lock:
            if key in self._filters:
                return self._filters[key]
        mask: np.ndarray | None = None
        if sections:
            mask = self.section_mask(sections)
        if lo is not None or hi is not None:
            dm = self.day_mask(lo, hi)
            mask = dm if mask is None else mask & dm
        if mask is not None:
            mask &= self.live
        with self._lock:
            if len(self._filters) > 128:
                self._filters.clear()
            self._filters[key] = mask
        return mask
