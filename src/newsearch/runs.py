"""Index runs, the part both backends share: what a run reports, how a file is read into
parts, and the incremental plan and bookkeeping of the main process.

    walk ─▶ plan (new / changed / unchanged / deleted) ─▶ builders: read ▶ (analyse ▶ write)
         ─▶ decide here, part by part, in file order: duplicates, added / updated counts
         ─▶ commit per batch (each backend its own way)

* **Incremental.** A file whose size and mtime match the manifest is not read again; a
  changed file's articles are replaced; a deleted file's articles are removed (only files
  under the folders being indexed count as deleted).
* **Duplicates.** An article whose dedup key (normalised title + body) is already indexed is
  counted, not indexed. If the indexed copy later disappears, the files holding skipped
  copies are read again so the story stays searchable.
* **Parts.** A file's articles travel in parts of at most :data:`PART_ARTICLES` articles or
  :data:`PART_CHARS` characters (:func:`read_file_parts`), so what waits for a decision is
  bounded whatever the file.

The storage side is the backend's: :mod:`newsearch.backends.whoosh.indexer` (segments in a
folder, Whoosh commits) and :mod:`newsearch.backends.opensearch.indexer` (bulk requests to a
cluster) subclass :class:`_Run` for their commits and hand :func:`_index` their builders.
This module imports no engine.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from .article import Article, RecordSkip
from .clusters import NUM_PERM, Clusters, band_keys, signature_rows, word_hashes
from .corpus import CorpusFile, load, printable_path, walk
from .errors import SkippedInput
from .manifest import FileState, KeySet, Manifest
from .readers import read_source, source_format
from .watches import WatchAlert

__all__ = ["BATCH_ARTICLES", "PART_ARTICLES", "PART_CHARS", "Builders", "FileMeta",
           "IndexReport", "ProgressFn", "Skip", "read_file_parts", "sketch_parts"]

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
# Parts are how a file's articles travel to the main process (see README, "Memory"): a large
# multi-record file goes in several parts. What a worker holds is also what a commit waits
# for it to analyse (a second or two of work).
PART_ARTICLES = 2_000
PART_CHARS = 1_000_000
# Files handed to a worker at once, and chunks in flight per worker (bounds memory).
_CHUNK_FILES = 16
_CHUNK_BYTES = 1_000_000
_AHEAD_PER_WORKER = 2


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
    # What each saved search (watches.py) found among the articles this run indexed.
    alerts: list[WatchAlert] = field(default_factory=list)

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
            "alerts": [a.to_dict() for a in self.alerts],
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


@dataclass(slots=True)
class FileMeta:
    """What the main process needs to decide about one file's articles, or one part of them.

    A file's articles come in parts (``part`` 0, 1, ...; ``final`` on the last) when there
    are many; ``skips`` lists the first record-level skips, ``more_skips`` counts the rest.
    """

    path: str
    sig: str
    docs: list[tuple[str, str]] = field(default_factory=list)  # (article id, dedup key)
    dups: list[str] = field(default_factory=list)  # dedup keys of copies within the part
    skips: list[Skip] = field(default_factory=list)
    failed: Skip | None = None  # when the file (or its remaining part) was skipped
    format: str | None = None  # readers.FORMATS: which reader read it
    more_skips: int = 0
    part: int = 0
    final: bool = True
    # clusters.signature_rows() of docs: a row each, and whether it holds a sketch
    sketches: np.ndarray = field(default_factory=lambda: np.zeros((0, NUM_PERM), np.uint32))
    sketched: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # clusters.word_hashes() of each of docs, until sketch_parts() turns them into sketches
    hashes: list[Any] = field(default_factory=list)


class Builders(Protocol):
    """What reads (and, for Whoosh, analyses and writes) the files of a run, chunk by chunk:
    :class:`~newsearch.backends.whoosh.segments.BuilderPool`, the cluster's DocumentPool."""

    jobs: int

    def submit(self, chunk_id: int, files: list[CorpusFile]) -> None: ...

    def next_part(self, chunk_id: int) -> tuple[int, list[FileMeta], bool]: ...

    def write(self, chunk_id: int, seq: int, keep: list[list[int]],
              marks: list[list[tuple[int, int]]] | None = None) -> None: ...

    def flush(self) -> list[Any]: ...


# --- reading one file (in a worker) ---------------------------------------------------------


def _merge(into: list[str], extra: list[str]) -> None:
    seen = {v.casefold() for v in into}
    for v in extra:
        if v.casefold() not in seen:
            into.append(v)
            seen.add(v.casefold())


