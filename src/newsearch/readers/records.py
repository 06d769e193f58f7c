"""Structured records: CSV with a header row, JSON (one record, a list, or a wrapper object
holding a list) and JSON Lines.

Column and key names are matched case-insensitively against the names feeds commonly use
(:data:`FIELD_NAMES`). A malformed row or line is a record-level skip; the rest of the file
is still read. JSON may spell lone UTF-16 surrogates (``"\\ud800"``), which are not text
anywhere else in the pipeline: they become U+FFFD.
"""

from __future__ import annotations

import ast
import csv
import io
import json
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from ..article import Article, RecordSkip
from . import MAX_LABELS, MAX_RAW_BODY_CHARS, SourceFile, create_article
from .dates import parse_date, tz_for_url

__all__ = ["FIELD_NAMES", "reader_for"]

FIELD_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "guid", "uuid", "_id", "newid", "article_id", "doc_id", "docid", "key"),
    "title": ("title", "headline", "heading", "name"),
    "subtitle": ("subtitle", "subheadline", "sub_title", "dek", "standfirst", "lead", "summary",
                 "description"),
    "body": ("body", "text", "content", "articlebody", "article_body", "article", "full_text",
             "fulltext", "story", "maintext"),
    "date": ("date", "datetime", "published", "published_at", "publishedat", "pubdate",
             "publish_date", "date_published", "datepublished", "timestamp", "created_at",
             "time", "created"),
    "section": ("section", "sections", "category", "categories", "topic", "topics", "rubric",
                "department", "desk"),
    "tags": ("tags", "keywords", "subjects", "labels"),
    "url": ("url", "link", "href", "permalink", "canonical_url", "source_url"),
    "author": ("author", "authors", "byline", "creator", "writer"),
    "lang": ("lang", "language", "locale"),
}
_WRAPPERS = ("articles", "items", "data", "records", "results", "docs", "documents", "entries",
             "news", "posts", "rows")
MAX_JSON_DEPTH = 64
_MAX_LITERAL = 20_000


def _pick(rec: dict[str, Any], names: Iterable[str]) -> Any:
    for n in names:
        if n in rec and rec[n] not in (None, "", [], {}):
            return rec[n]
    return None


def _as_text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, dict):
        low = {k.lower(): x for k, x in v.items()}
        return _as_text(_pick(low, ("name", "text", "value", "title")))
    if isinstance(v, list):
        parts = [t for t in (_as_text(x) for x in v) if t]
        return ", ".join(parts) if parts else None
    return None


def _as_list(v: Any) -> list[str]:
    """A list of labels from a list, a Python/JSON list literal, or a delimited string."""
    if v is None:
        return []
    if isinstance(v, list):
        out: list[str] = []
        for x in v:
            t = _as_text(x)
            if t:
                out.append(t)
        return out
    if isinstance(v, dict):
        t = _as_text(v)
        return [t] if t else []
    text = str(v).strip()
    if len(text) > 100 * MAX_LABELS:
        return [text]  # not a label list; kept whole so that create_article refuses it
    if text.startswith("[") and text.endswith("]") and len(text) < _MAX_LITERAL:
        try:
            parsed = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            parsed = None
        if isinstance(parsed, (list, tuple)):
            return [str(x) for x in parsed if isinstance(x, (str, int)) and str(x).strip()]
    sep = "|" if "|" in text else ";" if ";" in text else ","
    return [p.strip() for p in text.split(sep) if p.strip()]


# A one-line body whose paragraphs are set apart by two spaces after a sentence, as RIA's
# CSV export writes them (cleaning would otherwise merge them into one block).
_SPACED_PARAGRAPH = re.compile(r"(?<=[.!?…»\"”:])[ \t\u00a0]{2,}(?=\S)")


def _paragraphs(body: str) -> str:
    if not body or "\n" in body or len(body) > MAX_RAW_BODY_CHARS:  # refused later anyway
        return body
    return _SPACED_PARAGRAPH.sub("\n\n", body)


