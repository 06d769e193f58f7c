"""Facets over all hits of a query: section counts and a date histogram.

Both are counted with ``numpy.bincount`` over the hit mask, so a query with 20,000 hits costs
no more Python work than one with 20. The histogram's granularity follows the span of the
hits (days up to two months, months up to three years, then years) unless one is asked for;
undated articles are left out of it.
"""

from __future__ import annotations

import numpy as np

from .results import FacetValue
from .view import View

__all__ = ["GRANULARITIES", "date_facet", "lang_facet", "section_facet"]

GRANULARITIES = ("day", "month", "year")
DAY_SPAN_MAX = 62
MONTH_SPAN_MAX = 3 * 366


def _label_facet(names: list[str], docs: np.ndarray, ids: np.ndarray,
                 mask: np.ndarray) -> list[FacetValue]:
    if not len(ids):
        return []
    counts = np.bincount(ids[mask[docs]], minlength=len(names))
    out = [FacetValue(names[i], int(c)) for i, c in enumerate(counts) if c]
    out.sort(key=lambda f: (-f.count, f.value))
    return out


def section_facet(view: View, mask: np.ndarray) -> list[FacetValue]:
    return _label_facet(view.sec_names, view.sec_doc, view.sec_id, mask)


def lang_facet(view: View, mask: np.ndarray) -> list[FacetValue]:
    """Hits per article language (declared by the source or detected at indexing)."""
    return _label_facet(view.lang_names, view.lang_doc, view.lang_id, mask)


def date_facet(view: View, mask: np.ndarray,
               granularity: str | None) -> tuple[list[FacetValue], str | None]:
    days = view.days[mask]
    days = days[days >= 0]
    if not len(days):
        return [], granularity
    if granularity is None:
        span = int(days.max()) - int(days.min())
        granularity = ("day" if span <= DAY_SPAN_MAX else
                       "month" if span <= MONTH_SPAN_MAX else "year")
    unit = {"day": "D", "month": "M", "year": "Y"}[granularity]
    buckets = days.astype("datetime64[D]").astype(f"datetime64[{unit}]")
    values, counts = np.unique(buckets, return_counts=True)
    return [FacetValue(str(v), int(c)) for v, c in zip(values, counts, strict=True)], granularity
