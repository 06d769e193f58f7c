"""What every backend's search shares: the checks of a request, the rules of the any-word
fallback and of suggestions, the notices, and the cache of result pages.

    check_request   a search's parameters checked and parsed (one QueryError per mistake)
    fallback rules  when the words of a plain query are ORed instead (FALLBACK_*)
    notices         sections the index does not have, with the close ones
    _ResultsCache   result pages for repeated queries, bounded by count and by bytes

:class:`~newsearch.backends.whoosh.index.NewsIndex` and
:class:`~newsearch.backends.opensearch.search.OpenSearchIndex` both run their searches by
these rules, so a query means the same on either engine. This module imports no engine.
"""

from __future__ import annotations

import difflib
import math
import sys
import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any, Protocol

from .analysis import TOKEN_RE, is_stop_word
from .article import section_key, section_keys
from .errors import QueryError
from .facets import GRANULARITIES
from .query import And, FieldValue, Node, Not, Or, ParsedQuery, day_bound
from .results import SearchResults

__all__ = ["DEFAULT_HALF_LIFE_DAYS", "MAX_PAGE", "MAX_PER_PAGE", "RESULTS_CACHE_BYTES",
           "RESULTS_CACHE_SIZE", "SORTS", "check_request"]


class Sections(Protocol):
    """What :func:`_unknown_sections` needs to know of an index's sections."""

    @property
    def sec_names(self) -> Sequence[str]: ...

    def section_indexes(self, name: str) -> Any: ...
SORTS = ("relevance", "date", "recency")
DEFAULT_HALF_LIFE_DAYS = 30.0
MAX_PER_PAGE = 100
MAX_PAGE = 1000


# When requiring every word of a plain query finds nothing, or a query of FALLBACK_MIN_WORDS
# or more content words finds fewer than FALLBACK_BELOW articles, the words are ORed instead
# (ranked by how many and how rare) and the result says so. Never when the user wrote AND or
# quoted a word. From three words: the articles holding every word still come first (up to
# ALL_WORDS_FIRST_UP_TO words) and the notice counts them ("only 7 articles have all the
# words"), so someone counting hits still sees the exact ones; from four words instead of
# three lost MAP on TIME, NPL and CACM and changed no other set (bench/README.md).
FALLBACK_BELOW = 10
FALLBACK_MIN_WORDS = 3


# When the fallback widens a query of at most this many words, the articles holding every
# word come first (after those whose headline holds them all): someone who typed four or five
# distinctive words wants the article with all of them, not one with a single rarer word.
# Longer questions rank by evidence over all their words (from six words, ordering them so
# cost TIME MAP 0.006; bench/README.md).
ALL_WORDS_FIRST_UP_TO = 5


# Suggest a spelling when the query finds fewer articles than this (before any fallback).
SUGGEST_BELOW = 3
SURFACE_DOCS = 5  # articles read to find how a suggested word is spelled


# Result pages kept for repeated queries (per NewsIndex; keyed by index generation): at most
# this many, and at most this much memory by the estimate of _results_bytes (a page of 10
# hits is 10-20 KB, of 100 hits 100-200 KB; 2,048 pages of 100 grew a server by 270 MB).
RESULTS_CACHE_SIZE = 2048
RESULTS_CACHE_BYTES = 32 * 2**20


