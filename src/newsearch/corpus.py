"""The corpus walk: which files a run looks at, their signatures, and their bytes.

    PATH... ──▶ walk() ──▶ CorpusFile (path, size, mtime) ──▶ load() ──▶ SourceFile ──▶ readers

Folders are walked recursively (symbolic links followed, loops detected), hidden files and
folders skipped, and so are the index's own files when the index folder lies among the input
(``newsearch index .`` with the default ``./index``). ``load`` reads a file with a size bound,
decompressing ``.gz`` with the same bound, so neither a huge file nor a gzip bomb can exhaust
memory; it opens without blocking and reads only regular files, so a FIFO put in a file's
place after the walk, or a link to ``/proc/kmsg``, is skipped instead of waited on forever.
Problems become :class:`~newsearch.errors.SkippedInput` with a reason.

A file name that is not valid UTF-8 (an old Latin-1 archive) is recorded with its stray bytes
written as ``\\xNN`` and its backslashes doubled (:func:`printable_path`), since article
sources, ids and index terms must be text; the file is still opened by its real name.
"""

from __future__ import annotations

import contextlib
import gzip
import os
import stat
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from .errors import SkippedInput
from .readers import SourceFile

__all__ = ["MAX_FILE_BYTES", "CorpusFile", "load", "printable_path", "walk"]

# A news file (even a multi-article SGML/CSV/JSONL file) beyond this is not something we hold
# in memory; such files are skipped with a reason.
MAX_FILE_BYTES = 64 * 1024 * 1024


@dataclass(slots=True, frozen=True)
class CorpusFile:
    """A file found by the walk. ``signature`` changes when the file's content may have."""

    path: str  # absolute, as recorded in each article's ``source`` (see printable_path)
    size: int
    mtime_ns: int
    folder: str | None  # name of the containing folder when it lies below the indexed root
    os_path: str | None = None  # the real name when ``path`` had to be made printable

    @property
    def signature(self) -> str:
        return f"{self.size}:{self.mtime_ns}"


def walk(paths: Sequence[str | os.PathLike[str]], index: Path | None = None,
         owns: Callable[[os.DirEntry[str] | Path], bool] | None = None
         ) -> Iterator[CorpusFile | SkippedInput]:
    """Files under ``paths`` in a stable order, or a SkippedInput for what cannot be walked.

    Files that ``index`` (the index folder being written) owns, as ``owns`` tells by an
    entry's name and kind, are never input: they are passed over when the walk goes through
    that folder, and skipped when named directly.
    """
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    own = _IndexFiles(index, owns)
    for given in paths:
        root = Path(given)
        try:
            st = root.stat()
        except OSError as exc:
            yield SkippedInput(str(root), _os_reason(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(root, seen_dirs, seen_files, own)
        elif stat.S_ISREG(st.st_mode):
            if own.holds(root):
                yield SkippedInput(str(root), "a file of the index being written")
                continue
            f = _entry(root, st, None)
            if (f.os_path or f.path) not in seen_files:
                seen_files.add(f.os_path or f.path)
                yield f
        else:
            yield SkippedInput(str(root), "not a regular file or folder")


class _IndexFiles:
    """Recognises the files of the index folder being written (by its device and inode)."""

    def __init__(self, index: Path | None,
                 owns: Callable[[os.DirEntry[str] | Path], bool] | None) -> None:
        self.owns = owns or (lambda entry: False)
        self.key: tuple[int, int] | None = None
        if index is not None:
            with contextlib.suppress(OSError):
                st = index.stat()
                self.key = (st.st_dev, st.st_ino)

    def is_index(self, st: os.stat_result) -> bool:
        return self.key is not None and (st.st_dev, st.st_ino) == self.key

    def holds(self, path: Path) -> bool:
        try:
            return self.is_index(path.parent.stat()) and self.owns(path)
        except OSError:
            return False


def _walk_dir(root: Path, seen_dirs: set[tuple[int, int]], seen_files: set[str],
              own: _IndexFiles) -> Iterator[CorpusFile | SkippedInput]:
    root_abs = Path(os.path.abspath(root))
    stack = [root_abs]
    while stack:
        folder = stack.pop()
        try:
            st = folder.stat()
        except OSError as exc:
            yield SkippedInput(str(folder), _os_reason(exc))
            continue
        key = (st.st_dev, st.st_ino)
        if key in seen_dirs:
            if folder != root_abs:
                yield SkippedInput(str(folder), "folder already walked (symbolic link loop?)")
            continue
        seen_dirs.add(key)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            yield SkippedInput(str(folder), _os_reason(exc))
            continue
        in_index = own.is_index(st)
        subdirs: list[Path] = []
        for e in entries:
            if e.name.startswith(".") or (in_index and own.owns(e)):
                continue
            path = Path(e.path)
            try:
                est = e.stat()  # follows symbolic links
            except OSError as exc:
                broken = e.is_symlink() and isinstance(exc, FileNotFoundError)
                reason = "broken symbolic link" if broken else _os_reason(exc)
                yield SkippedInput(str(path), reason)
                continue
            if stat.S_ISDIR(est.st_mode):
                subdirs.append(path)
            elif stat.S_ISREG(est.st_mode):
                hint = folder.name if folder != root_abs else None
                f = _entry(path, est, hint)
                if (f.os_path or f.path) not in seen_files:
                    seen_files.add(f.os_path or f.path)
                    yield f
            else:
                yield SkippedInput(str(path), "not a regular file")
        stack.extend(reversed(subdirs))


def _entry(path: Path, st: os.stat_result, folder: str | None) -> CorpusFile:
    real = os.path.abspath(path)
    shown = printable_path(real)
    return CorpusFile(shown, st.st_size, st.st_mtime_ns,
                      printable_path(folder) if folder else folder,
                      real if shown != real else None)


def printable_path(path: str) -> str:
    """``path`` as valid Unicode text. A path that is valid UTF-8 and holds no backslash is
    returned unchanged; in any other, the bytes of a non-UTF-8 name (which Python carries as
    lone surrogates) become ``\\xNN`` and every backslash is doubled, so that two files never
    share a recorded path (the raw name ``bad-\\xff``, with the byte 0xff, becomes
    ``bad-\\xff``; the literal name ``bad-\\xff`` becomes ``bad-\\\\xff``).
    """
    if "\\" not in path:
        try:
            path.encode("utf-8")
            return path
        except UnicodeEncodeError:
            pass
    raw = path.encode("utf-8", "surrogateescape") if _escaped_only(path) else \
        path.encode("utf-8", "surrogatepass")
    return raw.replace(b"\\", b"\\\\").decode("utf-8", "backslashreplace")


def _escaped_only(path: str) -> bool:
    return all(not 0xD800 <= ord(c) <= 0xDFFF or 0xDC80 <= ord(c) <= 0xDCFF for c in path)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileNotFoundError):
        return "no such file or folder"
    if exc.errno == 40:  # ELOOP
        return "symbolic link loop"
    return exc.strerror or exc.__class__.__name__


# Opening never waits (a FIFO without a writer, a device); the type is checked on the
# descriptor, since the walk's view of the file may be out of date.
_OPEN_FLAGS = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)


