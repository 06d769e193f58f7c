"""Saved searches ("watches") and the alerts they raise for newly indexed articles.

    watch add/remove/list ─▶ the index's WatchStore: newsearch-watches.json in an index
        folder (atomic rewrites under a lock), or one document per watch in the cluster
        (backends.opensearch.watches)
    index run / watch check ─▶ for each watch: its query evaluated over the articles indexed
        after a mark only (SearchIndex.new_matches: the segments holding them, or an index-time
        range in the cluster), never over the whole archive
        ─▶ WatchAlert (watch, count, ids, the first hits)

Every article carries the time it was indexed (UTC microseconds, the ``added`` column; see
:mod:`newsearch.runs`), and those times only grow. "New" means indexed after a mark: the
start of an index run, a date (``--since``), or the newest index time the watch's previous
check saw (``--since-last``, the default), which no article committed later can be under.
An article re-indexed because its file changed counts as new.

This module imports no engine: the watches file, the :class:`WatchStore` an index in a
cluster gives (its ``watch_store()``), and the check over whatever the index answers
:meth:`~newsearch.backends.whoosh.index.NewsIndex.new_matches` with.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, cast

from .errors import NewsearchError, NotAvailable, QueryError
from .query import day_bound
from .results import Hit

if TYPE_CHECKING:
    from .backend import SearchIndex

__all__ = ["WATCHES_FILE", "FolderWatches", "Watch", "WatchAlert", "WatchError", "WatchStore",
           "add_watch", "check_watches", "load_watches", "micros_iso", "remove_watch",
           "watch_folder", "watch_store", "watches"]

# In the index folder, the user's, so they outlive a rebuild (the Whoosh storage lists them
# among its own names and never deletes them).
WATCHES_NAME = "newsearch-watches.json"
WATCHES_LOCK = WATCHES_NAME + ".lock"  # flock'ed by whoever changes the saved searches
WATCHES_FILE = WATCHES_NAME
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FIRST_HITS = 3  # titles shown per watch
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


class WatchError(NewsearchError):
    """A watch that cannot be added, removed or found."""

    def __init__(self, message: str) -> None:
        super().__init__(message)


@dataclass(slots=True)
class Watch:
    name: str
    query: str
    sections: list[str] = field(default_factory=list)
    created: int = 0  # UTC µs
    checked: int | None = None  # the newest index time the last --since-last check saw

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "query": self.query, "sections": list(self.sections),
                "created": micros_iso(self.created),
                "checked": micros_iso(self.checked) if self.checked is not None else None}


@dataclass(slots=True)
class WatchAlert:
    """The articles a watch matched among those indexed after ``since`` (UTC µs)."""

    watch: str
    count: int
    ids: list[str]
    hits: list[Hit] = field(default_factory=list)  # the first few, for display
    since: int = 0

    def to_dict(self) -> dict[str, Any]:
        return {"watch": self.watch, "count": self.count, "ids": list(self.ids)}


def micros_iso(us: int) -> str:
    """UTC microseconds as an ISO date-time (what ``since`` takes back, exactly)."""
    return (_EPOCH + timedelta(microseconds=us)).isoformat(timespec="microseconds")


class WatchStore(Protocol):
    """Where an index's saved searches live, safe for concurrent writers."""

    def load(self) -> list[Watch]:
        """The saved searches, in the order they were added."""
        ...

    def add(self, watch: Watch) -> None:
        """Save ``watch``; a :class:`WatchError` when its name is taken."""
        ...

    def remove(self, name: str) -> None:
        """A :class:`WatchError` when there is no such watch."""
        ...

    def checking(self) -> contextlib.AbstractContextManager[None]:
        """Held around a check that moves the marks (:meth:`move_mark`)."""
        ...

    def move_mark(self, watch: Watch, checked: int) -> bool:
        """Set the watch's mark to ``checked``, unless another check moved it since
        ``watch`` was loaded: then False (and the check reads the watch again)."""
        ...

    def reload(self, name: str) -> Watch | None:
        """The watch as saved now (None: removed meanwhile)."""
        ...


