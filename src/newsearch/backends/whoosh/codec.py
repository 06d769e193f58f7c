"""The on-disk form of the inverted index: fixed-width arrays the query path reads in place.

    segments (writer) ──add_term──▶ NewsFieldWriter ──▶ three files per segment
    view (query path) ◀──numpy views over a memory map── SegmentPostings
    Whoosh API        ◀──TermInfo, ListMatcher── NewsTermsReader (the same files)

Whoosh's own codec (W3) stores each term's postings as pickled blocks of 128 that must be
unpickled and turned into arrays before the query path can use them, which made the first
query for any word slow. :class:`NewsCodec` keeps W3's per-document part (stored fields,
field lengths, the date column) and replaces the postings with three files per segment
(inside Whoosh's compound ``.seg`` file, like every other segment file):

* ``.ntd``, the term dictionary, per field: the sorted term bytes and their offsets, each
  term's first posting and first position, and a hash table (crc32, linear probing) for
  exact lookups; a JSON directory at the end says where each array is.
* ``.npo``, the postings, per field: document numbers (``uint32``), then term frequencies
  (``uint8``, ``uint16`` or ``uint32``: the smallest that fits; left out when all are 1).
* ``.nps``, the positions, per field with positions: every posting's positions in order
  (the smallest unsigned type that fits).

A term's postings are the slice ``starts[i]:starts[i+1]`` of its field's arrays, its
positions the slice ``pstarts[i]:pstarts[i+1]`` (the postings' frequencies say how many
belong to each), so reading a term costs one hash lookup and two ``numpy.frombuffer``
views of a memory map: nothing is decoded, and the pages stay the kernel's file cache.

The index stays a Whoosh index: :class:`NewsTermsReader` serves Whoosh's TermsReader API
(term infos, lexicons, prefix walks, matchers whose values are Whoosh's ``Positions``
encoding), so Whoosh's searcher, merges and deletions work on these segments. The codec
object is pickled into each segment of the table of contents: keep this module's path and
class names (a change of format bumps :data:`FORMAT` and the schema version).
"""

from __future__ import annotations

import json
import mmap
import os
import sys
import zlib
from array import array
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from whoosh.codec import base
from whoosh.codec.whoosh3 import W3Codec, W3Segment
from whoosh.filedb.compound import CompoundStorage
from whoosh.filedb.filestore import FileStorage, OverlayStorage
from whoosh.matching import ListMatcher
from whoosh.reading import TermInfo, TermNotFound

from .schema import encode_positions

__all__ = ["FORMAT", "SHORT_SUM", "NewsCodec", "NewsFieldWriter", "NewsTermsReader",
           "SegmentPostings", "buffer_of", "position_offsets", "ranges", "segment_postings"]

FORMAT = 1
DICT_EXT, POSTS_EXT, POSITIONS_EXT = ".ntd", ".npo", ".nps"
_MAGIC = {DICT_EXT: b"NSTERMS1", POSTS_EXT: b"NSPOSTS1", POSITIONS_EXT: b"NSPOSIT1"}
_TRAILER = np.dtype("<u8")
_LITTLE = sys.byteorder == "little"


def _uint(maximum: int) -> np.dtype:
    """The smallest little-endian unsigned dtype holding ``maximum``."""
    for code in ("<u1", "<u2", "<u4"):
        if maximum < 1 << (8 * int(code[-1])):
            return np.dtype(code)
    return np.dtype("<u8")


class NewsCodec(W3Codec):
    """Whoosh's W3 codec with the postings of this module (see the module doc).

    The per-document part (stored fields, lengths, columns) is W3's, unchanged.
    """

    def __init__(self) -> None:
        super().__init__(blocklimit=128, compression=0, inlinelimit=0)

    def field_writer(self, storage: Any, segment: Any) -> NewsFieldWriter:
        return NewsFieldWriter(storage, segment)

    def terms_reader(self, storage: Any, segment: Any) -> NewsTermsReader:
        return NewsTermsReader(segment_postings(storage, segment))

    def postings_writer(self, dbfile: Any, byteids: bool = False) -> Any:
        raise NotImplementedError("newsearch segments write postings with NewsFieldWriter")

    def new_segment(self, storage: Any, indexname: str) -> W3Segment:
        return W3Segment(self, indexname)