class _ResultsCache:
    """Least recently used result pages, bounded by count and by estimated bytes."""

    def __init__(self, size: int, max_bytes: int) -> None:
        self.size = size
        self.max_bytes = max_bytes
        self.bytes = 0
        self.items: OrderedDict[tuple[Any, ...], tuple[SearchResults, int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> SearchResults | None:
        with self.lock:
            hit = self.items.get(key)
            if hit is None:
                return None
            self.items.move_to_end(key)
            return hit[0]

    def put(self, key: tuple[Any, ...], value: SearchResults) -> None:
        if self.size <= 0 or self.max_bytes <= 0:
            return
        cost = _results_bytes(value)
        if cost > self.max_bytes:
            return
        with self.lock:
            old = self.items.pop(key, None)
            if old is not None:
                self.bytes -= old[1]
            self.items[key] = (value, cost)
            self.bytes += cost
            if key[0] != next(iter(self.items))[0]:
                # A new generation: results of older ones can never be asked for again.
                for k in [k for k in self.items if k[0] != key[0]]:
                    self.bytes -= self.items.pop(k)[1]
            while len(self.items) > self.size or self.bytes > self.max_bytes:
                self.bytes -= self.items.popitem(last=False)[1][1]


# Per-object overheads in bytes (CPython 3.11, 64-bit) for _results_bytes: a slotted dataclass
# instance with its list and datetime, a list slot, a FacetValue.
_HIT_BYTES = 400
_ITEM_BYTES = 8
_FACET_BYTES = 80


def _results_bytes(r: SearchResults) -> int:
    """About how much memory a cached page holds: its strings as CPython stores them plus
    fixed costs per object (6-13 % above what tracemalloc counts for Reuters and BBC pages of
    10 and 100 hits)."""
    size = sys.getsizeof
    total = 1_000 + size(r.query) + sum(map(size, r.notices)) + _HIT_BYTES * len(r.hits)
    for h in r.hits:  # map() over C functions: this runs on every search that is not cached
        total += (size(h.id) + size(h.title) + size(h.source) + size(h.url or "")
                  + sum(map(size, h.section)) + sum(map(size, h.snippets))
                  + _ITEM_BYTES * (len(h.section) + len(h.snippets)))
    # Facet values are the index's own section names and short date labels: mostly shared.
    total += sum(_FACET_BYTES * len(values) for values in r.facets.values())
    return total


def check_request(query: str, *, sections: Sequence[str] | str | None,
                  since: date | str | None, until: date | str | None, sort: str, page: int,
                  per_page: int, half_life_days: float, date_granularity: str | None
                  ) -> tuple[Sequence[str] | None, date | None, date | None]:
    """A search's parameters checked as every backend checks them (a :class:`QueryError`
    naming the parameter), with the sections as a sequence and the dates parsed."""
    if not isinstance(query, str):
        raise QueryError(repr(query), "the query must be a string")
    if isinstance(sections, str):
        sections = [sections]  # one name, not a sequence of one-letter names
    if sort not in SORTS:
        raise QueryError(query, f"sort must be one of {', '.join(SORTS)}", parameter="sort")
    if date_granularity not in (None, *GRANULARITIES):
        raise QueryError(query, "date_granularity must be day, month or year",
                         parameter="date_granularity")
    if not (0 <= per_page <= MAX_PER_PAGE):
        raise QueryError(query, f"per_page must be between 0 and {MAX_PER_PAGE}",
                         parameter="per_page")
    if not (1 <= page <= MAX_PAGE):
        raise QueryError(query, f"page must be between 1 and {MAX_PAGE}", parameter="page")
    if half_life_days <= 0 or not math.isfinite(half_life_days):
        raise QueryError(query, "half_life_days must be a positive number of days",
                         parameter="half_life_days")
    since_d = _as_date(since, query, "since", end=False)
    until_d = _as_date(until, query, "until", end=True)
    if since_d and until_d and since_d > until_d:
        raise QueryError(query, f"since {since_d} is after until {until_d}",
                         parameter="since")
    return sections, since_d, until_d


def _fresh_copy(results: SearchResults, took_ms: float) -> SearchResults:
    """A copy the caller may change without touching the cached one."""
    copy = replace(results, took_ms=took_ms, hits=[replace(h, section=list(h.section),
                                                           snippets=list(h.snippets))
                                                   for h in results.hits],
                   facets={k: list(v) for k, v in results.facets.items()},
                   notices=list(results.notices))
    return copy


def _section_values(node: Node) -> list[str]:
    """The sections a query names (``section:crude``)."""
    if isinstance(node, FieldValue):
        return [node.value] if node.field == "section" else []
    if isinstance(node, And | Or):
        return [v for c in node.children for v in _section_values(c)]
    if isinstance(node, Not):
        return _section_values(node.child)
    return []
MAX_CLOSE_SECTIONS = 5


# difflib's similarity above which a section counts as close to the name typed: one or two
# letters wrong in a word ("Busines", "Wrld", "Shiping"), but not "sport" for "Transport".
CLOSE_SECTION_RATIO = 0.75


def _unknown_sections(view: Sections, names: Sequence[str]) -> list[str]:
    """A notice for each asked-for section the index does not have, with the close ones (by
    spelling, or holding the word typed) so that "No articles" is not the only answer."""
    notices = []
    for name in dict.fromkeys(n.strip() for n in names if n and n.strip()):
        if view.section_indexes(name):
            continue
        key = section_key(name)
        # Each section by its keys, and by its name without a code ("shipping").
        by_key = {k: n for n in view.sec_names
                  for k in [*section_keys(n), section_key(n.rsplit(" (", 1)[0])]}
        close = [by_key[k] for k in by_key if key in k.split() or k.startswith(key)]
        close += [by_key[k] for k in difflib.get_close_matches(key, list(by_key), n=10,
                                                                cutoff=CLOSE_SECTION_RATIO)]
        close = list(dict.fromkeys(close))[:MAX_CLOSE_SECTIONS]
        if close:
            tail = "; close ones: " + ", ".join(close)
        elif view.sec_names and len(view.sec_names) <= MAX_CLOSE_SECTIONS * 2:
            tail = "; the sections are " + ", ".join(view.sec_names)
        else:
            tail = f" (the index has {len(view.sec_names):,} sections)" if view.sec_names else \
                " (the index has no sections)"
        notices.append(f"there is no section “{name}”{tail}")
    return notices


def _content_words(parsed: ParsedQuery) -> list[str]:
    """The words of a plain query that carry content (stop words and punctuation left out)."""
    words = parsed.plain_words or []
    return [w for w in words if any(not is_stop_word(t) for t in TOKEN_RE.findall(w))]


def _as_date(value: date | str | None, query: str, name: str, *, end: bool) -> date | None:
    """A since/until bound: a date, or ``YYYY-MM-DD`` (also ``YYYY-MM`` and ``YYYY``: their
    first day for ``since``, last day for ``until``)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    try:
        return day_bound(str(value), end=end)
    except ValueError as exc:
        raise QueryError(query, f"{name} {exc}", parameter=name) from None
