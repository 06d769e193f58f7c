"""The index folder: where it is, creating it, opening it safely, and its write lock.

An index folder holds Whoosh's files (``_MAIN_<gen>.toc``, ``MAIN_*.seg``), the marker
``newsearch.json`` (format and schema version, checked on every open) and the file manifests
(:mod:`newsearch.manifest`). Whoosh errors on open become one of
:class:`~newsearch.errors.IndexNotFound`, :class:`~newsearch.errors.IndexVersionError` or
:class:`~newsearch.errors.IndexDamaged`.

The marker is written last when an index is created, so it is the creation's commit point: a
folder without it is either not ours, a newsearch index that lost its marker (it still holds
manifests: damaged), or a creation cut short by a crash (nothing but an empty generation 0:
the next index run starts afresh). :func:`unmarked_state` tells these apart.
"""

from __future__ import annotations

import json
import os
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from .analysis import ANALYZER_NAME
from .errors import IndexDamaged, IndexLocked, IndexNotFound, IndexVersionError
from .schema import SCHEMA_VERSION, make_schema

__all__ = [
    "DEFAULT_INDEX_DIR",
    "MARKER",
    "WRITER_LOCK",
    "WriteLock",
    "create_index",
    "index_path",
    "is_index",
    "open_whoosh_index",
    "read_marker",
    "storage_for",
    "unmarked_state",
]

DEFAULT_INDEX_DIR = "index"
MARKER = "newsearch.json"
INDEX_NAME = "MAIN"
WRITER_LOCK = "NEWSEARCH_WRITER.lock"
# What a creation cut short leaves: generation 0's table of contents (or Whoosh's temporary
# name for it), Whoosh's lock and temporary folder, our writer lock, a marker not yet renamed.
_UNFINISHED = re.compile(
    rf"^(_{INDEX_NAME}_0\.toc(\.[0-9.]+)?|{INDEX_NAME}_WRITELOCK|{INDEX_NAME}\.tmp|"
    rf"{re.escape(WRITER_LOCK)}|{re.escape(MARKER)}\.tmp|\.gitkeep)$"
)
_MANIFEST = re.compile(r"^newsearch-manifest-\d+\.json$")


def index_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The index folder: ``path`` if given, else ``$NEWSEARCH_INDEX``, else ``./index``."""
    if path:
        return Path(path)
    return Path(os.environ.get("NEWSEARCH_INDEX") or DEFAULT_INDEX_DIR)


def read_marker(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((path / MARKER).read_text("utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == "newsearch" else None


def is_index(path: Path) -> bool:
    return read_marker(path) is not None


def unmarked_state(path: Path) -> str | None:
    """For a folder without a valid marker: ``"damaged"`` when it holds newsearch manifests
    (an index that lost its marker), ``"unfinished"`` when it holds only what an index
    creation killed before writing the marker leaves, else None (empty or not ours)."""
    try:
        names = [p.name for p in path.iterdir()]
    except OSError:
        return None
    if any(_MANIFEST.match(n) for n in names):
        return "damaged"
    if any(n.startswith(f"_{INDEX_NAME}_0.toc") for n in names) and all(
            _UNFINISHED.match(n) for n in names):
        return "unfinished"
    return None


def storage_for(path: Path | str) -> FileStorage:
    """Whoosh's file storage for an index folder, reading files rather than mapping them.

    With ``supports_mmap`` Whoosh maps each compound segment file but opens every file inside
    it as a ``BytesIO`` of the map, a private copy: searching a 200,000-article index grew to
    3.4 GB. Whoosh's own reads (the table of contents, columns it opens) therefore use plain
    reads; the postings and stored fields the query path reads are mapped by newsearch itself
    (codec.py), read in place, so their pages stay the kernel's file cache.
    """
    return FileStorage(str(path), supports_mmap=False)


def create_index(path: Path) -> whoosh_index.FileIndex:
    """A new empty index in ``path`` (created if missing; must not hold another index)."""
    path.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.FileIndex.create(storage_for(path), make_schema(), INDEX_NAME)
    marker = {
        "format": "newsearch",
        "schema_version": SCHEMA_VERSION,
        "analyzer": ANALYZER_NAME,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    tmp = path / (MARKER + ".tmp")
    tmp.write_text(json.dumps(marker, indent=1), "utf-8")
    os.replace(tmp, path / MARKER)
    return ix


def open_whoosh_index(path: Path) -> whoosh_index.FileIndex:
    """Open an existing index, checking marker and schema version; raise a typed error."""
    if not path.is_dir():
        raise IndexNotFound(str(path))
    marker = read_marker(path)
    if marker is None:
        state = unmarked_state(path)
        if state == "damaged":
            raise IndexDamaged(str(path), f"its {MARKER} marker is missing or unreadable")
        if state == "unfinished":
            raise IndexNotFound(str(path))  # nothing was ever committed; index again
        if any(path.glob("_*.toc")) or any(path.iterdir()):
            raise IndexNotFound(
                str(path), f"{path} is not a newsearch index (no {MARKER} marker in it)"
            )
        raise IndexNotFound(str(path))
    if marker.get("schema_version") != SCHEMA_VERSION:
        raise IndexVersionError(str(path), marker.get("schema_version"), SCHEMA_VERSION)
    storage = storage_for(path)
    try:
        if not whoosh_index.exists(storage, INDEX_NAME):
            raise IndexDamaged(str(path), "its table of contents (_MAIN_*.toc) is missing")
        ix = whoosh_index.FileIndex(storage, None, INDEX_NAME)
        # Opening a reader touches every segment file: a missing or truncated one fails here.
        ix.reader().close()
    except IndexDamaged:
        raise
    except Exception as exc:  # Whoosh raises many types for damaged files
        raise IndexDamaged(str(path), _damage_reason(exc)) from None
    return ix


def _damage_reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"file {Path(exc.filename or '?').name} is missing"
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0][:200]


class WriteLock:
    """One newsearch writer per index for a whole run (a kernel ``flock`` on
    ``NEWSEARCH_WRITER.lock``, released by the kernel if the process dies).

    Whoosh's own WRITELOCK is only held while one batch is written; this lock spans the run
    so no other run can slip in between two batches. ``wait`` is how many seconds to wait
    for another writer; 0 fails at once.
    """

    def __init__(self, path: Path, wait: float = 0.0) -> None:
        self._lock = FileStorage(str(path)).lock(WRITER_LOCK)
        self._path = path
        self._wait = wait
        self.held = False

    def __enter__(self) -> WriteLock:
        deadline = time.monotonic() + max(0.0, self._wait)
        while not self._lock.acquire(blocking=False):
            if time.monotonic() >= deadline:
                raise IndexLocked(str(self._path))
            time.sleep(0.1)
        self.held = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.held:
            self._lock.release()
            self.held = False