# --- writing ------------------------------------------------------------------------------------


class _FieldBuffer:
    """One field's terms and postings, gathered in sorted term order."""

    def __init__(self, name: str, positional: bool) -> None:
        self.name = name
        self.positional = positional
        self.keys: list[bytes] = []
        self.dfs = array("Q")
        self.ids = array("I")
        self.tfs = array("I")
        self.positions = array("I")

    def add(self, btext: bytes, ids: Sequence[int], tfs: Sequence[int] | None,
            positions: Sequence[int] | None) -> None:
        n = len(ids)
        if not n:
            return
        if self.keys and btext <= self.keys[-1]:
            raise ValueError(f"terms out of order in {self.name}: {self.keys[-1]!r}, {btext!r}")
        self.keys.append(btext)
        self.dfs.append(n)
        self.ids.extend(ids)
        if tfs is None:
            self.tfs.extend([1] * n)
        else:
            self.tfs.extend(tfs)
        if self.positional and positions is not None:
            self.positions.extend(positions)


class NewsFieldWriter(base.FieldWriter):
    """Writes a segment's term dictionary, postings and positions (see the module doc).

    :meth:`add_term` takes a whole term at once (what newsearch's segment writer and merges
    use); Whoosh's per-posting calls (``start_term``/``add``/``finish_term``, used by Whoosh's
    own writer) are accepted too.
    """

    def __init__(self, storage: Any, segment: Any) -> None:
        self._storage = storage
        self._segment = segment
        self._files = {ext: segment.create_file(storage, ext) for ext in _MAGIC}
        for ext, f in self._files.items():
            f.write(_MAGIC[ext])
        self._directory: dict[str, Any] = {}
        self._field: _FieldBuffer | None = None
        self._fieldobj: Any = None
        self._term: bytes | None = None
        self._term_ids: list[int] = []
        self._term_tfs: list[int] = []
        self._term_pos: list[int] = []
        self.is_closed = False

    # Whoosh's FieldWriter API

    def start_field(self, fieldname: str, fieldobj: Any) -> None:
        if self._field is not None:
            self.finish_field()
        self._fieldobj = fieldobj
        self._field = _FieldBuffer(fieldname, bool(fieldobj.format.supports("positions")))

    def start_term(self, btext: bytes) -> None:
        self._term = btext
        self._term_ids, self._term_tfs, self._term_pos = [], [], []

    def add(self, docnum: int, weight: float, vbytes: bytes, length: int) -> None:
        self._term_ids.append(docnum)
        field = self._field
        assert field is not None
        if field.positional:
            plist = self._fieldobj.format.decode_positions(vbytes) if vbytes else []
            self._term_tfs.append(len(plist))
            self._term_pos.extend(plist)
        else:
            self._term_tfs.append(max(1, round(weight)))

    def finish_term(self) -> None:
        assert self._term is not None
        self.add_term(self._term, self._term_ids, self._term_tfs, self._term_pos)
        self._term = None

    def add_term(self, btext: bytes, ids: Sequence[int], tfs: Sequence[int] | None,
                 positions: Sequence[int] | None = None) -> None:
        """One term of the current field: its document numbers (ascending), frequencies
        (the number of positions of each posting in a field with positions; None: all 1)
        and positions (each posting's, in order)."""
        assert self._field is not None, "add_term before start_field"
        self._field.add(btext, ids, tfs, positions)

    def finish_field(self) -> None:
        field, self._field = self._field, None
        if field is None or not field.keys:
            return
        dfs = np.frombuffer(field.dfs, dtype=np.uint64)
        starts = np.zeros(len(dfs) + 1, dtype=np.uint64)
        np.cumsum(dfs, out=starts[1:])
        self.add_field_arrays(field.name, field.keys, starts,
                              np.frombuffer(field.ids, dtype=np.uint32),
                              np.frombuffer(field.tfs, dtype=np.uint32),
                              np.frombuffer(field.positions, dtype=np.uint32)
                              if field.positional else None)

    def add_field_arrays(self, name: str, keys: list[bytes], starts: np.ndarray,
                         ids: np.ndarray, tfs: np.ndarray | None,
                         positions: np.ndarray | None) -> None:
        """A whole field at once (merges): sorted term bytes, each term's first posting
        (``len(keys) + 1`` entries), every posting's document number and frequency (None:
        all 1), and with positions, every posting's positions in order."""
        if not keys:
            return
        if self._field is not None:
            self.finish_field()
        self._directory[name] = self._write_field(name, keys, starts, ids, tfs, positions)

    def close(self) -> None:
        self.finish_field()
        dict_file = self._files[DICT_EXT]
        blob = json.dumps({"format": FORMAT, "fields": self._directory}).encode("utf-8")
        start = dict_file.tell()
        dict_file.write(blob)
        dict_file.write(np.array([start, len(blob)], dtype=_TRAILER).tobytes())
        for f in self._files.values():
            f.close()
        self.is_closed = True

    # writing one field

    def _put(self, ext: str, arr: np.ndarray) -> list[Any]:
        f = self._files[ext]
        pad = -f.tell() % 8  # aligned arrays read fastest
        if pad:
            f.write(b"\0" * pad)
        offset = f.tell()
        f.write(np.ascontiguousarray(arr).tobytes())
        return [offset, len(arr), arr.dtype.str]

    def _write_field(self, name: str, keys: list[bytes], starts: np.ndarray, ids: np.ndarray,
                     tfs: np.ndarray | None, positions: np.ndarray | None) -> dict[str, Any]:
        n = len(keys)
        entry: dict[str, Any] = {"terms": n}
        lengths = np.fromiter(map(len, keys), dtype=np.uint64, count=n)
        koffs = np.zeros(n + 1, dtype=np.uint64)
        np.cumsum(lengths, out=koffs[1:])
        entry["keys"] = self._put(DICT_EXT, np.frombuffer(b"".join(keys), dtype=np.uint8))
        entry["koffs"] = self._put(DICT_EXT, koffs.astype(_uint(int(koffs[-1]))))
        entry["starts"] = self._put(DICT_EXT, starts.astype(_uint(int(starts[-1]))))
        entry["table"] = self._put(DICT_EXT, _hash_table(keys))
        entry["ids"] = self._put(POSTS_EXT, ids.astype("<u4"))
        max_tf = int(tfs.max()) if tfs is not None and len(tfs) else 1
        entry["tfs"] = self._put(POSTS_EXT, tfs.astype(_uint(max_tf))) \
            if tfs is not None and (max_tf > 1 or positions is not None) else None
        if positions is not None:
            assert tfs is not None
            total = int(tfs.sum(dtype=np.uint64))
            if len(positions) != total:
                raise ValueError(f"{name}: {len(positions)} positions for {total} occurrences")
            ctf = np.zeros(len(tfs) + 1, dtype=np.uint64)
            np.cumsum(tfs, out=ctf[1:])
            pstarts = ctf[starts.astype(np.int64)]
            top = int(positions.max()) if len(positions) else 0
            entry["pstarts"] = self._put(DICT_EXT, pstarts.astype(_uint(int(pstarts[-1]))))
            entry["positions"] = self._put(POSITIONS_EXT, positions.astype(_uint(top)))
        return entry


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Indices ``starts[i] .. starts[i] + counts[i] - 1`` for every i, concatenated: where
    a set of postings' positions are, given where each one's begin and how many it has."""
    counts = counts.astype(np.int64)
    total = int(counts.sum())
    if not total:
        return np.zeros(0, dtype=np.int64)
    shift = starts.astype(np.int64) - (np.cumsum(counts) - counts)
    return np.repeat(shift, counts) + np.arange(total, dtype=np.int64)


# Postings up to which a running total of the frequencies is cheaper than summing between
# the wanted ones (numpy's per-call costs dominate below it).
SHORT_SUM = 8192


def position_offsets(tfs: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """Where the positions of postings ``idx`` (any order) begin in their term's positions:
    the frequencies before each summed, in one pass up to the last one asked for and
    without an array of every posting's offset (a common word has hundreds of thousands
    of postings; a result page wants ten)."""
    idx = np.asarray(idx, dtype=np.int64)
    if not len(idx):
        return np.zeros(0, dtype=np.int64)
    last = int(idx.max())
    if last < SHORT_SUM or len(idx) * 16 > last:
        # A short stretch, or most of it wanted: one running total is cheapest.
        total = np.zeros(last + 1, dtype=np.int64)
        np.cumsum(tfs[:last], out=total[1:])
        return total[idx]
    uniq, inverse = np.unique(idx, return_inverse=True)
    sums = np.zeros(len(uniq), dtype=np.int64)
    after = uniq[uniq > 0]
    if len(after):
        # The frequencies between consecutive wanted postings, then their running total.
        parts = np.add.reduceat(tfs[:after[-1]], np.concatenate(([0], after[:-1])),
                                dtype=np.int64)
        sums[len(uniq) - len(after):] = np.cumsum(parts)
    return sums[inverse]


def _hash_table(keys: list[bytes]) -> np.ndarray:
    """Open addressing by crc32 with linear probing: slot → term index + 1 (0: empty), at
    most half full. Built with numpy: every round seats one waiting key per free slot."""
    n = len(keys)
    size = 8
    while size < 2 * n:
        size *= 2
    mask = size - 1
    table = np.zeros(size, dtype="<u4")
    slot = np.fromiter((zlib.crc32(k) for k in keys), dtype=np.int64, count=n) & mask
    waiting = np.arange(n, dtype=np.int64)
    while len(waiting):
        free = table[slot[waiting]] == 0
        candidates = waiting[free]
        seats, first = np.unique(slot[candidates], return_index=True)
        table[seats] = candidates[first] + 1
        seated = np.zeros(n, dtype=bool)
        seated[candidates[first]] = True
        waiting = waiting[~seated[waiting]]
        slot[waiting] = (slot[waiting] + 1) & mask
    return table


# --- reading ------------------------------------------------------------------------------------


class _Field:
    """One field's dictionary and postings as views of the segment's buffers."""

    __slots__ = ("ids", "keys", "koffs", "mask", "n", "name", "positions", "pstarts", "starts",
                 "table", "tfs")

    def __init__(self, name: str, entry: dict[str, Any], bufs: dict[str, Any]) -> None:
        def view(ext: str, spec: list[Any] | None) -> Any:
            if spec is None:
                return None
            offset, count, dtype = spec
            return np.frombuffer(bufs[ext], dtype=np.dtype(dtype), count=count, offset=offset)

        self.name = name
        self.n = int(entry["terms"])
        self.keys = memoryview(view(DICT_EXT, entry["keys"]))
        self.koffs = _fast_ints(view(DICT_EXT, entry["koffs"]))
        self.starts = view(DICT_EXT, entry["starts"])
        self.table = _fast_ints(view(DICT_EXT, entry["table"]))
        self.mask = len(self.table) - 1
        self.ids = view(POSTS_EXT, entry["ids"])
        self.tfs = view(POSTS_EXT, entry["tfs"])
        self.pstarts = view(DICT_EXT, entry.get("pstarts"))
        self.positions = view(POSITIONS_EXT, entry.get("positions"))

    def find(self, btext: bytes) -> int:
        """The term's index, or -1."""
        table, koffs, keys, mask = self.table, self.koffs, self.keys, self.mask
        slot = zlib.crc32(btext) & mask
        while True:
            i = table[slot]
            if not i:
                return -1
            i -= 1
            if keys[koffs[i]:koffs[i + 1]] == btext:
                return i
            slot = (slot + 1) & mask

    def key(self, i: int) -> bytes:
        return bytes(self.keys[self.koffs[i]:self.koffs[i + 1]])

    def bisect(self, btext: bytes, lo: int = 0, hi: int | None = None) -> int:
        """Index of the first term >= ``btext`` (among terms ``lo`` to ``hi``)."""
        keys, koffs = self.keys, self.koffs
        hi = self.n if hi is None else hi
        while lo < hi:
            mid = (lo + hi) // 2
            if bytes(keys[koffs[mid]:koffs[mid + 1]]) < btext:
                lo = mid + 1
            else:
                hi = mid
        return lo

    def prefix_range(self, prefix: bytes, limit: int) -> tuple[int, int]:
        """The first at most ``limit`` terms starting with ``prefix``, as a range of term
        indexes: a binary search for the first, then a galloping one for the end, whose
        cost grows with the log of the range's size (a word's family has a few terms, or
        none), not of the dictionary's."""
        lo = self.bisect(prefix)
        keys, koffs = self.keys, self.koffs
        end = min(self.n, lo + limit)
        if lo == end or not bytes(keys[koffs[lo]:koffs[lo + 1]]).startswith(prefix):
            return lo, lo
        # Terms lo .. lo + step - 1 all start with the prefix; double the step until one
        # does not (or the limit is reached), then bisect the last stretch.
        step = 1
        while lo + step < end and \
                bytes(keys[koffs[lo + step]:koffs[lo + step + 1]]).startswith(prefix):
            step *= 2
        return lo, self.bisect(prefix + b"\xff", lo + step // 2 + 1, min(end, lo + step))


def _fast_ints(arr: np.ndarray) -> Any:
    """Integer array for per-element reads from Python: a memoryview cast (plain ints, no
    numpy scalar per read) where the byte order allows, else a native copy."""
    if _LITTLE and arr.dtype.kind == "u" and arr.dtype.itemsize in (1, 2, 4, 8):
        code: Any = {1: "B", 2: "H", 4: "I", 8: "Q"}[arr.dtype.itemsize]
        return arr.data.cast("B").cast(code)
    return arr.astype(np.int64)


class SegmentPostings:
    """A segment's term dictionary and postings (read-only, shared between threads)."""

    def __init__(self, bufs: dict[str, Any]) -> None:
        dict_buf = bufs[DICT_EXT]
        for ext, magic in _MAGIC.items():
            if bytes(bufs[ext][:len(magic)]) != magic:
                raise ValueError(f"not a newsearch postings file ({ext})")
        start, length = np.frombuffer(dict_buf, dtype=_TRAILER, count=2,
                                      offset=len(dict_buf) - 16).tolist()
        directory = json.loads(bytes(dict_buf[start:start + length]))
        if directory.get("format") != FORMAT:
            raise ValueError(f"postings format {directory.get('format')} is not {FORMAT}")
        self.fields = {name: _Field(name, entry, bufs)
                       for name, entry in directory["fields"].items()}

    def field_names(self) -> list[str]:
        return sorted(self.fields)

    def find(self, field: str, btext: bytes) -> int:
        f = self.fields.get(field)
        return f.find(btext) if f is not None else -1

    def _term(self, field: str, btext: bytes, i: int | None, positional: bool
              ) -> tuple[_Field, int, int, int] | None:
        """The field, the term's index and the range of its postings; None when the segment
        lacks the term (or, ``positional``, the field keeps no positions)."""
        f = self.fields.get(field)
        if f is None or (positional and f.positions is None):
            return None
        if i is None:
            i = f.find(btext)
        if i < 0:
            return None
        return f, i, int(f.starts[i]), int(f.starts[i + 1])

    def postings(self, field: str, btext: bytes, i: int | None = None
                 ) -> tuple[np.ndarray, np.ndarray | None] | None:
        """Document numbers and frequencies (None: all 1) of a term, as views; None when
        the segment does not have it. ``i``: the term's index, when the caller knows it
        (from :meth:`_Field.prefix_range`): no lookup."""
        found = self._term(field, btext, i, positional=False)
        if found is None:
            return None
        f, _i, a, b = found
        return f.ids[a:b], (f.tfs[a:b] if f.tfs is not None else None)

    def positions(self, field: str, btext: bytes) -> tuple[np.ndarray, np.ndarray,
                                                           np.ndarray] | None:
        """Document numbers, each posting's first index into the positions, and the
        positions (views; the last posting's end is ``len(positions)``)."""
        found = self.position_lists(field, btext)
        if found is None:
            return None
        ids, tfs, positions = found
        offsets = np.zeros(len(ids), dtype=np.int64)
        np.cumsum(tfs[:-1], out=offsets[1:])
        return ids, offsets, positions

    def position_lists(self, field: str, btext: bytes, i: int | None = None
                       ) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
        """Document numbers, frequencies and positions of a term, as views of the map:
        nothing computed over the whole list (:func:`position_offsets` finds where the
        positions of the few postings a caller wants begin). ``i`` as for
        :meth:`postings`."""
        found = self._term(field, btext, i, positional=True)
        if found is None:
            return None
        f, i, a, b = found
        return f.ids[a:b], f.tfs[a:b], f.positions[int(f.pstarts[i]):int(f.pstarts[i + 1])]

    def terms(self, field: str, start: int = 0) -> Iterator[bytes]:
        f = self.fields.get(field)
        if f is None:
            return
        keys, koffs = f.keys, f.koffs
        for i in range(start, f.n):
            yield bytes(keys[koffs[i]:koffs[i + 1]])

    def terms_from(self, field: str, prefix: bytes) -> Iterator[bytes]:
        f = self.fields.get(field)
        if f is None:
            return iter(())
        return self.terms(field, f.bisect(prefix))

    def stats(self, field: str, i: int) -> tuple[int, int]:
        """(document frequency, total frequency) of term ``i``."""
        f = self.fields[field]
        a, b = int(f.starts[i]), int(f.starts[i + 1])
        if f.pstarts is not None:
            return b - a, int(f.pstarts[i + 1]) - int(f.pstarts[i])
        if f.tfs is not None:
            return b - a, int(f.tfs[a:b].sum())
        return b - a, b - a


def segment_postings(storage: Any, segment: Any) -> SegmentPostings:
    """Map a segment's three files (inside its compound file, or on their own)."""
    return SegmentPostings({ext: buffer_of(storage, segment.make_filename(ext))
                            for ext in _MAGIC})


def buffer_of(storage: Any, name: str) -> Any:
    """A read-only buffer of one segment file: a memory map of the file, or of the region of
    the compound file that holds it; the bytes themselves for storages that are not files."""
    if isinstance(storage, OverlayStorage):
        storage = storage.a if storage.a.file_exists(name) else storage.b
    if isinstance(storage, CompoundStorage):
        offset, length = storage.range(name)
        whole = _compound_map(storage)
        if whole is not None:
            return whole[offset:offset + length]
        return storage._file.get(offset, length)
    if isinstance(storage, FileStorage) and os.path.getsize(storage._fpath(name)):
        with open(storage._fpath(name), "rb") as fh:
            return memoryview(mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ))
    f = storage.open_file(name)
    try:
        return f.get(0, storage.file_length(name))
    finally:
        f.close()


