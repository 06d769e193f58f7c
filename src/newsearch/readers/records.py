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
    """Record keys unique within a file: a repeated id gets ``#2``, ``#3`` ...

    Only explicit ids are remembered: the fallback keys (``line 12``, ``record 3``) are
    unique by position, and a file of millions of records without ids would otherwise hold
    a dictionary entry per record. A bitmap of the positions that took a fallback key keeps
    an explicit id such as ``line 12`` from colliding with one.
    """

    _FALLBACK = re.compile(r"^(line|record) ([1-9][0-9]{0,9})$")

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.fallbacks = bytearray()
        self.kind = ""

    def __call__(self, rec: dict[str, Any], fallback: str) -> str:
        rid = _pick({str(k).strip().lower(): v for k, v in rec.items()}, FIELD_NAMES["id"])
        if isinstance(rid, (str, int)) and str(rid).strip():
            key = str(rid).strip()
        else:
            key = fallback
            if key not in self.seen:
                self._mark(fallback)
                return key
        n = self.seen.get(key, 1 if self._marked(key) else 0) + 1
        self.seen[key] = n
        return key if n == 1 else f"{key}#{n}"

    def _mark(self, fallback: str) -> None:
        m = self._FALLBACK.match(fallback)
        if m:
            self.kind = m.group(1)
            i = int(m.group(2))
            if i // 8 >= len(self.fallbacks):
                self.fallbacks.extend(bytes(i // 8 + 1 - len(self.fallbacks)))
            self.fallbacks[i // 8] |= 1 << (i % 8)

    def _marked(self, key: str) -> bool:
        m = self._FALLBACK.match(key)
        if not m or m.group(1) != self.kind:
            return False
        i = int(m.group(2))
        return i // 8 < len(self.fallbacks) and bool(self.fallbacks[i // 8] & (1 << (i % 8)))


# --- CSV -------------------------------------------------------------------------------------

_MAX_ROW_LINES = 200
_MAX_ROW_CHARS = 4_000_000


def _lines(text: str) -> Iterator[tuple[int, int, int]]:
    """``(number, start, end)`` of each line, without splitting the text into a list (a
    file of millions of short lines would take many times its size)."""
    pos, number, n = 0, 1, len(text)
    while pos < n:
        end = text.find("\n", pos)
        if end == -1:
            end = n
        yield number, pos, end
        pos, number = end + 1, number + 1


def _csv_rows(text: str, delimiter: str) -> Iterator[tuple[int, list[str] | str]]:
    """Rows with their first line number; an unbalanced quote is an error for that line only.

    A quoted field may span lines, so lines are joined until the quotes balance (RFC 4180
    doubles quotes inside fields, so a balanced row has an even count). A row that does not
    balance within a bound is reported and reading restarts at the next line.
    """
    n = len(text)
    pos, number = 0, 1
    while pos < n:
        end = text.find("\n", pos)
        end = n if end == -1 else end
        quotes = text.count('"', pos, end)
        stop, extra = end, 0
        while (quotes % 2 and stop < n and extra < _MAX_ROW_LINES
               and stop - pos < _MAX_ROW_CHARS):
            nxt = text.find("\n", stop + 1)
            nxt = n if nxt == -1 else nxt
            quotes += text.count('"', stop + 1, nxt)
            stop, extra = nxt, extra + 1
        if quotes % 2:
            yield number, "unbalanced quotes"
            pos, number = end + 1, number + 1
            continue
        chunk = text[pos:stop]
        start = number
        pos, number = stop + 1, number + extra + 1
        if not chunk.strip():
            continue
        try:
            rows = list(csv.reader(io.StringIO(chunk), delimiter=delimiter, strict=True))
        except csv.Error as exc:
            yield start, f"malformed CSV row ({exc})"
            continue
        for row in rows:
            yield start, row


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


def _too_deep(value: Any) -> bool:
    """Whether decoded JSON nests deeper than :data:`MAX_JSON_DEPTH` (readers recurse into
    records). Nesting deeper than Python's recursion limit never gets this far: ``json.loads``
    raises RecursionError for it."""
    stack = [(value, 1)]
    while stack:
        v, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            return True
        if isinstance(v, dict):
            stack.extend((x, depth + 1) for x in v.values() if isinstance(x, (dict, list)))
        elif isinstance(v, list):
            stack.extend((x, depth + 1) for x in v if isinstance(x, (dict, list)))
    return False


_TOO_DEEP = f"JSON nested deeper than {MAX_JSON_DEPTH} levels"


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
    """Lone surrogates in decoded JSON replaced by U+FFFD (depth is bounded by _too_deep)."""
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
    scrub = bool(_SURROGATE_ESCAPE.search(text))
    start = _skip_space(text, 0)
    if text.startswith("[", start):
        # A list of records is decoded one record at a time: decoded whole, a file of a
        # million small records took several times its size.
        yield from _emit(src, _array_records(src, text, start + 1), scrub=scrub)
        return
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        # A file named .json may really be JSON Lines.
        if "\n" in text.strip() and text.lstrip().startswith("{"):
            yield from _read_jsonl(src, text)
            return
        raise src.skip(_invalid(exc)) from None
    except RecursionError:
        raise src.skip(_TOO_DEEP) from None
    if _too_deep(doc):
        raise src.skip(_TOO_DEEP)
    records = _records_in(doc)
    if records is None:
        raise src.skip("JSON holds no article records")
    yield from _emit(src, ((f"record {i}", r) for i, r in enumerate(records, 1)), scrub=scrub)


_DECODER = json.JSONDecoder()
_SPACE = re.compile(r"[ \t\n\r]*")


def _skip_space(text: str, pos: int) -> int:
    m = _SPACE.match(text, pos)
    return m.end() if m else pos


def _invalid(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"


def _array_records(src: SourceFile, text: str, pos: int) -> Iterator[tuple[str, Any]]:
    """The records of a JSON list whose ``[`` ends before ``pos``, decoded one by one. A
    file that is not valid JSON from its start is skipped whole; one that breaks (or ends)
    after some records keeps them, and the rest is one record-level skip."""
    n = 0
    pos = _skip_space(text, pos)
    closed = text.startswith("]", pos)
    try:
        while not closed:
            try:
                value, pos = _DECODER.raw_decode(text, pos)
            except RecursionError:
                value, pos = _Bad(_TOO_DEEP), -1
            n += 1
            if isinstance(value, _Bad):
                if n == 1:
                    raise src.skip(_TOO_DEEP)
                yield f"record {n}", _Bad(f"{_TOO_DEEP}; the rest of the file was not read")
                return
            yield f"record {n}", _Bad(_TOO_DEEP) if _too_deep(value) else value
            pos = _skip_space(text, pos)
            if text.startswith(",", pos):
                pos = _skip_space(text, pos + 1)
            elif text.startswith("]", pos):
                closed = True
            else:
                raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
        if _skip_space(text, pos + 1) != len(text):
            raise json.JSONDecodeError("Extra data", text, _skip_space(text, pos + 1))
    except json.JSONDecodeError as exc:
        if n == 0:
            raise src.skip(_invalid(exc)) from None
        yield f"record {n + 1}", _Bad(f"{_invalid(exc)}; the rest of the file was not read")


def _read_jsonl(src: SourceFile, text: str | None = None) -> Iterator[Article | RecordSkip]:
    text = src.text() if text is None else text

    def parsed() -> Iterator[tuple[str, Any]]:
        for n, start, end in _lines(text):
            line = text[start:end].strip()
            if not line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                yield f"line {n}", _Bad(f"invalid JSON ({exc.msg})")
                continue
            except RecursionError:
                rec = _Bad(_TOO_DEEP)
            yield f"line {n}", _Bad(_TOO_DEEP) if _too_deep(rec) else rec

    yield from _emit(src, parsed(), scrub=bool(_SURROGATE_ESCAPE.search(text)))


def reader_for(fmt: str) -> Callable[[SourceFile], Iterator[Article | RecordSkip]]:
    return {"csv": _read_csv, "json": _read_json, "jsonl": _read_jsonl}[fmt]
