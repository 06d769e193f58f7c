"""What a search returns: plain dataclasses that turn into the documented JSON.

    SearchResults ─┬─ hits: [Hit]  (id, title, date, section, url, source, score, snippets)
                   └─ facets: {"section": [FacetValue], "lang": [FacetValue],
                               "date": [FacetValue]}

Snippets are HTML-safe strings: the article text is escaped and the matches are wrapped in
``<mark>...</mark>``. :mod:`newsearch.render` turns them into terminal text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = ["FacetValue", "Hit", "RelatedResults", "SearchResults"]


@dataclass(slots=True)
class Hit:
    id: str
    title: str
    date: datetime | None
    section: list[str]
    url: str | None
    source: str
    score: float
    snippets: list[str] = field(default_factory=list)
    rank: int = 0
    cluster: int = -1  # the story cluster (clusters.py)
    versions: int = 1  # articles in that cluster, this one included

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "date": self.date.isoformat() if self.date else None,
            "section": list(self.section),
            "url": self.url,
            "source": self.source,
            "score": round(self.score, 4),
            "snippets": list(self.snippets),
            "rank": self.rank,
            "cluster": self.cluster,
            "versions": self.versions,
        }


@dataclass(slots=True, frozen=True)
class FacetValue:
    value: str
    count: int

    def to_dict(self) -> dict[str, Any]:
        return {"value": self.value, "count": self.count}


@dataclass(slots=True)
class SearchResults:
    """One page of results. ``total`` counts every hit of the query and its filters."""

    query: str
    total: int
    page: int
    per_page: int
    took_ms: float
    hits: list[Hit] = field(default_factory=list)
    facets: dict[str, list[FacetValue]] = field(default_factory=dict)
    suggestion: str | None = None
    sort: str = "relevance"
    date_granularity: str | None = None
    # "any-word" when requiring every word found too little and the words were ORed instead.
    fallback: str | None = None
    notices: list[str] = field(default_factory=list)
    # Distinct stories among the hits (versions of one story count once): what the pages
    # hold when versions are collapsed (the default); None with ``all_versions``.
    stories: int | None = None

    @property
    def pages(self) -> int:
        shown = self.total if self.stories is None else self.stories
        return max(1, -(-shown // self.per_page)) if self.per_page else 1

    def to_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "total": self.total,
            "page": self.page,
            "per_page": self.per_page,
            "pages": self.pages,
            "took_ms": round(self.took_ms, 2),
            "sort": self.sort,
            "suggestion": self.suggestion,
            "fallback": self.fallback,
            "notices": list(self.notices),
            "hits": [h.to_dict() for h in self.hits],
            "facets": {
                name: [v.to_dict() for v in values] for name, values in self.facets.items()
            },
            "date_granularity": self.date_granularity,
            "stories": self.stories,
        }


@dataclass(slots=True)
class RelatedResults:
    """Stories related to the article ``id`` (``NewsIndex.similar``), best first."""

    id: str
    hits: list[Hit] = field(default_factory=list)
    took_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "hits": [h.to_dict() for h in self.hits]}
