"""Index runs: walk the corpus, read and analyse files on every core, write in batches.

    walk ─▶ plan (new / changed / unchanged / deleted) ─▶ workers: load ▶ read ▶ analyse
         ─▶ writer (this process): delete old, drop duplicates, add ─▶ commit per batch

* **Incremental.** A file whose size and mtime match the manifest is not read again; a
  changed file's articles are replaced; a deleted file's articles are removed (only files
  under the folders being indexed count as deleted).
* **Duplicates.** An article whose dedup key (normalised title + body) is already indexed is
  counted, not indexed. If the indexed copy later disappears, the files holding skipped
  copies are read again so the story stays searchable.
* **Crash safety.** Work is committed every :data:`BATCH_ARTICLES` articles; the manifest for
  a generation is on disk before Whoosh commits it. A killed run leaves the last committed
  generation, and the next run continues from there, first removing what the killed run left
  behind (temporary folders and files, unfinished segments; see :func:`_remove_leftovers`). A
  run killed while creating the index (before its marker was written) is started afresh.
* **Rebuild.** ``rebuild`` writes the new index beside the old generations and replaces them
  in a single commit, so searches see the old index until the new one is complete.
* **One writer.** A run holds the index's writer lock from start to end
  (:class:`~newsearch.storage.WriteLock`).
"""

from __future__ import annotations

import gc
import os
import re
import shutil
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import CLEAR

from .article import Article, RecordSkip
from .corpus import CorpusFile, load, printable_path, walk
from .errors import IndexDamaged, IndexNotFound, NewsearchError, SkippedInput
from .manifest import FileState, Manifest
from .readers import read_source, source_format
from .segments import BuilderPool, FileMeta, NewsSegmentWriter, chunked
from .storage import (
    INDEX_NAME,
    MARKER,
    WRITER_LOCK,
    WriteLock,
    create_index,
    index_path,
    open_whoosh_index,
    read_marker,
    unmarked_state,
)

__all__ = ["BATCH_ARTICLES", "IndexReport", "Skip", "index_paths"]

# Articles per commit: a killed run loses at most this much work (about ten seconds of it);
# larger batches mean fewer, larger segments, so fewer term lists to write while indexing
# and fewer segments to search (Reuters-21578: 1,650 -> 2,250 articles/s against 5,000).
BATCH_ARTICLES = 20_000
# Files handed to a worker at once, and chunks in flight per worker (bounds memory).
_CHUNK_FILES = 16
_CHUNK_BYTES = 1_000_000
_AHEAD_PER_WORKER = 2
# Writer pool memory (MB) before Whoosh spills postings to temporary files.
_WRITER_LIMIT_MB = 256


@dataclass(slots=True, frozen=True)
class Skip:
    """Something not indexed, and why. ``record`` is set for one record of a file."""

    path: str
    reason: str
    record: str | None = None

    def to_dict(self) -> dict[str, str]:
        d = {"path": self.path, "reason": self.reason}
        if self.record:
            d["record"] = self.record
        return d


@dataclass(slots=True)
class IndexReport:
    """What a run did. Counts are articles, except ``files_read``.

    ``skipped`` is what this run could not index; ``skipped_before`` the unchanged files an
    earlier run skipped (not read again, not reported as new). ``formats`` counts the articles
    this run indexed (added or updated) by the format they were read as, so that a file read
    as the wrong kind (notes beside a corpus read as an article) shows.
    """

    added: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    duplicates: int = 0
    documents: int = 0
    seconds: float = 0.0
    skipped: list[Skip] = field(default_factory=list)
    files_read: int = 0
    index: str = ""
    formats: dict[str, int] = field(default_factory=dict)
    skipped_before: list[Skip] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "added": self.added,
            "updated": self.updated,
            "deleted": self.deleted,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "documents": self.documents,
            "seconds": round(self.seconds, 3),
            "skipped": [s.to_dict() for s in self.skipped],
            "files_read": self.files_read,
            "index": self.index,
            "formats": dict(sorted(self.formats.items(), key=lambda kv: (-kv[1], kv[0]))),
            "skipped_before": [s.to_dict() for s in self.skipped_before],
        }

    def summary(self) -> str:
        rate = ""
        indexed = self.added + self.updated
        if indexed and self.seconds > 0:
            rate = f", {indexed / self.seconds:,.0f} articles/s"
        before = (f", {len(self.skipped_before):,} skipped before (unchanged)"
                  if self.skipped_before else "")
        formats = ", ".join(f"{name} {n:,}" for name, n in self.to_dict()["formats"].items())
        return (
            f"{self.documents:,} articles in {self.index}: {self.added:,} added, "
            f"{self.updated:,} updated, {self.deleted:,} deleted, {self.unchanged:,} unchanged, "
            f"{self.duplicates:,} duplicates, {len(self.skipped):,} skipped{before} "
            f"({self.files_read:,} files read in {self.seconds:.1f} s{rate})"
            + (f"; by format: {formats}" if formats else "")
        )


