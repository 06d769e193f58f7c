"""Scoring over the Whoosh index's arrays: newsearch's BM25F and the recency factor, by the
formulas and constants of :mod:`newsearch.ranking` (read from there at each search, so that
an experiment setting ``newsearch.ranking.K1`` is followed).

    scoring leaves (plan) ─▶ posting lists per field (view.postings) ─▶ weighted, length-
    normalised frequencies summed over fields ─▶ one saturation per word ─▶ a score per doc

Everything is numpy over the documents of one view: the cost is proportional to the posting
lists of the query's terms, not to the number of Python objects.
"""

from __future__ import annotations

import os
import threading
from typing import Any

import numpy as np

from ... import ranking
from ...analysis import TRUNCATED
from ...plan import FIELD_BOOSTS, Leaf
from ...ranking import idf, qtf_weight
from .view import DAY, DENSE_UNION, NO_DAY, TEXT_FIELDS, View, union_ids

__all__ = ["bm25_at", "bm25_scores", "recency_factors"]


def bm25_scores(view: View, readers: dict[str, Any], leaves: list[Leaf],
                mask: np.ndarray) -> np.ndarray:
    """Scores for all documents (zero outside ``mask``)."""
    scores = np.zeros(view.n, dtype=np.float32)
    _accumulate(view, readers, leaves, mask, scores, np.zeros(view.n, dtype=np.float32), [])
    return scores


# Pairs of zeroed arrays (scores, one word's counts) reused from query to query and put
# back to zero where a query wrote: a fresh pair costs two arrays of 4 MB at a million
# articles, zeroed page by page as the scores land (about half a millisecond a query). At
# most one pair per core is kept: a web server's threads share them.
_pairs: list[tuple[np.ndarray, np.ndarray]] = []
_pairs_lock = threading.Lock()
_KEEP_PAIRS = max(2, os.cpu_count() or 2)
# A query that wrote more than 1/FILL_AFTER of the documents zeroes the whole pair (a pass
# in order), else only where it wrote.
FILL_AFTER = 16


def bm25_at(view: View, readers: dict[str, Any], leaves: list[Leaf], mask: np.ndarray,
            ids: np.ndarray) -> np.ndarray:
    """The scores of ``ids`` (documents inside ``mask``), as :func:`bm25_scores` gives
    them, without arrays over every document."""
    n = view.n
    pair = None
    with _pairs_lock:
        while _pairs and pair is None:
            pair = _pairs.pop()
            if len(pair[0]) < n:  # made for a smaller generation
                pair = None
    if pair is None:
        pair = (np.zeros(n, dtype=np.float32), np.zeros(n, dtype=np.float32))
    scores, acc = pair[0][:n], pair[1][:n]
    written: list[np.ndarray] = []
    try:
        _accumulate(view, readers, leaves, mask, scores, acc, written)
        return scores[ids]
    finally:  # also after an error: the next query starts from zeros
        if sum(len(w) for w in written) * FILL_AFTER > len(pair[0]):
            for a in pair:  # many postings (several common words): one pass is cheaper
                a.fill(0.0)
        else:
            for w in written:
                scores[w] = 0.0
                acc[w] = 0.0
        with _pairs_lock:
            if len(_pairs) < _KEEP_PAIRS:
                _pairs.append(pair)


