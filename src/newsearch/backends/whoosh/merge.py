"""Merging segments: several newsearch segments become one by array operations.

    segments ──▶ per-document part: stored fields copied as their compressed bytes (never
                 unpickled), length and date columns concatenated
             ──▶ per field: the sorted union of the terms (numpy ``unique``), then every
                 segment's postings and positions moved to their new places in one scatter,
                 document numbers shifted or remapped around deleted documents
             ──▶ one new segment (newsearch codec, compound file), committed by the writer

Each commit of an index run adds a segment per worker, so an archive of a million articles
would be searched across a hundred segments, and a query pays a term lookup in each.
:func:`tiered_merge`, the merge policy of :class:`~.segments.NewsSegmentWriter`,
merges :data:`MERGE_FACTOR` segments of one size tier (a power of ten of live documents)
into one, up to :data:`MAX_MERGED_DOCS`, so the count stays near ``MERGE_FACTOR`` per tier;
at the end of an index run :func:`end_of_run_groups` chooses its small segments to merge,
so a fresh archive of up to :data:`MAX_MERGED_DOCS` articles is searched in one segment.
Whoosh's own merge would read every posting back through its matcher and re-add every
document one at a time; here the cost is a few vector operations per field and segment.
The new segment is written under a new name and only the commit's table of contents makes it
part of the index, so a crash during a merge loses nothing (Whoosh removes the orphaned
files at the next commit).
"""

from __future__ import annotations

import math
from array import array
from typing import Any

import numpy as np
from whoosh.codec.whoosh3 import LENGTHS_COLUMN, W3Codec
from whoosh.columns import NumericColumn, VarBytesColumn
from whoosh.reading import SegmentReader
from whoosh.util.numeric import byte_to_length

from .codec import NewsCodec, NewsFieldWriter, buffer_of, ranges, segment_postings

__all__ = ["END_MERGE_FLOOR", "MAX_MERGED_DOCS", "MERGE_FACTOR", "end_of_run_groups",
           "merge_segments", "tiered_merge"]

MERGE_FACTOR = 10
# A merged segment holds at most this many documents: merging costs memory in proportion,
# and Whoosh's stored-fields column addresses at most 2 GB per segment.
MAX_MERGED_DOCS = 250_000
# An index run ends by merging its small segments into one, up to as many documents as it
# wrote, and at least this many: a run that adds a few articles folds its segment into the
# index's small one (a cheap rewrite) instead of leaving one more segment for every query.
END_MERGE_FLOOR = 1_000
_BYTE_TO_LENGTH = np.array([byte_to_length(b) for b in range(256)], dtype=np.int64)


def _tier(docs: int) -> int:
    # Powers of ten, offset so that the segments one index run writes (a commit's articles
    # split between the workers: about 10,000 each) fall in one tier, not two.
    return int(math.log10(max(1, docs / 3)))


def tiered_merge(writer: Any, segments: list[Any]) -> list[Any]:
    """Whoosh merge policy: merge the smallest :data:`MERGE_FACTOR` newsearch segments of any
    size tier that has that many (segments in Whoosh's own format are left alone)."""
    ours = [s for s in segments if isinstance(s.codec(), NewsCodec)]
    by_tier: dict[int, list[Any]] = {}
    for s in sorted(ours, key=lambda s: s.doc_count()):
        by_tier.setdefault(_tier(s.doc_count()), []).append(s)
    out = list(segments)
    for tier in sorted(by_tier):
        group = by_tier[tier][:MERGE_FACTOR]
        if len(group) < MERGE_FACTOR or sum(s.doc_count() for s in group) > MAX_MERGED_DOCS:
            continue
        merged = merge_segments(writer.storage, writer.schema, writer.indexname, group)
        out = [s for s in out if s not in group]
        if merged is not None:
            out.append(merged)
    return out


