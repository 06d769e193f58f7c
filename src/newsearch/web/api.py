"""The JSON API: ``/api/search``, ``/api/articles/{id}``, ``/api/trend``, ``/api/stats``,
``/api/watches/{name}/new``.

Each endpoint validates its parameters (FastAPI: 422 on a bad one), makes one library call on
the shared index (:class:`~newsearch.SearchIndex`) and returns the library's own ``to_dict()`` — the
same JSON as ``newsearch search --json``, ``show --json``, ``trend --json`` and
``stats --json``. The pydantic models below only document that JSON in ``/openapi.json``;
responses are not re-serialised through them.

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
from ..errors import NotAvailable, QueryError
from ..query import MAX_QUERY_CHARS
from ..render import article_dict
from ..search import DEFAULT_HALF_LIFE_DAYS, MAX_PAGE, MAX_PER_PAGE
from ..stats import IndexStats
from ..watches import WatchError, check_watches, micros_iso, watch_store

__all__ = ["DEFAULT_PER_PAGE", "MAX_ID_CHARS", "MAX_SECTIONS", "MAX_TREND_QUERIES", "StatsCache",
           "index_of", "router"]

DEFAULT_PER_PAGE = 10
MAX_SECTIONS = 20
MAX_SECTION_CHARS = 200
MAX_ID_CHARS = 200
MAX_HALF_LIFE_DAYS = 365_000.0
MAX_TREND_QUERIES = 10  # series side by side in one answer


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
    cluster: int = Field(description="The story cluster: versions of one story share it.")
    versions: int = Field(description="Articles in the cluster (1 for a lone article).")


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
    stories: int | None = Field(
        description="Distinct stories among the hits (null with all_versions): versions of "
                    "one story are shown once unless all_versions is true.")


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
    cluster: int | None
    versions: list[HitOut] = Field(
        description="Every version of the story, this article included, oldest first.")


class WatchNewOut(BaseModel):
    watch: str
    count: int = Field(description="New articles the watch's query finds.")
    ids: list[str] = Field(description="All of them, in the order they were indexed.")
    since: str
    next_since: str = Field(description="Pass as since in the next poll.")
    hits: list[HitOut] = Field(description="The first 100 of them.")


class TrendPeriodOut(BaseModel):
    period: str = Field(description="YYYY-MM-DD, YYYY-Www, YYYY-MM or YYYY.")
    count: int = Field(description="Articles the query finds in that period.")


class TrendSeriesOut(BaseModel):
    query: str
    periods: list[TrendPeriodOut] = Field(
        description="Every period of the range, oldest first, empty ones as zeros.")


class TrendOut(BaseModel):
    by: Literal["day", "week", "month", "year"]
    series: list[TrendSeriesOut] = Field(description="One per query, in the order given.")


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
        all_versions: Annotated[bool, Query(
            description="List every version of a story (default: the best one).")] = False,
    ) -> JSONResponse:
        sections = [s[:MAX_SECTION_CHARS] for s in section or ()]
        results = index_of(request).search(
            q, sections=sections, since=since, until=until, sort=sort, page=page,
            per_page=per_page, half_life_days=half_life, all_versions=all_versions)
        return JSONResponse(results.to_dict())

    @r.get("/articles/{article_id}", response_model=ArticleOut,
           responses={404: {"model": ErrorOut, "description": "No article with this id."},
                      422: ERRORS[422]},
           summary="One article in full (the JSON of `newsearch show --json`)")
    def article(request: Request,
                article_id: Annotated[str, Path(max_length=MAX_ID_CHARS)]) -> JSONResponse:
        index = index_of(request)
        return JSONResponse(article_dict(index.get(article_id), index.versions(article_id)))

    @r.get("/watches/{name}/new", response_model=WatchNewOut,
           responses={404: {"model": ErrorOut, "description": "No watch with this name."},
                      422: ERRORS[422]},
           summary="Articles indexed since `since` that a saved search finds")
    def watch_new(request: Request, name: Annotated[str, Path(max_length=64)],
                  since: Annotated[str | None, Query(
                      max_length=40, description="Indexed after this moment: an ISO date-time "
                      "(UTC unless it has an offset) or a day, month or year; by default since "
                      "the watch's last check. Poll again with next_since.")] = None
                  ) -> JSONResponse:
        index = index_of(request)
        try:
            watch_store(index)  # a backend that keeps no saved searches: 501
        except NotAvailable as exc:
            return JSONResponse({"error": str(exc)}, status_code=501)
        try:
            newest = index.newest_added()
            alert = check_watches(index, [name], since=since, update=False,
                                  first=MAX_PER_PAGE)[0]
        except WatchError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        return JSONResponse({**alert.to_dict(), "since": micros_iso(alert.since),
                             "next_since": micros_iso(max(newest, alert.since)),
                             "hits": [h.to_dict() for h in alert.hits]})

    @r.get("/trend", response_model=TrendOut,
           responses={**ERRORS, 501: {"model": ErrorOut,
                                      "description": "The backend keeps no trends."}},
           summary="Matching articles per period (the JSON of `newsearch trend --json`)")
    def trend(
        request: Request,
        q: Annotated[list[str], Query(
            min_length=1, max_length=MAX_TREND_QUERIES,
            description="A query (repeatable: the series side by side).")],
        by: Annotated[Literal["day", "week", "month", "year"], Query(
            description="The period: day, week (ISO), month or year.")] = "month",
        section: Annotated[list[str] | None, Query(
            max_length=MAX_SECTIONS,
            description="Only articles in this section (repeatable: any of them).")] = None,
        since: Annotated[str | None, Query(
            max_length=40, description="From this day on (UTC), as in /api/search.")] = None,
        until: Annotated[str | None, Query(
            max_length=40, description="Up to this day (UTC), as in /api/search.")] = None,
    ) -> JSONResponse:
        too_long = next((x for x in q if len(x) > MAX_QUERY_CHARS), None)
        if too_long is not None:
            raise QueryError(too_long[:40], f"q must be at most {MAX_QUERY_CHARS} characters",
                             parameter="q")
        sections = [s[:MAX_SECTION_CHARS] for s in section or ()]
        try:
            results = index_of(request).trend(q, by=by, sections=sections, since=since,
                                              until=until)
        except NotAvailable as exc:
            return JSONResponse({"error": str(exc)}, status_code=501)
        return JSONResponse(results.to_dict())

    @r.get("/stats", response_model=StatsOut,
           summary="Articles, sections and date range (the JSON of `newsearch stats --json`)")
    def stats(request: Request) -> JSONResponse:
        return JSONResponse(request.app.state.cache.stats(index_of(request)).to_dict())

    return r
