"""The writer lock of an index in a cluster: one index run at a time, from any machine.

    index "<name>-lock", document "writer": {owner, host, pid, heartbeat}

Taking the lock creates the document (``_create``: the cluster refuses a second one with 409,
atomically). The holder rewrites ``heartbeat`` every :data:`HEARTBEAT_SECONDS` from a thread;
a lock whose heartbeat is older than :data:`STALE_SECONDS` belongs to a run that died (a
killed process, a lost machine) and is taken over, guarded by the document's sequence number
so that two runs cannot both take it over. Releasing deletes the document.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
import uuid
from typing import Any

from opensearchpy.exceptions import ConflictError, NotFoundError, TransportError

from ...errors import IndexLocked
from .client import Cluster

__all__ = ["HEARTBEAT_SECONDS", "STALE_SECONDS", "ClusterLock", "lock_index"]

HEARTBEAT_SECONDS = 10.0
STALE_SECONDS = 60.0
POLL_SECONDS = 1.0
DOC_ID = "writer"


def lock_index(name: str) -> str:
    return f"{name}-lock"


class ClusterLock:
    """Context manager holding the writer lock of index ``name``; waits up to ``wait``
    seconds for another holder, then raises :class:`~newsearch.errors.IndexLocked`."""

    def __init__(self, cluster: Cluster, name: str, wait: float = 0.0, *,
                 replicas: int = 1, location: str | None = None) -> None:
        self.cluster = cluster
        self.name = name
        self.index = lock_index(name)
        self.wait = wait
        self.replicas = replicas
        self.location = location or name
        self.owner = uuid.uuid4().hex
        self._seq: tuple[int, int] | None = None  # (seq_no, primary_term) of our document
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.lost = False  # another run took the lock over (our heartbeats stopped)

    def _body(self) -> dict[str, Any]:
        return {"owner": self.owner, "host": socket.gethostname(), "pid": os.getpid(),
                "heartbeat": time.time()}

    def _ensure_index(self) -> None:
        try:
            self.cluster.call(self.cluster.client.indices.create, index=self.index, body={
                "settings": {"index": {"number_of_shards": 1,
                                       "number_of_replicas": self.replicas}},
                "mappings": {"dynamic": False}})
        except TransportError as exc:
            if exc.error != "resource_already_exists_exception":
                raise

    def _try(self) -> bool:
        c = self.cluster
        try:
            resp = c.call(c.client.create, index=self.index, id=DOC_ID, body=self._body(),
                          params={"refresh": "true"})
            self._seq = (int(resp["_seq_no"]), int(resp["_primary_term"]))
            return True
        except ConflictError:
            pass
        try:
            held = c.call(c.client.get, index=self.index, id=DOC_ID)
        except NotFoundError:
            return False  # released meanwhile: try again at once
        age = time.time() - float(held["_source"].get("heartbeat", 0))
        if age < STALE_SECONDS:
            return False
        try:  # a dead run's lock: take it over unless someone else just did
            resp = c.call(c.client.index, index=self.index, id=DOC_ID, body=self._body(),
                          params={"if_seq_no": str(held["_seq_no"]),
                                  "if_primary_term": str(held["_primary_term"]),
                                  "refresh": "true"})
        except ConflictError:
            return False
        self._seq = (int(resp["_seq_no"]), int(resp["_primary_term"]))
        return True

    def acquire(self) -> None:
        self._ensure_index()
        deadline = time.monotonic() + self.wait
        while not self._try():
            if time.monotonic() >= deadline:
                raise IndexLocked(self.location)
            time.sleep(min(POLL_SECONDS, max(0.05, deadline - time.monotonic())))
        self._thread = threading.Thread(target=self._beat, name="newsearch-lock", daemon=True)
        self._thread.start()

    def _beat(self) -> None:
        c = self.cluster
        while not self._stop.wait(HEARTBEAT_SECONDS):
            seq = self._seq
            if seq is None:
                return
            try:
                resp = c.client.index(index=self.index, id=DOC_ID, body=self._body(),
                                      params={"if_seq_no": str(seq[0]),
                                              "if_primary_term": str(seq[1])})
                self._seq = (int(resp["_seq_no"]), int(resp["_primary_term"]))
            except ConflictError:
                self.lost = True
                return
            except Exception:
                continue

    def release(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        seq, self._seq = self._seq, None
        if seq is None or self.lost:
            return
        c = self.cluster
        with contextlib.suppress(ConflictError, NotFoundError):  # taken over, or gone
            c.call(c.client.delete, index=self.index, id=DOC_ID,
                   params={"if_seq_no": str(seq[0]), "if_primary_term": str(seq[1]),
                           "refresh": "true"})

    def __enter__(self) -> ClusterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