def _article(src: SourceFile, key: str, raw: dict[str, Any]) -> Article | RecordSkip:
    rec = {str(k).strip().lower(): v for k, v in raw.items()}
    url = _as_text(_pick(rec, FIELD_NAMES["url"]))
    title = _as_text(_pick(rec, FIELD_NAMES["title"]))
    body = _paragraphs(_as_text(_pick(rec, FIELD_NAMES["body"])) or "")
    if not (title or body):
        return RecordSkip(key, "record has neither a title nor a body field")
    raw_date = _pick(rec, FIELD_NAMES["date"])
    date = parse_date(raw_date, tz=tz_for_url(url))
    author = _pick(rec, FIELD_NAMES["author"])
    return create_article(
        source=src.path,
        key=key,
        title=title,
        body=body,
        subtitle=_as_text(_pick(rec, FIELD_NAMES["subtitle"])),
        date=date,
        sections=_as_list(_pick(rec, FIELD_NAMES["section"])),
        tags=_as_list(_pick(rec, FIELD_NAMES["tags"])),
        url=url,
        author=", ".join(_as_list(author)) if isinstance(author, list) else _as_text(author),
        lang=_as_text(_pick(rec, FIELD_NAMES["lang"])),
    )


class _Keys:
    """Record keys unique within a file: a repeated id gets ``#2``, ``#3`` ..."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}

    def __call__(self, rec: dict[str, Any], fallback: str) -> str:
        rid = _pick({str(k).strip().lower(): v for k, v in rec.items()}, FIELD_NAMES["id"])
        key = str(rid).strip() if isinstance(rid, (str, int)) and str(rid).strip() else fallback
        n = self.seen.get(key, 0) + 1
        self.seen[key] = n
        return key if n == 1 else f"{key}#{n}"


# --- CSV -------------------------------------------------------------------------------------

_MAX_ROW_LINES = 200
_MAX_ROW_CHARS = 4_000_000


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | str]]:
    """Rows with their first line number; an unbalanced quote is an error for that line only.

    A quoted field may span lines, so lines are joined until the quotes balance (RFC 4180
    doubles quotes inside fields, so a balanced row has an even count). A row that does not
    balance within a bound is reported and reading restarts at the next line.
    """
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        start = i
        chunk = lines[i]
        quotes = chunk.count('"')
        while (quotes % 2 and i + 1 < len(lines) and i - start < _MAX_ROW_LINES
               and len(chunk) < _MAX_ROW_CHARS):
            i += 1
            chunk += "\n" + lines[i]
            quotes += lines[i].count('"')
        if quotes % 2:
            yield start + 1, "unbalanced quotes"
            i = start + 1
            continue
        i += 1
        if not chunk.strip():
            continue
        try:
            rows = list(csv.reader(io.StringIO(chunk), delimiter=delimiter, strict=True))
        except csv.Error as exc:
            yield start + 1, f"malformed CSV row ({exc})"
            continue
        for row in rows:
            yield start + 1, row


def _read_csv(src: SourceFile) -> Iterator[Article | RecordSkip]:
    text = src.text()
    first = text.split("\n", 1)[0]
    delimiter = "\t" if src.name.lower().endswith(".tsv") else max(
        [",", ";", "\t", "|"], key=first.count
    )
    rows = _csv_rows(text, delimiter)
    header: list[str] | None = None
    for line, row in rows:
        if isinstance(row, str):
            if header is None:
                raise src.skip(f"CSV header: {row}")
            yield RecordSkip(f"line {line}", row)
            continue
        if header is None:
            header = [h.strip().lstrip("\ufeff") for h in row]
            names = {h.lower() for h in header}
            if not names & (set(FIELD_NAMES["title"]) | set(FIELD_NAMES["body"])):
                raise src.skip("CSV header names no title or body column")
            keys = _Keys()
            continue
        if len(row) != len(header):
            reason = f"{len(row)} fields where the header has {len(header)}"
            yield RecordSkip(f"line {line}", reason)
            continue
        rec = dict(zip(header, row, strict=True))
        yield _article(src, keys(rec, f"line {line}"), rec)
    if header is None:
        raise src.skip("CSV file has no header row")


# --- JSON ------------------------------------------------------------------------------------


def _depth_ok(text: str) -> bool:
    """Reject pathological nesting before json.loads can hit the recursion limit."""
    depth = 0
    deepest = 0
    for ch in re.finditer(r'[\[\]{}]|"(?:\\.|[^"\\])*"', text):
        c = ch.group(0)
        if c in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_JSON_DEPTH:
                return False
        elif c in "]}":
            depth -= 1
    return True


def _records_in(doc: Any) -> list[Any] | None:
    if isinstance(doc, list):
        return doc
    if isinstance(doc, dict):
        low = {str(k).lower(): v for k, v in doc.items()}
        for w in _WRAPPERS:
            if isinstance(low.get(w), list):
                return low[w]
        return [doc]
    return None


class _Bad(str):
    """A parse error standing where a record should be (keeps its reason)."""


_SURROGATE = re.compile("[\ud800-\udfff]")
# A JSON escape of a surrogate; only texts holding one need _scrub (pairs decode to one
# character, so what remains after json.loads is a lone surrogate).
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89abcdefABCDEF]")


def _scrub(v: Any) -> Any:
    """Lone surrogates in decoded JSON replaced by U+FFFD (depth is bounded by _depth_ok)."""
    if isinstance(v, str):
        return _SURROGATE.sub("\ufffd", v)
    if isinstance(v, dict):
        return {_scrub(k): _scrub(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_scrub(x) for x in v]
    return v


def _emit(src: SourceFile, items: Iterable[tuple[str, Any]],
          scrub: bool = False) -> Iterator[Article | RecordSkip]:
    keys = _Keys()
    for fallback, rec in items:
        if scrub and not isinstance(rec, _Bad):
            rec = _scrub(rec)
        if isinstance(rec, _Bad):
            yield RecordSkip(fallback, str(rec))
        elif not isinstance(rec, dict):
            yield RecordSkip(fallback, f"record is a JSON {type(rec).__name__}, not an object")
        else:
            yield _article(src, keys(rec, fallback), rec)


def _read_json(src: SourceFile) -> Iterator[Article | RecordSkip]:
    text = src.text()
    if not _depth_ok(text):
        raise src.skip(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # A file named .json may really be JSON Lines.
        if "\n" in text.strip() and text.lstrip().startswith("{"):
            yield from _read_jsonl(src, text)
            return
        raise src.skip(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}") from None
    except RecursionError:
        raise src.skip("JSON nested too deeply") from None
    records = _records_in(doc)
    if records is None:
        raise src.skip("JSON holds no article records")
    yield from _emit(src, ((f"record {i}", r) for i, r in enumerate(records, 1)),
                     scrub=bool(_SURROGATE_ESCAPE.search(text)))


def _read_jsonl(src: SourceFile, text: str | None = None) -> Iterator[Article | RecordSkip]:
    text = src.text() if text is None else text

    def parsed() -> Iterator[tuple[str, Any]]:
        for n, line in enumerate(text.split("\n"), 1):
            line = line.strip()
            if not line:
                continue
            if not _depth_ok(line):
                yield f"line {n}", _Bad(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
                continue
            try:
                yield f"line {n}", json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {n}", _Bad(f"invalid JSON ({exc.msg})")
            except RecursionError:
                yield f"line {n}", _Bad("JSON nested too deeply")

    yield from _emit(src, parsed(), scrub=bool(_SURROGATE_ESCAPE.search(text)))


def reader_for(fmt: str) -> Callable[[SourceFile], Iterator[Article | RecordSkip]]:
    return {"csv": _read_csv, "json": _read_json, "jsonl": _read_jsonl}[fmt]
