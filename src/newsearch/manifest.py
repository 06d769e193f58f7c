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

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["FileState", "Manifest"]

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
        """Write the manifest, one file's entry at a time: ``json.dump`` of the whole dict
        holds every piece of its text in memory first (hundreds of MB for an index of a
        million articles)."""
        target = folder / self.filename(generation)
        tmp = target.with_suffix(".json.tmp")
        dumps = json.JSONEncoder(separators=(",", ":")).encode
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(f'{{"generation":{generation},"files":{{')
            for n, (path, st) in enumerate(self.files.items()):
                fh.write(("," if n else "") + dumps(path) + ":[" + dumps(st.sig))
                for values in (st.ids, st.keys, st.dups):
                    fh.write("," + dumps(values))
                if st.skip:
                    fh.write("," + dumps(st.skip))
                fh.write("]")
            fh.write("}}")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)

    def owner_of_keys(self) -> dict[str, str]:
        """Dedup key → path of the file whose article holds it in the index."""
        return {k: path for path, st in self.files.items() for k in st.keys}
