"""Facets over all hits of a query on the Whoosh index: section and language counts and a
date histogram.

All are counted with ``numpy.bincount`` over the hits (for few hits, from each hit's own
labels), so a query with 20,000 hits costs no more Python work than one with 20. The
histogram's granularity follows :func:`newsearch.facets.granularity_for`; undated articles
are left out of it.
"""

from __future__ import annotations

import numpy as np

from ...facets import granularity_for
from ...results import FacetValue
from .codec import ranges
from .view import NO_DAY, View

__all__ = ["date_facet", "lang_facet", "section_facet"]


def _label_facet(names: list[str], docs: np.ndarray, labels: np.ndarray, mask: np.ndarray,
                 by_doc: tuple[np.ndarray, np.ndarray],
                 hits: np.ndarray | None) -> list[FacetValue]:
    """Counts of each label over the hits (``mask``; ``hits``: the same as document
    numbers, when the caller has them)."""
    if not len(labels):
        return []
    if hits is not None and 4 * len(hits) < len(labels):
        # Few hits: their own labels (the view's per-document table), not every entry.
        of, ptr = by_doc
        first = ptr[hits]
        found = of[ranges(first, ptr[hits + 1] - first)]
    else:
        found = labels[mask[docs]]
    counts = np.bincount(found, minlength=len(names))
    out = [FacetValue(names[i], int(c)) for i, c in enumerate(counts) if c]
    out.sort(key=lambda f: (-f.count, f.value))
    return out


def section_facet(view: View, mask: np.ndarray,
                  hits: np.ndarray | None = None) -> list[FacetValue]:
    return _label_facet(view.sec_names, view.sec_doc, view.sec_id, mask, view.sec_by_doc, hits)


def lang_facet(view: View, mask: np.ndarray,
               hits: np.ndarray | None = None) -> list[FacetValue]:
    """Hits per article language (declared by the source or detected at indexing)."""
    return _label_facet(view.lang_names, view.lang_doc, view.lang_id, mask,
                        view.lang_by_doc, hits)


def date_facet(view: View, mask: np.ndarray, granularity: str | None,
               hits: np.ndarray | None = None) -> tuple[list[FacetValue], str | None]:
    days = view.days[mask] if hits is None else view.days[hits]
    dated = days != NO_DAY
    if not dated.all():
        days = days[dated]
    if not len(days):
        return [], granularity
    first, last = int(days.min()), int(days.max())
    if granularity is None:
        granularity = granularity_for(last - first)
    unit = {"day": "D", "month": "M", "year": "Y"}[granularity]
    if unit == "D":
        buckets = days
    else:  # days → months or years since 1970, by the calendar
        buckets = days.astype("datetime64[D]").astype(f"datetime64[{unit}]").astype(np.int64)
    # Counting by offset from the first bucket (no sort of the hits).
    low = int(buckets.min())
    counts = np.bincount(buckets - low)
    present = np.flatnonzero(counts)
    labels = (present + low).astype(f"datetime64[{unit}]")
    return [FacetValue(str(v), int(c)) for v, c in zip(labels, counts[present].tolist(),
                                                        strict=True)], granularity

