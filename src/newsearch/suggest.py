"""Spelling: "did you mean" suggestions and the neighbours of fuzzy words (``almaty~``).

The vocabulary is the index terms of the text fields (transliterated, folded, stemmed), kept
per segment by :class:`~newsearch.view.SegmentData` and gathered per generation. Candidates
share the first letter and differ in length by at most the edit distance, then pass a
bounded Damerau-Levenshtein check. A suggested term is shown as an article spells it (terms
can be stems): the surface form is read from one article that contains it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

__all__ = ["Vocabulary", "edit_distance", "replace_word"]

# A word in the index is corrected only to one at least this many times as frequent.
RARE_WORD_FACTOR = 20


class Vocabulary:
    def __init__(self, terms: Iterable[str], df: Callable[[str], int]) -> None:
        self.by_first: dict[str, list[str]] = {}
        for t in terms:
            if t.isalpha():
                self.by_first.setdefault(t[:1], []).append(t)
        self._df = df
        self._df_cache: dict[str, int] = {}
        self._near_cache: dict[tuple[str, int], list[str]] = {}

    def df(self, term: str) -> int:
        n = self._df_cache.get(term)
        if n is None:
            n = self._df_cache[term] = self._df(term)
        return n

    def near(self, term: str, maxdist: int, limit: int) -> list[str]:
        """Terms within ``maxdist`` edits of ``term`` (same first letter), most frequent first."""
        key = (term, maxdist)
        found = self._near_cache.get(key)
        if found is None:
            found = self._near_cache[key] = self._near(term, maxdist)
        return found[:limit]

    def _near(self, term: str, maxdist: int) -> list[str]:
        out = []
        n = len(term)
        for cand in self.by_first.get(term[:1], ()):
            if abs(len(cand) - n) > maxdist or cand == term:
                continue
            if edit_distance(term, cand, maxdist) <= maxdist:
                out.append(cand)
        out.sort(key=lambda t: (-self.df(t), t))
        return out

    def correction(self, term: str) -> str | None:
        """A more frequent term one or two edits away, for a term that is absent; for one
        that is merely rare, only a term one edit away and far more frequent (a rare real
        word, *Pixies* or *Алматы*, is not a typo of a common look-alike)."""
        df = self.df(term)
        if df >= 3 or not term.isalpha() or len(term) < 3:
            return None
        maxdist = 1 if len(term) <= 5 or df else 2
        floor = RARE_WORD_FACTOR * df if df else 1
        cands = [c for c in self.near(term, maxdist, 5) if self.df(c) >= floor]
        if not cands:
            return None
        return min(cands, key=lambda c: (edit_distance(term, c, 2), -self.df(c), c))


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment), giving up beyond ``limit``."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        best = i
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


def replace_word(text: str, word: str, new: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", new, text, count=1)
