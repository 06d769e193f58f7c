"""Pseudo-relevance feedback for the any-word fallback: words the best hits share.

    any-word hits, ranked ─▶ the top FEEDBACK_DOCS articles ─▶ their terms, weighed
        (RM3: P(w | R) = Σ_d P(d) · tf(w, d)/|d|, P(d) ∝ e^(score(d) / FEEDBACK_TEMPERATURE))
        ─▶ the FEEDBACK_TERMS heaviest
        ─▶ leaves: the query's own at FEEDBACK_KEEP of the weight, those terms at the rest

A long natural-language question (*what did economists say about oil exports*) names a
topic in a few of the words its relevant articles use; the articles that rank best on those
words use the others. Re-ranking the any-word hits with both (Lavrenko and Croft's relevance
model, interpolated with the query as in Abdul-Jaleel et al.'s RM3) lifted MAP on four of
the suite's five judged collections (TIME +0.015, Cranfield +0.029, ADI +0.014, NPL +0.006)
and cost CACM 0.016, which stays ahead of every peer (bench/README.md). It only re-orders:
the hits are still the articles holding a query word, so the total and the facets do not
change, and an article holding only feedback words is never shown.

Each feedback article weighs by ``e^(score / T)``, as the relevance model weighs it by the
query's likelihood: a BM25 score is a sum of log odds (Robertson–Spärck Jones weights) up to
scale, so the exponential puts it back on a scale of odds, and an article that ranks clearly
first counts for more than the fifth. Weighing by the score itself (until this change) made
the five nearly equal. ``T`` (:data:`FEEDBACK_TEMPERATURE`, in score units) was chosen by
leaving one collection out: of 0.5, 1, 2, 3, 4, 6 and 8, the other four collections chose 3
in each of the five folds. Against weighing by the score it lifted MAP on every collection
(TIME +0.017, Cranfield +0.002, ADI +0.002, NPL +0.007, CACM +0.019) and nDCG@10 on all
but ADI (−0.007); bench/README.md has the figures.

The terms come from the stored text of the top articles, analysed with the article chain
(:func:`~newsearch.analysis.positions`), so they are index terms; stop words and numbers
are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np

from .analysis import STOP_WORDS, analyse, positions
from .plan import DEFAULT_FIELDS, Leaf
from .ranking import qtf_weight, top_k

__all__ = ["FEEDBACK_DOCS", "FEEDBACK_KEEP", "FEEDBACK_MAX_WORDS", "FEEDBACK_TEMPERATURE",
           "FEEDBACK_TERMS", "expanded"]

FEEDBACK_DOCS = 5
FEEDBACK_TERMS = 20
FEEDBACK_KEEP = 0.7  # the query's own share of the weight
FEEDBACK_TEMPERATURE = 3.0  # feedback articles weigh e^(score / this)
# A pasted paragraph names its topic in full: feedback would double its cost for nothing.
FEEDBACK_MAX_WORDS = 64


@cache
def _stop_terms() -> frozenset[str]:
    return frozenset(t for w in STOP_WORDS for t in analyse(w))


def expanded(leaves: list[Leaf], ids: np.ndarray, keys: np.ndarray,
             text_of: Callable[[int], tuple[str, str | None]]) -> list[Leaf]:
    """``leaves`` re-weighed and joined by the feedback terms of the best of ``ids`` (ranked
    by ``keys``); ``text_of(docnum)`` is an article's searchable text and language."""
    top = top_k(ids, keys, FEEDBACK_DOCS)
    at = np.flatnonzero(np.isin(ids, top))
    best_key = float(keys[at].max()) if len(at) else 0.0
    if best_key <= 0:
        return leaves
    # Relative to the best, so e^score cannot overflow (the shares are the same).
    odds = np.exp((keys[at] - best_key) / FEEDBACK_TEMPERATURE)
    weight = dict(zip(ids[at].tolist(), (odds / odds.sum()).tolist(), strict=True))
    stop = _stop_terms()
    rel: dict[str, float] = {}
    for d in top.tolist():
        terms, length = positions(*text_of(d))
        if not length:
            continue
        share = weight[d] / length
        for t, where in terms.items():
            if t not in stop and not t.isdigit():
                rel[t] = rel.get(t, 0.0) + share * len(where)
    best = sorted(rel, key=lambda t: (-rel[t], t))[:FEEDBACK_TERMS]
    if not best:
        return leaves
    z = sum(rel[t] for t in best)
    own = [qtf_weight(leaf.qtf) * leaf.boost for leaf in leaves]
    own_total = sum(own) or 1.0
    # Scaled by the number of leaves, so scores stay on the scale of the query's own.
    scale = len(leaves)
    out = [leaf._replace(boost=scale * FEEDBACK_KEEP * w / own_total, qtf=1)
           for leaf, w in zip(leaves, own, strict=True)]
    out += [Leaf(DEFAULT_FIELDS, t, scale * (1 - FEEDBACK_KEEP) * rel[t] / z) for t in best]
    return out


def article_text(fields: dict[str, Any]) -> tuple[str, str | None]:
    """The searchable text of an article's stored fields, and its language (the analysis
    stems by it, so feedback terms are the index's own)."""
    parts = (fields.get("title"), fields.get("subtitle"), fields.get("body"))
    return "\n".join(x for x in parts if x), fields.get("lang")
