"""newsearch: full-text search for news archives.

    readers ─▶ Article ─▶ analysis ─▶ index (Whoosh) ─▶ search ─▶ results ─▶ CLI / web

The public API is what ``__all__`` lists; everything else is internal.
"""

from __future__ import annotations

import logging

from .article import Article
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
from .indexer import IndexReport, Skip, index_paths
from .results import FacetValue, Hit, SearchResults
from .searcher import NewsIndex, open_index
from .stats import IndexStats, index_stats

__all__ = [
    "Article",
    "ArticleNotFound",
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
    "SearchResults",
    "Skip",
    "SkippedInput",
    "WorkerDied",
    "index_paths",
    "index_stats",
    "open_index",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
