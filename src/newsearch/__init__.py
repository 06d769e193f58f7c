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
    IndexLocked,
    IndexNotFound,
    IndexVersionError,
    NewsearchError,
    QueryError,
    SkippedInput,
)
from .indexer import IndexReport, Skip, index_paths
from .stats import IndexStats, index_stats

__all__ = [
    "Article",
    "ArticleNotFound",
    "IndexDamaged",
    "IndexLocked",
    "IndexNotFound",
    "IndexReport",
    "IndexStats",
    "IndexVersionError",
    "NewsearchError",
    "QueryError",
    "Skip",
    "SkippedInput",
    "index_paths",
    "index_stats",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
