"""Readers: one module per input format, each turning a file's bytes into Articles.

corpus walk ──▶ SourceFile ──▶ detect_format ──▶ <format>.read ──▶ Article | RecordSkip

Formats (module: what it reads):
    webpage     plain-text web article pages ("Home World ..." breadcrumb, site chrome)
    dashheader  Reuters/Ding plain text with ``-- `` header lines, no extension
    headline    headline-first text files; the section is the folder name
    reuters     Reuters-21578 SGML, many ``<REUTERS>`` records per file
    records     CSV with a header row, JSON, JSON Lines
    html        HTML pages, main text via trafilatura

A reader raises :class:`~newsearch.errors.SkippedInput` when a whole file is unusable and
yields :class:`~newsearch.article.RecordSkip` for one bad record among good ones. Readers
build articles with :func:`create_article`, which refuses fields too long to be real before
any cleaning is spent on them.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import Any

from ..article import Article, RecordSkip
from ..errors import SkippedInput
from ..textnorm import BinaryContent, decode

__all__ = ["FORMATS", "SourceFile", "create_article", "detect_format", "read_source",
           "source_format"]

# Sizes past which a field is not a plausible part of a news article.
MAX_TITLE_CHARS = 1_000
MAX_BODY_CHARS = 2_000_000
# Raw (uncleaned) sizes past which a field cannot clean down to a plausible one; checked
# before cleaning, which splits one-line fields into words: a 50 MB single-line file read as
# a headline took 800 MB to clean. Cleaning only removes spacing and invisible characters.
MAX_RAW_LINE_CHARS = 10 * MAX_TITLE_CHARS
MAX_RAW_BODY_CHARS = 2 * MAX_BODY_CHARS
MAX_LABELS = 1_000
_LINE_FIELDS = ("title", "subtitle", "author", "url", "lang")


@dataclass(slots=True)
class SourceFile:
    """A file's content ready for a reader.

    ``path`` is what articles record as their source; ``name`` is the file name without a
    compression suffix; ``data`` is the decompressed content; ``folder`` is the name of the
    folder holding the file when that folder lies below the indexed root (a section hint).
    """

    path: str
    name: str
    data: bytes
    folder: str | None = None

    def text(self) -> str:
        """The content decoded (encoding detected); binary content is a file-level skip."""
        try:
            return decode(self.data)[0]
        except BinaryContent as exc:
            raise SkippedInput(self.path, str(exc)) from None

    def skip(self, reason: str) -> SkippedInput:
        return SkippedInput(self.path, reason)


ReadFn = Callable[[SourceFile], Iterator[Article | RecordSkip]]

_EXT_FORMATS = {
    ".sgm": "reuters",
    ".sgml": "reuters",
    ".csv": "csv",
    ".tsv": "csv",
    ".json": "json",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
_TEXT_EXTS = {"", ".txt", ".text"}
# Files that document a corpus rather than belong to it.
_NOT_ARTICLES = re.compile(r"^(readme|license|licence|copying|changelog|authors)(\..*)?$", re.I)

_HTML_HEAD = re.compile(
    rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|meta|body)\b", re.I | re.S
)
_SGML_HEAD = re.compile(rb"^\s*(<!DOCTYPE\s+lewis|<REUTERS\b)", re.I)


def detect_format(name: str, head: bytes) -> str:
    """Format name for a file, from its extension and, when that is ambiguous, its content.

    Raises :class:`ValueError` (message = skip reason) for files that are not articles.
    """
    if _NOT_ARTICLES.match(name):
        raise ValueError("documentation file, not an article")
    ext = PurePath(name).suffix.lower()
    if ext and not re.fullmatch(r"\.[a-z0-9]{1,8}", ext):
        ext = ""  # "us-ford-idUSN2333593620061023" style slugs carry no real extension
    fmt = _EXT_FORMATS.get(ext)
    if fmt:
        return fmt
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if _SGML_HEAD.match(stripped):
        return "reuters"
    if _HTML_HEAD.match(stripped):
        return "html"
    if ext in _TEXT_EXTS or ext not in _KNOWN_BINARY_EXTS:
        if stripped[:1] in (b"{", b"[") and ext not in {".txt", ".text"}:
            return "jsonl" if _jsonl_head(stripped) else "json"
        from . import dashheader, webpage

        if dashheader.sniff(stripped):
            return "dashheader"
        if webpage.sniff(stripped):
            return "webpage"
        return "headline"
    raise ValueError(f"unsupported file type {ext}")


def _jsonl_head(head: bytes) -> bool:
    """More than one line, the first a complete JSON value (never so in pretty-printed JSON).

    A first line longer than ``head`` reads as JSON; the JSON reader falls back to lines.
    """
    first, _, rest = head.partition(b"\n")
    if not rest.strip():
        return False
    try:
        json.loads(first)
    except (ValueError, RecursionError):
        return False
    return True


_KNOWN_BINARY_EXTS = {
    ".pdf", ".doc", ".docx", ".xls", ".xlsx", ".zip", ".tar", ".bz2", ".xz", ".7z",
    ".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".ico", ".mp3", ".mp4", ".avi",
    ".exe", ".dll", ".so", ".pyc", ".py", ".js", ".css", ".dtd", ".xsd", ".db", ".sqlite",
}


def _reader(fmt: str) -> ReadFn:
    # Imported lazily so that `newsearch stats` never pays for trafilatura/lxml.
    read: ReadFn
    if fmt == "reuters":
        from .reuters import read
    elif fmt in ("csv", "json", "jsonl"):
        from .records import reader_for

        read = reader_for(fmt)
    elif fmt == "html":
        from .html import read
    elif fmt == "dashheader":
        from .dashheader import read
    elif fmt == "webpage":
        from .webpage import read
    else:
        from .headline import read
    return read


FORMATS = ("webpage", "dashheader", "headline", "reuters", "csv", "json", "jsonl", "html")


def source_format(src: SourceFile) -> str:
    """The format of a loaded file (one of :data:`FORMATS`); raises SkippedInput for a file
    that is empty or not an article."""
    if not src.data.strip():
        raise src.skip("empty file")
    try:
        return detect_format(src.name, src.data[:4096])
    except ValueError as exc:
        raise src.skip(str(exc)) from None


def read_source(src: SourceFile, fmt: str | None = None) -> Iterator[Article | RecordSkip]:
    """Articles and record-level skips of one file; raises SkippedInput for the whole file.
    ``fmt`` is the file's :func:`source_format` when the caller has it already."""
    fmt = fmt or source_format(src)
    for item in _reader(fmt)(src):
        if isinstance(item, Article):
            problem = _implausible(item)
            if problem:
                yield RecordSkip(item.key, problem)
                continue
        yield item


def create_article(**fields: Any) -> Article | RecordSkip:
    """:meth:`Article.create`, or a RecordSkip when a raw field is far too long to be real."""
    limits = {**dict.fromkeys(_LINE_FIELDS, MAX_RAW_LINE_CHARS), "body": MAX_RAW_BODY_CHARS}
    for name, limit in limits.items():
        value = fields.get(name)
        if isinstance(value, str) and len(value) > limit:
            return RecordSkip(fields["key"], f"{name} longer than {limit:,} characters")
    for name in ("sections", "tags"):
        labels = fields.get(name) or []
        if len(labels) > MAX_LABELS or any(len(v) > MAX_RAW_LINE_CHARS for v in labels):
            return RecordSkip(fields["key"], f"implausible {name} (too many or too long)")
    return Article.create(**fields)


def _implausible(a: Article) -> str | None:
    if not a.title and not a.body:
        return "no title and no body"
    if len(a.title) > MAX_TITLE_CHARS:
        return f"title longer than {MAX_TITLE_CHARS:,} characters"
    if len(a.body) > MAX_BODY_CHARS:
        return f"body longer than {MAX_BODY_CHARS:,} characters"
    return None
