"""The file manifest in the cluster: which source file produced which articles.

    index "news"        the articles
    index "news-files"  one document per source file: path, signature, article ids, dedup
                        keys, keys of copies skipped as duplicates, why it was skipped (a
                        :class:`~newsearch.manifest.FileState`)

Kept in the cluster rather than beside a local index, so any machine can continue an index
run: it loads the manifest, compares it with its own walk of the corpus, and sends only what
changed.

Order of writes (what a killed run leaves): a batch's articles are written first, then the
manifest entries of the files in it; a file's removal deletes its articles first, then its
entry. So an entry never names articles the cluster lacks. A run killed in between leaves
articles without an entry; the next run reads those files again and overwrites the same ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from opensearchpy.exceptions import TransportError

from ...manifest import Column, FileState, Manifest
from .bulk import BulkWriter
from .client import Cluster
from .mapping import MAPPING_VERSION, IndexSettings

__all__ = ["MANIFEST_SUFFIX", "ClusterManifest", "manifest_index"]

MANIFEST_SUFFIX = "-files"
PAGE = 1_000


def manifest_index(index: str) -> str:
    return f"{index}{MANIFEST_SUFFIX}"


def _doc_id(path: str) -> str:
    # Paths can be longer than an _id may be (512 bytes).
    return hashlib.blake2b(path.encode("utf-8"), digest_size=16).hexdigest()


def _body(settings: IndexSettings) -> dict[str, Any]:
    stored = {"type": "keyword", "index": False, "doc_values": False}
    return {
        # Small: one shard, as many copies as the articles have.
        "settings": {"index": {"number_of_shards": 1,
                               "number_of_replicas": settings.replicas, **settings.extra}},
        "mappings": {
            "dynamic": "strict",
            "_meta": {"newsearch": {"mapping_version": MAPPING_VERSION}},
            "properties": {"path": {"type": "keyword"}, "sig": stored, "ids": stored,
                           "keys": stored, "dups": stored, "skip": stored},
        },
    }


class ClusterManifest:
    """The manifest of the articles index ``index``, in the index ``<index>-files``."""

    def __init__(self, cluster: Cluster, index: str) -> None:
        self.cluster = cluster
        self.index = manifest_index(index)

    def create(self, settings: IndexSettings | None = None) -> None:
        try:
            self.cluster.call(self.cluster.client.indices.create, index=self.index,
                              body=_body(settings or IndexSettings()))
        except TransportError as exc:
            if exc.error != "resource_already_exists_exception":
                raise

    def exists(self) -> bool:
        return bool(self.cluster.call(self.cluster.client.indices.exists, index=self.index))

    def load(self) -> Manifest:
        """Every file's entry (an empty manifest when the index does not exist yet)."""
        files: dict[str, FileState] = {}
        if not self.exists():
            return Manifest(files)
        self.cluster.call(self.cluster.client.indices.refresh, index=self.index)
        after: list[Any] | None = None
        while True:
            body: dict[str, Any] = {"size": PAGE, "sort": [{"path": "asc"}],
                                    "query": {"match_all": {}}}
            if after is not None:
                body["search_after"] = after
            resp = self.cluster.call(self.cluster.client.search, index=self.index, body=body)
            hits = resp["hits"]["hits"]
            for h in hits:
                s = h["_source"]
                files[s["path"]] = FileState(s["sig"], Column(s.get("ids") or []),
                                             Column(s.get("keys") or []),
                                             Column(s.get("dups") or []), s.get("skip"))
            if len(hits) < PAGE:
                return Manifest(files)
            after = hits[-1]["sort"]

    def save(self, changed: Mapping[str, FileState], removed: Iterable[str] = (), *,
             refresh: str | bool = False) -> None:
        """Write the entries of ``changed`` files and drop those of ``removed`` ones."""
        with BulkWriter(self.cluster, self.index, refresh=refresh) as w:
            for path, st in changed.items():
                doc = {"path": path, "sig": st.sig, "ids": list(st.ids),
                       "keys": list(st.keys), "dups": list(st.dups)}
                if st.skip:
                    doc["skip"] = st.skip  # a skipped file is remembered until it changes
                w.index_doc(_doc_id(path), doc)
            for path in removed:
                w.delete_doc(_doc_id(path))
