"""The OpenSearch backend: newsearch's index kept in an OpenSearch cluster.

    client     node list, retries with back-off, health ─▶ Cluster
    mapping    the index layout and its version, alias and generation; Article ⇄ document
    bulk       batched writes that survive a lost node ─▶ BulkWriter
    manifest   which source file produced which articles, in the cluster ─▶ ClusterManifest
    lock       one index run at a time, from any machine ─▶ ClusterLock
    indexer    index runs (newsearch.runs' plan and counts) ─▶ index_paths_opensearch
    dsl        query plan ─▶ query DSL, newsearch's BM25F weights
    aggs       section and date facets from aggregations
    search     OpenSearchIndex: NewsIndex's methods and results over the cluster
    errors     unreachable, red, other mapping version, refused documents

Chosen by :mod:`newsearch.backend` (``--backend opensearch``, an ``opensearch+http://`` URL).

Needs the ``opensearch`` extra (``pip install 'newsearch[opensearch]'``, the official
opensearch-py client). The analysis is newsearch's own (see :mod:`.mapping`), so the cluster
needs no plugin.
"""

from __future__ import annotations

try:
    import opensearchpy  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError(
        "the OpenSearch backend needs opensearch-py: pip install 'newsearch[opensearch]'"
    ) from exc

from .aggs import facet_aggs, facets_from_response
from .bulk import BulkWriter
from .client import Address, Cluster, parse_url
from .dsl import compile_plan, leaves_of, search_body, stats_body, stats_from_response
from .errors import BulkRejected, ClusterUnavailable, ClusterUnhealthy, MappingVersionError
from .indexer import index_paths_opensearch
from .lock import ClusterLock
from .manifest import ClusterManifest
from .mapping import (
    MAPPING_VERSION,
    IndexSettings,
    article_from_source,
    create_news_index,
    document,
    index_body,
    open_news_index,
)
from .search import OpenSearchIndex

__all__ = [
    "MAPPING_VERSION",
    "Address",
    "BulkRejected",
    "BulkWriter",
    "Cluster",
    "ClusterLock",
    "ClusterManifest",
    "ClusterUnavailable",
    "ClusterUnhealthy",
    "IndexSettings",
    "MappingVersionError",
    "OpenSearchIndex",
    "article_from_source",
    "compile_plan",
    "create_news_index",
    "document",
    "facet_aggs",
    "facets_from_response",
    "index_body",
    "index_paths_opensearch",
    "leaves_of",
    "open_news_index",
    "parse_url",
    "search_body",
    "stats_body",
    "stats_from_response",
]
