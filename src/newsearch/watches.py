"""Saved searches ("watches") and the alerts they raise for newly indexed articles.

    watch add/remove/list ─▶ newsearch-watches.json in the index folder (atomic rewrites)
    index run / watch check ─▶ for each watch: its query evaluated over the segments holding
        articles indexed after a mark (NewsIndex.new_matches), never over the whole archive
        ─▶ WatchAlert (watch, count, ids, the first hits)

Every article carries the time it was indexed (UTC microseconds, the ``added`` column; see
:mod:`newsearch.runs`), and those times only grow. "New" means indexed after a mark: the
start of an index run, a date (``--since``), or the newest index time the watch's previous
check saw (``--since-last``, the default), which no article committed later can be under.
An article re-indexed because its file changed counts as new.

This module imports no engine: the watches file, and the check over whatever the index
answers :meth:`~newsearch.backends.whoosh.index.NewsIndex.new_matches` with. Saved searches
live in an index folder, so the OpenSearch backend has none (NotAvailable).
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
from typing import TYPE_CHECKING, Any

from .errors import NewsearchError, NotAvailable, QueryError
from .query import day_bound
from .results import Hit

if TYPE_CHECKING:
    from .backend import SearchIndex

__all__ = ["WATCHES_FILE", "Watch", "WatchAlert", "WatchError", "add_watch", "check_watches",
           "load_watches", "micros_iso", "remove_watch", "watch_folder", "watches"]

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


def watch_folder(ix: SearchIndex) -> Path:
    """The folder of an open index, where its saved searches live (NotAvailable for an
    index in a cluster)."""
    if not isinstance(ix.path, Path):
        raise NotAvailable("saved searches", "opensearch")
    return ix.path


def _folder(index: str | os.PathLike[str] | None) -> Path:
    """The folder of the index at ``index`` (opened once: a typed error when there is no
    index there)."""
    from .backend import open_index

    with open_index(index, results_cache=0) as ix:
        return watch_folder(ix)


def _path(folder: Path) -> Path:
    return folder / WATCHES_FILE


@contextlib.contextmanager
def _changing(folder: Path) -> Iterator[None]:
    """Hold the saved searches' own lock while they are read, changed and written back, so
    that two writers (a ``watch add`` while ``watch check`` moves the marks, two adds) never
    lose each other's change. Readers need no lock: the file is replaced whole."""
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
    return [Watch(w["name"], w["query"], list(w.get("sections", [])), int(w.get("created", 0)),
                  w.get("checked")) for w in raw.get("watches", [])]


def _save(folder: Path, items: list[Watch]) -> None:
    target = _path(folder)
    data = {"watches": [{"name": w.name, "query": w.query, "sections": w.sections,
                         "created": w.created, "checked": w.checked} for w in items]}
    fd, tmp = tempfile.mkstemp(prefix=WATCHES_FILE + ".", suffix=".tmp", dir=target.parent)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(data, fh, ensure_ascii=False, indent=1)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, target)


def watches(index: str | os.PathLike[str] | None = None) -> list[Watch]:
    """The saved searches of the index at ``index``, in the order they were added."""
    return load_watches(_folder(index))


def add_watch(index: str | os.PathLike[str] | None, name: str, query: str, *,
              sections: list[str] | None = None) -> Watch:
    """Save a search under ``name`` (letters, digits, ``_ . -``; at most 64)."""
    from .query import parse_query

    if not NAME_RE.match(name):
        raise WatchError(f"“{name}” is not a watch name: use up to 64 letters, digits, "
                         "'_', '.' or '-', starting with a letter or digit")
    parse_query(query, strict=True)  # a QueryError now, not at every index run
    folder = _folder(index)
    with _changing(folder):
        items = load_watches(folder)
        if any(w.name == name for w in items):
            raise WatchError(f"a watch named “{name}” exists already; remove it first")
        watch = Watch(name, query, [s for s in sections or [] if s.strip()],
                      since_micros(datetime.now(UTC)))
        _save(folder, [*items, watch])
    return watch


def remove_watch(index: str | os.PathLike[str] | None, name: str) -> None:
    folder = _folder(index)
    with _changing(folder):
        items = load_watches(folder)
        if not any(w.name == name for w in items):
            raise WatchError(f"there is no watch named “{name}”")
        _save(folder, [w for w in items if w.name != name])


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
                  first: int = FIRST_HITS) -> list[WatchAlert]:
    """Match the watches (all, or ``names``) against the articles indexed after a mark:
    ``after`` (UTC µs), else ``since``, else each watch's last check (``--since-last``; the
    watch's creation the first time). With ``update`` and no explicit mark, each watch's
    mark moves to the newest index time seen, so the next check reports only what came
    later. ``first`` hits per watch are kept for display."""
    from .backend import SearchIndex, open_index

    ix = index if isinstance(index, SearchIndex) else open_index(index, results_cache=0)
    own = ix is not index
    try:
        folder = watch_folder(ix)
        mark = after if after is not None else (since_micros(since) if since is not None
                                                else None)
        with _changing(folder) if mark is None and update else contextlib.nullcontext():
            return _check(ix, names, mark, update, first)
    finally:
        if own:
            ix.close()


def _check(ix: SearchIndex, names: list[str] | None, mark: int | None, update: bool,
           first: int) -> list[WatchAlert]:
    items = load_watches(ix.path)
    if names:
        missing = [n for n in names if not any(w.name == n for w in items)]
        if missing:
            raise WatchError(f"there is no watch named “{missing[0]}”")
    chosen = [w for w in items if not names or w.name in names]
    alerts = []
    newest = ix.newest_added()
    for w in chosen:
        start = mark if mark is not None else (w.checked if w.checked is not None
                                               else w.created)
        docs, hits = ix.new_matches(w.query, sections=w.sections, after=start,
                                    first=first)
        alerts.append(WatchAlert(w.name, len(docs), docs, hits, start))
        if mark is None and update:
            w.checked = max(newest, start)
    if mark is None and update and chosen:
        _save(ix.path, items)
    return alerts