class FolderWatches:
    """The saved searches of an index folder: one JSON file, replaced whole (readers need
    no lock) under a lock of its own while it is read, changed and written back (so two
    writers, a ``watch add`` while ``watch check`` moves the marks, never lose each other's
    change)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._marks: dict[str, int] = {}

    def load(self) -> list[Watch]:
        return load_watches(self.folder)

    def add(self, watch: Watch) -> None:
        with _changing(self.folder):
            items = load_watches(self.folder)
            if any(w.name == watch.name for w in items):
                raise WatchError(f"a watch named “{watch.name}” exists already; remove it "
                                 "first")
            _save(self.folder, [*items, watch])

    def remove(self, name: str) -> None:
        with _changing(self.folder):
            items = load_watches(self.folder)
            if not any(w.name == name for w in items):
                raise WatchError(f"there is no watch named “{name}”")
            _save(self.folder, [w for w in items if w.name != name])

    @contextlib.contextmanager
    def checking(self) -> Iterator[None]:
        # The lock spans the whole check: a second check waits and then sees the marks
        # this one moved, so no article is reported twice.
        with _changing(self.folder):
            self._marks = {}
            yield
            if self._marks:
                items = load_watches(self.folder)
                for w in items:
                    w.checked = self._marks.get(w.name, w.checked)
                _save(self.folder, items)

    def move_mark(self, watch: Watch, checked: int) -> bool:
        self._marks[watch.name] = checked
        return True

    def reload(self, name: str) -> Watch | None:
        return next((w for w in load_watches(self.folder) if w.name == name), None)


def watch_store(ix: SearchIndex) -> WatchStore:
    """Where the saved searches of an open index live: its folder, or what the index in a
    cluster gives (NotAvailable for a backend that keeps none)."""
    if isinstance(ix.path, Path):
        return FolderWatches(ix.path)
    store = getattr(ix, "watch_store", None)
    if store is None:
        raise NotAvailable("saved searches", type(ix).__name__)
    return cast(WatchStore, store())


def watch_folder(ix: SearchIndex) -> Path:
    """The folder of an open index, where its saved searches live (NotAvailable for an
    index in a cluster, whose saved searches are in the cluster: see :func:`watch_store`)."""
    if not isinstance(ix.path, Path):
        raise NotAvailable("saved searches in a folder", "opensearch")
    return ix.path


@contextlib.contextmanager
def _opened(index: str | os.PathLike[str] | None, where: dict[str, Any]
            ) -> Iterator[WatchStore]:
    """The saved searches of the index at ``index`` (opened: a typed error when there is no
    index there), for as long as the block runs."""
    from .backend import open_index

    with open_index(index, results_cache=0, **where) as ix:
        yield watch_store(ix)


def _path(folder: Path) -> Path:
    return folder / WATCHES_FILE


@contextlib.contextmanager
def _changing(folder: Path) -> Iterator[None]:
    """Hold the saved searches' own lock while they are read, changed and written back."""
    import fcntl

    lock = folder / WATCHES_LOCK
    try:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
    except OSError as exc:
        raise WatchError(f"cannot change the saved searches in {lock.parent}: "
                         f"{exc.strerror or exc}") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # short: a read, a change, a write
        yield
    finally:
        os.close(fd)  # releases the flock


