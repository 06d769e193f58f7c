"""Index runs into a folder: the storage side of :mod:`newsearch.runs` for Whoosh.

    walk, plan, decide (newsearch.runs) ─▶ workers: load ▶ read ▶ analyse ▶ write segments
         (segments.py) ─▶ commit per batch here: deletions, merges, the workers' segments

* **Crash safety.** Work is committed every :data:`~newsearch.runs.BATCH_ARTICLES` articles
  or after :data:`~newsearch.runs.COMMIT_SECONDS` of work (doubling, up to a minute),
  whichever comes first; the manifest for a generation is on disk before Whoosh commits it.
  A killed run leaves the last committed generation, and the next run continues from there,
  first removing what the killed run left behind (temporary folders and files, unfinished
  segments; see :func:`_remove_leftovers`). A run killed while creating the index (before
  its marker was written) is started afresh. A run that fails (disk full, a worker killed)
  removes what it left half-written before it ends.
* **Bounded memory.** A file's articles travel in parts (:mod:`newsearch.runs`), workers
  write a segment to disk once it holds enough text (:mod:`.segments`), skips are listed up
  to a bound and counted beyond it, and segments are merged a size tier at a time, at most
  :data:`~newsearch.backends.whoosh.merge.MAX_MERGED_DOCS` at once (:mod:`.merge`). What
  grows with the archive is the manifest in this process, packed (about 64 bytes an
  article, :mod:`newsearch.manifest`).
* **Rebuild.** ``rebuild`` writes the new index beside the old generations and replaces them
  in a single commit, so searches see the old index until the new one is complete.
* **The folder.** A run writes only into an index folder, an empty one, or (when told) one
  whose other files it then never touches (:func:`.storage.inspect_folder`).
* **One writer.** A run holds the index's writer lock from start to end
  (:class:`.storage.WriteLock`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import CLEAR

from ...clusters import Clusters
from ...errors import (
    IndexDamaged,
    IndexIOError,
    IndexNotFound,
    IndexVersionError,
)
from ...manifest import FileState, Manifest
from ...runs import (
    BATCH_ARTICLES,
    IndexReport,
    ProgressFn,
    _index,
    _Run,
)
from ...watches import WATCHES_FILE, check_watches
from .index import NewsIndex
from .merge import end_of_run_groups, merge_segments
from .segments import BuilderPool, NewsSegmentWriter
from .storage import (
    MARKER,
    FolderInfo,
    WriteLock,
    clean_generations,
    clean_manifests,
    clear_index_files,
    create_index,
    index_path,
    inspect_folder,
    is_own_entry,
    open_whoosh_index,
    remove_temporary,
    write_toc,
)

__all__ = ["index_paths"]

# Writer pool memory (MB) before Whoosh spills postings to temporary files.
_WRITER_LIMIT_MB = 256


# --- reading one file (in a worker) -------------------------------------------------------------


# --- the run (main process) ------------------------------------------------------------------


class _FolderRun(_Run):
    """A run over the index folder: its commits are Whoosh generations, each with its
    manifest on disk first."""

    def __init__(self, ix: whoosh_index.FileIndex, folder: Path, manifest: Manifest,
                 report: IndexReport, batch_articles: int, clear: bool = False,
                 clusters: Clusters | None = None) -> None:
        super().__init__(folder, manifest, report, batch_articles, clear, clusters)
        self.ix = ix
        self.folder: Path = folder
        self.written = 0  # documents in the segments this run's workers wrote
        self.last = False  # set by finish(): the run's last commit

    def owns_entry(self, entry: os.DirEntry[str] | Path) -> bool:
        return is_own_entry(entry)

    def finish(self, segments: list[Any]) -> None:
        """The run's last commit, which also merges its small segments into one."""
        self.last = True
        self.commit(segments)

    def commit(self, segments: list[Any]) -> None:
        """One new generation: deletions, merges of small segments, the workers' segments;
        the run's last commit also merges its small segments into one
        (:func:`.merge.end_of_run_groups`)."""
        last = self.last
        self.written += sum(s.doc_count_all() for s in segments)
        if not self.dirty and not segments and not (last and self.written):
            return
        w = NewsSegmentWriter(self.ix, limitmb=_WRITER_LIMIT_MB)
        try:
            for path in self.deletes:
                w.delete_by_term("source", path)
            final = w._merge_segments(CLEAR if self.clear else None, None, None)
            changed = self.dirty or bool(segments) or len(final) != len(w.segments)
            final = list(final) + list(segments)
            if w.has_documents:  # the merge policy folded small segments into this writer
                final.append(w._finalize_segment())
            else:
                w._close_segment()
            for group in end_of_run_groups(final, self.written) if last else []:
                merged = merge_segments(w.storage, w.schema, w.indexname, group)
                at = final.index(group[0])
                final = [s for s in final if all(s is not g for g in group)]
                if merged is not None:
                    final.insert(at, merged)  # where the first of them was: order kept
                changed = True
            if not changed:  # the last commit found nothing left to merge
                w.cancel()
                return
            generation = w.generation
            self.manifest.save(self.folder, generation)
            self.clusters.save(self.folder, generation)
            write_toc(w, final)
        except BaseException:
            w.cancel()
            raise
        w._finish()
        _prune_manifests(self.folder, generation)
        self.pending = 0
        self.deletes = []
        self.dirty = False
        self.clear = False
        self.last_commit = time.monotonic()
        self.commits += 1