def _accumulate(view: View, readers: dict[str, Any], leaves: list[Leaf], mask: np.ndarray,
                scores: np.ndarray, acc: np.ndarray, written: list[np.ndarray]) -> None:
    """Add the leaves' BM25F scores of the documents in ``mask`` to ``scores`` (``acc``:
    zeros, left zero); the documents written to are appended to ``written``."""
    n_docs = max(1, view.live_count)
    group_df = view.spelling_df  # per generation: a word's spellings are counted once
    blended: dict[tuple[str, ...], int] = {}
    for fields, term, boost, qtf, df_of in leaves:
        parts: list[tuple[np.ndarray, np.ndarray]] = []  # per field: documents, weighted counts
        df = 0
        for field in fields:
            if isinstance(term, str):
                ids, tf = view.postings(readers, field, term)
                df = max(df, len(ids))
            else:
                ids, tf = view.memo(("spellings", field, term),
                                    lambda f=field, t=term: _merged_postings(view, readers, f, t))
            if not len(ids):
                continue
            # Native-width indices: numpy converts narrower ones on every gather and scatter,
            # which then cost twice to four times as much.
            ids = ids.astype(np.intp, copy=False)
            keep = mask[ids]
            if not keep.any():
                continue
            ids = ids[keep]
            parts.append((ids, FIELD_BOOSTS.get(field, 1.0) * tf[keep]
                          / _length_norms(view, field)[ids]))
        if not parts:
            continue
        if not isinstance(term, str):
            # One word's spellings share one document frequency over all its fields: a form
            # found only in headlines must not count as rare there.
            df = group_df.get(term, -1)
            if df < 0:
                df = group_df[term] = len(union_ids(
                    [view.postings(readers, f, t)[0] for f in TEXT_FIELDS for t in term], view.n))
        elif df_of:
            if df_of not in blended:
                blended[df_of] = max(len(view.postings(readers, f, t)[0])
                                     for f in fields for t in df_of)
            df = blended[df_of]
        ids, tf = _field_sum(parts, acc, written)
        w = boost * qtf_weight(qtf) * idf(n_docs, df)
        # ``ids`` are distinct: the scatter adds once per document.
        scores[ids] += w * tf * (ranking.K1 + 1.0) / (tf + ranking.K1)
        written.append(ids)