ProgressFn = Callable[[int, int], None]


# --- reading one file (in a worker) -------------------------------------------------------------


def _merge(into: list[str], extra: list[str]) -> None:
    seen = {v.casefold() for v in into}
    for v in extra:
        if v.casefold() not in seen:
            into.append(v)
            seen.add(v.casefold())


def read_file(f: CorpusFile) -> tuple[FileMeta, list[tuple[Article, str]]]:
    """Load and read one file: its metadata, and its articles with their dedup keys.

    Analysis waits until the main process has said which articles to keep
    (:meth:`~newsearch.segments.SegmentBuilder.write`), so duplicates are never analysed
    and a worker holds plain text, not postings, while it waits.
    """
    meta = FileMeta(f.path, f.signature)
    articles: list[tuple[Article, str]] = []
    try:
        src = load(f)
        meta.format = source_format(src)
        by_key: dict[str, Article] = {}
        for item in read_source(src, meta.format):
            if isinstance(item, RecordSkip):
                meta.skips.append(Skip(f.path, item.reason, item.key))
                continue
            assert isinstance(item, Article)
            key = item.dedup
            first = by_key.get(key)
            if first is not None:
                # The same story twice in one file (RIA lists some under two topics):
                # index it once with both sections.
                _merge(first.sections, item.sections)
                _merge(first.tags, item.tags)
                meta.dups.append(key)
                continue
            by_key[key] = item
            articles.append((item, key))
            meta.docs.append((item.id, key))
    except SkippedInput as exc:
        meta.failed = Skip(exc.path, exc.reason)
    except (MemoryError, RecursionError) as exc:
        meta.failed = Skip(f.path, f"too large or too deeply nested to read ({type(exc).__name__})")
    except Exception as exc:  # a reader bug must not stop the run; report it as a skip
        meta.failed = Skip(f.path, f"reader error: {type(exc).__name__}: {exc}")
    if meta.failed:
        meta.docs, meta.dups, articles = [], [], []
    return meta, articles


# --- the run (main process) ------------------------------------------------------------------


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


class _Run:
    """State of one index run: the manifest, who owns which dedup key, what is pending."""

    def __init__(self, ix: whoosh_index.FileIndex, folder: Path, manifest: Manifest,
                 report: IndexReport, batch_articles: int, clear: bool = False) -> None:
        self.ix = ix
        self.folder = folder
        self.manifest = manifest
        self.report = report
        self.batch_articles = batch_articles
        self.pending = 0
        self.deletes: list[str] = []
        # A rebuild replaces every old segment in one commit (Whoosh's CLEAR merge), so
        # searchers see the old index until the new one is complete.
        self.clear = clear
        self.dirty = clear
        self.key_owner = manifest.owner_of_keys()

    def remove_file(self, path: str) -> set[str]:
        """Drop a file's articles (at the next commit); return the dedup keys this frees."""
        st = self.manifest.files.pop(path, None)
        if st is None:
            return set()
        if st.ids:
            self.deletes.append(path)
            self.dirty = True
        freed = set()
        for k in st.keys:
            if self.key_owner.get(k) == path:
                del self.key_owner[k]
                freed.add(k)
        return freed

    def decide(self, meta: FileMeta, freed: set[str]) -> list[int]:
        """Book one file's result; return the indices of its documents to index."""
        rep = self.report
        rep.files_read += 1
        rep.skipped.extend(meta.skips)
        old = self.manifest.files.get(meta.path)
        if meta.failed:
            rep.skipped.append(meta.failed)
            if old is None or not (old.ids or old.dups):
                # Remembered so that the file is not read, nor reported, again until it changes.
                self.manifest.files[meta.path] = FileState(meta.sig, skip=meta.failed.reason)
                self.dirty = True
            # An unreadable file keeps what it contributed before (nothing indexed is lost).
            return []
        old_ids = set(old.ids) if old else set()
        if old:
            freed |= self.remove_file(meta.path)
        st = FileState(meta.sig, dups=list(meta.dups))
        rep.duplicates += len(meta.dups)
        keep: list[int] = []
        for i, (aid, key) in enumerate(meta.docs):
            if key in self.key_owner:
                rep.duplicates += 1
                st.dups.append(key)
                continue
            keep.append(i)
            self.key_owner[key] = meta.path
            freed.discard(key)
            st.ids.append(aid)
            st.keys.append(key)
            if aid in old_ids:
                rep.updated += 1
            else:
                rep.added += 1
        rep.deleted += len(old_ids - set(st.ids))
        if keep and meta.format:
            rep.formats[meta.format] = rep.formats.get(meta.format, 0) + len(keep)
        self.manifest.files[meta.path] = st
        self.pending += len(keep)
        self.dirty = True
        return keep

    def should_commit(self) -> bool:
        return self.pending >= self.batch_articles and not self.clear

    def commit(self, segments: list[Any]) -> None:
        """One new generation: deletions, merges of small segments, the workers' segments."""
        if not self.dirty and not segments:
            return
        w = NewsSegmentWriter(self.ix, limitmb=_WRITER_LIMIT_MB)
        try:
            for path in self.deletes:
                w.delete_by_term("source", path)
            final = w._merge_segments(CLEAR if self.clear else None, None, None)
            final = list(final) + list(segments)
            if w.has_documents:  # the merge policy folded small segments into this writer
                final.append(w._finalize_segment())
            else:
                w._close_segment()
            generation = w.generation
            self.manifest.save(self.folder, generation)
            w._commit_toc(final)
        except BaseException:
            w.cancel()
            raise
        w._finish()
        Manifest.prune(self.folder, keep=generation)
        self.pending = 0
        self.deletes = []
        self.dirty = False
        self.clear = False


