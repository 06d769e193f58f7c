"""Evaluating a query plan over the Whoosh index's arrays: a boolean mask of the documents
that match.

    plan (newsearch.plan) ──Evaluator.mask──▶ a mask over the view's documents
        Terms, Fuzzy   posting lists of the terms (view.postings)
        Phrase         candidates holding every word, then their positions: vector
                       operations where the view can, a loop over documents otherwise
        Sections, Days the view's section and date arrays
        And / Or / Not mask arithmetic, skipping the rest of an And once nothing is left

The OpenSearch backend compiles the same plan to query DSL with the same meaning
(:mod:`newsearch.backends.opensearch.dsl`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import numpy as np

from ...plan import PAll, PAnd, PDays, PExact, PFuzzy, PNot, POr, PPhrase, PSections, PTerms
from .view import View

__all__ = ["Evaluator", "evaluate"]


class Evaluator:
    """Turns a plan into a mask over the view (and remembers the scoring leaves)."""

    def __init__(self, view: View, readers: dict[str, Any]) -> None:
        self.view = view
        self.readers = readers

    def mask(self, node: Any) -> np.ndarray:
        v = self.view
        if isinstance(node, PTerms):
            m = np.zeros(v.n, dtype=bool)
            for f in node.fields:
                for t in node.terms:
                    _mark(m, v.postings(self.readers, f, t)[0])
            return m
        if isinstance(node, PFuzzy):
            m = np.zeros(v.n, dtype=bool)
            for f in node.fields:
                for t in (*node.word, *node.forms):
                    _mark(m, v.postings(self.readers, f, t)[0])
            return m
        if isinstance(node, PPhrase):
            m = np.zeros(v.n, dtype=bool)
            for f in node.fields:
                m[self.phrase_docs(f, node.terms, node.slop)] = True
            return m
        if isinstance(node, PExact):
            m = np.zeros(v.n, dtype=bool)
            for value in node.values:
                for term in v.keyword_terms(self.readers, node.field, value):
                    _mark(m, v.postings(self.readers, node.field, term)[0])
            return m
        if isinstance(node, PSections):
            return v.section_mask(node.names) & v.live
        if isinstance(node, PDays):
            return v.day_mask(node.lo, node.hi) & v.live
        if isinstance(node, PAnd):
            pos = [c for c in node.children if not isinstance(c, PNot)]
            neg = [c.child for c in node.children if isinstance(c, PNot)]
            m = self.mask(pos[0]).copy() if pos else v.live.copy()
            for c in pos[1:]:
                if not m.any():
                    return m
                m &= self.mask(c)
            for c in neg:
                if not m.any():
                    return m
                m &= ~self.mask(c)
            return m
        if isinstance(node, POr):
            m = np.zeros(v.n, dtype=bool)
            for c in node.children:
                m |= self.mask(c)
            return m
        if isinstance(node, PNot):
            return v.live & ~self.mask(node.child)
        if isinstance(node, PAll):
            return v.live.copy()
        return np.zeros(v.n, dtype=bool)

    def phrase_docs(self, field: str, terms: tuple[tuple[str, ...], ...],
                    slop: int) -> np.ndarray:
        """Documents where the words (each any of its terms) occur as a phrase (``slop`` 0:
        in order, adjacent) or, for proximity (``slop`` N > 0), in any order with at most N
        other words among them (as SQLite FTS5's NEAR and what "within N words" means to a
        reader)."""
        v = self.view
        words = list(dict.fromkeys(terms))
        # Only documents holding every word can hold the phrase.
        cand = v.docs_with_all(self.readers, field, words)
        if not len(cand):
            return cand
        # Vector operations over the candidates' positions where the view can (exact
        # phrases; two different words near each other), a loop over documents otherwise.
        fast = v.exact_phrase_docs(field, terms, cand) if slop == 0 else \
            v.near_docs(field, (terms[0], terms[1]), len(terms) - 1 + slop, cand) \
            if len(terms) == 2 and terms[0] != terms[1] else None
        if fast is not None:
            return fast
        found: list[int] = []
        for seg, off in v.segments:
            lo, hi = np.searchsorted(cand, [off, off + seg.n])
            if hi <= lo:
                continue
            local = cand[lo:hi] - off
            positions = {alts: self._positions(seg, field, alts, local) for alts in words}
            need = Counter(terms)  # a word asked for twice needs two positions
            for d in local.tolist():
                if slop == 0:
                    hit = _adjacent([positions[t].get(d, ()) for t in terms])
                else:
                    hit = _in_window({t: positions[t].get(d, ()) for t in need}, need,
                                     len(terms) - 1 + slop)
                if hit:
                    found.append(d + off)
        return np.array(found, dtype=np.int64)

    def _positions(self, seg: Any, field: str, alts: tuple[str, ...],
                   local: np.ndarray) -> dict[int, Any]:
        """Positions of any of a word's terms in the ``local`` documents of a segment."""
        per_term = [self.view.positions(self.readers, seg, field, t, local) for t in alts]
        per_term = [p for p in per_term if p]
        if len(per_term) <= 1:
            return per_term[0] if per_term else {}
        merged: dict[int, set[int]] = {}
        for p in per_term:
            for d, plist in p.items():
                merged.setdefault(d, set()).update(plist)
        return {d: sorted(ps) for d, ps in merged.items()}


def _mark(mask: np.ndarray, ids: np.ndarray) -> None:
    """Set ``mask`` at ``ids``, with native-width indices: numpy converts narrower ones
    inside the scatter at twice to four times the cost of converting them first."""
    mask[ids.astype(np.intp, copy=False)] = True


def _in_window(words: dict[Any, Any], need: Counter[Any], span: int) -> bool:
    """Is there a window of ``span + 1`` positions holding ``need[w]`` positions of each
    word ``w`` (its list in ``words``)? A sliding window over the merged positions."""
    events = sorted((p, w) for w, plist in words.items() for p in plist)
    have = dict.fromkeys(need, 0)
    missing = len(need)
    lo = 0
    for p, w in events:
        have[w] += 1
        if have[w] == need[w]:
            missing -= 1
        while missing == 0:
            if p - events[lo][0] <= span:
                return True
            first = events[lo][1]
            if have[first] == need[first]:
                missing += 1
            have[first] -= 1
            lo += 1
    return False


def _adjacent(position_lists: list[Any]) -> bool:
    """Is there p, p+1, p+2, ... with one position from each list (an exact phrase)?"""
    ends = position_lists[0]
    for nxt in position_lists[1:]:
        prev = set(ends)
        ends = [p for p in nxt if p - 1 in prev]
        if not ends:
            return False
    return True


def evaluate(node: Any, ev: Evaluator) -> np.ndarray:
    if node is None:
        return np.zeros(ev.view.n, dtype=bool)
    return ev.mask(node)

