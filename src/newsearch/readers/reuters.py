"""Reuters-21578 SGML: many ``<REUTERS ...>`` records per ``.sgm`` file.

The files are SGML, not XML (no root element, control-character references), so records are
cut out at their ``</REUTERS>`` closing tags and their elements found by their tags. Every
step is linear in the file's size, whatever its tags: an element whose closing tag is
missing is looked for once, not again from each later opening tag. Each record becomes one
article:
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
_MAX_HEAD = 1_000  # a record's opening tag holds a few attributes
# Control-character references (&#1; &#2; &#3; ...) are transmission artefacts, not text.
_CONTROL_REF = re.compile(r"&#(?:[0-8]|1[1-9]|2\d|3[01]|127);")
_TAGS = re.compile(r"<[^>]{1,200}>")


_TAG_NAMES = ("TEXT", "TITLE", "BODY", "DATELINE", "AUTHOR", "DATE", "TOPICS", "PLACES",
              "PEOPLE", "ORGS", "EXCHANGES", "D")
_OPEN = {tag: re.compile(rf"<{tag}\b([^>]{{0,200}})>", re.I) for tag in _TAG_NAMES}
_CLOSE = {tag: re.compile(rf"</{tag}>", re.I) for tag in _TAG_NAMES}


def _find(body: str, tag: str, pos: int = 0) -> tuple[str, int, int, int] | None:
    """The first ``<TAG attrs>content</TAG>`` from ``pos``: (attrs, content start, content
    end, end). If the first opening tag has no closing tag after it, no later one has."""
    m = _OPEN[tag].search(body, pos)
    if m is None:
        return None
    close = _CLOSE[tag].search(body, m.end())
    if close is None:
        return None
    return m.group(1), m.end(), close.start(), close.end()


def _element(body: str, tag: str) -> str | None:
    found = _find(body, tag)
    return body[found[1] : found[2]] if found else None


def _text(raw: str | None) -> str:
    if not raw:
        return ""
    return html.unescape(raw) if "&" in raw else raw


def _labels(body: str, tag: str) -> list[str]:
    raw = _element(body, tag)
    out: list[str] = []
    pos = 0
    while raw and (found := _find(raw, "D", pos)) is not None:
        out.append(_text(raw[found[1] : found[2]]).strip())
        pos = found[3]
    return out


_INDENT = re.compile(r"\n {2,}")
_WORD_CHAR = re.compile(r"\w")


def _clean_body(text: str) -> str:
    # Bodies end with "Reuter" (the sign-off) and used 4-space paragraph indents.
    end = text.rstrip()
    for sign in ("Reuters", "Reuter"):
        before = end[: -len(sign)]
        if end.endswith(sign) and not (before and _WORD_CHAR.match(before[-1])):
            text = before.rstrip()
            break
    return _INDENT.sub("\n\n", text)


_CLOSING = "</REUTERS>"


def _records(text: str) -> Iterator[tuple[str, str, bool]]:
    """(attributes, content, closed) for each record, in file order.

    A record runs from its ``<REUTERS`` to its ``</REUTERS>``; one whose closing tag is
    missing runs into the next record's start, or the end of the file, and is reported as
    not closed. Records are found one after the other with ``str.find`` (C speed), never
    all at once: a file of millions of empty records holds one at a time.
    """
    m = _START.search(text)
    close = text.find(_CLOSING)
    while m is not None:
        start = m.start()
        if -1 < close < start:
            close = text.find(_CLOSING, start)
        m = _START.search(text, start + 1)
        following = m.start() if m is not None else len(text)
        closed = close != -1 and close < following
        end = close if closed else following
        head_end = text.find(">", start, min(end, start + _MAX_HEAD))
        if head_end == -1:
            head_end = min(end, start + _MAX_HEAD)
        yield text[start + 8 : head_end], text[head_end + 1 : end], closed


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
        text_m = _find(rec, "TEXT")
        if text_m is None:
            yield RecordSkip(key, "record has no <TEXT> element")
            continue
        text_el = rec[text_m[1] : text_m[2]]
        title = _text(_element(text_el, "TITLE"))
        body_raw = _element(text_el, "BODY")
        if body_raw is None and "UNPROC" in text_m[0].upper():
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
