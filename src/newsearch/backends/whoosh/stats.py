"""``newsearch stats`` of an index folder: counts from the Whoosh reader, size on disk."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from ...article import NO_DATE, epoch_to_datetime
from ...stats import IndexStats
from .storage import index_path, open_whoosh_index

__all__ = ["folder_bytes", "index_stats", "stats_from_reader"]


def _day(when: datetime | None, fmt: str) -> str | None:
    return when.strftime(fmt) if when is not None else None


def folder_bytes(path: Path) -> int:
    """Bytes of every file in an index folder (segments, table of contents, manifests); files
    a concurrent commit removes while they are counted are left out."""
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(root, name)).st_size
            except OSError:
                continue
    return total


def stats_from_reader(reader: Any, index: str = "") -> IndexStats:
    """Exact counts from a Whoosh reader (deleted documents excluded)."""
    sections: dict[str, int] = {}
    if "section" in reader.indexed_field_names():
        for btext in reader.lexicon("section"):
            n = sum(1 for _ in reader.postings("section", btext).all_ids())
            if n:
                sections[btext.decode("utf-8")] = n
    lo = hi = None
    undated = 0
    col = reader.column_reader("date") if reader.has_column("date") else None
    if col is not None:
        deleted = reader.is_deleted if reader.has_deletions() else None
        for docnum, value in enumerate(col):
            if deleted and deleted(docnum):
                continue
            if value <= NO_DATE // 2:
                undated += 1
                continue
            if lo is None or value < lo:
                lo = value
            if hi is None or value > hi:
                hi = value
    day = "%Y-%m-%d"
    return IndexStats(
        documents=reader.doc_count(),
        sections=dict(sorted(sections.items(), key=lambda kv: (-kv[1], kv[0]))),
        date_min=_day(epoch_to_datetime(lo), day),
        date_max=_day(epoch_to_datetime(hi), day),
        undated=undated,
        index=index,
        index_bytes=folder_bytes(Path(index)) if index else 0,
    )


def index_stats(index: str | os.PathLike[str] | None = None) -> IndexStats:
    """Statistics of the index at ``index`` (default: ``$NEWSEARCH_INDEX`` or ``./index``)."""
    folder = index_path(index)
    ix = open_whoosh_index(folder)
    with ix.reader() as reader:
        return stats_from_reader(reader, str(folder))
