"""newsearch: full-text search for news archives.

    readers ─▶ Article ─▶ analysis ─▶ index (Whoosh, or an OpenSearch cluster) ─▶ search
            ─▶ results ─▶ CLI / web

The public API is what ``__all__`` lists; everything else is internal.
"""

from __future__ import annotations

import logging

from .article import Article
from .backend import BackendError, SearchIndex, index_paths, index_stats, open_index
from .backends.whoosh.index import NewsIndex
from .errors import (
    ArticleNotFound,
    IndexDamaged,
    IndexIOError,
    IndexLocked,
    IndexNotFound,
    IndexVersionError,
    NewsearchError,
    QueryError,
    SkippedInput,
    WorkerDied,
)
from .results import FacetValue, Hit, RelatedResults, SearchResults
from .runs import IndexReport, Skip
from .stats import IndexStats
from .trends import TrendResults, TrendSeries
from .watches import Watch, WatchAlert, WatchError, add_watch, check_watches, remove_watch, watches

__all__ = [
    "Article",
    "ArticleNotFound",
    "BackendError",
    "FacetValue",
    "Hit",
    "IndexDamaged",
    "IndexIOError",
    "IndexLocked",
    "IndexNotFound",
    "IndexReport",
    "IndexStats",
    "IndexVersionError",
    "NewsIndex",
    "NewsearchError",
    "QueryError",
    "RelatedResults",
    "SearchIndex",
    "SearchResults",
    "Skip",
    "SkippedInput",
    "TrendResults",
    "TrendSeries",
    "Watch",
    "WatchAlert",
    "WatchError",
    "WorkerDied",
    "add_watch",
    "check_watches",
    "index_paths",
    "index_stats",
    "open_index",
    "remove_watch",
    "watches",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
