"""Scratch space for the OpenSearch benchmark scripts (``bench/opensearch_*.py``).

    with scratch("bench-latency-run") as s:
        index_paths(paths, s.folder / "whoosh")    # a fresh Whoosh folder
        index_paths(paths, s.where)                # a fresh cluster index
        ...

:func:`scratch` opens a client of the local cluster, gives the run its index name in the
cluster and a work folder on disk, and tears both down however the run ends: the indexes
named ``NAME*`` (the index with its manifest, lock and watches indexes) are deleted, the
client closed and the folder removed, also when the run fails or is interrupted (Ctrl-C).
Indexes left by an earlier run that was killed are deleted before the run too.

:func:`cluster_urls` is where the scripts find the cluster: ``$NEWSEARCH_OPENSEARCH_URL``,
else the nodes ``scripts/opensearch-cluster.sh`` starts (at
``$NEWSEARCH_OPENSEARCH_HTTP_PORT``, default 9200, and the two ports after it).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from newsearch.backends.opensearch import Cluster

# Spelled out, not imported: the scripts also run older checkouts' code (PYTHONPATH=<it>/src),
# so this module leans on nothing but Cluster, which they all have.
ENV_URL = "NEWSEARCH_OPENSEARCH_URL"
# As scripts/opensearch-cluster.sh: three nodes on consecutive HTTP ports.
ENV_HTTP_PORT = "NEWSEARCH_OPENSEARCH_HTTP_PORT"
NODES = 3


def cluster_urls() -> str:
    """The local cluster's node URLs, comma-separated."""
    if os.environ.get(ENV_URL):
        return os.environ[ENV_URL]
    first = int(os.environ.get(ENV_HTTP_PORT) or 9200)
    return ",".join(f"http://127.0.0.1:{port}" for port in range(first, first + NODES))


class Scratch:
    """One benchmark run's index in the cluster and its work folder (made on first use)."""

    def __init__(self, urls: str, name: str) -> None:
        self.urls = urls
        self.cluster = Cluster(urls)
        self.name = name
        self._folder: Path | None = None

    @property
    def where(self) -> str:
        """The cluster index as ``index_paths`` and ``open_index`` take it."""
        return f"opensearch+{self.urls}/{self.name}"

    @property
    def folder(self) -> Path:
        """A new, empty folder of this run's own (removed with the run)."""
        if self._folder is None:
            self._folder = Path(tempfile.mkdtemp(prefix=f"newsearch-{self.name}-"))
        return self._folder

    def delete_indexes(self) -> None:
        self.cluster.client.indices.delete(index=f"{self.name}*", ignore=[404])


@contextmanager
def scratch(name: str, urls: str | None = None) -> Iterator[Scratch]:
    """A run's index ``name`` in the cluster at ``urls`` (default :func:`cluster_urls`) and
    its work folder, torn down when the block ends, by an exception or Ctrl-C too."""
    s = Scratch(urls or cluster_urls(), name)
    try:
        s.delete_indexes()
        yield s
    finally:
        # Each step whatever the one before did: a cluster that stopped answering (maybe why
        # the run failed) still leaves no folder behind and no client open.
        try:
            s.delete_indexes()
        finally:
            s.cluster.close()
            if s._folder is not None:
                shutil.rmtree(s._folder, ignore_errors=True)
