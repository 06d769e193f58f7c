"""The index folder: where it is, what in it is ours, creating it, opening it safely, and
its write lock.

An index folder holds Whoosh's files (``_MAIN_<gen>.toc``, ``MAIN_<segment>.seg``), the marker
``newsearch.json`` (format and schema version, checked on every open), the file manifests
(:mod:`newsearch.manifest`), the story clusters (:mod:`newsearch.clusters`), the saved
searches (:mod:`newsearch.watches`) and the writer lock. :data:`OWN_NAMES` lists every name
newsearch (or Whoosh for it) ever writes there; newsearch deletes nothing else, and a folder
holding anything else is someone else's (:func:`inspect_folder`). Whoosh errors on open
become one of :class:`~newsearch.errors.IndexNotFound`,
:class:`~newsearch.errors.IndexVersionError`, :class:`~newsearch.errors.IndexDamaged` or
:class:`~newsearch.errors.IndexIOError`.

The marker is written last when an index is created, so it is the creation's commit point: a
folder without it is either not ours, a newsearch index that lost its marker (it still holds
a table of contents and manifests, and nothing else: damaged), or a creation cut short by a
crash (nothing but an empty generation 0: the next index run starts afresh).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import socket
import stat
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.filedb.filestore import FileStorage

from ...analysis import ANALYZER_NAME
from ...errors import IndexDamaged, IndexIOError, IndexLocked, IndexNotFound, IndexVersionError
from ...watches import WATCHES_LOCK, WATCHES_NAME
from .schema import SCHEMA_VERSION, make_schema

__all__ = [
    "DEFAULT_INDEX_DIR",
    "MARKER",
    "OWN_NAMES",
    "WRITER_LOCK",
    "FolderInfo",
    "WriteLock",
    "clean_generations",
    "clean_manifests",
    "clear_index_files",
    "create_index",
    "index_path",
    "inspect_folder",
    "is_index",
    "is_own_entry",
    "open_whoosh_index",
    "read_marker",
    "storage_for",
    "write_toc",
]

DEFAULT_INDEX_DIR = "index"
MARKER = "newsearch.json"
INDEX_NAME = "MAIN"
WRITER_LOCK = "NEWSEARCH_WRITER.lock"

# Every name newsearch or Whoosh (for newsearch) writes into an index folder, checked against
# what Whoosh 2.7.4 writes (index.TOC, codec.base.Segment, codec.whoosh3, filedb.compound):
_TOC = re.compile(rf"^_{INDEX_NAME}_(\d+)\.toc$")  # a generation's table of contents
_TOC_TEMP = re.compile(rf"^_{INDEX_NAME}_\d+\.toc\.[0-9.]+$")  # ... before its rename
# Segment files: a 16-character id, then the codec's extensions (Whoosh's ``.trm``, ``.pst``,
# ``.vps``; newsearch's codec's ``.ntd``, ``.npo``, ``.nps``: codec.py); columns are named
# after fields (``MAIN_<id>._stored.col``); ``.seg`` is the compound file they are
# assembled into.
_SEGMENT = re.compile(
    rf"^({INDEX_NAME}_[0-9a-z]{{16}})\.(seg|trm|pst|vps|ntd|npo|nps|[A-Za-z_][A-Za-z0-9_]*\.col)$")
_MANIFEST = re.compile(r"^newsearch-manifest-(\d+)\.json$")
# Story clusters of a generation (clusters.py), and the saved searches (watches.py), which
# are the user's and outlive a rebuild.
_CLUSTERS = re.compile(r"^newsearch-clusters-(\d+)\.pkl$")
_CLUSTERS_TEMP = re.compile(r"^newsearch-clusters-\d+\.pkl\.tmp$")
_WATCHES_TEMP = re.compile(rf"^{re.escape(WATCHES_NAME)}\.\w+\.tmp$")  # tempfile.mkstemp's
_FILES = [
    _TOC, _TOC_TEMP, _SEGMENT, _MANIFEST,
    re.compile(r"^newsearch-manifest-\d+\.json\.tmp$"),
    _CLUSTERS, _CLUSTERS_TEMP,
    re.compile(rf"^{re.escape(WATCHES_NAME)}$"), _WATCHES_TEMP,
    re.compile(rf"^{re.escape(WATCHES_LOCK)}$"),
    re.compile(rf"^{re.escape(MARKER)}(\.tmp)?$"),
    re.compile(rf"^{INDEX_NAME}_WRITELOCK$"),  # Whoosh's lock, held while a commit is written
    re.compile(rf"^{re.escape(WRITER_LOCK)}(\.\d+\.tmp)?$"),  # ours, and its takeover copy
]
# Folders: Whoosh's shared temporary folder (column files of unfinished segments) and the
# private one of each newsearch segment writer (segments.py).
_WHOOSH_TMP = f"{INDEX_NAME}.tmp"
_WHOOSH_TMP_FILE = re.compile(r"^[0-9a-z]{28}\.ctmp$")
_WRITER_TMP = re.compile(r"^newsearch-[0-9a-f]{32}\.tmp$")
OWN_NAMES: tuple[re.Pattern[str], ...] = (
    *_FILES, re.compile(rf"^{re.escape(_WHOOSH_TMP)}$"), _WRITER_TMP)
# Not ours, never deleted, but no reason to refuse a folder: the repository's index/.gitkeep
# and what file browsers leave.
_HARMLESS = {".gitkeep", ".DS_Store"}
# What an index creation cut short leaves (besides our writer lock).
_UNFINISHED = re.compile(
    rf"^(_{INDEX_NAME}_0\.toc(\.[0-9.]+)?|{INDEX_NAME}_WRITELOCK|{re.escape(_WHOOSH_TMP)}|"
    rf"{re.escape(MARKER)}\.tmp)$"
)


def is_own_entry(entry: os.DirEntry[str] | Path) -> bool:
    """Whether a folder entry has one of the names newsearch writes, as the kind of entry it
    writes under that name (a file, or one of the two temporary folders; never a link)."""
    name = entry.name
    try:
        if entry.is_symlink():
            return False
        if name == _WHOOSH_TMP or _WRITER_TMP.match(name):
            return entry.is_dir()
        return any(p.match(name) for p in _FILES) and entry.is_file()
    except OSError:
        return False


@dataclass(frozen=True, slots=True)
class FolderInfo:
    """What an index folder holds: ``kind`` is ``"missing"``, ``"not-a-folder"``, ``"empty"``,
    ``"index"`` (a valid marker), ``"unfinished"`` (a creation cut short), ``"damaged"`` (an
    index that lost its marker), ``"foreign"`` (other files) or ``"stray"`` (files with our
    names that are not a newsearch index, such as another program's Whoosh index);
    ``example`` names one entry that made it so."""

    kind: str
    example: str | None = None
    foreign: str | None = None  # a foreign entry beside an index (kept, never touched)


def inspect_folder(path: Path, *, allow_other: bool = False) -> FolderInfo:
    """Classify ``path``. With ``allow_other``, entries that are not ours are set aside
    (``foreign`` names one) and the rest is classified. Raises IndexIOError when the folder
    cannot be listed."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return FolderInfo("missing")
    except OSError as exc:
        raise IndexIOError(str(path), "read", exc) from None
    if not stat.S_ISDIR(st.st_mode):
        return FolderInfo("not-a-folder")
    try:
        with os.scandir(path) as it:
            entries = sorted(it, key=lambda e: e.name)
    except OSError as exc:
        raise IndexIOError(str(path), "read", exc) from None
    own = [e.name for e in entries if e.name not in _HARMLESS and is_own_entry(e)]
    other = [e.name for e in entries if e.name not in _HARMLESS and not is_own_entry(e)]
    foreign = other[0] if other else None
    if read_marker(path) is not None:
        return FolderInfo("index", foreign=foreign)
    if other and not allow_other:
        return FolderInfo("foreign", foreign)
    own = [n for n in own if n != WRITER_LOCK]
    if not own:
        return FolderInfo("empty", foreign=foreign)
    has_toc = any(_TOC.match(n) for n in own)
    if any(n.startswith(f"_{INDEX_NAME}_0.toc") for n in own) and all(
            _UNFINISHED.match(n) for n in own):
        return FolderInfo("unfinished", own[0], foreign)
    if has_toc and any(_MANIFEST.match(n) for n in own):
        return FolderInfo("damaged", own[0], foreign)
    # A stray manifest, or a Whoosh index that newsearch never marked: not ours to touch.
    return FolderInfo("stray", own[0], foreign)


def index_path(path: str | os.PathLike[str] | None = None) -> Path:
    """The index folder: ``path`` if given, else ``$NEWSEARCH_INDEX``, else ``./index``."""
    if path:
        return Path(path)
    return Path(os.environ.get("NEWSEARCH_INDEX") or DEFAULT_INDEX_DIR)


def read_marker(path: Path) -> dict[str, Any] | None:
    """The marker's content, or None when there is no valid one. A marker that exists but
    cannot be read (permissions) raises IndexIOError: that is not a missing marker."""
    try:
        data = json.loads((path / MARKER).read_text("utf-8"))
    except (FileNotFoundError, NotADirectoryError, IsADirectoryError, ValueError):
        return None
    except OSError as exc:
        raise IndexIOError(str(path), "read", exc) from None
    return data if isinstance(data, dict) and data.get("format") == "newsearch" else None


def is_index(path: Path) -> bool:
    return read_marker(path) is not None


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
    """A new empty index in ``path`` (created if missing), which must hold no index files.

    Whoosh's own ``FileIndex.create`` deletes every file whose name starts with ``_MAIN_``;
    here only the tables of contents of an unfinished creation are removed, by their exact
    names, and generation 0 is written directly.
    """
    path.mkdir(parents=True, exist_ok=True)
    storage = storage_for(path)
    for p in path.iterdir():
        if (_TOC.match(p.name) or _TOC_TEMP.match(p.name)) and is_own_entry(p):
            p.unlink()
    ix = _create_whoosh_index(storage)
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


def _create_whoosh_index(storage: FileStorage) -> whoosh_index.FileIndex:
    schema = make_schema()
    whoosh_index.TOC(schema, [], 0).write(storage, INDEX_NAME)
    return whoosh_index.FileIndex(storage, schema, INDEX_NAME)


def write_toc(writer: Any, segments: list[Any]) -> None:
    """Commit ``segments`` as ``writer``'s new generation, then delete the files of older
    generations (by their exact names: Whoosh's own cleanup, ``index.clean_files``, takes
    any ``MAIN_<letters>.<anything>`` for a segment file)."""
    toc = whoosh_index.TOC(writer.schema, segments, writer.generation)
    toc.write(writer.storage, writer.indexname)
    clean_generations(Path(writer.storage.folder), writer.generation, segments)


def clean_generations(folder: Path, generation: int, segments: list[Any]) -> None:
    """Delete tables of contents other than ``generation``'s and segment files that none of
    ``segments`` owns (old generations, and segments of runs that were killed). Only called
    by the holder of the writer lock; a file still open elsewhere is left for next time."""
    live = {s.segment_id() for s in segments}
    for p in folder.iterdir():
        toc = _TOC.match(p.name)
        seg = _SEGMENT.match(p.name)
        stale = (toc is not None and int(toc.group(1)) != generation) or (
            seg is not None and seg.group(1) not in live)
        if stale and is_own_entry(p):
            with contextlib.suppress(OSError):
                p.unlink()


def clean_manifests(folder: Path, generation: int) -> None:
    """Delete the manifests and cluster files of generations other than ``generation`` (and
    their temporary files): those of older generations, or of a commit that never happened."""
    for p in folder.iterdir():
        m = _MANIFEST.match(p.name) or _CLUSTERS.match(p.name)
        stale = (m is not None and int(m.group(1)) != generation) or p.name.endswith(".json.tmp")
        if stale and is_own_entry(p):
            with contextlib.suppress(OSError):
                p.unlink()


def remove_temporary(folder: Path) -> None:
    """Delete what writers leave while they work, once none is working: temporary tables of
    contents, manifests and markers, Whoosh's column files in ``MAIN.tmp`` and the newsearch
    writers' private folders (each only by its own names)."""
    for p in folder.iterdir():
        if not is_own_entry(p):
            continue
        with contextlib.suppress(OSError):
            if p.name == _WHOOSH_TMP:
                for q in p.iterdir():
                    if _WHOOSH_TMP_FILE.match(q.name) and q.is_file() and not q.is_symlink():
                        q.unlink()
            elif _WRITER_TMP.match(p.name):
                shutil.rmtree(p)
            elif _TOC_TEMP.match(p.name) or p.name.endswith(".json.tmp") or p.name == (
                    MARKER + ".tmp") or _CLUSTERS_TEMP.match(p.name) or _WATCHES_TEMP.match(
                    p.name):
                p.unlink()


def clear_index_files(folder: Path) -> None:
    """Delete every file of an unusable index (damaged, of another schema version, or a
    creation cut short) for a fresh start: only names newsearch writes, never anything else
    in the folder, never the writer lock its caller holds, and never the saved searches."""
    remove_temporary(folder)
    for p in folder.iterdir():
        if p.name == WRITER_LOCK or p.name.startswith(WRITER_LOCK) or not is_own_entry(p) \
                or p.name in (WATCHES_NAME, WATCHES_LOCK):
            continue
        with contextlib.suppress(OSError):
            if p.is_dir():
                with contextlib.suppress(OSError):
                    p.rmdir()  # MAIN.tmp, emptied above
            else:
                p.unlink()


def open_whoosh_index(path: Path) -> whoosh_index.FileIndex:
    """Open an existing index, checking marker and schema version; raise a typed error."""
    info = inspect_folder(path)
    if info.kind in ("missing", "empty", "unfinished"):
        raise IndexNotFound(str(path))  # unfinished: nothing was ever committed; index again
    if info.kind == "not-a-folder":
        raise IndexNotFound(str(path), f"{path} is a file, not an index folder")
    if info.kind == "damaged":
        raise IndexDamaged(str(path), f"its {MARKER} marker is missing or unreadable")
    if info.kind != "index":
        raise IndexNotFound(
            str(path), f"{path} is not a newsearch index (no {MARKER} marker in it)"
        )
    marker = read_marker(path) or {}
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
    except PermissionError as exc:
        raise IndexIOError(str(path), "read", exc) from None
    except Exception as exc:  # Whoosh raises many types for damaged files
        raise IndexDamaged(str(path), _damage_reason(exc)) from None
    return ix


def _damage_reason(exc: BaseException) -> str:
    if isinstance(exc, FileNotFoundError):
        return f"file {Path(exc.filename or '?').name} is missing"
    text = str(exc) or exc.__class__.__name__
    return text.splitlines()[0][:200]


# --- the writer lock ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Holder:
    """Who holds the writer lock, as its holder wrote it: process id, that process's start
    time (so a reused pid is not taken for the holder) and host."""

    pid: int
    started: str
    host: str

    @classmethod
    def me(cls) -> _Holder:
        return cls(os.getpid(), _start_time(os.getpid()) or "", socket.gethostname())

    @classmethod
    def parse(cls, text: str) -> _Holder | None:
        parts = text.split()
        if len(parts) != 3 or not parts[0].isdigit():
            return None
        return cls(int(parts[0]), parts[1], parts[2])

    def __str__(self) -> str:
        return f"{self.pid} {self.started or '-'} {self.host}"

    def is_gone(self) -> bool:
        """True only when sure: same host, and no process with this pid and start time."""
        if self.host != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            pass  # it exists (another user's process)
        started = _start_time(self.pid)
        return bool(started and self.started not in ("", "-") and started != self.started)


def _start_time(pid: int) -> str | None:
    """A process's start time in clock ticks since boot (``/proc/PID/stat`` field 22)."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else None


class WriteLock:
    """One newsearch writer per index for a whole run: a kernel ``flock`` on
    ``NEWSEARCH_WRITER.lock``, released by the kernel when every descriptor of it is closed,
    which holds the pid, start time and host of its holder.

    Whoosh's own WRITELOCK is only held while one batch is written; this lock spans the run
    so no other run can slip in between two batches. ``wait`` is how many seconds to wait
    for another writer; 0 fails at once.

    A lock can outlive its holder only if another process inherited its descriptor (a
    worker of a killed run that did not die with it). When the recorded holder is gone, the
    lock is taken over: a new lock file replaces the old one, and :attr:`notice` says so.
    Every step (take, check the holder, take over) happens under an ``flock`` of the folder
    itself, so two runs never both take over.
    """

    def __init__(self, path: Path, wait: float = 0.0) -> None:
        self._path = path
        self._file = path / WRITER_LOCK
        self._wait = wait
        self._fd: int | None = None
        self.held = False
        self.notice: str | None = None

    def fileno(self) -> int | None:
        """The lock's descriptor (processes forked while it is held must close it)."""
        return self._fd

    def __enter__(self) -> WriteLock:
        deadline = time.monotonic() + max(0.0, self._wait)
        holder: _Holder | None = None
        while True:
            try:
                got, holder = self._attempt()
            except OSError as exc:
                raise IndexIOError(str(self._path), "write", exc) from None
            if got:
                self.held = True
                return self
            if time.monotonic() >= deadline:
                raise IndexLocked(str(self._path), holder.pid if holder else None)
            time.sleep(0.1)

    def _attempt(self) -> tuple[bool, _Holder | None]:
        import fcntl

        guard = os.open(self._path, os.O_RDONLY | os.O_CLOEXEC)
        try:
            try:
                fcntl.flock(guard, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return False, None  # someone is taking or checking the lock this instant
            fd = os.open(self._file, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _Holder.parse(os.pread(fd, 200, 0).decode("ascii", "replace"))
                os.close(fd)
                if holder is None or not holder.is_gone():
                    return False, holder
                fd = self._take_over(fcntl)
                self.notice = (f"took over the writer lock of {self._path}: its holder "
                               f"(process {holder.pid}) is gone")
            except BaseException:
                os.close(fd)
                raise
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{_Holder.me()}\n".encode("ascii"), 0)
            self._fd = fd
            return True, None
        finally:
            os.close(guard)  # releases the guard

    def _take_over(self, fcntl: Any) -> int:
        """A fresh lock file, locked by us, renamed over the one whose holder is gone (the
        orphan keeps its lock on the old, now nameless, file)."""
        tmp = self._path / f"{WRITER_LOCK}.{os.getpid()}.tmp"
        fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(tmp, self._file)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        return fd

    def __exit__(self, *exc: object) -> None:
        if self._fd is not None:
            os.close(self._fd)  # the kernel releases the flock with the last descriptor
            self._fd = None
        self.held = False

