"""Which engine holds the index: the one place where a backend is chosen.

    open_index / index_paths / index_stats (newsearch's public functions)
        ─▶ resolve(index, backend, opensearch_url)  (arguments, then the environment)
        ─▶ whoosh:     a folder  ─▶ backends.whoosh: index.NewsIndex, indexer.index_paths
           opensearch: a cluster ─▶ backends.opensearch: OpenSearchIndex, index_paths_opensearch

Both searchable objects satisfy :class:`SearchIndex`: the same methods and result types, so
the CLI, the web application and library users never look at which one they hold.

How the backend is chosen, first match wins:

1. an index given as an URL ``opensearch+http://host:9200[,host2:9201]/name``: OpenSearch;
2. ``backend`` (``--backend``), else ``$NEWSEARCH_BACKEND``; an ``opensearch_url`` given
   without a backend means OpenSearch;
3. ``$NEWSEARCH_INDEX`` holding such an URL: OpenSearch; otherwise Whoosh, the default.

For OpenSearch the nodes come from the URL, else ``opensearch_url`` (``--opensearch-url``),
else ``$NEWSEARCH_OPENSEARCH_URL``, else ``http://127.0.0.1:9200``; the index name from
``index`` (``--index``), else the URL's path, else ``news``. The OpenSearch code is imported
only when chosen, so the Whoosh backend needs none of its packages.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from .errors import NewsearchError

if TYPE_CHECKING:
    from .article import Article
    from .results import Hit, RelatedResults, SearchResults
    from .runs import IndexReport, ProgressFn
    from .stats import IndexStats
    from .trends import TrendResults

__all__ = [
    "BACKENDS",
    "DEFAULT_OPENSEARCH_URL",
    "ENV_BACKEND",
    "ENV_OPENSEARCH_URL",
    "BackendError",
    "SearchIndex",
    "Target",
    "index_paths",
    "index_stats",
    "open_index",
    "resolve",
]

BACKENDS = ("whoosh", "opensearch")
ENV_BACKEND = "NEWSEARCH_BACKEND"
ENV_OPENSEARCH_URL = "NEWSEARCH_OPENSEARCH_URL"
ENV_INDEX = "NEWSEARCH_INDEX"
DEFAULT_OPENSEARCH_URL = "http://127.0.0.1:9200"
URL_PREFIX = "opensearch+"
# OpenSearch's rules for index names, as one pattern: lowercase, no path characters.
_INDEX_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,199}$")


class BackendError(NewsearchError):
    """The backend or its settings cannot be used (an unknown name, a missing extra, an
    index name OpenSearch refuses)."""


@runtime_checkable
class SearchIndex(Protocol):
    """What :func:`open_index` returns, whichever the backend: ``NewsIndex``'s interface."""

    path: Any  # where the index is: a folder, or ``opensearch+http://.../name``

    def search(self, query: str, *, sections: Sequence[str] | None = None,
               since: date | str | None = None, until: date | str | None = None,
               sort: str = "relevance", page: int = 1, per_page: int = 10,
               facets: bool = True, half_life_days: float = 30.0,
               date_granularity: str | None = None, snippets: bool = True,
               strict: bool = False, all_versions: bool = False) -> SearchResults: ...

    def get(self, article_id: str) -> Article: ...

    # Story clusters, related stories and trends: a backend without them raises
    # errors.NotAvailable from similar/trend and lists no versions.
    def versions(self, article_id: str) -> list[Hit]: ...

    def similar(self, article_id: str, *, limit: int = 5) -> RelatedResults: ...

    def trend(self, queries: str | Sequence[str], *, by: str = "month",
              sections: Sequence[str] | None = None, since: date | str | None = None,
              until: date | str | None = None) -> TrendResults: ...

    # Saved searches' new articles (newsearch.watches): NotAvailable where the index keeps
    # no index times.
    def newest_added(self) -> int: ...

    def new_matches(self, query: str, *, sections: Sequence[str] | None = None, after: int,
                    first: int = 0) -> tuple[list[str], list[Hit]]: ...

    def stats(self) -> IndexStats: ...

    @property
    def generation(self) -> int: ...

    def committed_generation(self) -> int: ...

    def close(self) -> None: ...

    def __enter__(self) -> Any: ...

    def __exit__(self, *exc: object) -> None: ...


@dataclass(frozen=True, slots=True)
class Target:
    """A resolved index: ``whoosh`` and a folder (None: the default), or ``opensearch``, the
    node URL(s) and the index name."""

    backend: str
    index: str | os.PathLike[str] | None
    url: str | None = None


