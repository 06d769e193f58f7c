"""Ranking: BM25F over the matching documents, newest-first, or relevance × recency.

    score(d) = Σ over query terms t and fields f of
               boost(f) · idf(t, f) · tf·(k1 + 1) / (tf + k1·(1 − b + b·len(d, f)/avglen(f)))

* ``idf`` is Robertson–Spärck Jones, ``ln((N − n + 0.5) / (n + 0.5))``, floored at
  :data:`IDF_FLOOR` (as SQLite FTS5 does): a word in half the archive is worth almost
  nothing, so the few rare words of a long question decide the ranking. Whoosh's own
  ``ln(N / (n + 1)) + 1`` weighs every common word at least 1 and let them swamp the rare
  ones. The small positive floor keeps a query made only of very common words ranked by
  term frequency and length instead of by document number.
* ``k1 = 1.6``: measured on the TIME collection (bench/test_effectiveness.py) with
  ``b = 0.75``, MAP 0.703 / 0.715 / 0.709 and nDCG@10 0.758 / 0.771 / 0.769 for k1 1.4 / 1.6
  / 1.7 (1.2, the common default: 0.701 / 0.755). It sits inside the range the BM25
  literature recommends (1.2-2.0); the choice was made on that one collection.
* Fields are scored separately and summed with :data:`~newsearch.plan.FIELD_BOOSTS` (title
  above body), as Whoosh's BM25F does.
* ``recency`` multiplies by ``floor + (1 − floor) · 2^(−age / half_life)``, the age counted
  from the newest article in the index, not from today's clock (an archive of 1987 news is
  not all equally stale); undated articles get the floor.

Everything is numpy over the documents of one view: the cost is proportional to the posting
lists of the query's terms, not to the number of Python objects.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .analysis import TRUNCATED
from .plan import FIELD_BOOSTS
from .view import DAY, TEXT_FIELDS, View

__all__ = ["K1", "RECENCY_FLOOR", "B", "bm25_scores", "recency_factors", "top_k"]

K1 = 1.6
B = 0.75
IDF_FLOOR = 0.01
RECENCY_FLOOR = 0.2


def idf(n_docs: int, df: int) -> float:
    return max(IDF_FLOOR, float(np.log((n_docs - df + 0.5) / (df + 0.5))))


def bm25_scores(view: View, readers: dict[str, Any],
                leaves: list[tuple[str, str | tuple[str, ...], float]],
                mask: np.ndarray) -> np.ndarray:
    """Scores for all documents (zero outside ``mask``)."""
    scores = np.zeros(view.n, dtype=np.float32)
    n_docs = max(1, view.live_count)
    group_df = view.spelling_df  # per generation: a word's spellings are counted once
    for field, term, boost in dict.fromkeys(leaves):
        if isinstance(term, str):
            ids, tf = view.postings(readers, field, term)
            df = len(ids)
        else:
            ids, tf = view.memo(("spellings", field, term),
                                lambda f=field, t=term: _merged_postings(view, readers, f, t))
            # One word's spellings share one document frequency over all its fields: a form
            # found only in headlines must not count as rare there.
            df = group_df.get(term, -1)
            if df < 0:
                df = group_df[term] = len(np.unique(np.concatenate(
                    [view.postings(readers, f, t)[0] for f in TEXT_FIELDS for t in term])))
        if not len(ids):
            continue
        keep = mask[ids]
        if not keep.any():
            continue
        ids, tf = ids[keep], tf[keep]
        norm = K1 * ((1.0 - B) + B * view.lengths[field][ids] / view.avg_length[field])
        w = boost * FIELD_BOOSTS.get(field, 1.0) * idf(n_docs, df)
        scores[ids] += w * (tf * (K1 + 1.0)) / (tf + norm)
    return scores


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
    parts = [_combine(ps, np.add) for ps in families.values()]
    return _combine(parts, np.maximum)


def _combine(parts: list[tuple[np.ndarray, np.ndarray]],
             how: Any) -> tuple[np.ndarray, np.ndarray]:
    if len(parts) <= 1:
        return parts[0] if parts else (np.zeros(0, dtype=np.int64), np.zeros(0, np.float32))
    ids = np.concatenate([p[0] for p in parts])
    tf = np.concatenate([p[1] for p in parts])
    uniq, inverse = np.unique(ids, return_inverse=True)
    merged = np.zeros(len(uniq), dtype=np.float32)
    how.at(merged, inverse, tf)
    return uniq, merged


def recency_factors(view: View, ids: np.ndarray, half_life_days: float) -> np.ndarray:
    dates = view.dates[ids]
    factors = np.full(len(ids), RECENCY_FLOOR, dtype=np.float64)
    if view.newest is None:
        return factors
    dated = view.days[ids] >= 0
    age = np.maximum(0, view.newest - dates[dated]) / (half_life_days * DAY)
    factors[dated] = RECENCY_FLOOR + (1.0 - RECENCY_FLOOR) * np.exp2(-age)
    return factors


def top_k(ids: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` ids with the largest keys, ties broken by lower doc number, in order."""
    if len(ids) == 0 or k <= 0:
        return ids[:0]
    if len(ids) > k:
        part = np.argpartition(-keys, k - 1)[:k]
        # Bring in everything tied with the k-th key so the tie-break is exact.
        kth = keys[part].min()
        part = np.flatnonzero(keys >= kth)
        ids, keys = ids[part], keys[part]
    order = np.lexsort((ids, -keys))[:k]
    return ids[order]
