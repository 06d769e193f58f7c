"""Spelling: "did you mean" suggestions and the look-alikes of fuzzy words (``almaty~``).

The vocabulary is the index terms of the text fields (transliterated, folded, stemmed), read
per segment and first letter when first needed (:meth:`~newsearch.backends.whoosh.view.SegmentData.
terms_starting`) and gathered per generation. Candidates share the first letter, have more
than :data:`MIN_NEAR_CHARS` letters and differ in length by at most the edit distance, then
pass a bounded Damerau-Levenshtein check (optimal string alignment, computed by RapidFuzz).
A suggested term is shown as an article spells it (terms can be stems): the surface form is
read from one article that contains it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable

from rapidfuzz import process
from rapidfuzz.distance import OSA

__all__ = ["Vocabulary", "edit_distance", "replace_word"]

# A word in the index is corrected only to one at least this many times as frequent.
RARE_WORD_FACTOR = 20
# A query word matching this many articles is never corrected.
KEEP_FROM = 3
CANDIDATES = 20  # look-alikes weighed per word
# One edit costs as much as a tenfold frequency: the nearer of two look-alikes wins unless
# the farther one is far more common or far more often with the other words.
EDIT_COST = math.log(10)
# Look-alikes of a fuzzy word have more letters than this: three-letter words are too many
# and too unlike (oil~ would reach "oi", "nil", "owl").
MIN_NEAR_CHARS = 3


class _Caches:
    """What a generation's vocabulary has read and computed, shared by all threads."""

    def __init__(self) -> None:
        self.lengths: dict[str, dict[int, list[str]]] = {}
        self.df: dict[str, int] = {}
        self.near: dict[tuple[str, int], list[tuple[str, int]]] = {}


class Vocabulary:
    """The index terms of one generation, read per first letter when first needed and kept
    by length. ``starting(letter)`` gives the terms starting with a letter, ``df(term)`` a
    term's document frequency; both read the index with the calling thread's readers, so
    each thread uses its own :meth:`bound` copy over the shared caches. ``starting`` may
    also be a plain collection of terms."""

    def __init__(self, starting: Callable[[str], Iterable[str]] | Iterable[str],
                 df: Callable[[str], int], caches: _Caches | None = None) -> None:
        if not callable(starting):
            terms = list(starting)
            starting = lambda letter: [t for t in terms if t[:1] == letter]  # noqa: E731
        self._starting = starting
        self._df = df
        self._caches = caches or _Caches()

    def bound(self, starting: Callable[[str], Iterable[str]],
              df: Callable[[str], int]) -> Vocabulary:
        """The same vocabulary read through other readers (another thread's)."""
        return Vocabulary(starting, df, self._caches)

    def _by_length(self, letter: str) -> dict[int, list[str]]:
        table = self._caches.lengths.get(letter)
        if table is None:
            table = {}
            for t in self._starting(letter):
                if t.isalpha():
                    table.setdefault(len(t), []).append(t)
            self._caches.lengths[letter] = table
        return table

    def df(self, term: str) -> int:
        n = self._caches.df.get(term)
        if n is None:
            n = self._caches.df[term] = self._df(term)
        return n

    def near(self, term: str, maxdist: int, limit: int) -> list[tuple[str, int]]:
        """(term, edits) for terms within ``maxdist`` edits of ``term``: same first letter,
        more than :data:`MIN_NEAR_CHARS` letters, closest first, then most frequent."""
        key = (term, maxdist)
        found = self._caches.near.get(key)
        if found is None:
            found = self._caches.near[key] = self._near(term, maxdist)
        return found[:limit]

    def _near(self, term: str, maxdist: int) -> list[tuple[str, int]]:
        n = len(term)
        table = self._by_length(term[:1])
        cands = [c for length in range(max(MIN_NEAR_CHARS + 1, n - maxdist), n + maxdist + 1)
                 for c in table.get(length, ()) if c != term]
        # RapidFuzz compares in C++: a Python edit distance over the 1,700 look-alike lengths
        # of "almati" in Reuters took 0.2 s.
        out = [(c, int(d)) for c, d, _i in process.extract(
            term, cands, scorer=OSA.distance, score_cutoff=maxdist, limit=None)]
        out.sort(key=lambda c: (c[1], -self.df(c[0]), c[0]))
        return out

    def correction(self, term: str, matched: int,
                   together: Callable[[str], int] | None = None) -> str | None:
        """A better-attested term for a query word that matches ``matched`` articles (with
        all its spellings), or None.

        A word matching :data:`KEEP_FROM` articles or more is never replaced (*Moscow* in
        Russian news matches through *Москва*). For an absent word, terms one edit away (two
        from five letters); for a merely rare one, one edit and far more frequent (a rare
        real word, *Pixies* or *Алматы*, is not a typo of a common look-alike). Candidates
        are weighed by frequency, by how many articles hold them together with the query's
        other words (``together``: *Blair* beside *Tony*), and by edits."""
        if matched >= KEEP_FROM or not term.isalpha() or len(term) < 3:
            return None
        maxdist = 1 if len(term) <= 4 or matched else 2
        floor = RARE_WORD_FACTOR * matched if matched else 1
        cands = [(c, d) for c, d in self.near(term, maxdist, CANDIDATES)
                 if self.df(c) >= floor]
        if not cands:
            return None

        def weight(cand: tuple[str, int]) -> tuple[bool, float, str]:
            # A look-alike found with the query's other words beats one never found with
            # them; among the first, how often it is found with them counts, among the
            # rest its frequency; an edit costs a tenfold count either way.
            c, d = cand
            seen = together(c) if together is not None else 0
            return (seen > 0, math.log(seen or self.df(c)) - EDIT_COST * d, c)

        return max(cands, key=weight)[0]


def edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment), ``limit + 1`` beyond ``limit``."""
    return int(OSA.distance(a, b, score_cutoff=limit))


def replace_word(text: str, word: str, new: str, fields: Iterable[str] = ()) -> str:
    """``text`` with the first free-standing ``word`` replaced, never the name of a field
    (``foo:`` in ``foo:bar``) nor the value of an unknown one; the value of one of ``fields``
    (``title:coffe``) is a word like any other."""
    for m in re.finditer(rf"(?<!\w){re.escape(word)}(?![\w:])", text):
        before = text[: m.start()]
        if before.endswith(":"):
            name = re.search(r"(\w*):$", before)
            if not name or name.group(1).lower() not in fields:
                continue
        return text[: m.start()] + new + text[m.end():]
    return text