def resolve(index: str | os.PathLike[str] | None = None, backend: str | None = None,
            opensearch_url: str | None = None) -> Target:
    """Which backend, where: see the module's docstring for the order of the rules."""
    if backend is not None and backend not in BACKENDS:
        raise BackendError(f"unknown backend {backend!r}: use whoosh or opensearch")
    if isinstance(index, str) and index.startswith(URL_PREFIX):
        if backend == "whoosh":
            raise BackendError(f"{index} is an OpenSearch index, not a Whoosh folder")
        return Target("opensearch", None, index)
    chosen = backend or os.environ.get(ENV_BACKEND) or None
    if chosen is None and opensearch_url:
        chosen = "opensearch"
    if chosen is None and index is None and \
            os.environ.get(ENV_INDEX, "").startswith(URL_PREFIX):
        return Target("opensearch", None, os.environ[ENV_INDEX])
    chosen = (chosen or "whoosh").strip().lower()
    if chosen not in BACKENDS:
        raise BackendError(f"unknown backend {chosen!r} in ${ENV_BACKEND}: use whoosh or "
                           "opensearch")
    if chosen == "whoosh":
        if opensearch_url:
            raise BackendError("an OpenSearch URL was given with the whoosh backend; use "
                               "--backend opensearch (or leave out the URL)")
        return Target("whoosh", index)
    url = opensearch_url or os.environ.get(ENV_OPENSEARCH_URL) or DEFAULT_OPENSEARCH_URL
    name = os.fspath(index) if index is not None else None
    if name is not None and not _INDEX_NAME.match(name):
        raise BackendError(f"{name!r} is not an OpenSearch index name (lowercase letters, "
                           "digits, '.', '_' and '-')")
    return Target("opensearch", name, url)


def _opensearch() -> Any:
    try:
        from .backends import opensearch
    except ImportError as exc:
        raise BackendError(str(exc)) from None
    return opensearch


def _address(target: Target) -> Any:
    try:
        return _opensearch().parse_url(target.url or DEFAULT_OPENSEARCH_URL)
    except ValueError as exc:
        raise BackendError(str(exc)) from None


def open_index(path: str | os.PathLike[str] | None = None, *, backend: str | None = None,
               opensearch_url: str | None = None, **options: Any) -> SearchIndex:
    """Open an index for searching: a folder (Whoosh, the default; ``$NEWSEARCH_INDEX`` or
    ``./index``) or an index in an OpenSearch cluster
    (``open_index("opensearch+http://127.0.0.1:9200/news")``, or ``backend="opensearch"``).
    ``options`` are :func:`newsearch.backends.whoosh.index.open_index`'s (the results cache)."""
    target = resolve(path, backend, opensearch_url)
    if target.backend == "opensearch":
        address = _address(target)
        from .backends.opensearch.search import OpenSearchIndex

        return OpenSearchIndex(address, _name(target, address), **options)
    from .backends.whoosh.index import NewsIndex

    return NewsIndex(target.index, **options)


def _name(target: Target, address: Any) -> str | None:
    return os.fspath(target.index) if target.index is not None else address.index


def index_paths(paths: Iterable[str | os.PathLike[str]],
                index: str | os.PathLike[str] | None = None, *, backend: str | None = None,
                opensearch_url: str | None = None, rebuild: bool = False,
                jobs: int | None = None, wait: float = 0.0,
                progress: ProgressFn | None = None, **options: Any) -> IndexReport:
    """Index the files under ``paths`` into a folder or a cluster (chosen as for
    :func:`open_index`; see :func:`newsearch.backends.whoosh.indexer.index_paths` for the rest)."""
    target = resolve(index, backend, opensearch_url)
    if target.backend == "opensearch":
        address = _address(target)
        from .backends.opensearch.indexer import index_paths_opensearch

        options.pop("allow_other_files", None)  # about a folder's other files: no folder here
        return index_paths_opensearch(paths, address, _name(target, address), rebuild=rebuild,
                                      jobs=jobs, wait=wait, progress=progress, **options)
    from .backends.whoosh.indexer import index_paths as whoosh_index_paths

    return whoosh_index_paths(paths, target.index, rebuild=rebuild, jobs=jobs, wait=wait,
                              progress=progress, **options)


def index_stats(index: str | os.PathLike[str] | None = None, *, backend: str | None = None,
                opensearch_url: str | None = None) -> IndexStats:
    """``newsearch stats`` of a folder or a cluster's index."""
    target = resolve(index, backend, opensearch_url)
    if target.backend == "opensearch":
        with open_index(index, backend=backend, opensearch_url=opensearch_url) as ix:
            return ix.stats()
    from .backends.whoosh.stats import index_stats as whoosh_index_stats

    return whoosh_index_stats(target.index)
