"""Plain-text web article pages, as saved from a news site (the seed article is one).

Layout: a breadcrumb line ("Home World <headline>"), the headline, the body, then site chrome
("Read More About: World News", "Exit mobile version", share buttons ...). The chrome is
removed from the body; the section comes from the breadcrumb or the "Read More About" line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..article import Article, RecordSkip
from . import SourceFile, create_article
from .textpage import date_line, opening_lines, unwrap

__all__ = ["CHROME_LINES", "read", "sniff"]

_BREADCRUMB = re.compile(r"^\s*(Home|Startseite|Accueil|Inicio|Главная)\b", re.I)
_READ_MORE = re.compile(
    r"^\s*(?:Read More About|More About|Filed Under|Categories|Category)\s*:\s*(.+)$", re.I
)
_CRUMB_SEP = re.compile(r"\s*(?:»|›|>|/|\||•|·)\s*")

# Whole lines that are site furniture, not article text.
CHROME_LINES = re.compile(
    r"^\s*(?:Exit mobile version|Skip to (?:main )?content|Share this(?: article)?:?|"
    r"Click to share on .*|Like this:?|Loading\.\.\.|Related(?: (?:posts|articles|stories))?:?|"
    r"Advertisement|ADVERTISEMENT|Subscribe(?: now)?|Share on (?:Facebook|Twitter|X)|Tweet|"
    r"Print(?: this)?|Email|Comments?|Leave a (?:comment|reply)|Tags?:.*|"
    r"(?:Read More About|More About|Filed Under|Categories|Category)\s*:.*)\s*$",
    re.I,
)


def sniff(head: bytes) -> bool:
    """A breadcrumb that ends with the headline on the next line, or the site's chrome.

    ("Home loan approvals rise" opening a BBC story is a headline, not a breadcrumb.)
    """
    text = head.decode("utf-8", errors="ignore")
    if "Exit mobile version" in text or re.search(r"^\s*Read More About:", text, re.M):
        return True
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    return len(lines) > 1 and bool(_BREADCRUMB.match(lines[0])) and lines[0].endswith(lines[1])


def _is_crumb(line: str, next_line: str) -> bool:
    """A "Home ..." line is a breadcrumb when it ends with the headline or has separators."""
    if not _BREADCRUMB.match(line):
        return False
    line = line.strip()
    return line.endswith(next_line.strip()) or bool(
        _CRUMB_SEP.search(_BREADCRUMB.sub("", line, count=1).strip())
    )


def _section_from_crumb(crumb: str, title: str) -> str | None:
    rest = _BREADCRUMB.sub("", crumb, count=1).strip()
    has_title = bool(title) and rest.endswith(title)
    if has_title:
        rest = rest[: -len(title)].strip()
    parts = [p.strip() for p in _CRUMB_SEP.split(rest) if p.strip()]
    if not parts:
        return None
    # "World Kazakhstan ..." without separators: with the title removed only the section is
    # left; otherwise take its first word.
    if len(parts) > 1 or has_title or _CRUMB_SEP.search(rest):
        return parts[0]
    return parts[0].split()[0]


def read(src: SourceFile) -> Iterator[Article | RecordSkip]:
    lines = opening_lines(src)
    following = next((line for line in lines[1:] if line.strip()), "")
    crumb = lines[0] if _is_crumb(lines[0], following) else None
    rest = lines[1:] if crumb else lines
    idx = next((i for i, line in enumerate(rest) if line.strip()), None)
    if idx is None:
        raise src.skip("no headline after the breadcrumb")
    title = rest[idx].strip()
    body_lines = rest[idx + 1 :]
    sections: list[str] = []
    if crumb:
        sec = _section_from_crumb(crumb, title)
        if sec:
            sections.append(sec)
    date = None
    kept: list[str] = []
    for i, line in enumerate(body_lines):
        m = _READ_MORE.match(line)
        if m:
            sections.extend(s.strip() for s in re.split(r",|;", m.group(1)) if s.strip())
            continue
        if CHROME_LINES.match(line):
            continue
        if date is None and i < 6 and not any(k.strip() for k in kept):
            date = date_line(line)
            if date is not None:
                continue
        kept.append(line)
    yield create_article(
        source=src.path, key="page", title=title, body=unwrap(kept), date=date,
        sections=sections,
    )
