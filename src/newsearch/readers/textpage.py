"""Helpers shared by the plain-text readers (webpage, dashheader, headline)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ..textnorm import CJK_CHAR
from .dates import MONTHS, ZONES, parse_date

if TYPE_CHECKING:
    from . import SourceFile

__all__ = ["article_text", "date_line", "lines_of", "opening_lines", "running_text",
           "sentence_share", "unwrap"]

_DATE_ONLY = re.compile(
    r"^(published|posted|updated|date)?[:\s]*[\w ,.:/+-]{6,60}$", re.IGNORECASE
)
# The only words a line holding nothing but a date may contain ("t" as in ISO 8601's "T",
# "a", "p", "m" as in "p.m.").
_DATE_WORDS = {
    *MONTHS, *(z.lower() for z in ZONES),
    "mon", "tue", "tues", "wed", "thu", "thur", "thurs", "fri", "sat", "sun", "monday",
    "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
    "published", "posted", "updated", "date", "on", "at", "am", "pm", "a", "p", "m", "t",
    "st", "nd", "rd", "th",
}


_WORD = re.compile(r"\S+")
# A word of running text: letters, maybe an apostrophe or hyphen inside, punctuation around.
_PROSE_WORD = re.compile(
    r"^[\"'(\u2018\u201c]*[^\W\d_][^\W\d_'\u2019.-]*[.,;:!?\"')\u2019\u201d]*$"
)


def running_text(lines: list[str]) -> tuple[float, int]:
    """(share of the words that stand in sentence-like lines, number of words).

    A sentence-like line has 5+ words, mostly plain ones (or, in Chinese or Japanese, 5+
    characters). News bodies score 0.7 to 1.0 (BBC sport results tables are the lowest);
    term lists and data dumps near 0 (Reuters-21578's ``all-*-strings.lc.txt`` 0, its Prolog
    factbook 0.11). Words are streamed, never listed: a hostile file may be one huge line.
    """
    total = prose = 0
    for line in lines:
        words = plain = 0
        for m in _WORD.finditer(line):
            words += 1
            plain += bool(_PROSE_WORD.match(m.group()))
        cjk = sum(1 for _ in CJK_CHAR.finditer(line)) if not line.isascii() else 0
        if cjk > words:
            words = plain = cjk
        total += words
        if words >= 5 and 5 * plain >= 3 * words:
            prose += words
    return (prose / total if total else 1.0), total


# A sentence end: full stop, question or exclamation mark (also CJK ones), maybe a closing
# quote or bracket, then a space or the end of the text.
_SENTENCE_END = re.compile(r"[.!?\u2026\u3002\uff01\uff1f][\"'\u2019\u201d\u00bb)\]]*(?=\s|$)")
# Longer than this between two sentence ends: a list or table, not a sentence.
MAX_SENTENCE_WORDS = 60


def sentence_share(lines: list[str]) -> float | None:
    """Share of the words that stand in sentences (at most :data:`MAX_SENTENCE_WORDS` words
    up to a full stop, question or exclamation mark); None when there is no sentence end at
    all (a script or a style that does not mark them: :func:`running_text` judges alone).

    News bodies score 0.37 to 1.0 (the lowest a BBC sport results page); notes that are
    mostly lists score near 0 (Reuters-21578's ``cat-descriptions_120396.txt``, a page of
    prose and then 800 category names: 0.08). Words are streamed, never listed.
    """
    total = inside = since_end = 0
    ended = False
    for line in lines:
        pos = 0
        for end in _SENTENCE_END.finditer(line):
            since_end += sum(1 for _ in _WORD.finditer(line, pos, end.end()))
            total += since_end
            if since_end <= MAX_SENTENCE_WORDS:
                inside += since_end
            since_end, pos, ended = 0, end.end(), True
        since_end += sum(1 for _ in _WORD.finditer(line, pos))
    total += since_end
    if not ended:
        return None
    return inside / total if total else 1.0


def lines_of(text: str) -> list[str]:
    return [line.rstrip() for line in text.split("\n")]


def article_text(src: SourceFile) -> str:
    """The text of a file that holds one article; a text longer than any article's is a
    skip before it is split into lines (a list of millions of short lines takes many times
    the file's size)."""
    from . import MAX_RAW_BODY_CHARS

    limit = 2 * MAX_RAW_BODY_CHARS
    # Any encoding takes at most 4 bytes per character: such a file is too long undecoded.
    text = src.text() if len(src.data) <= 4 * limit else None
    if text is None or len(text) > limit:
        size = f"{len(text):,} characters" if text is not None else f"{len(src.data):,} bytes"
        raise src.skip(f"longer than one article can be ({size}; at most {limit:,} characters)")
    return text


def opening_lines(src: SourceFile) -> list[str]:
    """The file's lines from the first non-blank one; an empty file is a skip."""
    lines = lines_of(article_text(src))
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise src.skip("empty file")
    return lines


def unwrap(lines: list[str]) -> str:
    """Hard-wrapped text → one line per paragraph (paragraphs are separated by blank lines)."""
    paras: list[str] = []
    cur: list[str] = []
    for line in lines:
        if line.strip():
            cur.append(line.strip())
        elif cur:
            paras.append(" ".join(cur))
            cur = []
    if cur:
        paras.append(" ".join(cur))
    return "\n\n".join(paras)


def date_line(line: str):
    """A line that holds nothing but a date (optionally "Published:") → its datetime."""
    line = line.strip()
    if not line or not _DATE_ONLY.match(line) or not re.search(r"\b(1[89]|2[01])\d\d\b", line):
        return None
    if any(w not in _DATE_WORDS for w in re.findall(r"[^\W\d_]+", line.lower())):
        return None  # a sentence that mentions a date
    return parse_date(re.sub(r"^(published|posted|updated|date)[:\s]*", "", line, flags=re.I))
