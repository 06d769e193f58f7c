"""Saved searches of an index in a cluster: one document per watch, in the cluster itself.

    index "<name>-watches", document "<watch name>": {name, query, sections, created, checked}

Kept in the cluster, as the manifest and the writer lock are, so that any machine that
searches or indexes the index sees the same watches; named after the index's alias (not its
concrete index), so they outlive ``--rebuild`` as a folder's watches file does.

Every change is one document write that the cluster itself makes safe against concurrent
writers, so no lock is needed: ``add`` creates the document (``op_type=create``: a name
already taken is refused atomically), ``remove`` deletes it, and a check moves a watch's
mark only if the document is unchanged since the check read it (its sequence number); when
another check moved it first, :func:`newsearch.watches.check_watches` reads the watch again
and looks only past the new mark, so no article is reported twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from opensearchpy.exceptions import ConflictError, NotFoundError, TransportError

from ...watches import Watch, WatchError, watch_from_dict, watch_record
from .client import Cluster

__all__ = ["ClusterWatches", "watches_index"]

# More than anyone saves; each one is evaluated at every index run.
MAX_WATCHES = 10_000


def watches_index(name: str) -> str:
    return f"{name}-watches"


_BODY: dict[str, Any] = {
    # One small shard, copied to a second node when there is one.
    "settings": {"index": {"number_of_shards": 1, "auto_expand_replicas": "0-1"}},
    "mappings": {"dynamic": "strict", "properties": {
        "name": {"type": "keyword"}, "query": {"type": "keyword", "index": False},
        "sections": {"type": "keyword", "index": False}, "created": {"type": "long"},
        "checked": {"type": "long", "index": False}}},
}


class ClusterWatches:
    """The :class:`~newsearch.watches.WatchStore` of index ``name`` in a cluster."""

    def __init__(self, cluster: Cluster, name: str) -> None:
        self.cluster = cluster
        self.index = watches_index(name)
        self._seq: dict[str, tuple[int, int]] = {}  # name: (seq_no, primary_term) read

    def load(self) -> list[Watch]:
        try:
            resp = self.cluster.call(self.cluster.client.search, index=self.index, body={
                "size": MAX_WATCHES, "seq_no_primary_term": True,
                "sort": [{"created": "asc"}, {"name": "asc"}]})
        except NotFoundError:
            return []  # no watch was ever saved
        out = []
        for h in resp["hits"]["hits"]:
            self._seq[h["_id"]] = (int(h["_seq_no"]), int(h["_primary_term"]))
            out.append(watch_from_dict(h["_source"]))
        return out

    def add(self, watch: Watch) -> None:
        try:
            self.cluster.call(self.cluster.client.indices.create, index=self.index,
                              body=_BODY)
        except TransportError as exc:
            if exc.error != "resource_already_exists_exception":
                raise
        try:
            # Searchable when this returns: the next `watch list` shows it.
            self.cluster.call(self.cluster.client.create, index=self.index, id=watch.name,
                              body=watch_record(watch), params={"refresh": "wait_for"})
        except ConflictError:
            raise WatchError(f"a watch named “{watch.name}” exists already; remove it "
                             "first") from None

    def remove(self, name: str) -> None:
        try:
            self.cluster.call(self.cluster.client.delete, index=self.index, id=name,
                              params={"refresh": "wait_for"})
        except NotFoundError:
            raise WatchError(f"there is no watch named “{name}”") from None

    @contextlib.contextmanager
    def checking(self) -> Iterator[None]:
        yield  # each mark is moved on its own, guarded by its sequence number

    def move_mark(self, watch: Watch, checked: int) -> bool:
        seq = self._seq.get(watch.name)
        if seq is None:
            return True  # not read by this store: nothing to compare with
        record = {**watch_record(watch), "checked": int(checked)}
        try:
            resp = self.cluster.call(
                self.cluster.client.index, index=self.index, id=watch.name, body=record,
                params={"if_seq_no": str(seq[0]), "if_primary_term": str(seq[1]),
                        "refresh": "wait_for"})
        except ConflictError:
            return False  # moved (or removed and saved again) by someone else meanwhile
        except NotFoundError:
            return True  # the watches index is gone: nothing left to mark
        self._seq[watch.name] = (int(resp["_seq_no"]), int(resp["_primary_term"]))
        watch.checked = int(checked)
        return True

    def reload(self, name: str) -> Watch | None:
        try:
            doc = self.cluster.call(self.cluster.client.get, index=self.index, id=name)
        except NotFoundError:
            return None
        if not doc.get("found"):
            return None
        self._seq[name] = (int(doc["_seq_no"]), int(doc["_primary_term"]))
        return watch_from_dict(doc["_source"])
