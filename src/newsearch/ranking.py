"""Ranking: BM25F over the matching documents, newest-first, or relevance × recency.

    score(d) = Σ over query terms t of  qtf(t) · idf(t) · tf'·(k1 + 1) / (tf' + k1)
    tf'      = Σ over fields f of  boost(f) · tf(t, d, f) / (1 − b + b·len(d, f)/avglen(f))

* **One saturation per word** (BM25F as Robertson and Zaragoza define it): a word's counts
  in the headline, standfirst and body are weighed by field and length-normalised per field,
  then summed *before* the saturation, so a word is worth at most ``idf·(k1 + 1)`` however
  many fields hold it. Scoring each field on its own and summing (Whoosh's way, and
  newsearch's until issue 12) let a short article with one rare query word in its headline
  outrank the one article holding all four words of a query (on the suite, measured alone
  before issue 13's analysis was merged: Reuters rare-word known items MRR 0.69 → 0.92,
  Cranfield MAP 0.297 → 0.322).
* ``idf`` is Robertson–Spärck Jones, ``ln((N − n + 0.5) / (n + 0.5))`` with ``n`` the
  largest of the word's per-field document counts, floored at :data:`IDF_FLOOR` (as SQLite
  FTS5 does): a word in half the archive is worth almost nothing, so the few rare words of a
  long question decide the ranking. Whoosh's own ``ln(N / (n + 1)) + 1`` weighs every
  common word at least 1 and let them swamp the rare ones; Lucene's ``ln(1 + ...)`` did no
  better on the suite. The small positive floor keeps a query made only of very common words
  ranked by term frequency and length instead of by document number.
* **Query-term frequency**: a word the query asks for twice (``budget cuts budget``, or two
  words with one stem) weighs ``(k3 + 1)·qtf / (k3 + qtf)`` with ``k3 = 8``: more, but a
  pasted paragraph that repeats a word twenty times does not make it twenty times heavier.
* ``k1 = 1.2, b = 0.7``, chosen on the whole suite (bench/README.md has the table of every
  setting tried): TIME alone prefers k1 1.6 and b 0.75 (MAP 0.717 against 0.713), but NPL's
  short abstracts then fall behind every peer (0.272 against 0.288).
* A fuzzy word's forms all score with the largest document frequency among them, so a rare
  look-alike never weighs more than the word typed (Lucene blends them the same way).
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
from .backends.whoosh.view import DAY, NO_DAY, TEXT_FIELDS, View
from .plan import FIELD_BOOSTS, Leaf

__all__ = [
    "K1",
    "K3",
    "RECENCY_FLOOR",
    "B",
    "bm25_scores",
    "idf",
    "qtf_weight",
    "recency_factors",
    "top_k",
]

K1 = 1.2
B = 0.7
K3 = 8.0
IDF_FLOOR = 0.01
RECENCY_FLOOR = 0.2


def idf(n_docs: int, df: int) -> float:
    return max(IDF_FLOOR, float(np.log((n_docs - df + 0.5) / (df + 0.5))))


def qtf_weight(qtf: int) -> float:
    """BM25's query-side weight of a term the query asks for ``qtf`` times (1 for once)."""
    return (K3 + 1.0) * qtf / (K3 + qtf)


def bm25_scores(view: View, readers: dict[str, Any], leaves: list[Leaf],
                mask: np.ndarray) -> np.ndarray:
    """Scores for all documents (zero outside ``mask``)."""
    scores = np.zeros(view.n, dtype=np.float32)
    acc = np.zeros(view.n, dtype=np.float32)  # one term's weighted frequency, summed over fields
    n_docs = max(1, view.live_count)
    group_df = view.spelling_df  # per generation: a word's spellings are counted once
    blended: dict[tuple[str, ...], int] = {}
    for fields, term, boost, qtf, df_of in leaves:
        touched: list[np.ndarray] = []
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
            keep = mask[ids]
            if not keep.any():
                continue
            ids, tf = ids[keep], tf[keep]
            norm = (1.0 - B) + B * view.lengths[field][ids] / view.avg_length[field]
            acc[ids] += FIELD_BOOSTS.get(field, 1.0) * tf / norm
            touched.append(ids)
        if not touched:
            continue
        if not isinstance(term, str):
            # One word's spellings share one document frequency over all its fields: a form
            # found only in headlines must not count as rare there.
            df = group_df.get(term, -1)
            if df < 0:
                df = group_df[term] = len(np.unique(np.concatenate(
                    [view.postings(readers, f, t)[0] for f in TEXT_FIELDS for t in term])))
        elif df_of:
            if df_of not in blended:
                blended[df_of] = max(len(view.postings(readers, f, t)[0])
                                     for f in fields for t in df_of)
            df = blended[df_of]
        ids = np.concatenate(touched) if len(touched) > 1 else touched[0]
        tf = acc[ids]
        w = boost * qtf_weight(qtf) * idf(n_docs, df)
        # A document in two fields appears twice in ``ids`` with the same value: the
        # assignment writes it twice, identically.
        scores[ids] = scores[ids] + w * tf * (K1 + 1.0) / (tf + K1)
        acc[ids] = 0.0
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
    dated = view.days[ids] != NO_DAY
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
