"""Index runs: walk the corpus, read and analyse files on every core, write in batches.

    walk ─▶ plan (new / changed / unchanged / deleted) ─▶ workers: load ▶ read ▶ analyse
         ─▶ writer (this process): delete old, drop duplicates, add ─▶ commit per batch

* **Incremental.** A file whose size and mtime match the manifest is not read again; a
  changed file's articles are replaced; a deleted file's articles are removed (only files
  under the folders being indexed count as deleted).
* **Duplicates.** An article whose dedup key (normalised title + body) is already indexed is
  counted, not indexed. If the indexed copy later disappears, the files holding skipped
  copies are read again so the story stays searchable.
* **Crash safety.** Work is committed every :data:`BATCH_ARTICLES` articles or after
  :data:`COMMIT_SECONDS` of work (doubling, up to a minute), whichever comes first; the
  manifest for a generation is on disk before Whoosh commits it. A killed run leaves the
  last committed generation, and the next run continues from there, first removing what the
  killed run left behind (temporary folders and files, unfinished segments; see
  :func:`_remove_leftovers`). A run killed while creating the index (before its marker was
  written) is started afresh. A run that fails (disk full, a worker killed) removes what it
  left half-written before it ends.
* **Bounded memory.** A file's articles travel in parts, workers write a segment to disk once
  it holds enough text (:mod:`newsearch.segments`), skips are listed up to a bound and
  counted beyond it, and segments are merged a size tier at a time, at most
  :data:`~newsearch.merge.MAX_MERGED_DOCS` at once (:mod:`newsearch.merge`). What grows
  with the archive is the manifest in this process.
* **Rebuild.** ``rebuild`` writes the new index beside the old generations and replaces them
  in a single commit, so searches see the old index until the new one is complete.
* **The folder.** A run writes only into an index folder, an empty one, or (when told) one
  whose other files it then never touches (:func:`~newsearch.storage.inspect_folder`).
* **One writer.** A run holds the index's writer lock from start to end
  (:class:`~newsearch.storage.WriteLock`).
"""

from __future__ import annotations

import contextlib
import gc
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from whoosh import index as whoosh_index
from whoosh.writing import CLEAR

from ...article import Article, RecordSkip
from ...corpus import CorpusFile, load, printable_path, walk
from ...errors import (
    IndexDamaged,
    IndexIOError,
    IndexNotFound,
    IndexVersionError,
    SkippedInput,
)
from ...manifest import FileState, Manifest
from ...readers import read_source, source_format
from .segments import BuilderPool, FileMeta, NewsSegmentWriter, chunked
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
    open_whoosh_index,
    remove_temporary,
    write_toc,
)

__all__ = ["BATCH_ARTICLES", "IndexReport", "Skip", "index_paths"]

# A commit every BATCH_ARTICLES articles or after some seconds of work, whichever comes
# first: a killed run loses at most that much. The first commit comes after COMMIT_SECONDS,
# each later one after twice as long as the one before, up to MAX_COMMIT_SECONDS: every
# commit adds a segment per worker, and queries that expand words (prefixes, fuzzy words)
# pay for every segment (Reuters-21578 built with a commit every 5 s on a busy machine: 10
# segments, those queries 2x slower than with 3). Larger batches mean fewer, larger
# segments, so fewer term lists to write while indexing (Reuters-21578: 1,650 -> 2,250
# articles/s with 20,000 against 5,000).
BATCH_ARTICLES = 20_000
COMMIT_SECONDS = 5.0
MAX_COMMIT_SECONDS = 60.0
# The skip list of a report: the first MAX_SKIPS_LISTED, and a count of all
# (IndexReport.skipped_total); a file whose records fail MAX_RECORD_SKIPS times is not read
# further (a file of millions of malformed lines is no article source).
MAX_SKIPS_LISTED = 1_000
MAX_RECORD_SKIPS_LISTED = 100
MAX_RECORD_SKIPS = 10_000
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
    skipped: list[Skip] = field(default_factory=list)  # the first MAX_SKIPS_LISTED
    files_read: int = 0
    index: str = ""
    formats: dict[str, int] = field(default_factory=dict)
    skipped_before: list[Skip] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    skipped_total: int = 0

    def add_skip(self, skip: Skip) -> None:
        if len(self.skipped) < MAX_SKIPS_LISTED:
            self.skipped.append(skip)
        self.skipped_total += 1

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
            "skipped_total": self.skipped_total,
            "files_read": self.files_read,
            "index": self.index,
            "formats": dict(sorted(self.formats.items(), key=lambda kv: (-kv[1], kv[0]))),
            "skipped_before": [s.to_dict() for s in self.skipped_before],
            "notices": list(self.notices),
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
            f"{self.duplicates:,} duplicates, {self.skipped_total:,} skipped{before} "
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


