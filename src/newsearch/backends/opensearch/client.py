"""Talking to a cluster: node list, retries with back-off, health, errors as sentences.

    "opensearch+http://127.0.0.1:9200,127.0.0.1:9201/news" ─▶ parse_url ─▶ Address
    Address ─▶ Cluster: an opensearch-py client over every node, plus :meth:`Cluster.call`

Two layers of retrying, for two kinds of trouble:

* **A dead node.** opensearch-py's connection pool sends each request to the next node in
  turn; a node that refuses the connection is marked dead and the request goes to another
  one at once (``max_retries`` is the number of nodes), so one stopped node never surfaces.
  A node that is merely slow (a timeout) is *not* marked dead: while the cluster elects a
  new manager after losing one, every node is slow, and marking them all dead left no node
  to ask (seen on a loaded machine).
* **A busy or recovering cluster.** 429 (queues full), 5xx (a shard's primary moving after a
  node left), timeouts and connection errors on every node are retried by
  :meth:`Cluster.call` with exponential back-off and jitter for up to
  :data:`RETRY_SECONDS`, then become :class:`~.errors.ClusterUnavailable`. Every request
  newsearch makes is idempotent (documents have explicit ids), so repeating one is safe.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, urlencode, urlsplit

from opensearchpy import OpenSearch
from opensearchpy.exceptions import ConnectionError as OSConnectionError
from opensearchpy.exceptions import ConnectionTimeout, NotFoundError, TransportError

from ...errors import IndexNotFound
from .errors import ClusterUnavailable, ClusterUnhealthy

__all__ = ["DEFAULT_URL", "RETRY_SECONDS", "RETRY_STATUSES", "Address", "Cluster", "parse_url"]

DEFAULT_URL = "http://127.0.0.1:9200"
URL_SCHEME = "opensearch+"
# Statuses worth repeating a request for: too many requests, and the cluster's own 5xx while
# shards move (a 500 is a bug or a bad script: repeating it cannot help; but see below).
RETRY_STATUSES = frozenset({429, 502, 503, 504})
# A search whose shards all failed is a 500 too: repeated unless a shard failed on the query
# itself (these causes are the query's; any other, such as a node dying under the search,
# passes once the cluster has moved the shard: seen in tests/test_opensearch_faults.py).
_QUERY_FAULTS = frozenset({"script_exception", "query_shard_exception", "parsing_exception",
                           "illegal_argument_exception", "search_parse_exception",
                           "x_content_parse_exception", "too_many_clauses",
                           "number_format_exception", "circuit_breaking_exception"})
# How long a request is repeated before the cluster counts as unavailable: a failover under
# load (a new manager elected, replicas promoted) took over a minute and a half here.
RETRY_SECONDS = 180.0
INITIAL_BACKOFF = 0.5
MAX_BACKOFF = 30.0
REQUEST_TIMEOUT = 30.0
POOL_MAXSIZE = 32

T = TypeVar("T")

# opensearch-py logs every failed request (a 404 for an index that is not there yet, a dead
# node) as a warning; without this handler Python's last resort prints them on the terminal
# of a CLI whose errors are one sentence. An application that configures logging still
# receives them.
logging.getLogger("opensearch").addHandler(logging.NullHandler())


@dataclass(frozen=True, slots=True)
class Address:
    """Node URLs of one cluster, and the index named in the URL (None when not named)."""

    hosts: tuple[str, ...]
    index: str | None = None

    @property
    def display(self) -> str:
        return ",".join(self.hosts)


def parse_url(url: str) -> Address:
    """``opensearch+http://h1:9200,h2:9201/news`` or ``http://h1:9200,http://h2:9201``.

    Nodes are comma-separated, each with or without its own scheme (the first one's is used
    for the others); an ``opensearch+`` prefix and a path naming the index are optional.
    Raises ValueError with a sentence for anything else.
    """
    text = url.strip()
    if text.startswith(URL_SCHEME):
        text = text[len(URL_SCHEME):]
    if not text:
        raise ValueError("the OpenSearch URL is empty")
    scheme = "http"
    if "://" in text:
        scheme = text.split("://", 1)[0].lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"an OpenSearch URL starts with http:// or https://, not {url!r}")
    hosts: list[str] = []
    index: str | None = None
    for part in text.split(","):
        part = part.strip()
        if not part:
            continue
        if "://" not in part:
            part = f"{scheme}://{part}"
        u = urlsplit(part)
        if not u.hostname:
            raise ValueError(f"no host name in the OpenSearch URL {url!r}")
        path = u.path.strip("/")
        if path:
            if index is not None and path != index:
                raise ValueError(f"the OpenSearch URL {url!r} names two indexes")
            index = path
        port = f":{u.port}" if u.port else ""
        cred = f"{u.username}:{u.password}@" if u.username else ""
        hosts.append(f"{u.scheme}://{cred}{u.hostname}{port}")
    if not hosts:
        raise ValueError(f"no node in the OpenSearch URL {url!r}")
    return Address(tuple(dict.fromkeys(hosts)), index)


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, OSConnectionError):  # also ConnectionTimeout
        return True
    if not isinstance(exc, TransportError):
        return False
    if exc.status_code == 500 and exc.error == "search_phase_execution_exception":
        return not (_failure_types(exc.info) & _QUERY_FAULTS)
    return exc.status_code in RETRY_STATUSES


def _failure_types(info: Any) -> set[str]:
    """The error types a search's failure body names (its root causes, its failed shards'
    reasons and what caused those)."""
    found: set[str] = set()
    error = info.get("error") if isinstance(info, dict) else None
    if not isinstance(error, dict):
        return found
    reasons = [*error.get("root_cause", []),
               *(f.get("reason") for f in error.get("failed_shards", []) if isinstance(f, dict))]
    while reasons:
        r = reasons.pop()
        if isinstance(r, dict):
            if isinstance(r.get("type"), str):
                found.add(r["type"])
            reasons.append(r.get("caused_by"))
    return found


def _reason(exc: Exception) -> str:
    if isinstance(exc, ConnectionTimeout):
        return "no node answered in time"
    if isinstance(exc, OSConnectionError):
        return "no node answered"
    if isinstance(exc, TransportError):
        return f"HTTP {exc.status_code} {exc.error}"
    return f"{type(exc).__name__}: {exc}"


class Cluster:
    """A client for one cluster, shared by threads (opensearch-py's client is thread-safe)."""

    def __init__(self, address: Address | str | Sequence[str] = DEFAULT_URL, *,
                 timeout: float = REQUEST_TIMEOUT, retry_seconds: float = RETRY_SECONDS,
                 initial_backoff: float = INITIAL_BACKOFF,
                 max_backoff: float = MAX_BACKOFF) -> None:
        if isinstance(address, str):
            address = parse_url(address)
        elif not isinstance(address, Address):
            address = Address(tuple(address))
        self.address = address
        self.retry_seconds = retry_seconds
        self.initial_backoff = initial_backoff
        self.max_backoff = max_backoff
        self.retried = 0  # requests repeated after a back-off (for reports and tests)
        self.client = OpenSearch(
            hosts=list(address.hosts),
            timeout=timeout,
            # One try per node for connection failures and 502/503/504 from one node.
            max_retries=len(address.hosts),
            retry_on_status=(502, 503, 504),
            retry_on_timeout=False,  # a timeout goes to call()'s back-off instead
            # A node that went away is tried again after a second (opensearch-py's default,
            # 60 s, would keep a restarted node idle for a minute).
            dead_timeout=1,
            # Connections kept open per node: urllib3 keeps one by default, so a web server's
            # threads each opened (and threw away) a connection per request.
            pool_maxsize=POOL_MAXSIZE,
        )

    @property
    def urls(self) -> str:
        return self.address.display

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry ``attempt`` (0-based): doubling, capped, jittered."""
        delay = min(self.max_backoff, self.initial_backoff * 2 ** attempt)
        return delay * random.uniform(0.5, 1.0)

    def call(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` with back-off on 429/5xx/connection errors; what is still
        failing after :attr:`retry_seconds` becomes :class:`ClusterUnavailable`."""
        deadline = time.monotonic() + self.retry_seconds
        attempt = 0
        while True:
            try:
                return fn(*args, **kwargs)
            except (OSConnectionError, TransportError) as exc:
                if not _retryable(exc):
                    raise
                delay = self.backoff(attempt)
                if time.monotonic() + delay > deadline:
                    raise ClusterUnavailable(self.urls, _reason(exc)) from None
                time.sleep(delay)
                attempt += 1
                self.retried += 1

    def request(self, method: str, path: str, query: dict[str, str] | None = None,
                body: Any = None, *, request_timeout: float | None = None) -> Any:
        """A raw request (with :meth:`call`'s retries). The query string is written into the
        path: opensearch-py would take a ``timeout`` parameter for its own socket timeout."""
        if query:
            path = f"{path}?{urlencode(query)}"
        params = {"request_timeout": request_timeout} if request_timeout else None
        return self.call(self.client.transport.perform_request, method, path, params=params,
                         body=body)

    def ping(self) -> None:
        """Raise :class:`ClusterUnavailable` unless some node answers (no long retrying)."""
        try:
            self.client.info(request_timeout=10)
        except OSConnectionError as exc:
            raise ClusterUnavailable(self.urls, _reason(exc)) from None
        except TransportError as exc:
            raise ClusterUnavailable(self.urls, _reason(exc)) from None

    def health(self, index: str | None = None, *, wait_for: str | None = None,
               timeout_s: float = 0) -> dict[str, Any]:
        """The cluster's (or one index's) health; ``wait_for`` a status up to ``timeout_s``."""
        query: dict[str, str] = {}
        if wait_for:
            query = {"wait_for_status": wait_for, "timeout": f"{max(1, int(timeout_s))}s"}
        path = f"/_cluster/health/{quote(index)}" if index else "/_cluster/health"
        result: dict[str, Any] = self.request("GET", path, query,
                                              request_timeout=timeout_s + 30)
        return result

    def check_index(self, index: str) -> str:
        """The index's health status; :class:`IndexNotFound` when it does not exist and
        :class:`ClusterUnhealthy` when it is red (searches would miss documents)."""
        try:
            exists = self.call(self.client.indices.exists, index=index)
        except NotFoundError:
            exists = False
        if not exists:
            raise IndexNotFound(
                index, f"no newsearch index {index} in the OpenSearch cluster at {self.urls}")
        status = str(self.health(index)["status"])
        if status == "red":
            raise ClusterUnhealthy(self.urls, index, status)
        return status

    def close(self) -> None:
        self.client.close()
