"""Related stories: more-like-this over an article's title and body.

    article ─▶ its index terms (the analysis chain of indexing: same stems, same names)
            ─▶ the MLT_TERMS most distinctive by tf·idf (title counts as FIELD_BOOSTS says)
            ─▶ BM25F over every other story, each term weighted by its tf·idf
            ─▶ its own story (cluster) left out, one article per story, best first and
               newest first among equals

Engine-neutral: it needs the article's text, each term's document frequency and a scorer,
which :class:`~newsearch.backends.whoosh.index.NewsIndex` passes in, and the OpenSearch
backend fetches from the cluster (all the terms' frequencies in one request).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable

from .analysis import TRUNCATED, is_stop_word, positions
from .plan import FIELD_BOOSTS
from .ranking import idf

__all__ = ["DEFAULT_RELATED", "MAX_RELATED", "MLT_TERMS", "distinctive_terms", "rank_terms",
           "story_terms", "term_frequencies"]

DEFAULT_RELATED = 10
MAX_RELATED = 100
# Terms kept from the article: enough to describe a story (names, places, the topic words),
# few enough that a long article does not match everything through its filler.
MLT_TERMS = 25
# Versions of the story read to tell its own words from the words it shares with others.
MAX_VERSIONS_READ = 20


def distinctive_terms(title: str, body: str, lang: str | None, n_docs: int,
                      df: Callable[[str], int],
                      limit: int = MLT_TERMS) -> list[tuple[str, float]]:
    """The article's ``limit`` most distinctive index terms with their tf·idf weights, best
    first (ties by term, so the choice is stable). ``df`` counts the articles outside the
    article's story that hold a term, ``n_docs`` the articles outside it: a word only the
    story's own versions use finds nothing else and is left out."""
    return rank_terms(term_frequencies(title, body, lang), n_docs, df, limit)


def term_frequencies(title: str, body: str, lang: str | None) -> dict[str, float]:
    """The article's candidate terms with their frequencies, the title's counted as
    FIELD_BOOSTS says; numbers, stop words and cut-short words left out (numbers match by
    accident; a cut-short word is scored with its stem)."""
    tf: dict[str, float] = {}
    for field, text in (("title", title), ("body", body)):
        if not text:
            continue
        boost = FIELD_BOOSTS.get(field, 1.0)
        for term, plist in positions(text, lang)[0].items():
            if term.isdigit() or is_stop_word(term) or TRUNCATED in term:
                continue
            tf[term] = tf.get(term, 0.0) + boost * len(plist)
    return tf


def rank_terms(tf: dict[str, float], n_docs: int, df: Callable[[str], int],
               limit: int = MLT_TERMS) -> list[tuple[str, float]]:
    """The ``limit`` terms of ``tf`` (:func:`term_frequencies`) of highest tf·idf, as
    :func:`distinctive_terms` chooses them; a backend that asks its index for the document
    frequencies of all the terms at once calls this with them."""
    weights: list[tuple[str, float]] = []
    for term, f in tf.items():
        n = df(term)
        if n < 1:
            continue
        # Floored as in ranking: a word in half the archive weighs almost nothing, but a tiny
        # archive still relates its articles by the words they share.
        weights.append((term, (1.0 + math.log(f)) * idf(n_docs, n)))
    weights.sort(key=lambda tw: (-tw[1], tw[0]))
    return weights[:limit]


def story_terms(versions: Iterable[tuple[str, str, str | None]]) -> Counter[str]:
    """How many of the given versions (title, body, lang) hold each index term."""
    counts: Counter[str] = Counter()
    for title, body, lang in versions:
        counts.update({t for text in (title, body) if text for t in positions(text, lang)[0]})
    return counts
