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

The formulas and constants live here, for both backends: the Whoosh backend computes them
with numpy over its arrays (:mod:`newsearch.backends.whoosh.scoring`), the OpenSearch backend
in the cluster (:mod:`newsearch.backends.opensearch.dsl`). This module imports no engine.
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = [
    "K1",
    "K3",
    "RECENCY_FLOOR",
    "B",
    "idf",
    "qtf_weight",
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


def top_k(ids: np.ndarray, keys: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` ids with the largest keys, ties broken by lower doc number, in order (keys
    are never NaN: scores and dates are numbers)."""
    if len(ids) == 0 or k <= 0:
        return ids[:0]
    if len(ids) > k:
        # Everything at or above a bound no larger than the k-th key, then an exact sort of
        # those: every key tied with the k-th is in, so the tie-break is exact.
        part = np.flatnonzero(keys >= _kth_bound(keys, k))
        ids, keys = ids[part], keys[part]
    order = np.lexsort((ids, -keys))[:k]
    return ids[order]


# Blocks of at most this many keys for top_k's bound; at least 4k blocks where possible.
_TOP_BLOCK = 256


def _kth_bound(keys: np.ndarray, k: int) -> Any:
    """A value no larger than the ``k``-th largest key, and close to it.

    Among many hits (a common word at a million articles) a selection over every key
    (numpy's argpartition) cost more than scoring them: instead the keys are cut into
    blocks, and the k-th largest of the blocks' maxima is the bound: k blocks hold a key at
    least that large, so at least k keys are. One pass of maxima and a selection among a
    few hundred values; few keys pass the bound unless many are tied."""
    n = len(keys)
    block = min(_TOP_BLOCK, n // (4 * k))
    if block < 8:  # few keys for k: select among them directly
        return np.partition(keys, n - k)[n - k]
    whole = n // block * block
    maxima = keys[:whole].reshape(-1, block).max(axis=1)
    if whole < n:
        maxima = np.append(maxima, keys[whole:].max())
    return np.partition(maxima, len(maxima) - k)[len(maxima) - k]