def load_watches(folder: Path) -> list[Watch]:
    """The saved searches in an index folder (none when it has no watches file)."""
    try:
        raw = json.loads(_path(folder).read_text("utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError) as exc:
        raise WatchError(f"cannot read the saved searches in {_path(folder)}: {exc}") from None
    return [watch_from_dict(w) for w in raw.get("watches", [])]


def watch_from_dict(w: dict[str, Any]) -> Watch:
    """A watch as stored (times as UTC µs)."""
    checked = w.get("checked")
    return Watch(w["name"], w["query"], list(w.get("sections") or []), int(w.get("created", 0)),
                 int(checked) if checked is not None else None)


def watch_record(w: Watch) -> dict[str, Any]:
    """What is stored of a watch (:func:`watch_from_dict` reads it back)."""
    return {"name": w.name, "query": w.query, "sections": w.sections, "created": w.created,
            "checked": w.checked}


def _save(folder: Path, items: list[Watch]) -> None:
    target = _path(folder)
    data = {"watches": [watch_record(w) for w in items]}
    fd, tmp = tempfile.mkstemp(prefix=WATCHES_FILE + ".", suffix=".tmp", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def watches(index: str | os.PathLike[str] | None = None, **where: Any) -> list[Watch]:
    """The saved searches of the index at ``index``, in the order they were added
    (``where``: ``backend``, ``opensearch_url``, as :func:`newsearch.open_index`)."""
    with _opened(index, where) as store:
        return store.load()


def add_watch(index: str | os.PathLike[str] | None, name: str, query: str, *,
              sections: list[str] | None = None, **where: Any) -> Watch:
    """Save a search under ``name`` (letters, digits, ``_ . -``; at most 64)."""
    from .query import parse_query

    if not NAME_RE.match(name):
        raise WatchError(f"“{name}” is not a watch name: use up to 64 letters, digits, "
                         "'_', '.' or '-', starting with a letter or digit")
    parse_query(query, strict=True)  # a QueryError now, not at every index run
    with _opened(index, where) as store:
        watch = Watch(name, query, [s for s in sections or [] if s.strip()],
                      since_micros(datetime.now(UTC)))
        store.add(watch)
    return watch


def remove_watch(index: str | os.PathLike[str] | None, name: str, **where: Any) -> None:
    with _opened(index, where) as store:
        store.remove(name)


def since_micros(value: date | datetime | str, *, parameter: str = "since") -> int:
    """A ``since`` bound as UTC µs: a datetime (naive = UTC), an ISO date-time, or a day,
    month or year (its start)."""
    moment: date | None
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00")) if "T" in value \
                else day_bound(value, end=False)
        except ValueError as exc:
            raise QueryError(value, f"{parameter} {exc}", parameter=parameter) from None
    else:
        moment = value
    if moment is None:
        raise QueryError(str(value), f"{parameter} is not a date", parameter=parameter)
    if not isinstance(moment, datetime):
        moment = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def check_watches(index: SearchIndex | str | os.PathLike[str] | None = None,
                  names: list[str] | None = None, *, since: date | datetime | str | None = None,
                  after: int | None = None, update: bool = True,
                  first: int = FIRST_HITS, **where: Any) -> list[WatchAlert]:
    """Match the watches (all, or ``names``) against the articles indexed after a mark:
    ``after`` (UTC µs), else ``since``, else each watch's last check (``--since-last``; the
    watch's creation the first time). With ``update`` and no explicit mark, each watch's
    mark moves to the newest index time seen, so the next check reports only what came
    later. ``first`` hits per watch are kept for display."""
    from .backend import SearchIndex, open_index

    ix = index if isinstance(index, SearchIndex) else \
        open_index(index, results_cache=0, **where)
    own = ix is not index
    try:
        store = watch_store(ix)
        mark = after if after is not None else (since_micros(since) if since is not None
                                                else None)
        moving = mark is None and update
        with store.checking() if moving else contextlib.nullcontext():
            return _check(ix, store, names, mark, moving, first)
    finally:
        if own:
            ix.close()


def _check(ix: SearchIndex, store: WatchStore, names: list[str] | None, mark: int | None,
           moving: bool, first: int) -> list[WatchAlert]:
    items = store.load()
    if names:
        missing = [n for n in names if not any(w.name == n for w in items)]
        if missing:
            raise WatchError(f"there is no watch named “{missing[0]}”")
    alerts = []
    for w in [w for w in items if not names or w.name in names]:
        current: Watch | None = w
        while current is not None:
            newest = ix.newest_added()
            start = mark if mark is not None else (
                current.checked if current.checked is not None else current.created)
            docs, hits = ix.new_matches(current.query, sections=current.sections, after=start,
                                        first=first)
            if not moving or store.move_mark(current, max(newest, start)):
                break
            # Another check moved this watch's mark meanwhile: it reported those articles,
            # so look again from its mark (None: the watch was removed; report what was seen).
            fresh = store.reload(current.name)
            if fresh is None:
                break
            current = fresh
        alerts.append(WatchAlert(w.name, len(docs), docs, hits, start))
    return alerts
