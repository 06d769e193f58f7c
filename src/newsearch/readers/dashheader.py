"""Plain text with ``-- `` header lines (the Reuters/Ding financial news files).

    -- <headline>
    -- By <author>          ("-- " when there is none)
    -- Mon Oct 23, 2006 6:42pm EDT
    -- http://www.reuters.com/article/...

then the body, hard-wrapped, paragraphs separated by blank lines. Header lines are recognised
by their content (a date, a URL, a byline) rather than only by their order.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..article import Article, RecordSkip
from . import SourceFile, create_article
from .dates import parse_us_header_date
from .textpage import article_text, lines_of, unwrap

__all__ = ["read", "sniff"]

_HEADER = re.compile(r"^--(?: (.*))?$")


def sniff(head: bytes) -> bool:
    lines = head.decode("utf-8", errors="ignore").split("\n")[:4]
    return bool(lines) and lines[0].startswith("-- ") and sum(
        1 for line in lines if _HEADER.match(line.rstrip())
    ) >= 3


def read(src: SourceFile) -> Iterator[Article | RecordSkip]:
    lines = lines_of(article_text(src))
    headers: list[str] = []
    while lines and (header := _HEADER.match(lines[0])):
        headers.append((header.group(1) or "").strip())
        lines.pop(0)
    if not headers:
        raise src.skip("no '-- ' header lines")
    title = headers[0]
    author = url = None
    date = None
    for h in headers[1:]:
        if re.match(r"^https?://", h):
            url = h
        elif re.match(r"^by\s", h, re.I):
            author = re.sub(r"^by\s+", "", h, flags=re.I)
        elif date is None:
            date = parse_us_header_date(h)
    yield create_article(
        source=src.path, key="article", title=title, body=unwrap(lines), date=date,
        url=url, author=author, lang="en",
    )