def _field_sum(parts: list[tuple[np.ndarray, np.ndarray]], acc: np.ndarray,
               written: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """One word's weighted counts summed over its fields, as distinct documents and sums
    (the same float32 sums in the same order as adding the fields one by one).

    One field: as it is. Two (a headline and a body, most often): the smaller list looked up
    in the larger by binary search, no pass over an array of every document. More: summed in
    ``acc`` (zeros over every document, left zero; what it writes is listed in
    ``written``)."""
    if len(parts) == 1:
        return parts[0]
    if len(parts) == 2:
        (a_ids, a_tf), (b_ids, b_tf) = parts
        if len(a_ids) > len(b_ids):
            (a_ids, a_tf), (b_ids, b_tf) = (b_ids, b_tf), (a_ids, a_tf)
        at = np.searchsorted(b_ids, a_ids)
        both = at < len(b_ids)
        both[both] = b_ids[at[both]] == a_ids[both]
        tf = b_tf.copy()
        tf[at[both]] += a_tf[both]  # x + y == y + x in float32: the order does not matter
        only = ~both
        return np.concatenate([b_ids, a_ids[only]]), np.concatenate([tf, a_tf[only]])
    for ids, tf in parts:
        written.append(ids)
        acc[ids] += tf
    ids = union_ids([p[0] for p in parts], len(acc))  # not numpy.unique: see union_ids
    tf = acc[ids]
    acc[ids] = 0.0
    return ids, tf


def _length_norms(view: View, field: str) -> np.ndarray:
    """Each document's BM25 length normalisation in ``field``, ``(1 - B) + B * length /
    average length``, computed once per generation (and per B, which experiments change)
    instead of for every query term's postings."""
    key = (field, ranking.B)
    norms = view.length_norms.get(key)
    if norms is None:
        norms = view.length_norms[key] = \
            (1.0 - ranking.B) + ranking.B * view.lengths[field] / view.avg_length[field]
    return norms


def _merged_postings(view: View, readers: dict[str, Any], field: str,
                     terms: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The postings of several spellings of one word as one term: the documents holding any,
    each with the largest of its spellings' counts (a Cyrillic surname's lemma and feminine
    form sit at the same positions: summing would count every occurrence twice). A stem and
    the cut-short words of its family (``kiev``, ``kiev~kieves``) never share a position:
    their counts add up, as they did when they were one term."""
    families: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    for t in terms:
        p = view.postings(readers, field, t)
        if len(p[0]):
            families.setdefault(t.split(TRUNCATED, 1)[0], []).append(p)
    parts = [_combine(ps, np.add, view.n) for ps in families.values()]
    return _combine(parts, np.maximum, view.n)


def _combine(parts: list[tuple[np.ndarray, np.ndarray]], how: Any,
             n: int) -> tuple[np.ndarray, np.ndarray]:
    """One posting list of several (each with distinct ids below ``n``): a document's counts
    joined by ``how`` (np.add or np.maximum)."""
    if len(parts) <= 1:
        return parts[0] if parts else (np.zeros(0, dtype=np.int64), np.zeros(0, np.float32))
    parts = sorted(parts, key=lambda p: -len(p[0]))
    rest = sum(len(p[0]) for p in parts[1:])
    if rest * JOIN_INTO_LONGEST <= len(parts[0][0]):
        # One long list and short ones (a common stem and its rare cut-short words): the
        # short ones looked up in the long one by binary search and put in place, one pass
        # over the long list. (The counts are whole numbers: summing them in another order
        # gives the same.)
        return _join_into(parts[0], _combine(parts[1:], how, n), how)
    if sum(len(p[0]) for p in parts) * DENSE_UNION >= n:
        # Long lists (a common word at a million articles): counts in an array of n, no sort.
        full = np.zeros(n, dtype=np.float32)
        seen = np.zeros(n, dtype=bool)
        for ids, tf in parts:
            ids = ids.astype(np.intp, copy=False)  # native width: see _accumulate
            full[ids] = how(full[ids], tf)  # ids are distinct within a list
            seen[ids] = True
        uniq = np.flatnonzero(seen).astype(np.int64)
        return uniq, full[uniq]
    # Each list is ascending: a stable sort (timsort for int64) merges their runs in about
    # linear time, where numpy.unique sorted from scratch; then each document's counts are
    # joined by one reduceat.
    ids = np.concatenate([p[0] for p in parts]).astype(np.int64)
    tf = np.concatenate([p[1] for p in parts])
    if not len(ids):
        return ids, tf
    order = np.argsort(ids, kind="stable")
    ids, tf = ids[order], tf[order]
    head = np.empty(len(ids), dtype=bool)
    head[0] = True
    np.not_equal(ids[1:], ids[:-1], out=head[1:])
    starts = np.flatnonzero(head)
    return ids[starts], how.reduceat(tf, starts).astype(np.float32, copy=False)


# A list this many times longer than all the others together takes them in by binary search.
JOIN_INTO_LONGEST = 16


def _join_into(long: tuple[np.ndarray, np.ndarray], short: tuple[np.ndarray, np.ndarray],
               how: Any) -> tuple[np.ndarray, np.ndarray]:
    """The union of two posting lists (ascending, distinct ids each), counts joined by
    ``how``, from a binary search of the short list's ids in the long one."""
    l_ids, s_ids = long[0].astype(np.int64, copy=False), short[0].astype(np.int64, copy=False)
    s_tf = short[1]
    at = np.searchsorted(l_ids, s_ids)
    both = at < len(l_ids)
    both[both] = l_ids[at[both]] == s_ids[both]
    tf = long[1].astype(np.float32)  # a copy: the long list may be a cached one
    tf[at[both]] = how(tf[at[both]], s_tf[both])
    new = ~both
    if not new.any():
        return l_ids, tf
    # Each new id goes before the first larger one of the long list (np.insert keeps the
    # order of ids inserted at one place, which ascend).
    return np.insert(l_ids, at[new], s_ids[new]), np.insert(tf, at[new], s_tf[new])


def recency_factors(view: View, ids: np.ndarray, half_life_days: float) -> np.ndarray:
    dates = view.dates[ids]
    factors = np.full(len(ids), ranking.RECENCY_FLOOR, dtype=np.float64)
    if view.newest is None:
        return factors
    dated = view.days[ids] != NO_DAY
    # A half-life of a split second (the API takes any positive number) makes an old
    # article's age in half-lives overflow to infinity: its factor is then the floor, as it
    # should be, without numpy's warning.
    with np.errstate(over="ignore"):
        age = np.maximum(0, view.newest - dates[dated]) / (half_life_days * DAY)
    factors[dated] = ranking.RECENCY_FLOOR + (1.0 - ranking.RECENCY_FLOOR) * np.exp2(-age)
    return factors