def _load_manifest(ix: whoosh_index.FileIndex, folder: Path) -> Manifest:
    gen = ix.latest_generation()
    m = Manifest.load(folder, gen)
    if m is not None:
        return m
    # No manifest for this generation (made by hand, or files lost): rebuild the
    # file → articles map from the stored fields. Signatures are unknown, so every file
    # is read once more; nothing indexed is lost meanwhile.
    files: dict[str, FileState] = {}
    with ix.searcher() as s:
        for fields in s.all_stored_fields():
            st = files.setdefault(fields.get("source", ""), FileState(sig="?"))
            st.ids.append(fields["id"])
            st.keys.append(fields.get("dedup", ""))
    return Manifest(files, trusted=False)


_OWN_FILES = {".gitkeep", WRITER_LOCK}


def _open_or_create(folder: Path, rebuild: bool) -> whoosh_index.FileIndex:
    if read_marker(folder) is None:
        state = unmarked_state(folder)
        if state == "damaged" and not rebuild:
            raise IndexDamaged(str(folder), f"its {MARKER} marker is missing or unreadable")
        if state is not None:
            # A creation killed before the marker was written (nothing was committed), or a
            # rebuild of an index that lost its marker: start afresh.
            _clear_folder(folder)
            return create_index(folder)
        if any(p.name not in _OWN_FILES for p in folder.iterdir()):
            raise IndexNotFound(
                str(folder),
                f"{folder} holds other files and is not a newsearch index; "
                "choose an empty folder with --index",
            )
        return create_index(folder)
    if rebuild:
        # Keep the old generations readable until the rebuild commits (see _Run.clear).
        try:
            return open_whoosh_index(folder)
        except NewsearchError:
            _clear_folder(folder)
            return create_index(folder)
    return open_whoosh_index(folder)


# Left behind by killed runs: segment writers' private temporary folders (segments.py), TOCs
# and manifests written under a temporary name before their atomic rename.
_WRITER_TMP = re.compile(r"^newsearch-[0-9a-f]{32}\.tmp$")
_TEMP_FILE = re.compile(rf"^(_{INDEX_NAME}_\d+\.toc\.[0-9.]+|newsearch-manifest-\d+\.json\.tmp)$")


def _remove_leftovers(ix: whoosh_index.FileIndex, folder: Path) -> None:
    """Delete what killed runs left in the index folder.

    Only called while holding the writer lock, so no live writer owns any of it, and
    searchers never read it: writers' temporary folders, column files in Whoosh's shared
    ``MAIN.tmp``, temporary TOC/manifest files, and segment files that no generation lists
    (a worker's unfinished segment; Whoosh removes those only when a later run commits).
    """
    for p in folder.iterdir():
        try:
            if _WRITER_TMP.match(p.name) and p.is_dir():
                shutil.rmtree(p, ignore_errors=True)
            elif p.name == f"{INDEX_NAME}.tmp" and p.is_dir():
                for q in p.iterdir():
                    q.unlink()
            elif _TEMP_FILE.match(p.name):
                p.unlink()
        except OSError:
            pass  # best effort: a leftover costs disk space, never correctness
    gen = ix.latest_generation()
    if gen >= 0:
        whoosh_index.clean_files(ix.storage, INDEX_NAME, gen, ix._segments())


