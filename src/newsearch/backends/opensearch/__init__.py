"""The OpenSearch backend: newsearch's index kept in an OpenSearch cluster.

    client     node list, retries with back-off, health ─▶ Cluster
    mapping    the index layout and its version; Article ⇄ document
    bulk       batched writes that survive a lost node ─▶ BulkWriter
    manifest   which source file produced which articles, in the cluster ─▶ ClusterManifest
    dsl        query plan ─▶ query DSL, newsearch's BM25F weights
    aggs       section and date facets from aggregations
    errors     unreachable, red, other mapping version, refused documents

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
from .manifest import ClusterManifest
from .mapping import (
    MAPPING_VERSION,
    IndexSettings,
    article_from_source,
    create_news_index,
    document,
    open_news_index,
)

__all__ = [
    "MAPPING_VERSION",
    "Address",
    "BulkRejected",
    "BulkWriter",
    "Cluster",
    "ClusterManifest",
    "ClusterUnavailable",
    "ClusterUnhealthy",
    "IndexSettings",
    "MappingVersionError",
    "article_from_source",
    "compile_plan",
    "create_news_index",
    "document",
    "facet_aggs",
    "facets_from_response",
    "leaves_of",
    "open_news_index",
    "parse_url",
    "search_body",
    "stats_body",
    "stats_from_response",
]
