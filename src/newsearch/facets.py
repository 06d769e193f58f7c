"""Facets over all hits of a query, the rules both backends share: section and language
counts and a date histogram whose granularity follows the span of the hits (days up to two
months, months up to three years, then years) unless one is asked for; undated articles are
left out of it.

The counting is the backend's: numpy over the Whoosh index's arrays
(:mod:`newsearch.backends.whoosh.facets`), terms and date_histogram aggregations in a
cluster (:mod:`newsearch.backends.opensearch.aggs`). This module imports no engine.
"""

from __future__ import annotations

__all__ = ["GRANULARITIES", "granularity_for"]

GRANULARITIES = ("day", "month", "year")
DAY_SPAN_MAX = 62
MONTH_SPAN_MAX = 3 * 366


def granularity_for(span_days: int) -> str:
    """The histogram's unit for hits spanning ``span_days`` days (last minus first)."""
    if span_days <= DAY_SPAN_MAX:
        return "day"
    return "month" if span_days <= MONTH_SPAN_MAX else "year"
