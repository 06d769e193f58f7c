"""The Whoosh side of analysis: :class:`NewsAnalyzer` hands :mod:`newsearch.analysis`'s chain
to Whoosh's fields.

The analyzer object is pickled into every index's schema, so this class's import path is part
of the on-disk format: keep it here (indexes written before the ``backends/`` layout name it
``newsearch.analysis.NewsAnalyzer``, which that module still answers).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from whoosh.analysis import Composable, Token

from ...analysis import ANALYZER_NAME, tokens

__all__ = ["NewsAnalyzer"]


class NewsAnalyzer(Composable):
    """Whoosh adaptor for the analysis chain (pickled into the schema: keep this path).

    In ``index`` mode a capitalised Cyrillic token yields two tokens at one position; in
    query mode only the first term is given (newsearch builds its queries itself from
    :func:`query_terms`).
    """

    def __init__(self, name: str = ANALYZER_NAME) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NewsAnalyzer) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        index_mode = mode != "query"
        for terms, pos, start, end in tokens(value):
            for term in terms if index_mode else terms[:1]:
                t.text = term
                t.boost = 1.0
                t.stopped = False
                if keeporiginal:
                    t.original = value[start:end]
                if positions:
                    t.pos = start_pos + pos
                if chars:
                    t.startchar = start_char + start
                    t.endchar = start_char + end
                yield t