def load(f: CorpusFile) -> SourceFile:
    """Read (and decompress) a regular file within :data:`MAX_FILE_BYTES`."""
    name = os.path.basename(f.path)
    try:
        fd = os.open(f.os_path or f.path, _OPEN_FLAGS)
        with os.fdopen(fd, "rb") as fh:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                raise SkippedInput(f.path, "not a regular file")
            # Nothing is read from an empty file: the kernel's pseudo-files (/proc/kmsg) say
            # they are empty and may block or consume what they hand out.
            if st.st_size == 0:
                raise SkippedInput(f.path, "empty file")
            head = fh.read(2)
            fh.seek(0)
            if head != b"\x1f\x8b" and st.st_size > MAX_FILE_BYTES:
                raise SkippedInput(f.path, f"file larger than {MAX_FILE_BYTES // 2**20} MB")
            if head == b"\x1f\x8b":
                data = _gunzip(fh, f.path)
                if name.lower().endswith(".gz"):
                    name = name[:-3]
                elif name.lower().endswith(".tgz"):
                    raise SkippedInput(f.path, "tar archives are not supported")
            else:
                data = fh.read(MAX_FILE_BYTES + 1)
                if len(data) > MAX_FILE_BYTES:
                    raise SkippedInput(f.path, f"file larger than {MAX_FILE_BYTES // 2**20} MB")
    except OSError as exc:
        raise SkippedInput(f.path, _os_reason(exc)) from None
    return SourceFile(path=f.path, name=name, data=data, folder=f.folder)


def _gunzip(fh, path: str) -> bytes:
    # Stream with a bound: gzip.decompress would inflate a bomb completely first.
    try:
        with gzip.GzipFile(fileobj=fh) as gz:
            data = gz.read(MAX_FILE_BYTES + 1)
    except EOFError:
        raise SkippedInput(path, "truncated gzip file") from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise SkippedInput(path, f"corrupt gzip file ({exc})") from None
    if len(data) > MAX_FILE_BYTES:
        raise SkippedInput(path, f"gzip expands beyond {MAX_FILE_BYTES // 2**20} MB")
    return data
