"""Writing documents in batches: the bulk API, with retries that survive a lost node.

    index(id, source) / delete(id) ─▶ buffer ─(BATCH_DOCS or BATCH_BYTES)─▶ _bulk request

A batch is one ``_bulk`` request. Whole-request failures (429, 5xx, no node answering) are
repeated with back-off by :meth:`Cluster.call`; inside an answered request, the items the
cluster could not take *yet* (429 queues full, 503 a primary being promoted after its node
left, a shard not ready) are sent again on their own with the same back-off. Any other item
error (a document the mapping refuses) cannot be fixed by waiting: it raises
:class:`~.errors.BulkRejected`. Every action names its ``_id``, so a repeated batch
overwrites rather than duplicates, and deleting a document that is already gone counts as
done.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .client import RETRY_STATUSES, Cluster
from .errors import BulkRejected, ClusterUnavailable

__all__ = ["BATCH_BYTES", "BATCH_DOCS", "LOAD_REFRESH_INTERVAL", "BulkStats", "BulkWriter",
           "loading"]

# A batch is sent at whichever limit comes first. 1,000 news articles are 2-5 MB of JSON:
# large enough to keep the cluster busy, small enough that a retried batch costs little.
BATCH_DOCS = 1_000
BATCH_BYTES = 8_000_000
# Seconds a bulk request may take: above the minute the cluster itself holds an item whose
# shard has no active primary, so it answers (503 for that item) before the client gives up.
BULK_REQUEST_TIMEOUT = 120.0
# While an index run writes, the index makes new documents searchable this often instead of
# every second: fewer, larger segments. Reuters-21578 into 3 shards × 2 copies took 32-49 s
# against 59-62 s with the default (same runs; the machine was shared, see bench/README.md).
# Not "off": the documents of a run killed half-way still become searchable.
LOAD_REFRESH_INTERVAL = "30s"


@dataclass(slots=True)
class BulkStats:
    indexed: int = 0
    deleted: int = 0
    requests: int = 0
    retried_items: int = 0


class BulkWriter:
    """Buffers index and delete actions for one index and sends them in batches.

    ``refresh`` is passed with every request (``"wait_for"`` makes each batch searchable
    before the call returns; the default leaves that to the index's refresh interval).
    ``wait_for_shards`` is how long the cluster holds an item whose shard has no active
    primary before answering 503 (the bulk API's ``timeout``; its default is one minute).
    Use as a context manager, or call :meth:`flush` at the end.
    """

    def __init__(self, cluster: Cluster, index: str, *, batch_docs: int = BATCH_DOCS,
                 batch_bytes: int = BATCH_BYTES, refresh: str | bool = False,
                 wait_for_shards: str | None = None) -> None:
        self.cluster = cluster
        self.index = index
        self.batch_docs = max(1, batch_docs)
        self.batch_bytes = batch_bytes
        self.params = {"refresh": str(refresh).lower()}
        if wait_for_shards:
            self.params["timeout"] = wait_for_shards
        self.stats = BulkStats()
        self._lines: list[bytes] = []  # each action's NDJSON lines, encoded
        self._actions: list[tuple[str, str]] = []  # (op, id), parallel to the action pairs
        self._bytes = 0

    def index_doc(self, doc_id: str, source: dict[str, Any]) -> None:
        action = json.dumps({"index": {"_index": self.index, "_id": doc_id}})
        body = json.dumps(source, ensure_ascii=False, separators=(",", ":"))
        self._add("index", doc_id, f"{action}\n{body}\n".encode())

    def delete_doc(self, doc_id: str) -> None:
        self._add("delete", doc_id,
                  (json.dumps({"delete": {"_index": self.index, "_id": doc_id}}) + "\n").encode())

    def index_many(self, docs: Iterable[tuple[str, dict[str, Any]]]) -> None:
        for doc_id, source in docs:
            self.index_doc(doc_id, source)

    def _add(self, op: str, doc_id: str, lines: bytes) -> None:
        self._lines.append(lines)
        self._actions.append((op, doc_id))
        self._bytes += len(lines)
        if len(self._actions) >= self.batch_docs or self._bytes >= self.batch_bytes:
            self.flush()

    def flush(self) -> None:
        """Send what is buffered; return when the cluster has taken all of it."""
        lines, actions = self._lines, self._actions
        self._lines, self._actions, self._bytes = [], [], 0
        deadline = time.monotonic() + self.cluster.retry_seconds
        attempt = 0
        while lines:
            resp = self.cluster.request("POST", "/_bulk", self.params, b"".join(lines),
                                        request_timeout=BULK_REQUEST_TIMEOUT)
            self.stats.requests += 1
            lines, actions = self._settle(resp, lines, actions)
            if lines:
                delay = self.cluster.backoff(attempt)
                if time.monotonic() + delay > deadline:
                    raise ClusterUnavailable(
                        self.cluster.urls,
                        f"{len(actions)} documents still refused after {attempt + 1} tries")
                self.stats.retried_items += len(actions)
                time.sleep(delay)
                attempt += 1

    def _settle(self, resp: dict[str, Any], lines: list[bytes], actions: list[tuple[str, str]]
                ) -> tuple[list[bytes], list[tuple[str, str]]]:
        """Count what the cluster took; return the actions to send again."""
        again_lines: list[bytes] = []
        again: list[tuple[str, str]] = []
        items = resp.get("items", [])
        if len(items) != len(actions):
            raise ClusterUnavailable(self.cluster.urls, "a bulk response did not match its "
                                                        "request")
        for item, line, (op, doc_id) in zip(items, lines, actions, strict=True):
            result = item.get(op, {})
            status = int(result.get("status", 500))
            if status < 300 or (op == "delete" and status == 404):
                if op == "index":
                    self.stats.indexed += 1
                else:
                    self.stats.deleted += 1
            elif status in RETRY_STATUSES or (status == 500 and _shard_not_ready(result)):
                again_lines.append(line)
                again.append((op, doc_id))
            else:
                error = result.get("error") or {}
                reason = error.get("reason") if isinstance(error, dict) else str(error)
                raise BulkRejected(self.index, doc_id, f"HTTP {status} {reason}")
        return again_lines, again

    def __enter__(self) -> BulkWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.flush()


def _shard_not_ready(result: dict[str, Any]) -> bool:
    """Errors a shard gives while it is being moved or recovered (seen with status 500)."""
    error = result.get("error") or {}
    kind = error.get("type", "") if isinstance(error, dict) else ""
    return kind in {"shard_not_in_primary_mode_exception", "index_shard_closed_exception",
                    "node_closed_exception", "unavailable_shards_exception",
                    "no_shard_available_action_exception"}


@contextmanager
def loading(cluster: Cluster, index: str,
            refresh_interval: str = LOAD_REFRESH_INTERVAL) -> Iterator[None]:
    """For a long write: refresh ``index`` every ``refresh_interval``, then (whatever
    happens) go back to the index's default and make everything written searchable."""
    def interval(value: str | None) -> None:
        cluster.call(cluster.client.indices.put_settings, index=index,
                     body={"index": {"refresh_interval": value}})

    interval(refresh_interval)
    try:
        yield
    finally:
        interval(None)
        cluster.call(cluster.client.indices.refresh, index=index)
