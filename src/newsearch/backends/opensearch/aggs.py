"""Facets from aggregations: section counts (terms) and the date histogram (date_histogram).

    facet_aggs() ─▶ the search request's "aggs" ─▶ facets_from_response() ─▶ FacetValue lists

Both are counted over every hit by the cluster. The histogram is asked for by day (only days
that have hits come back) and rolled up here to months or years, so the granularity can
follow the span of the hits as in the Whoosh backend (:mod:`newsearch.facets`: days up to
two months, months up to three years, then years) without a second request.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ...facets import GRANULARITIES, granularity_for
from ...results import FacetValue

__all__ = ["SECTION_FACET_MAX", "facet_aggs", "facets_from_response"]

# Sections counted per query: every section an archive has (thousands at most), so the
# counts are exact on every shard.
SECTION_FACET_MAX = 10_000
_MS_PER_DAY = 86_400_000


def facet_aggs() -> dict[str, Any]:
    return {
        "section": {"terms": {"field": "section", "size": SECTION_FACET_MAX,
                              "shard_size": SECTION_FACET_MAX,
                              "order": [{"_count": "desc"}, {"_key": "asc"}]}},
        "days": {"date_histogram": {"field": "date", "calendar_interval": "day",
                                    "min_doc_count": 1, "time_zone": "UTC"}},
    }


def facets_from_response(resp: dict[str, Any], granularity: str | None = None
                         ) -> tuple[list[FacetValue], list[FacetValue], str | None]:
    """Section counts (most first, then by name), the date histogram and its granularity
    (``granularity`` when given, else chosen from the span of the hits)."""
    if granularity not in (None, *GRANULARITIES):
        raise ValueError("date granularity must be day, month or year")
    aggs = resp.get("aggregations", {})
    sections = [FacetValue(b["key"], int(b["doc_count"]))
                for b in aggs.get("section", {}).get("buckets", [])]
    sections.sort(key=lambda f: (-f.count, f.value))
    buckets = aggs.get("days", {}).get("buckets", [])
    if not buckets:
        return sections, [], granularity
    days = np.array([int(b["key"]) // _MS_PER_DAY for b in buckets], dtype=np.int64)
    counts = np.array([int(b["doc_count"]) for b in buckets], dtype=np.int64)
    if granularity is None:
        granularity = granularity_for(int(days.max()) - int(days.min()))
    unit = {"day": "D", "month": "M", "year": "Y"}[granularity]
    periods = days.astype("datetime64[D]").astype(f"datetime64[{unit}]")
    values, inverse = np.unique(periods, return_inverse=True)
    totals = np.bincount(inverse, weights=counts).astype(np.int64)
    return sections, [FacetValue(str(v), int(c)) for v, c in
                      zip(values, totals, strict=True)], granularity