def _clear_folder(folder: Path) -> None:
    """Remove an unusable index's files (damaged or of an older schema) for a rebuild."""
    for p in folder.iterdir():
        if p.name in _OWN_FILES:
            continue
        if p.is_dir():
            shutil.rmtree(p, ignore_errors=True)
        else:
            p.unlink(missing_ok=True)


def index_paths(
    paths: Iterable[str | os.PathLike[str]],
    index: str | os.PathLike[str] | None = None,
    *,
    rebuild: bool = False,
    jobs: int | None = None,
    wait: float = 0.0,
    batch_articles: int = BATCH_ARTICLES,
    progress: ProgressFn | None = None,
) -> IndexReport:
    """Index the files under ``paths`` into the index at ``index`` (created if needed).

    ``jobs`` worker processes read and analyse files (default: one per core). ``wait`` is
    how long to wait for another writer before raising
    :class:`~newsearch.errors.IndexLocked`. ``progress(done, total)`` is called as files
    are written. With ``rebuild`` the index is built afresh in a new folder that replaces the
    old one only when complete.
    """
    started = time.monotonic()
    folder = index_path(index)
    roots = [os.path.abspath(p) for p in paths]
    jobs = max(1, jobs or os.cpu_count() or 1)
    report = IndexReport(index=str(folder))

    folder.mkdir(parents=True, exist_ok=True)
    with WriteLock(folder, wait):
        ix = _open_or_create(folder, rebuild)
        _remove_leftovers(ix, folder)
        manifest = Manifest() if rebuild else _load_manifest(ix, folder)
        run = _Run(ix, folder, manifest, report, batch_articles, clear=rebuild)
        builders = BuilderPool(str(folder), jobs)
        # See segments._worker_main: the cyclic collector only slows a run down (with
        # --jobs 1 the builder runs in this process).
        gc_was_enabled = gc.isenabled()
        gc.disable()
        try:
            _index(run, builders, roots, progress)
            run.commit(builders.flush())
        except BaseException:
            builders.terminate()
            raise
        finally:
            if gc_was_enabled:
                gc.enable()
        builders.close()
        with open_whoosh_index(folder).searcher() as s:
            report.documents = s.doc_count()
    report.seconds = time.monotonic() - started
    return report


def _index(run: _Run, builders: BuilderPool, roots: list[str],
           progress: ProgressFn | None) -> None:
    report = run.report
    manifest = run.manifest
    found: list[CorpusFile] = []
    for item in walk(roots):
        if isinstance(item, SkippedInput):
            report.skipped.append(Skip(item.path, item.reason))
        else:
            found.append(item)
    seen = {f.path for f in found}
    todo: list[CorpusFile] = []
    for f in found:
        st = manifest.files.get(f.path)
        if st is not None and manifest.trusted and st.sig == f.signature:
            report.unchanged += len(st.ids)
            if st.skip:
                report.skipped_before.append(Skip(f.path, st.skip))
        else:
            todo.append(f)
    freed: set[str] = set()
    shown_roots = [printable_path(r) for r in roots]  # as the walk records paths
    for path in [p for p in manifest.files if p not in seen and _under(p, shown_roots)]:
        report.deleted += len(manifest.files[path].ids)
        freed |= run.remove_file(path)

    done = [0]
    total = len(todo)

    def tick(n: int) -> None:
        done[0] += n
        if progress:
            progress(done[0], total)

    _process(run, builders, todo, freed, tick)

    # Copies skipped as duplicates of articles that are gone now: read their files again.
    freed -= set(run.key_owner)
    if freed:
        read = {t.path for t in todo}
        again = [f for f in found if f.path not in read
                 and set(manifest.files.get(f.path, FileState("")).dups) & freed]
        for f in again:
            report.unchanged -= len(manifest.files[f.path].ids)
        _process(run, builders, again, set(), lambda n: None)


def _process(run: _Run, builders: BuilderPool, files: list[CorpusFile], freed: set[str],
             tick: Callable[[int], None]) -> None:
    """Read ``files`` on the builders, decide each file's fate here, commit per batch."""
    chunks = list(chunked(files, _CHUNK_FILES, _CHUNK_BYTES))
    ahead = builders.jobs * _AHEAD_PER_WORKER
    submitted = 0
    for cid in range(len(chunks)):
        while submitted < len(chunks) and submitted < cid + ahead:
            builders.submit(submitted, chunks[submitted])
            submitted += 1
        metas = builders.result(cid)
        keep = [run.decide(meta, freed) for meta in metas]
        builders.write(cid, keep)
        tick(len(metas))
        if run.should_commit():
            run.commit(builders.flush())
