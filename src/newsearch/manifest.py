"""The file manifest: which source files the index holds, and what came from each.

Incremental runs compare the corpus walk against it (a file's signature is its size and
modification time) and the duplicate logic needs it (which file's articles were skipped as
copies of which indexed article).

Crash safety: the manifest describing index generation ``G`` is written as
``newsearch-manifest-G.json`` *before* Whoosh commits generation ``G``, and the previous one
is removed only after the commit. Whatever moment a run is killed, the manifest whose number
equals the index's latest generation exists and matches it.

Memory: the manifest is what an index run holds per article, so it is kept compact. A file's
article ids and dedup keys are a :class:`Column` (the strings packed side by side in one
buffer: 16 and 24 bytes an article, against about 80 for a list of strings), and the dedup
keys of the whole index a :class:`KeySet` (a sorted array of 24-byte strings and a few recent
changes), not a dict. On disk a column is one packed string, read back without a list.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Column", "FileState", "KeySet", "Manifest"]

# Values written, decoded or compared at a time: bounds the temporary strings and arrays.
_SLICE = 65_536


class Column:
    """A growing sequence of short ASCII strings, packed into one ``bytearray`` while they
    all have one width (article ids and dedup keys are fixed-width hex digests). A value of
    another width or a non-ASCII one turns it into a plain list (an index made without
    dedup keys), so any strings are kept, only less compactly."""

    __slots__ = ("_data", "_list", "_width")

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._data = bytearray()
        self._width = 0
        self._list: list[str] | None = None
        self.extend(values)

    @classmethod
    def packed(cls, width: int, text: str) -> Column:
        """The column whose values are ``text`` cut every ``width`` characters."""
        col = cls()
        data = bytearray(text, "ascii")  # one copy, not a bytes and then a bytearray
        if width <= 0 or len(data) % width:
            raise ValueError(f"a packed column of {len(data)} bytes is not of width {width}")
        if data:
            col._data, col._width = data, width
        return col

    @classmethod
    def from_json(cls, value: Any) -> Column:
        """A column as :meth:`to_json` wrote it, or a list of strings (older manifests)."""
        if isinstance(value, Column):
            return value
        if isinstance(value, dict):
            return cls.packed(int(value["width"]), str(value["packed"]))
        return cls(value)

    def append(self, value: str) -> None:
        if self._list is None:
            try:
                b = value.encode("ascii")
            except UnicodeEncodeError:
                b = b""
            if b and (len(b) == self._width or not self._data):
                self._data += b
                self._width = len(b)
                return
            self._list = list(self)
            self._data = bytearray()
        self._list.append(value)

    def extend(self, values: Iterable[str]) -> None:
        for v in values:
            self.append(v)

    def __len__(self) -> int:
        if self._list is not None:
            return len(self._list)
        return len(self._data) // self._width if self._width else 0

    def __bool__(self) -> bool:
        return len(self) > 0

    def __iter__(self) -> Iterator[str]:
        if self._list is not None:
            yield from self._list
            return
        w, step = self._width, self._width * _SLICE
        for start in range(0, len(self._data) if w else 0, step or 1):
            text = self._data[start:start + step].decode("ascii")
            yield from (text[i:i + w] for i in range(0, len(text), w))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Column | list):
            return list(self) == list(other)
        return NotImplemented

    def __repr__(self) -> str:
        return f"Column({list(self)!r})"

    def array(self) -> np.ndarray:
        """The values as a numpy array of byte strings (a copy)."""
        if self._list is not None or not self._width:
            return np.array([v.encode("utf-8") for v in self], dtype=bytes)
        return np.frombuffer(bytes(self._data), dtype=f"S{self._width}")

    def write_json(self, fh: Any) -> None:
        """Write the column as JSON, packed when it is, a slice at a time."""
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        if self._list is not None or not self._width:
            fh.write(dumps(list(self)))
            return
        fh.write(f'{{"width":{self._width},"packed":"')
        step = self._width * _SLICE
        for start in range(0, len(self._data), step):
            fh.write(dumps(self._data[start:start + step].decode("ascii"))[1:-1])
        fh.write('"}')


class KeySet:
    """The dedup keys of the articles in the index: a sorted numpy array of byte strings
    (24 bytes a key) and the keys added or removed since it was last rebuilt, in two small
    sets. :meth:`compact` folds those in once they pass an eighth of the array."""

    def __init__(self, arrays: Iterable[np.ndarray] = ()) -> None:
        parts = [a for a in arrays if len(a)]
        self._base = np.unique(np.concatenate(parts)) if parts else np.array([], dtype="S1")
        self._added: set[bytes] = set()
        self._removed: set[bytes] = set()

    def __len__(self) -> int:
        return len(self._base) + len(self._added) - len(self._removed)

    def in_base(self, keys: list[bytes]) -> list[bool]:
        """For each key, whether the sorted array holds it (one search for them all)."""
        if not keys or not len(self._base):
            return [False] * len(keys)
        q = np.array(keys, dtype=bytes)
        at = np.minimum(np.searchsorted(self._base, q), len(self._base) - 1)
        return (self._base[at] == q).tolist()

    def has(self, key: bytes, in_base: bool) -> bool:
        """Whether ``key`` is in the set, given :meth:`in_base`'s answer for it (taken
        since the last :meth:`compact`)."""
        return key in self._added or (in_base and key not in self._removed)

    def __contains__(self, key: str) -> bool:
        b = key.encode("utf-8")
        return self.has(b, self.in_base([b])[0])

    def add(self, key: bytes, in_base: bool) -> None:
        if in_base:
            self._removed.discard(key)
        else:
            self._added.add(key)

    def discard_all(self, keys: Column) -> None:
        """Remove ``keys`` (a file's): one by one when they are few, else by one pass over
        the array (a set of a million removed keys would cost about 100 MB)."""
        if len(keys) > 1_000:
            self.compact(force=True)
            self._base = self._base[~np.isin(self._base, keys.array())]
            return
        for k in keys:
            b = k.encode("utf-8")
            if b in self._added:
                self._added.discard(b)
            else:
                self._removed.add(b)
        self.compact()

    def holding(self, keys: Column) -> list[str]:
        """Those of ``keys`` that the sorted array holds (:meth:`compact` first)."""
        if not len(self._base) or not keys:
            return []
        found = np.isin(keys.array(), self._base)
        return [k for k, hit in zip(keys, found.tolist(), strict=True) if hit]

    def compact(self, force: bool = False) -> None:
        if not force and len(self._added) + len(self._removed) <= max(50_000,
                                                                      len(self._base) // 8):
            return
        base = self._base
        if self._removed:
            base = base[~np.isin(base, np.array(list(self._removed), dtype=bytes))]
        if self._added:
            new = np.sort(np.array(list(self._added), dtype=bytes))
            base = base.astype(np.promote_types(base.dtype, new.dtype), copy=False)
            base = np.insert(base, np.searchsorted(base, new), new)
        self._base = base
        self._added, self._removed = set(), set()

@dataclass(slots=True)
class FileState:
    """What one source file contributed. ``keys[i]`` is the dedup key of article ``ids[i]``;
    ``dups`` are the dedup keys of its articles not indexed because a copy already was;
    ``skip`` is why a file that contributed nothing was skipped (a README, an empty file), so
    that an unchanged one is neither read again nor reported as a new skip."""

    sig: str
    ids: Column = field(default_factory=Column)
    keys: Column = field(default_factory=Column)
    dups: Column = field(default_factory=Column)
    skip: str | None = None

    def __post_init__(self) -> None:
        # Lists (older manifests, the cluster's manifest) are packed.
        self.ids = Column.from_json(self.ids)
        self.keys = Column.from_json(self.keys)
        self.dups = Column.from_json(self.dups)


class Manifest:
    def __init__(self, files: dict[str, FileState] | None = None, trusted: bool = True) -> None:
        self.files: dict[str, FileState] = files or {}
        # False when rebuilt from the index after the manifest went missing: file
        # signatures are then unknown and every file is re-read once.
        self.trusted = trusted

    @staticmethod
    def filename(generation: int) -> str:
        return f"newsearch-manifest-{generation}.json"

    @classmethod
    def load(cls, folder: Path, generation: int) -> Manifest | None:
        try:
            raw = json.loads((folder / cls.filename(generation)).read_text("utf-8"))
            files = {p: FileState(*v) for p, v in raw.get("files", {}).items()}
        except (OSError, ValueError, TypeError, KeyError, AttributeError):
            return None  # unreadable: the run rebuilds it from the index's stored fields
        return cls(files)

    def save(self, folder: Path, generation: int) -> None:
        """Write the manifest, one file's entry and one slice of a column at a time:
        ``json.dump`` of the whole dict holds every piece of its text in memory first
        (hundreds of MB for an index of a million articles)."""
        target = folder / self.filename(generation)
        tmp = target.with_suffix(".json.tmp")
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(f'{{"generation":{generation},"files":{{')
            for n, (path, st) in enumerate(self.files.items()):
                fh.write(("," if n else "") + dumps(path) + ":[" + dumps(st.sig))
                for values in (st.ids, st.keys, st.dups):
                    fh.write(",")
                    values.write_json(fh)
                if st.skip:
                    fh.write("," + dumps(st.skip))
                fh.write("]")
            fh.write("}}")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)

    def key_set(self) -> KeySet:
        """The dedup keys of the articles in the index (each file's keys are those of its
        articles that were indexed, not of its duplicates)."""
        return KeySet(st.keys.array() for st in self.files.values())