def _compound_map(storage: CompoundStorage) -> memoryview | None:
    """The whole compound file as a memory map, made once per opened compound file (Whoosh
    maps it itself only with ``supports_mmap``, which newsearch turns off: see storage.py)."""
    whole = getattr(storage, "_newsearch_map", None)
    if whole is None:
        if storage._source is not None:
            whole = memoryview(storage._source)
        else:
            raw = getattr(storage._file, "file", None)
            if raw is None or not hasattr(raw, "fileno"):
                return None
            try:
                whole = memoryview(mmap.mmap(raw.fileno(), 0, access=mmap.ACCESS_READ))
            except (OSError, ValueError):
                return None
        storage._newsearch_map = whole
    return whole


class _LazyValues:
    """Whoosh ``Positions`` values of a term's postings, encoded when asked for."""

    def __init__(self, offsets: np.ndarray, positions: np.ndarray) -> None:
        self._offsets = [*offsets.tolist(), len(positions)]
        self._positions = positions

    def __len__(self) -> int:
        return len(self._offsets) - 1

    def __getitem__(self, i: int) -> bytes:
        if not 0 <= i < len(self):
            raise IndexError(i)
        return encode_positions(self._positions[self._offsets[i]:self._offsets[i + 1]].tolist())


class _TermNotFound(TermNotFound, KeyError):
    pass