def read_file_parts(f: CorpusFile, part_articles: int, part_chars: int, sketch: bool = True
                    ) -> Iterator[tuple[FileMeta, list[tuple[Article, str]]]]:
    """Load and read one file: its articles with their dedup keys, in parts of at most
    ``part_articles`` articles or ``part_chars`` characters, each with its metadata.

    Each part's story sketches are made at its end; with ``sketch`` False the part carries
    its word hashes instead, for the caller to sketch many parts at once
    (:func:`sketch_parts`: the sketch's numpy calls cost about as much per call as a short
    article's whole sketch, and many corpora hold one article per file).

    Analysis waits until the main process has said which articles to keep
    (the builders' ``write``), so duplicates are never analysed
    and a worker holds plain text, not postings, while it waits. A file that fails before
    its first part is complete is skipped whole (``failed``, no articles); one that fails
    later keeps the parts before. Copies of one story within a part are merged (RIA lists
    some under two topics: one article with both sections).
    """
    meta = FileMeta(f.path, f.signature, final=False)
    articles: list[tuple[Article, str]] = []
    by_key: dict[str, Article] = {}
    hashes: list[Any] = []  # clusters.word_hashes() of each of meta.docs
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
            key, words = item.dedup_and_words()
            first = by_key.get(key)
            if first is not None:
                _merge(first.sections, item.sections)
                _merge(first.tags, item.tags)
                meta.dups.append(key)
                continue
            if len(articles) >= part_articles or chars >= part_chars:
                meta.hashes, hashes = hashes, []
                if sketch:
                    sketch_parts([meta])
                yield meta, articles
                meta = FileMeta(f.path, f.signature, part=meta.part + 1, final=False,
                                format=meta.format)
                articles, by_key, chars = [], {}, 0
            hashed = word_hashes(words)
            by_key[key] = item
            articles.append((item, key))
            meta.docs.append((item.id, key))
            hashes.append(hashed)
            chars += len(item.title) + len(item.body) + len(item.subtitle or "")
    except SkippedInput as exc:
        meta.failed = Skip(exc.path, exc.reason)
    except (MemoryError, RecursionError) as exc:
        meta.failed = Skip(f.path, f"too large or too deeply nested to read ({type(exc).__name__})")
    except Exception as exc:  # a reader bug must not stop the run; report it as a skip
        meta.failed = Skip(f.path, f"reader error: {type(exc).__name__}: {exc}")
    if meta.failed and meta.part == 0:
        meta.docs, meta.dups, hashes, articles = [], [], [], []
    meta.hashes = hashes
    if sketch:
        sketch_parts([meta])
    meta.final = True
    yield meta, articles


def sketch_parts(metas: list[FileMeta]) -> None:
    """Turn the word hashes of parts read with ``sketch=False`` into their story sketches,
    all at once (the word hashes of a part are small beside its text)."""
    rows, sketched = signature_rows([h for meta in metas for h in meta.hashes])
    at = 0
    for meta in metas:
        n = len(meta.hashes)
        meta.sketches, meta.sketched, meta.hashes = rows[at:at + n], sketched[at:at + n], []
        at += n



# --- the run's plan and bookkeeping (main process) -----------------------------------------


def _in_sorted(values: np.ndarray, query: list[bytes]) -> list[bool]:
    """For each of ``query``, whether the sorted array ``values`` holds it."""
    if not query or not len(values):
        return [False] * len(query)
    q = np.array(query, dtype=bytes)
    at = np.minimum(np.searchsorted(values, q), len(values) - 1)
    return (values[at] == q).tolist()  # type: ignore[no-any-return]