def read_file_parts(f: CorpusFile, part_articles: int, part_chars: int
                    ) -> Iterator[tuple[FileMeta, list[tuple[Article, str]]]]:
    """Load and read one file: its articles with their dedup keys, in parts of at most
    ``part_articles`` articles or ``part_chars`` characters, each with its metadata.

    Analysis waits until the main process has said which articles to keep
    (:meth:`~newsearch.segments.SegmentBuilder.write`), so duplicates are never analysed
    and a worker holds plain text, not postings, while it waits. A file that fails before
    its first part is complete is skipped whole (``failed``, no articles); one that fails
    later keeps the parts before. Copies of one story within a part are merged (RIA lists
    some under two topics: one article with both sections).
    """
    meta = FileMeta(f.path, f.signature, final=False)
    articles: list[tuple[Article, str]] = []
    by_key: dict[str, Article] = {}
    chars = 0
    record_skips = 0
    try:
        src = load(f)
        meta.format = source_format(src)
        for item in read_source(src, meta.format):
            if isinstance(item, RecordSkip):
                record_skips += 1
                if record_skips <= MAX_RECORD_SKIPS_LISTED:
                    meta.skips.append(Skip(f.path, item.reason, item.key))
                else:
                    meta.more_skips += 1
                if record_skips >= MAX_RECORD_SKIPS:
                    meta.skips.append(Skip(f.path, f"{MAX_RECORD_SKIPS:,} bad records; the rest"
                                       " of the file was not read"))
                    break
                continue
            assert isinstance(item, Article)
            key = item.dedup
            first = by_key.get(key)
            if first is not None:
                _merge(first.sections, item.sections)
                _merge(first.tags, item.tags)
                meta.dups.append(key)
                continue
            if len(articles) >= part_articles or chars >= part_chars:
                yield meta, articles
                meta = FileMeta(f.path, f.signature, part=meta.part + 1, final=False,
                                format=meta.format)
                articles, by_key, chars = [], {}, 0
            by_key[key] = item
            articles.append((item, key))
            meta.docs.append((item.id, key))
            chars += len(item.title) + len(item.body) + len(item.subtitle or "")
    except SkippedInput as exc:
        meta.failed = Skip(exc.path, exc.reason)
    except (MemoryError, RecursionError) as exc:
        meta.failed = Skip(f.path, f"too large or too deeply nested to read ({type(exc).__name__})")
    except Exception as exc:  # a reader bug must not stop the run; report it as a skip
        meta.failed = Skip(f.path, f"reader error: {type(exc).__name__}: {exc}")
    if meta.failed and meta.part == 0:
        meta.docs, meta.dups, articles = [], [], []
    meta.final = True
    yield meta, articles


# --- the run (main process) ------------------------------------------------------------------


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