def _prune_manifests(folder: Path, generation: int) -> None:
    """Remove the manifests and cluster files of other generations, once ``generation`` is
    committed."""
    clean_manifests(folder, generation)
    Clusters.prune(folder, keep=generation)


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


def _load_clusters(ix: whoosh_index.FileIndex, folder: Path) -> Clusters:
    clusters = Clusters.load(folder, ix.latest_generation())
    if clusters is not None:
        return clusters
    # No cluster file for this generation (lost, or copied by hand): sketch the indexed
    # articles again, keeping the cluster numbers they carry.
    with ix.searcher() as s:
        reader = s.reader()
        if not reader.doc_count() or not reader.has_column("cluster"):
            return Clusters()
        col = reader.column_reader("cluster")
        return Clusters.from_articles(
            (fields["id"], int(col[docnum]), fields.get("title", ""), fields.get("body", ""))
            for docnum, fields in reader.iter_docs())


def _open_or_create(folder: Path, rebuild: bool, allow_other: bool) -> whoosh_index.FileIndex:
    """The index to write into; creates it in an empty folder. Deletes nothing but an
    unusable index's own files, and those only for a rebuild or an unfinished creation."""
    info = inspect_folder(folder, allow_other=allow_other)
    _check_usable(folder, info, rebuild)
    if info.kind == "index":
        if not rebuild:
            return open_whoosh_index(folder)
        try:
            # Keep the old generations readable until the rebuild commits (see _Run.clear).
            return open_whoosh_index(folder)
        except (IndexDamaged, IndexVersionError):
            clear_index_files(folder)
            return create_index(folder)
    if info.kind in ("unfinished", "damaged"):
        # A creation killed before the marker was written (nothing was committed), or a
        # rebuild of an index that lost its marker: start afresh.
        clear_index_files(folder)
    return create_index(folder)


def _check_usable(folder: Path, info: FolderInfo, rebuild: bool) -> None:
    """Refuse a folder that is not ours to write into."""
    if info.kind == "not-a-folder":
        raise IndexNotFound(str(folder), f"{folder} is a file, not an index folder")
    if info.kind == "foreign":
        raise IndexNotFound(
            str(folder),
            f"{folder} is not a newsearch index and holds files newsearch did not write "
            f"(such as {info.example}); choose an empty or new folder with --index, or "
            "pass --allow-other-files to keep the index beside them",
        )
    if info.kind == "stray":
        raise IndexNotFound(
            str(folder),
            f"{folder} is not a newsearch index: it holds {info.example} but no {MARKER} "
            "marker, and newsearch never deletes what it cannot tell it wrote; choose "
            "another folder with --index",
        )
    if info.kind == "damaged" and not rebuild:
        raise IndexDamaged(str(folder), f"its {MARKER} marker is missing or unreadable")


