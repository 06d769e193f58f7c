"""The JSON API: ``/api/search``, ``/api/articles/{id}``, ``/api/stats``.

Each endpoint validates its parameters (FastAPI: 422 on a bad one), makes one library call on
the shared index (:class:`~newsearch.SearchIndex`) and returns the library's own ``to_dict()`` — the
same JSON as ``newsearch search --json``, ``show --json`` and ``stats --json``. The pydantic
models below only document that JSON in ``/openapi.json``; responses are not re-serialised
through them.

The endpoints are plain ``def`` functions: FastAPI runs them in its thread pool, where the
index gives each thread its own Whoosh searcher.
"""

from __future__ import annotations

import threading
from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ..backend import SearchIndex
from ..query import MAX_QUERY_CHARS
from ..search import DEFAULT_HALF_LIFE_DAYS, MAX_PAGE, MAX_PER_PAGE
from ..stats import IndexStats

__all__ = ["DEFAULT_PER_PAGE", "MAX_ID_CHARS", "MAX_SECTIONS", "StatsCache", "index_of", "router"]

DEFAULT_PER_PAGE = 10
MAX_SECTIONS = 20
MAX_SECTION_CHARS = 200
MAX_ID_CHARS = 200
MAX_HALF_LIFE_DAYS = 365_000.0


# --- the documented JSON shapes ------------------------------------------------------------------


class ErrorOut(BaseModel):
    error: str = Field(description="One sentence saying what was wrong.")


class ValidationErrorOut(ErrorOut):
    detail: list[dict[str, object]] = Field(description="FastAPI's list of invalid fields.")


class FacetValueOut(BaseModel):
    value: str
    count: int


class HitOut(BaseModel):
    id: str
    title: str
    date: str | None = Field(
        description="ISO 8601 at the UTC offset the source gave (else UTC); null when the "
        "article is undated. Filters and the date facet use UTC days.")
    section: list[str]
    url: str | None
    source: str
    score: float
    snippets: list[str] = Field(
        description="HTML-safe: the text is escaped, matches are wrapped in <mark>.")
    rank: int


class SearchResultsOut(BaseModel):
    query: str
    total: int = Field(description="Articles matching the query and filters.")
    page: int
    per_page: int
    pages: int
    took_ms: float
    sort: Literal["relevance", "date", "recency"]
    suggestion: str | None = Field(description="Did you mean: a corrected query, or null.")
    fallback: Literal["any-word"] | None
    notices: list[str] = Field(description="Repairs made to the query and other notes.")
    hits: list[HitOut]
    facets: dict[str, list[FacetValueOut]] = Field(
        description='"section": counts per section; "lang": counts per article language; '
                    '"date": a histogram over all hits.')
    date_granularity: Literal["day", "month", "year"] | None


class ArticleOut(BaseModel):
    id: str
    title: str
    subtitle: str | None
    body: str
    date: str | None
    section: list[str]
    url: str | None
    author: str | None
    lang: str | None
    tags: list[str]
    source: str


class StatsOut(BaseModel):
    documents: int
    sections: dict[str, int]
    date_min: str | None
    date_max: str | None
    undated: int
    index: str
    index_bytes: int


ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorOut, "description": "The query cannot be run (bad syntax)."},
    422: {"model": ValidationErrorOut,
          "description": "A parameter is missing or invalid (a malformed date included)."},
}


class StatsCache:
    """``stats()`` reads every section's postings; compute it once per generation."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entry: tuple[int, IndexStats] | None = None

    def stats(self, index: SearchIndex) -> IndexStats:
        generation = index.generation
        entry = self._entry
        if entry is None or entry[0] != generation:
            entry = (generation, index.stats())
            with self._lock:
                self._entry = entry
        return entry[1]


# --- endpoints -----------------------------------------------------------------------------------


def index_of(request: Request) -> SearchIndex:
    index: SearchIndex = request.app.state.index
    return index


def router() -> APIRouter:
    r = APIRouter(prefix="/api", tags=["search"])

    @r.get("/search", response_model=SearchResultsOut, responses=ERRORS,
           summary="Search the archive (the JSON of `newsearch search --json`)")
    def search(
        request: Request,
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS,
                                description="The query, in newsearch's query language.")],
        section: Annotated[list[str] | None, Query(
            max_length=MAX_SECTIONS,
            description="Only articles in this section (repeatable: any of them).")] = None,
        # No pattern here: the library checks dates (one rule, one message, 422 for all).
        since: Annotated[str | None, Query(
            max_length=40, description="From this day on (UTC): YYYY-MM-DD, or YYYY-MM / "
            "YYYY for the first day of that month / year.")] = None,
        until: Annotated[str | None, Query(
            max_length=40, description="Up to this day (UTC): YYYY-MM-DD, or YYYY-MM / "
            "YYYY for the last day of that month / year.")] = None,
        sort: Annotated[Literal["relevance", "date", "recency"], Query(
            description="relevance; date (newest first); recency (relevance × age decay)."
        )] = "relevance",
        page: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 1,
        per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = DEFAULT_PER_PAGE,
        half_life: Annotated[float, Query(
            gt=0, le=MAX_HALF_LIFE_DAYS, allow_inf_nan=False,
            description="Half-life in days of the decay of sort=recency.")
        ] = DEFAULT_HALF_LIFE_DAYS,
    ) -> JSONResponse:
        sections = [s[:MAX_SECTION_CHARS] for s in section or ()]
        results = index_of(request).search(
            q, sections=sections, since=since, until=until, sort=sort, page=page,
            per_page=per_page, half_life_days=half_life)
        return JSONResponse(results.to_dict())

    @r.get("/articles/{article_id}", response_model=ArticleOut,
           responses={404: {"model": ErrorOut, "description": "No article with this id."},
                      422: ERRORS[422]},
           summary="One article in full (the JSON of `newsearch show --json`)")
    def article(request: Request,
                article_id: Annotated[str, Path(max_length=MAX_ID_CHARS)]) -> JSONResponse:
        return JSONResponse(index_of(request).get(article_id).to_dict())

    @r.get("/stats", response_model=StatsOut,
           summary="Articles, sections and date range (the JSON of `newsearch stats --json`)")
    def stats(request: Request) -> JSONResponse:
        return JSONResponse(request.app.state.cache.stats(index_of(request)).to_dict())

    return r