def _under(path: str, roots: list[str]) -> bool:
    return any(path == r or path.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


@dataclass(slots=True)
class _OpenFile:
    """A file whose articles arrive in several parts: its new state, and its old articles."""

    state: FileState
    old_ids: np.ndarray  # sorted, as byte strings: a million ids in 16 MB, not a set


class _Run:
    """State of one index run: the manifest, the dedup keys indexed, what is pending.

    What it holds per article is compact (:class:`~newsearch.manifest.Column`,
    :class:`~newsearch.manifest.KeySet`): about 64 bytes an article.
    """

    def __init__(self, folder: Path | None, manifest: Manifest, report: IndexReport,
                 batch_articles: int, clear: bool = False,
                 clusters: Clusters | None = None) -> None:
        # Story clusters, decided here in order of arrival (see marks); a backend that keeps
        # none gives each article its own.
        self.clusters = clusters or Clusters()
        self.added = 0  # the last index time given (UTC microseconds)
        self.started = time.time_ns() // 1000
        self.folder = folder  # an index folder, never read as input; None for a cluster
        self.manifest = manifest
        self.report = report
        self.batch_articles = batch_articles
        self.pending = 0
        self.deletes: list[str] = []
        self.open_files: dict[str, _OpenFile] = {}
        # A rebuild replaces the whole index in one commit, so searchers see the old index
        # until the new one is complete.
        self.clear = clear
        self.dirty = clear
        self.keys = manifest.key_set()
        # The keys of copies skipped as duplicates in earlier runs: only those are worth
        # remembering as freed when a file's articles go (see _index).
        self.dup_keys = KeySet(st.dups.array() for st in manifest.files.values())
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
            self.clusters.remove(st.ids)
        self.keys.discard_all(st.keys)
        return set(self.dup_keys.holding(st.keys))

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
            old_ids = np.unique(old.ids.array()) if old else np.array([], dtype=bytes)
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
        keys = [key.encode("utf-8") for _, key in meta.docs]
        indexed = self.keys.in_base(keys)
        was_there = _in_sorted(opened.old_ids, [aid.encode("utf-8") for aid, _ in meta.docs])
        for i, (aid, key) in enumerate(meta.docs):
            if self.keys.has(keys[i], indexed[i]):
                rep.duplicates += 1
                st.dups.append(key)
                continue
            keep.append(i)
            self.keys.add(keys[i], indexed[i])
            freed.discard(key)
            st.ids.append(aid)
            st.keys.append(key)
            if was_there[i]:
                rep.updated += 1
            else:
                rep.added += 1
        self.keys.compact()
        if keep and meta.format:
            rep.formats[meta.format] = rep.formats.get(meta.format, 0) + len(keep)
        if meta.final:
            rep.files_read += 1
            rep.deleted += int(np.setdiff1d(opened.old_ids, st.ids.array()).size)
            # A file that failed part-way keeps its earlier parts; it is read again next time.
            st.sig = "?" if meta.failed else meta.sig
        else:
            self.open_files[meta.path] = opened
        self.pending += len(keep)
        self.dirty = True
        return keep

    def marks(self, meta: FileMeta, keep: list[int]) -> list[tuple[int, int]]:
        """The story cluster (decided here, in order of arrival) and the index time of each
        kept article. Index times only grow, file by file, so that a watch's mark (the
        newest time it has seen) never hides an article committed after it."""
        self.added = max(time.time_ns() // 1000, self.added + 1)
        sketched = [i for i in keep if meta.sketched[i]]
        # The LSH keys of a part's sketches in one numpy call, not one per article.
        keys = dict(zip(sketched, band_keys(meta.sketches[sketched]).tolist(), strict=True)) \
            if sketched else {}
        return [(self.clusters.assign(meta.docs[i][0], meta.sketches[i] if i in keys else None,
                                      keys.get(i)), self.added)
                for i in keep]

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

    def owns_entry(self, entry: os.DirEntry[str] | Path) -> bool:
        """Whether an entry of :attr:`folder` is one of the index's own files (never input)."""
        return False

    def commit(self, segments: list[Any]) -> None:
        """One new generation with what was decided since the last (each backend its own
        way: the Whoosh folder, the cluster)."""
        raise NotImplementedError



def _index(run: _Run, builders: Builders, roots: list[str],
           progress: ProgressFn | None) -> None:
    report = run.report
    manifest = run.manifest
    found: list[CorpusFile] = []
    for item in walk(roots, run.folder, run.owns_entry):
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
    freed = {k for k in freed if k not in run.keys}
    if freed:
        read = {t.path for t in todo}
        again = [f for f in found if f.path not in read
                 and any(k in freed for k in manifest.files.get(f.path, FileState("")).dups)]
        for f in again:
            report.unchanged -= len(manifest.files[f.path].ids)
        _process(run, builders, again, set(), lambda n: None)


def _process(run: _Run, builders: Builders, files: list[CorpusFile], freed: set[str],
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
            builders.write(cid, seq, keep,
                           [run.marks(m, k) for m, k in zip(metas, keep, strict=True)])
            tick(sum(1 for meta in metas if meta.final))
            if run.should_commit():
                run.commit(builders.flush())


def chunked(files: list[CorpusFile], max_files: int, max_bytes: int) -> Iterator[list[CorpusFile]]:
    chunk: list[CorpusFile] = []
    size = 0
    for f in files:
        chunk.append(f)
        size += f.size
        if len(chunk) >= max_files or size >= max_bytes:
            yield chunk
            chunk, size = [], 0
    if chunk:
        yield chunk