def end_of_run_groups(segments: list[Any], written: int) -> list[list[Any]]:
    """The groups of segments an index run that wrote ``written`` documents merges at its
    end, each into one.

    Each term a query asks for costs a lookup per segment, so a run should not end with
    several small segments (Reuters-21578 built from scratch: four to six of 2,000-6,500
    articles, in tiers that :func:`tiered_merge` leaves alone; a rebuild, which commits
    once, as many as its workers wrote). The smallest newsearch segments are taken while
    their live documents fit in :data:`MAX_MERGED_DOCS`, then the next smallest, and so on
    while the documents rewritten add up to at most ``written`` (at least
    :data:`END_MERGE_FLOOR`): the merges rewrite no more than the run itself wrote, so a
    small incremental run never rewrites a big segment. Each group is in index order (its
    documents keep their order); a group has at least two segments.
    """
    budget = max(written, END_MERGE_FLOOR)
    left = sorted((s for s in segments if isinstance(s.codec(), NewsCodec)),
                  key=lambda s: s.doc_count())
    groups: list[list[Any]] = []
    while len(left) > 1:
        chosen: set[int] = set()
        total = 0
        for s in left:
            if total + s.doc_count() > min(budget, MAX_MERGED_DOCS):
                break
            chosen.add(id(s))
            total += s.doc_count()
        if len(chosen) < 2:
            break
        groups.append([s for s in segments if id(s) in chosen])
        left = [s for s in left if id(s) not in chosen]
        budget -= total
    return groups


def merge_segments(storage: Any, schema: Any, indexname: str, segments: list[Any]) -> Any:
    """Write one new segment holding the live documents of ``segments`` (in order); return
    it, or None when none of their documents is live."""
    readers = [SegmentReader(storage, schema, s) for s in segments]
    try:
        maps: list[np.ndarray | None] = []
        bases: list[int] = []
        total = 0
        for s in segments:
            n = s.doc_count_all()
            bases.append(total)
            if s.has_deletions():
                live = np.ones(n, dtype=bool)
                live[np.fromiter(s.deleted_docs(), dtype=np.int64)] = False
                docmap = np.full(n, -1, dtype=np.int64)
                docmap[live] = np.arange(int(live.sum())) + total
                maps.append(docmap)
                total += int(live.sum())
            else:
                maps.append(None)
                total += n
        if not total:
            return None
        codec = NewsCodec()
        merged = codec.new_segment(storage, indexname)
        merged._fieldlengths = _merge_columns(readers, maps, merged, storage, schema)
        _merge_postings(readers, maps, bases, merged, storage, schema)
        merged.set_doc_count(total)
        merged.create_compound_file(storage)
        return merged
    finally:
        for r in readers:
            r.close()


# --- per-document columns -----------------------------------------------------------------------


def _column_names(reader: Any) -> set[str]:
    seg = reader.segment()
    prefix, suffix = seg.make_filename("."), W3Codec.COLUMN_EXT
    return {name[len(prefix):-len(suffix)] for name in reader.storage().list()
            if name.startswith(prefix) and name.endswith(suffix)}


def _live(docmap: np.ndarray | None, n: int) -> np.ndarray | slice:
    return slice(0, n) if docmap is None else docmap >= 0


def _merge_columns(readers: list[Any], maps: list[np.ndarray | None], merged: Any,
                   storage: Any, schema: Any) -> dict[str, int]:
    """Write the merged segment's column files; return its total field lengths."""
    names = set().union(*(_column_names(r) for r in readers))
    for name in sorted(names):
        ext = "." + name + W3Codec.COLUMN_EXT
        f = merged.create_file(storage, ext)
        if name == "_stored":
            _write_var_bytes(f, readers, maps, ext)
        else:
            column = LENGTHS_COLUMN if name.startswith("_") and name.endswith("_len") \
                else schema[name].column_type
            if not isinstance(column, NumericColumn):
                raise ValueError(f"cannot merge column {name!r} ({type(column).__name__})")
            f.write(_merge_numeric(readers, maps, ext, column))
        f.close()
    lengths: dict[str, int] = {}
    for r, docmap in zip(readers, maps, strict=True):
        for field, value in r.segment()._fieldlengths.items():
            lengths[field] = lengths.get(field, 0) + value
        if docmap is not None and r.has_deletions():
            dead = np.flatnonzero(docmap < 0)
            for field in list(lengths):
                raw = _numeric(r, "." + f"_{field}_len" + W3Codec.COLUMN_EXT, LENGTHS_COLUMN)
                lengths[field] -= int(_BYTE_TO_LENGTH[raw[dead].astype(np.int64)].sum())
    return {f: max(0, v) for f, v in lengths.items()}