@dataclass(slots=True)
class _OpenFile:
    """A file whose articles arrive in several parts: its new state, and its old articles."""

    state: FileState
    old_ids: set[str]


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
        self.open_files: dict[str, _OpenFile] = {}
        # A rebuild replaces every old segment in one commit (Whoosh's CLEAR merge), so
        # searchers see the old index until the new one is complete.
        self.clear = clear
        self.dirty = clear
        self.key_owner = manifest.owner_of_keys()
        self.last_commit = time.monotonic()
        self.commits = 0

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
        """Book one file's result (or one part of it); return the indices of its documents
        to index."""
        rep = self.report
        for skip in meta.skips:
            rep.add_skip(skip)
        rep.skipped_total += meta.more_skips
        if meta.failed:
            rep.add_skip(meta.failed)
            if meta.part == 0:
                rep.files_read += 1
                old = self.manifest.files.get(meta.path)
                if old is None or not (old.ids or old.dups):
                    # Remembered so that the file is not read, nor reported, again until it
                    # changes.
                    self.manifest.files[meta.path] = FileState(meta.sig,
                                                               skip=meta.failed.reason)
                    self.dirty = True
                # An unreadable file keeps what it contributed before (nothing indexed is lost).
                return []
        if meta.part == 0:
            old = self.manifest.files.get(meta.path)
            old_ids = set(old.ids) if old else set()
            if old:
                freed |= self.remove_file(meta.path)
            # Until its last part is in, the file is recorded with an unknown signature: a
            # run killed between two of its parts reads it again next time.
            opened = _OpenFile(FileState("?" if not meta.final else meta.sig), old_ids)
            self.manifest.files[meta.path] = opened.state
        else:
            opened = self.open_files.pop(meta.path)
        st = opened.state
        st.dups.extend(meta.dups)
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
            if aid in opened.old_ids:
                rep.updated += 1
            else:
                rep.added += 1
        if keep and meta.format:
            rep.formats[meta.format] = rep.formats.get(meta.format, 0) + len(keep)
        if meta.final:
            rep.files_read += 1
            rep.deleted += len(opened.old_ids - set(st.ids))
            # A file that failed part-way keeps its earlier parts; it is read again next time.
            st.sig = "?" if meta.failed else meta.sig
        else:
            self.open_files[meta.path] = opened
        self.pending += len(keep)
        self.dirty = True
        return keep

    def should_commit(self) -> bool:
        """Every :data:`BATCH_ARTICLES` articles, or after :data:`COMMIT_SECONDS` of work,
        doubling with each commit up to :data:`MAX_COMMIT_SECONDS` (a rebuild commits once,
        at its end)."""
        if self.clear or not self.pending:
            return False
        if self.pending >= self.batch_articles:
            return True
        interval = min(MAX_COMMIT_SECONDS, COMMIT_SECONDS * 2.0 ** min(self.commits, 16))
        return time.monotonic() - self.last_commit >= interval

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
            write_toc(w, final)
        except BaseException:
            w.cancel()
            raise
        w._finish()
        Manifest.prune(self.folder, keep=generation)
        self.pending = 0
        self.deletes = []
        self.dirty = False
        self.clear = False
        self.last_commit = time.monotonic()
        self.commits += 1


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
    exact names newsearch writes (:data:`~newsearch.storage.OWN_NAMES`).
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
    run = _Run(ix, folder, manifest, report, batch_articles, clear=rebuild)
    builders = BuilderPool(str(folder), jobs, inherited=[lock.fileno()])
    # See segments._worker_main: the cyclic collector only slows a run down (with
    # --jobs 1 the builder runs in this process).
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        _index(run, builders, roots, progress)
        run.commit(builders.flush())
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


def _index(run: _Run, builders: BuilderPool, roots: list[str],
           progress: ProgressFn | None) -> None:
    report = run.report
    manifest = run.manifest
    found: list[CorpusFile] = []
    for item in walk(roots, run.folder):
        if isinstance(item, SkippedInput):
            report.add_skip(Skip(item.path, item.reason))
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
    """Read ``files`` on the builders, decide each part here in file order, commit by batch
    and time."""
    chunks = list(chunked(files, _CHUNK_FILES, _CHUNK_BYTES))
    ahead = builders.jobs * _AHEAD_PER_WORKER
    submitted = 0
    for cid in range(len(chunks)):
        while submitted < len(chunks) and submitted < cid + ahead:
            builders.submit(submitted, chunks[submitted])
            submitted += 1
        last = False
        while not last:
            seq, metas, last = builders.next_part(cid)
            keep = [run.decide(meta, freed) for meta in metas]
            builders.write(cid, seq, keep)
            tick(sum(1 for meta in metas if meta.final))
            if run.should_commit():
                run.commit(builders.flush())
