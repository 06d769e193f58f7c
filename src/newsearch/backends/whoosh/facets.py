"""Facets over all hits of a query on the Whoosh index: section and language counts and a
date histogram.

All are counted with ``numpy.bincount`` over the hits, reading per-document tables the
view keeps (a document's first label, its month): one entry per hit, never a pass over
every document of the index, so a query with 20,000 hits costs no more Python work than
one with 20. The histogram's granularity follows :func:`newsearch.facets.granularity_for`;
undated articles are left out of it.
"""

from __future__ import annotations

import numpy as np

from ...facets import granularity_for
from ...results import FacetValue
from .codec import ranges
from .view import NO_DAY, LabelTable, View

__all__ = ["date_facet", "lang_facet", "section_facet"]

# Hits this many times fewer than the documents with several labels look their further labels
# up by binary search (one costs about what 50 entries read in order do), else every such
# entry is read.
FEW_HITS = 64


def _label_facet(names: list[str], table: LabelTable, mask: np.ndarray,
                 hits: np.ndarray | None) -> list[FacetValue]:
    """Counts of each label over the hits (``mask``; ``hits``: the same as document
    numbers, when the caller has them)."""
    if not names:
        return []
    counts = np.bincount(table.first[mask if hits is None else hits],
                         minlength=len(names) + 1)[1:]
    if len(table.extra_doc):  # documents with several labels: their further ones
        if hits is not None and FEW_HITS * len(hits) < len(table.extra_doc):
            lo = np.searchsorted(table.extra_doc, hits)
            found = table.extra_id[ranges(lo, np.searchsorted(table.extra_doc, hits,
                                                              side="right") - lo)]
        else:
            found = table.extra_id[mask[table.extra_doc]]
        counts = counts + np.bincount(found, minlength=len(names))
    out = [FacetValue(names[i], int(c)) for i, c in enumerate(counts.tolist()) if c]
    out.sort(key=lambda f: (-f.count, f.value))
    return out


def section_facet(view: View, mask: np.ndarray,
                  hits: np.ndarray | None = None) -> list[FacetValue]:
    return _label_facet(view.sec_names, view.sec_table, mask, hits)


def lang_facet(view: View, mask: np.ndarray,
               hits: np.ndarray | None = None) -> list[FacetValue]:
    """Hits per article language (declared by the source or detected at indexing)."""
    return _label_facet(view.lang_names, view.lang_table, mask, hits)


def date_facet(view: View, mask: np.ndarray, granularity: str | None,
               hits: np.ndarray | None = None) -> tuple[list[FacetValue], str | None]:
    which = mask if hits is None else hits
    if granularity is None:  # from the span of the hits' days
        days = view.days[which]
        days = days[days != NO_DAY]
        if not len(days):
            return [], granularity
        granularity = granularity_for(int(days.max()) - int(days.min()))
    # Per-document day or month numbers kept by the view: one read per hit, no calendar
    # arithmetic on the hits (years are whole months // 12, floored).
    buckets = (view.days if granularity == "day" else view.months)[which]
    buckets = buckets[buckets != NO_DAY]
    if not len(buckets):
        return [], granularity
    unit = {"day": "D", "month": "M", "year": "Y"}[granularity]
    if unit == "Y":
        buckets = buckets // 12
    # Counting by offset from the first bucket (no sort of the hits).
    low = int(buckets.min())
    counts = np.bincount(buckets - low)
    present = np.flatnonzero(counts)
    labels = (present + low).astype(f"datetime64[{unit}]")
    return [FacetValue(str(v), int(c)) for v, c in zip(labels, counts[present].tolist(),
                                                        strict=True)], granularity