def _numeric(reader: Any, ext: str, column: NumericColumn) -> np.ndarray:
    """A numeric column's values for every document (absent ones: the default)."""
    n = reader.doc_count_all()
    dtype = np.dtype(">" + column._typecode)
    out = np.full(n, column._default, dtype=dtype)
    name = reader.segment().make_filename(ext)
    if reader.storage().file_exists(name):
        raw = buffer_of(reader.storage(), name)
        count = min(n, len(raw) // dtype.itemsize)
        out[:count] = np.frombuffer(raw, dtype=dtype, count=count)
    return out


def _merge_numeric(readers: list[Any], maps: list[np.ndarray | None], ext: str,
                   column: NumericColumn) -> bytes:
    parts = [_numeric(r, ext, column)[_live(m, r.doc_count_all())]
             for r, m in zip(readers, maps, strict=True)]
    # (concatenate returns native byte order; Whoosh's numeric columns are big-endian)
    return np.concatenate(parts).astype(np.dtype(">" + column._typecode)).tobytes()


def _write_var_bytes(f: Any, readers: list[Any], maps: list[np.ndarray | None],
                     ext: str) -> None:
    """Whoosh's VarBytesColumn layout (data, lengths, offsets when there are many, type
    codes) with each document's bytes copied as they are (stored fields stay compressed),
    written as it is read."""
    lengths: list[np.ndarray] = []
    for r, docmap in zip(readers, maps, strict=True):
        n = r.doc_count_all()
        name = r.segment().make_filename(ext)
        col = VarBytesColumn.Reader(r.storage().open_file(name), 0,
                                    r.storage().file_length(name), n)
        lens = np.frombuffer(col._lengths, dtype=np.dtype(col._lengths.typecode)).astype(
            np.int64) if len(col._lengths) else np.zeros(0, dtype=np.int64)
        raw = buffer_of(r.storage(), name)
        if docmap is None:
            f.write(raw[:int(lens.sum())])
            lengths.append(lens)
            continue
        offs = np.cumsum(lens) - lens
        keep = np.flatnonzero(docmap >= 0)
        for o, ln in zip(offs[keep].tolist(), lens[keep].tolist(), strict=True):
            f.write(raw[o:o + ln])
        lengths.append(lens[keep])
    lens = np.concatenate(lengths)
    count = len(lens)
    if count and int(lens.sum()) >= 2**31:
        raise ValueError("stored fields of the merged segment exceed 2 GB")
    lens_code = "H" if not count or int(lens.max()) < 2**16 else "I"
    f.write(_big_endian(lens, lens_code))
    # Whoosh writes offsets past 2**15 documents, so readers need not sum the lengths.
    with_offsets = count > 2**15
    if with_offsets:
        f.write(_big_endian(np.cumsum(lens) - lens, "I"))
    f.write(lens_code.encode("ascii"))
    if with_offsets:
        f.write(b"IX")


def _big_endian(values: np.ndarray, code: str) -> bytes:
    """An ``array`` of ``code`` as Whoosh's StructFile writes it (big-endian)."""
    a = array(code, values.tolist())
    if a.itemsize > 1 and np.little_endian:
        a.byteswap()
    return a.tobytes()


# --- postings -----------------------------------------------------------------------------------


def _merge_postings(readers: list[Any], maps: list[np.ndarray | None], bases: list[int],
                    merged: Any, storage: Any, schema: Any) -> None:
    mapped = [segment_postings(r.storage(), r.segment()) for r in readers]
    fw = NewsFieldWriter(storage, merged)
    for name in sorted(set().union(*(m.fields for m in mapped))):
        parts = [(m.fields.get(name), docmap, base)
                 for m, docmap, base in zip(mapped, maps, bases, strict=True)]
        _merge_field(fw, name, parts, bool(schema[name].format.supports("positions"))
                     if name in schema else False)
    fw.close()


def _merge_field(fw: NewsFieldWriter, name: str, parts: list[tuple[Any, Any, int]],
                 positional: bool) -> None:
    present = [(f, docmap, base) for f, docmap, base in parts if f is not None and f.n]
    if not present:
        return
    # The sorted union of the terms; where each segment's terms go in it.
    keys_per = [[f.key(i) for i in range(f.n)] for f, _m, _b in present]
    width = max(1, max(len(k) for keys in keys_per for k in keys))
    everything = np.concatenate([np.array(keys, dtype=f"S{width}") for keys in keys_per])
    union, inverse = np.unique(everything, return_inverse=True)
    dest_terms, at = [], 0
    for keys in keys_per:
        dest_terms.append(inverse[at:at + len(keys)])
        at += len(keys)

    # Live postings per segment and term; terms left without any are dropped.
    prepared = []
    counts = np.zeros(len(union), dtype=np.int64)
    for (f, docmap, base), dest in zip(present, dest_terms, strict=True):
        starts = f.starts.astype(np.int64)
        ids = f.ids.astype(np.int64)
        if docmap is None:
            newdoc, live = ids + base, None
            df = np.diff(starts)
        else:
            newdoc = docmap[ids]
            live = newdoc >= 0
            term_of = np.repeat(np.arange(f.n), np.diff(starts))
            df = np.bincount(term_of[live], minlength=f.n)
            newdoc = newdoc[live]
        np.add.at(counts, dest, df)
        prepared.append((f, starts, live, newdoc, df, dest))
    keep = counts > 0
    renumber = np.cumsum(keep) - 1
    new_starts = np.zeros(int(keep.sum()) + 1, dtype=np.int64)
    np.cumsum(counts[keep], out=new_starts[1:])
    total = int(new_starts[-1])
    out_ids = np.zeros(total, dtype=np.uint32)
    out_tfs = np.zeros(total, dtype=np.uint32)
    cursor = new_starts[:-1].copy()
    placed = []
    for f, _starts, live, newdoc, df, dest in prepared:
        d = renumber[dest]
        has = df > 0
        first = np.zeros(f.n, dtype=np.int64)
        first[has] = cursor[d[has]]
        cursor[d[has]] += df[has]
        where = ranges(first, df)  # each live posting's place in the merged field
        out_ids[where] = newdoc
        tfs = f.tfs.astype(np.uint32) if f.tfs is not None else np.ones(len(f.ids), np.uint32)
        out_tfs[where] = tfs if live is None else tfs[live]
        placed.append(where)
    positions = None
    if positional:
        ctf = np.zeros(total + 1, dtype=np.int64)
        np.cumsum(out_tfs, out=ctf[1:])
        top = max(int(f.positions.max()) if f.positions is not None and len(f.positions) else 0
                  for f, *_ in prepared)
        positions = np.zeros(int(ctf[-1]), dtype=np.uint32 if top >= 2**16 else np.uint16)
        for (f, _starts, live, _newdoc, _df, _dest), where in zip(prepared, placed, strict=True):
            if f.positions is None:
                continue
            tfs = f.tfs.astype(np.int64)
            src_first = np.concatenate(([0], np.cumsum(tfs)[:-1]))
            if live is not None:
                tfs, src_first = tfs[live], src_first[live]
            positions[ranges(ctf[where], tfs)] = f.positions[ranges(src_first, tfs)]
    keys = [k for k in union[keep].tolist()]
    fw.add_field_arrays(name, keys, new_starts, out_ids, out_tfs, positions)
