"""Every error newsearch raises on purpose, under one root.

    NewsearchError
    ├── IndexNotFound        no index at the path (or the folder is not a newsearch index)
    ├── IndexVersionError    the index was written by an incompatible schema version
    ├── IndexDamaged         segment files missing or truncated
    ├── IndexLocked          another writer holds the index
    ├── IndexIOError         the index folder cannot be read or written (permissions, disk full)
    ├── WorkerDied           an indexing worker process was killed or failed
    ├── QueryError           the query string cannot be understood
    ├── SkippedInput         a file or record was skipped (carries path and reason)
    └── ArticleNotFound      no article with that id

The library raises these; only the boundaries (CLI, web) turn them into exit codes or HTTP
statuses, so callers embedding newsearch can catch exactly what they expect.
"""

from __future__ import annotations

__all__ = [
    "ArticleNotFound",
    "IndexDamaged",
    "IndexIOError",
    "IndexLocked",
    "IndexNotFound",
    "IndexVersionError",
    "NewsearchError",
    "NotAvailable",
    "QueryError",
    "SkippedInput",
    "WorkerDied",
]


class NewsearchError(Exception):
    """Root of all newsearch errors. ``str(err)`` is one sentence meant for the user."""


class IndexNotFound(NewsearchError):
    def __init__(self, path: str, detail: str | None = None) -> None:
        self.path = path
        msg = detail or f"no newsearch index at {path}; create one with `newsearch index FOLDER`"
        super().__init__(msg)


class IndexVersionError(NewsearchError):
    def __init__(self, path: str, found: object, expected: object) -> None:
        self.path = path
        self.found = found
        self.expected = expected
        super().__init__(
            f"the index at {path} has schema version {found}, this newsearch needs {expected}; "
            f"rebuild it with `newsearch index --rebuild --index {path} FOLDER`"
        )


class IndexDamaged(NewsearchError):
    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(
            f"the index at {path} is damaged ({reason}); rebuild it with "
            f"`newsearch index --rebuild --index {path} FOLDER`"
        )


class IndexLocked(NewsearchError):
    def __init__(self, path: str, pid: int | None = None) -> None:
        self.path = path
        self.pid = pid
        by = f", process {pid}" if pid else ""
        super().__init__(f"the index is locked by another writer ({path}{by})")


def os_reason(exc: OSError) -> str:
    """An OSError as a few words: ``no space left on device``, ``permission denied``."""
    return (exc.strerror or type(exc).__name__).lower()


class IndexIOError(NewsearchError):
    """The index folder could not be read (``action`` "read") or written ("write"); ``reason``
    is the operating system's (``no space left on device``)."""

    def __init__(self, path: str, action: str, exc: OSError | str) -> None:
        self.path = path
        self.action = action
        self.reason = exc if isinstance(exc, str) else os_reason(exc)
        if action == "read":
            msg = f"cannot read the index at {path}: {self.reason}"
        else:
            msg = (f"cannot write the index at {path}: {self.reason}; it keeps everything "
                   "committed before")
        super().__init__(msg)


class WorkerDied(NewsearchError):
    """An indexing worker process ended without finishing its work (killed by a signal, by
    the out-of-memory killer, or failed): the run stops, keeping what it committed."""

    def __init__(self, path: str, how: str) -> None:
        self.path = path
        self.how = how
        super().__init__(f"indexing into {path} stopped: {how}; the index keeps everything "
                         "committed before")


class QueryError(NewsearchError):
    """A query that cannot be run. ``position`` is a character offset into ``query`` or None.

    ``parameter`` names the search option at fault (``since``, ``sort``, ``per_page`` ...)
    when the query string itself is fine; ``message`` then starts with that name and is the
    whole sentence (``since "1987-13" is not a valid date: ...``).
    """

    def __init__(self, query: str, message: str, position: int | None = None, *,
                 parameter: str | None = None) -> None:
        self.query = query
        self.message = message
        self.position = position
        self.parameter = parameter
        where = f" at character {position + 1}" if position is not None else ""
        super().__init__(message if parameter else f"bad query{where}: {message}")


class SkippedInput(NewsearchError):
    """A file (or one record of a file, when ``record`` is set) that could not be indexed."""

    def __init__(self, path: str, reason: str, record: str | None = None) -> None:
        self.path = path
        self.reason = reason
        self.record = record
        where = f"{path} [{record}]" if record else path
        super().__init__(f"skipped {where}: {reason}")


class ArticleNotFound(NewsearchError):
    def __init__(self, article_id: str) -> None:
        self.article_id = article_id
        super().__init__(f"no article with id {article_id!r} in the index")


class NotAvailable(NewsearchError):
    """A feature this backend does not offer yet (story clusters, related stories and trends
    are the Whoosh backend's so far)."""

    def __init__(self, feature: str, backend: str) -> None:
        self.feature = feature
        super().__init__(f"{feature} are not available on the {backend} backend yet; "
                         "use the whoosh backend (an index folder)")
