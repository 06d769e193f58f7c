"""Ranking tiers: which hits come before others whatever their scores (both backends).

    plan ─▶ tier_conditions() ─▶ [(condition as a plan node, levels)]
        a hit's tier = Σ levels of the conditions it matches; hits rank by tier, then score

* **After the any-word fallback** (a query of several words none or few articles hold
  together): the articles whose headline holds every word first (two levels: a headline
  pasted whole finds its article, not a shorter story sharing most of its words), then,
  for queries of at most :data:`newsearch.search.ALL_WORDS_FIRST_UP_TO` words, those
  holding every word anywhere (one level).
* **A fuzzy word every hit must hold** (``almaty~``): the articles holding the word itself
  first, then those holding its closest look-alike, and so on in the order of
  ``PFuzzy.forms``; one condition per look-alike ("holds the word or one of the forms
  before this one"), so an article's tier drops by one per form it is further from the
  word, summed over the query's fuzzy words.

Conditions are plan nodes, so each backend evaluates them as it evaluates queries: the
Whoosh searcher as masks, the OpenSearch one as constant-score clauses worth a multiple of an
upper bound of the score.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .plan import PAnd, PFuzzy, PNothing, POr, PTerms, required_fuzzy
from .search import ALL_WORDS_FIRST_UP_TO

__all__ = ["in_field", "tier_conditions", "words_of"]


def in_field(word: Any, field: str) -> Any:
    """A word's plan node restricted to one field (nothing if it was not asked there)."""
    fields = getattr(word, "fields", ())
    return replace(word, fields=(field,)) if field in fields else PNothing()


def words_of(plan: Any) -> tuple[Any, ...]:
    """The words of an any-word plan (each once, a repeated word too)."""
    return plan.children if isinstance(plan, POr) else (plan,)


def tier_conditions(plan: Any, *, fallback: bool) -> list[tuple[Any, int]]:
    """The conditions that lift a hit of ``plan`` above others, each with its levels (see the
    module's description); ``fallback``: ``plan`` is the any-word fallback's."""
    if fallback:
        words = words_of(plan)
        if len(words) < 2:
            return []
        out: list[tuple[Any, int]] = []
        if len(words) <= ALL_WORDS_FIRST_UP_TO:
            out.append((PAnd(tuple(words)), 1))
        in_title = tuple(in_field(w, "title") for w in words)
        if not any(isinstance(w, PNothing) for w in in_title):
            out.append((PAnd(in_title), 2))
        return out
    out = []
    for node in required_fuzzy(plan):
        out += [(PTerms(node.fields, _up_to(node, i)), 1) for i in range(len(node.forms))]
    return out


def _up_to(node: PFuzzy, i: int) -> tuple[str, ...]:
    """The word's own terms and its first ``i`` look-alikes."""
    return (*node.word, *node.forms[:i])
