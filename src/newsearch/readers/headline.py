"""Headline-first text files: line 1 is the headline, the rest is the body.

A file with hardly any running text, or one that is mostly lists with a little prose (notes
shipped beside a structured corpus, such as Reuters-21578's category descriptions), is
skipped: judged by its content, not by its name.

The BBC dataset stores them in one folder per section (``bbc/business/001.txt``): the folder
name is the section when the folder lies below the indexed root. A date standing alone on the
line after the headline is taken as the article's date.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..article import Article, RecordSkip
from . import SourceFile, create_article
from .textpage import date_line, opening_lines, running_text, sentence_share, unwrap

__all__ = ["read"]

# Below these, a headline-first file is a term list or a data dump shipped beside a corpus
# (Reuters-21578's category lists), not an article: indexing it would put junk in results.
MIN_RUNNING_TEXT_SHARE = 0.25
# Below this share of words in sentences, a file is mostly lists with some prose around them
# (a corpus's notes on its categories), not an article; news bodies score 0.37 and more.
MIN_SENTENCE_SHARE = 0.2
MIN_WORDS_TO_JUDGE = 20  # a short note is given the benefit of the doubt


def read(src: SourceFile) -> Iterator[Article | RecordSkip]:
    lines = opening_lines(src)
    title = lines.pop(0).strip()
    share, words = running_text(lines)
    if words >= MIN_WORDS_TO_JUDGE:
        if share < MIN_RUNNING_TEXT_SHARE:
            raise src.skip("no running text (a list or data, not an article)")
        sentences = sentence_share(lines)
        if sentences is not None and sentences < MIN_SENTENCE_SHARE:
            raise src.skip(f"mostly lists, {sentences:.0%} of the words in sentences "
                           "(notes or data beside a corpus, not an article)")
    date = None
    for i, line in enumerate(lines[:4]):
        if line.strip():
            date = date_line(line)
            if date is not None:
                del lines[i]
            break
    yield create_article(
        source=src.path, key="article", title=title, body=unwrap(lines), date=date,
        sections=[src.folder] if src.folder else [],
    )
