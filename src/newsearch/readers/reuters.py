"""Reuters-21578 SGML: many ``<REUTERS ...>`` records per ``.sgm`` file.

The files are SGML, not XML (no root element, control-character references), so records are
cut out at their ``</REUTERS>`` closing tags and their elements read with regexes. Each
record becomes one article:
TITLE, BODY (or the raw TEXT of ``UNPROC`` records), DATE, TOPICS as sections (named as the
collection names them, the code kept: :mod:`.reuters_topics`) and PLACES, PEOPLE, ORGS,
EXCHANGES as tags. The record key is NEWID.

A record without a closing tag (a truncated file) is skipped with a reason; the records before
it are kept.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

from ..article import Article, RecordSkip
from . import SourceFile, create_article
from .dates import parse_reuters_date
from .reuters_topics import topic_section

__all__ = ["read"]

_ATTR = re.compile(r'(\w+)\s*=\s*"([^"]*)"')
_LABEL = re.compile(r"<D>(.*?)</D>", re.S | re.I)
# Control-character references (&#1; &#2; &#3; ...) are transmission artefacts, not text.
_CONTROL_REF = re.compile(r"&#(?:[0-8]|1[1-9]|2\d|3[01]|127);")
_TAGS = re.compile(r"<[^>]{1,200}>")


_ELEMENTS = {
    tag: re.compile(rf"<{tag}\b([^>]*)>(.*?)</{tag}>", re.S | re.I)
    for tag in ("TEXT", "TITLE", "BODY", "DATELINE", "AUTHOR", "DATE", "TOPICS", "PLACES",
                "PEOPLE", "ORGS", "EXCHANGES")
}


def _element(body: str, tag: str) -> str | None:
    m = _ELEMENTS[tag].search(body)
    return m.group(2) if m else None


def _text(raw: str | None) -> str:
    if not raw:
        return ""
    return html.unescape(raw) if "&" in raw else raw


def _labels(body: str, tag: str) -> list[str]:
    raw = _element(body, tag)
    return [_text(x).strip() for x in _LABEL.findall(raw)] if raw else []


_SIGN_OFF = re.compile(r"\s*\bReuters?\s*$")
_INDENT = re.compile(r"\n {2,}")


def _clean_body(text: str) -> str:
    # Bodies end with "Reuter" (the sign-off) and used 4-space paragraph indents.
    return _INDENT.sub("\n\n", _SIGN_OFF.sub("", text))


def _records(text: str) -> Iterator[tuple[str, str, bool]]:
    """(attributes, content, closed) for each record, in file order.

    Splitting at the closing tags (a C-level str.split) is far faster than one regex over
    the whole 1.3 MB file; a record whose closing tag is missing runs into the next record's
    start, or the end of the file, and is reported as not closed.
    """
    parts = text.split("</REUTERS>")
    last = len(parts) - 1
    for n, part in enumerate(parts):
        starts = [m.start() for m in _START.finditer(part)]
        for i, start in enumerate(starts):
            end = starts[i + 1] if i + 1 < len(starts) else len(part)
            head_end = part.find(">", start)
            if head_end == -1 or head_end > end:
                head_end = end
            closed = i == len(starts) - 1 and n < last
            yield part[start + 8 : head_end], part[head_end + 1 : end], closed


_START = re.compile(r"<REUTERS\b")


def read(src: SourceFile) -> Iterator[Article | RecordSkip]:
    text = src.text()
    found = False
    for n, (head, content, closed) in enumerate(_records(text), 1):
        found = True
        attrs = dict(_ATTR.findall(head))
        key = attrs.get("NEWID") or attrs.get("OLDID") or f"record-{n}"
        if not closed:
            yield RecordSkip(key, "record has no closing </REUTERS> tag (truncated file?)")
            continue
        # Control-character references are transmission artefacts: drop them once per record
        # (they never form tags, so the elements below read the same).
        rec = _CONTROL_REF.sub("", content) if "&#" in content else content
        text_m = _ELEMENTS["TEXT"].search(rec)
        if text_m is None:
            yield RecordSkip(key, "record has no <TEXT> element")
            continue
        text_el = text_m.group(2)
        title = _text(_element(text_el, "TITLE"))
        body_raw = _element(text_el, "BODY")
        if body_raw is None and "UNPROC" in text_m.group(1).upper():
            # UNPROC text sits directly inside <TEXT>.
            body_raw = _TAGS.sub(" ", text_el)
        body = _clean_body(_text(body_raw))
        # The dateline ("SALVADOR, Feb 26 -") opens the story on the wire; keep it there.
        dateline = " ".join(_text(_element(text_el, "DATELINE")).split())
        if dateline and body:
            body = f"{dateline} {body}"
        author = _text(_element(text_el, "AUTHOR")).strip()
        if author.lower().startswith("by "):
            author = author[3:]
        tags = []
        for tag in ("PLACES", "PEOPLE", "ORGS", "EXCHANGES"):
            tags.extend(_labels(rec, tag))
        yield create_article(
            source=src.path,
            key=key,
            title=title,
            body=body,
            date=parse_reuters_date(_text(_element(rec, "DATE"))),
            sections=[topic_section(code) for code in _labels(rec, "TOPICS")],
            author=author or None,
            lang="en",
            tags=tags,
        )
    if not found:
        raise src.skip("no <REUTERS> records found")
