"""What an index holds: article count, sections, date range, size (``newsearch stats``).

Each backend fills :class:`IndexStats` its own way: from the Whoosh index's reader
(:mod:`newsearch.backends.whoosh.stats`) or from the cluster's aggregations
(:mod:`newsearch.backends.opensearch.search`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["IndexStats"]


@dataclass(slots=True)
class IndexStats:
    documents: int
    sections: dict[str, int] = field(default_factory=dict)
    date_min: str | None = None
    date_max: str | None = None
    undated: int = 0
    index: str = ""
    index_bytes: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "sections": dict(self.sections),
            "date_min": self.date_min,
            "date_max": self.date_max,
            "undated": self.undated,
            "index": self.index,
            "index_bytes": self.index_bytes,
        }

