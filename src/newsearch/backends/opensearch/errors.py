"""What can go wrong with a cluster, as one-sentence errors under newsearch's root.

    NewsearchError
    ├── ClusterUnavailable   no node of the list answers (or none for long enough)
    ├── ClusterUnhealthy     the cluster or the index is red: some data cannot be read
    ├── MappingVersionError  the index was made by another newsearch mapping or analysis
    └── BulkRejected         the cluster refused documents for a reason retrying cannot fix

A missing index is :class:`~newsearch.errors.IndexNotFound`, as for Whoosh.
"""

from __future__ import annotations

from ...errors import NewsearchError

__all__ = ["BulkRejected", "ClusterUnavailable", "ClusterUnhealthy", "MappingVersionError"]


class ClusterUnavailable(NewsearchError):
    def __init__(self, urls: str, reason: str) -> None:
        self.urls = urls
        self.reason = reason
        super().__init__(f"cannot reach the OpenSearch cluster at {urls} ({reason})")


class ClusterUnhealthy(NewsearchError):
    def __init__(self, urls: str, index: str, status: str) -> None:
        self.urls = urls
        self.index = index
        self.status = status
        super().__init__(
            f"the OpenSearch index {index} at {urls} is {status}: some of its shards have no "
            "copy on a running node; start the missing nodes"
        )


class MappingVersionError(NewsearchError):
    def __init__(self, index: str, found: object, expected: object) -> None:
        self.index = index
        self.found = found
        self.expected = expected
        super().__init__(
            f"the OpenSearch index {index} has mapping version {found}, this newsearch needs "
            f"{expected}; rebuild it with `newsearch index --rebuild`"
        )


class BulkRejected(NewsearchError):
    def __init__(self, index: str, doc_id: str, reason: str) -> None:
        self.index = index
        self.doc_id = doc_id
        self.reason = reason
        super().__init__(f"the OpenSearch index {index} refused document {doc_id}: {reason}")
