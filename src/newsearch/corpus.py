"""The corpus walk: which files a run looks at, their signatures, and their bytes.

    PATH... ──▶ walk() ──▶ CorpusFile (path, size, mtime) ──▶ load() ──▶ SourceFile ──▶ readers

Folders are walked recursively (symbolic links followed, loops detected), hidden files and
folders skipped. ``load`` reads a file with a size bound, decompressing ``.gz`` with the same
bound, so neither a huge file nor a gzip bomb can exhaust memory. Problems become
:class:`~newsearch.errors.SkippedInput` with a reason.

A file name that is not valid UTF-8 (an old Latin-1 archive) is recorded with its stray bytes
written as ``\\xNN`` (:func:`printable_path`), since article sources, ids and index terms must
be text; the file is still opened by its real name.
"""

from __future__ import annotations

import gzip
import os
import stat
import zlib
from collections.abc import Iterator
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


def walk(paths: list[str | os.PathLike[str]]) -> Iterator[CorpusFile | SkippedInput]:
    """Files under ``paths`` in a stable order, or a SkippedInput for what cannot be walked."""
    seen_dirs: set[tuple[int, int]] = set()
    seen_files: set[str] = set()
    for given in paths:
        root = Path(given)
        try:
            st = root.stat()
        except OSError as exc:
            yield SkippedInput(str(root), _os_reason(exc))
            continue
        if stat.S_ISDIR(st.st_mode):
            yield from _walk_dir(root, seen_dirs, seen_files)
        elif stat.S_ISREG(st.st_mode):
            f = _entry(root, st, None)
            if f.path not in seen_files:
                seen_files.add(f.path)
                yield f
        else:
            yield SkippedInput(str(root), "not a regular file or folder")


def _walk_dir(root: Path, seen_dirs: set[tuple[int, int]],
              seen_files: set[str]) -> Iterator[CorpusFile | SkippedInput]:
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
        subdirs: list[Path] = []
        for e in entries:
            if e.name.startswith("."):
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
                if f.path not in seen_files:
                    seen_files.add(f.path)
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
    """``path`` as valid Unicode text: bytes of a non-UTF-8 file name (which Python carries
    as lone surrogates) become ``\\xNN``; other paths are returned unchanged."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        raw = path.encode("utf-8", "surrogateescape") if _escaped_only(path) else \
            path.encode("utf-8", "surrogatepass")
        return raw.decode("utf-8", "backslashreplace")


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


def load(f: CorpusFile) -> SourceFile:
    """Read (and decompress) a file within :data:`MAX_FILE_BYTES`."""
    name = os.path.basename(f.path)
    try:
        with open(f.os_path or f.path, "rb") as fh:
            head = fh.read(2)
            fh.seek(0)
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