class NewsTermsReader(base.TermsReader):
    """Whoosh's TermsReader API over :class:`SegmentPostings`."""

    def __init__(self, postings: SegmentPostings) -> None:
        self.segment_postings = postings

    def __contains__(self, term: tuple[str, bytes]) -> bool:
        return self.segment_postings.find(term[0], term[1]) >= 0

    def indexed_field_names(self) -> list[str]:
        return self.segment_postings.field_names()

    def terms(self) -> Iterator[tuple[str, bytes]]:
        for name in self.segment_postings.field_names():
            for btext in self.segment_postings.terms(name):
                yield name, btext

    def terms_from(self, fieldname: str, prefix: bytes) -> Iterator[tuple[str, bytes]]:
        names = self.segment_postings.field_names()
        first = True
        for name in names:
            if name < fieldname:
                continue
            it = self.segment_postings.terms_from(name, prefix) if first and name == fieldname \
                else self.segment_postings.terms(name)
            first = False
            for btext in it:
                yield name, btext

    def items(self) -> Iterator[tuple[tuple[str, bytes], TermInfo]]:
        for term in self.terms():
            yield term, self.term_info(*term)

    def items_from(self, fieldname: str, prefix: bytes
                   ) -> Iterator[tuple[tuple[str, bytes], TermInfo]]:
        for term in self.terms_from(fieldname, prefix):
            yield term, self.term_info(*term)

    def _index(self, fieldname: str, tbytes: bytes) -> int:
        i = self.segment_postings.find(fieldname, tbytes)
        if i < 0:
            # Whoosh's readers turn a KeyError into "frequency 0"; TermNotFound is one too.
            raise _TermNotFound(f"No term {fieldname}:{tbytes!r}")
        return i

    def term_info(self, fieldname: str, tbytes: bytes) -> TermInfo:
        i = self._index(fieldname, tbytes)
        f = self.segment_postings.fields[fieldname]
        a, b = int(f.starts[i]), int(f.starts[i + 1])
        df, weight = self.segment_postings.stats(fieldname, i)
        maxweight = int(f.tfs[a:b].max()) if f.tfs is not None else 1
        # Length bounds are for Whoosh's block-quality skipping; 1 and "unbounded" keep
        # its estimates upper bounds without reading the length column.
        return TermInfo(weight=weight, df=df, minlength=1, maxlength=2**31,
                        maxweight=maxweight, minid=int(f.ids[a]), maxid=int(f.ids[b - 1]))

    def frequency(self, fieldname: str, tbytes: bytes) -> int:
        return self.segment_postings.stats(fieldname, self._index(fieldname, tbytes))[1]

    def doc_frequency(self, fieldname: str, tbytes: bytes) -> int:
        return self.segment_postings.stats(fieldname, self._index(fieldname, tbytes))[0]

    def matcher(self, fieldname: str, tbytes: bytes, format_: Any, scorer: Any = None) -> Any:
        info = self.term_info(fieldname, tbytes)
        ids, tfs = self.segment_postings.postings(fieldname, tbytes)  # type: ignore[misc]
        values: Any = None
        if format_ is not None and format_.supports("positions"):
            found = self.segment_postings.positions(fieldname, tbytes)
            if found is not None:
                values = _LazyValues(found[1], found[2])
        weights = [float(w) for w in tfs.tolist()] if tfs is not None else None
        return ListMatcher(ids.tolist(), weights, values, format_, scorer=scorer,
                           term=(fieldname, tbytes), terminfo=info)

    def cursor(self, fieldname: str, fieldobj: Any) -> _Cursor:
        return _Cursor(self, fieldname, fieldobj)

    def close(self) -> None:
        pass  # the maps are released with the last array that views them


class _Cursor(base.FieldCursor):
    """Whoosh's field cursor (used by its fuzzy term walk) over one field's sorted terms."""

    def __init__(self, terms: NewsTermsReader, fieldname: str, fieldobj: Any) -> None:
        self._terms = terms
        self._fieldname = fieldname
        self._field = terms.segment_postings.fields.get(fieldname)
        self._fieldobj = fieldobj
        self._i = 0

    def is_valid(self) -> bool:
        return self._field is not None and self._i < self._field.n

    def text(self) -> Any:
        if not self.is_valid():
            return None
        assert self._field is not None
        return self._fieldobj.from_bytes(self._field.key(self._i))

    def first(self) -> Any:
        self._i = 0
        return self.text()

    def find(self, term: Any) -> Any:
        if not isinstance(term, bytes):
            term = self._fieldobj.to_bytes(term)
        self._i = self._field.bisect(term) if self._field is not None else 0
        return self.text()

    def next(self) -> Any:
        self._i += 1
        return self.text()

    def term_info(self) -> TermInfo | None:
        if not self.is_valid():
            return None
        assert self._field is not None
        return self._terms.term_info(self._fieldname, self._field.key(self._i))