def _remove_leftovers(ix: whoosh_index.FileIndex, folder: Path) -> None:
    """Delete what killed or failed runs left in the index folder.

    Only called while holding the writer lock, so no live writer owns any of it, and
    searchers never read it: writers' temporary folders, column files in Whoosh's shared
    ``MAIN.tmp``, temporary TOC/manifest files, manifests of generations never committed, and
    segment files that no generation lists (a worker's unfinished segment). Each by the
    exact names newsearch writes (:data:`.storage.OWN_NAMES`).
    """
    with contextlib.suppress(OSError):  # best effort: a leftover costs disk space, not data
        remove_temporary(folder)
        gen = ix.latest_generation()
        if gen >= 0:
            clean_manifests(folder, gen)
            clean_generations(folder, gen, ix._segments())


def index_paths(
    paths: Iterable[str | os.PathLike[str]],
    index: str | os.PathLike[str] | None = None,
    *,
    rebuild: bool = False,
    jobs: int | None = None,
    wait: float = 0.0,
    allow_other_files: bool = False,
    batch_articles: int = BATCH_ARTICLES,
    progress: ProgressFn | None = None,
) -> IndexReport:
    """Index the files under ``paths`` into the index at ``index`` (created if needed).

    ``jobs`` worker processes read and analyse files (default: one per core). ``wait`` is
    how long to wait for another writer before raising
    :class:`~newsearch.errors.IndexLocked`. ``progress(done, total)`` is called as files
    are written. With ``rebuild`` the index is built afresh beside the old one, which stays
    searchable until the new one is complete (an unusable old index is deleted first, by
    the names of its files only).

    A new index is only created in an empty (or new) folder; ``allow_other_files`` allows a
    folder that holds other files too (newsearch never touches them). Problems of the
    index folder itself raise :class:`~newsearch.errors.IndexIOError` (disk full, no
    permission) or :class:`~newsearch.errors.WorkerDied`.
    """
    started = time.monotonic()
    folder = index_path(index)
    roots = [os.path.abspath(p) for p in paths]
    jobs = max(1, jobs or os.cpu_count() or 1)
    report = IndexReport(index=str(folder))

    # Refuse a folder that is not ours before creating anything in it, even the lock file.
    _check_usable(folder, inspect_folder(folder, allow_other=allow_other_files), rebuild)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise IndexIOError(str(folder), "write", exc) from None
    with WriteLock(folder, wait) as lock:
        if lock.notice:
            report.notices.append(lock.notice)
        try:
            _locked_run(folder, lock, roots, report, rebuild=rebuild, jobs=jobs,
                        allow_other=allow_other_files, batch_articles=batch_articles,
                        progress=progress)
        except OSError as exc:
            raise IndexIOError(str(folder), "write", exc) from None
    report.seconds = time.monotonic() - started
    return report


def _locked_run(folder: Path, lock: WriteLock, roots: list[str], report: IndexReport, *,
                rebuild: bool, jobs: int, allow_other: bool, batch_articles: int,
                progress: ProgressFn | None) -> None:
    ix = _open_or_create(folder, rebuild, allow_other)
    _remove_leftovers(ix, folder)
    manifest = Manifest() if rebuild else _load_manifest(ix, folder)
    clusters = Clusters() if rebuild else _load_clusters(ix, folder)
    run = _FolderRun(ix, folder, manifest, report, batch_articles, clear=rebuild,
                     clusters=clusters)
    builders = BuilderPool(str(folder), jobs, inherited=[lock.fileno()])
    # See segments._worker_main: the cyclic collector only slows a run down (with
    # --jobs 1 the builder runs in this process).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _index(run, builders, roots, progress)
        run.finish(builders.flush())
    except BaseException:
        builders.terminate()
        # Nothing partial is left taking space: unfinished segments and temporary files.
        _remove_leftovers(ix, folder)
        raise
    finally:
        if gc_was_enabled:
            gc.enable()
    builders.close()
    with open_whoosh_index(folder).searcher() as s:
        report.documents = s.doc_count()
    if (folder / WATCHES_FILE).exists() and (report.added or report.updated) \
            and not rebuild:  # a rebuild adds nothing new, only everything again
        with NewsIndex(folder, results_cache=0) as ix_:
            report.alerts = check_watches(ix_, after=run.started - 1)


