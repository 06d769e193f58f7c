"""The file manifest: which source files the index holds, and what came from each.

Incremental runs compare the corpus walk against it (a file's signature is its size and
modification time) and the duplicate logic needs it (which file's articles were skipped as
copies of which indexed article).

Crash safety: the manifest describing index generation ``G`` is written as
``newsearch-manifest-G.json`` *before* Whoosh commits generation ``G``, and the previous one
is removed only after the commit. Whatever moment a run is killed, the manifest whose number
equals the index's latest generation exists and matches it.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FileState", "Manifest"]

_NAME = re.compile(r"^newsearch-manifest-(\d+)\.json$")


@dataclass(slots=True)
class FileState:
    """What one source file contributed. ``keys[i]`` is the dedup key of article ``ids[i]``;
    ``dups`` are the dedup keys of its articles not indexed because a copy already was;
    ``skip`` is why a file that contributed nothing was skipped (a README, an empty file), so
    that an unchanged one is neither read again nor reported as a new skip."""

    sig: str
    ids: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    dups: list[str] = field(default_factory=list)
    skip: str | None = None


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
        except (OSError, ValueError):
            return None
        files = {p: FileState(*v) for p, v in raw.get("files", {}).items()}
        return cls(files)

    def save(self, folder: Path, generation: int) -> None:
        data = {
            "generation": generation,
            "files": {p: [s.sig, s.ids, s.keys, s.dups, *([s.skip] if s.skip else [])]
                      for p, s in self.files.items()},
        }
        target = folder / self.filename(generation)
        tmp = target.with_suffix(".json.tmp")
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(data, fh, separators=(",", ":"))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)

    @classmethod
    def prune(cls, folder: Path, keep: int) -> None:
        """Remove manifests of other generations (after ``keep`` was committed)."""
        for p in folder.iterdir():
            m = _NAME.match(p.name)
            if (m and int(m.group(1)) != keep) or p.name.endswith(".json.tmp"):
                with contextlib.suppress(OSError):
                    p.unlink()

    def owner_of_keys(self) -> dict[str, str]:
        """Dedup key → path of the file whose article holds it in the index."""
        return {k: path for path, st in self.files.items() for k in st.keys}
