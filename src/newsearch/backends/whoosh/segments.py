"""Segment building on every core: worker processes read, analyse and write Whoosh segments.

    main (indexer) ──read(chunk)──▶ worker: load ▶ read, hold the articles (in parts)
                   ◀──meta(part)───  (ids, dedup keys, skips)
                   ──write(keep)──▶ worker: analyse the kept articles, add them to its segment
                                     (a full segment is written to disk, another one begun)
                   ──flush────────▶ worker: finish the segment ─▶ main commits all of them

A worker's memory is bounded whatever the input (:data:`HELD_CHARS`, :data:`SEGMENT_CHARS`):
a file with many records travels in parts, a worker reads on only while the articles it
holds for the main process's decision fit its budget, and it writes a segment to disk once
the segment holds enough text. Workers die with the main process (:func:`_die_with_parent`).

Both cores stay busy because a worker reads before it analyses (the main process decides
parts in file order: an unread part holds up every worker, a decided one can wait) and the
main process takes in every worker's messages while it waits for one (a blocked ``send``
stops a worker). A segment's text fields are gathered as token arrays (term numbers from
:class:`~newsearch.analysis.TermNumbers`, positions) and grouped into postings by one sort
when the segment is written.

Whoosh's writer is pure Python and its flush (sorting postings, writing blocks) costs more
than reading and analysing, so one writing process caps throughput. Here each worker owns a
:class:`NewsSegmentWriter` without the index lock; the main process alone decides what gets
indexed (duplicates, replaced files) and alone commits, putting the workers' finished
segments into one new generation (the same mechanism as Whoosh's own ``MpWriter``, whose
``multisegment`` mode this follows).

:class:`NewsSegmentWriter` also fixes two costs of the stock writer: it keeps field lengths
in memory for the flush (the stock one re-reads them from disk for every posting) and it
uses a private temporary folder (the stock one shares ``$TMPDIR/MAIN.tmp`` between writers
and deletes it when any of them finishes).
"""

from __future__ import annotations

import contextlib
import ctypes
import gc
import multiprocessing
import multiprocessing.connection as mp_connection
import os
import signal
import sys
import uuid
from array import array
from collections import deque
from collections.abc import Iterator
from typing import Any

import numpy as np
from whoosh.index import FileIndex
from whoosh.writing import SegmentWriter

from ...analysis import TermNumbers
from ...article import Article
from ...corpus import CorpusFile
from ...errors import IndexIOError, WorkerDied
from ...language import article_language
from ...runs import PART_ARTICLES, PART_CHARS, FileMeta, read_file_parts, sketch_parts
from .codec import NewsCodec
from .merge import tiered_merge
from .schema import NewsText, document_fields
from .storage import storage_for

__all__ = ["BuilderPool", "NewsSegmentWriter", "SegmentBuilder", "make_codec"]

def make_codec() -> NewsCodec:
    return NewsCodec()


class _FlatField:
    """One text field's tokens in arrival order: each token's term (its number in the
    segment's :class:`~newsearch.analysis.TermNumbers`) and position, and how many tokens
    each document has.

    Adding a document is a few C-level ``extend`` calls; the flush groups the tokens into
    postings (term, document, frequency, positions) with one stable numpy sort, in the
    codec's layout. Grouping per document in Python (a dict of position lists per text) was
    the largest cost of indexing.
    """

    __slots__ = ("counts", "docnums", "positions", "tids")

    def __init__(self) -> None:
        self.docnums = array("I")
        self.counts = array("I")
        self.tids = array("I")
        self.positions = array("I")

    def add(self, docnum: int, tids: list[int], positions: list[int] | None) -> None:
        self.docnums.append(docnum)
        self.counts.append(len(tids))
        self.tids.extend(tids)
        self.positions.extend(range(len(tids)) if positions is None else positions)

    def arrays(self, terms: list[str]
               ) -> tuple[list[bytes], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(sorted term bytes, each term's first posting, documents, frequencies,
        positions): the arguments of the codec's ``add_field_arrays``. ``terms`` names the
        numbers."""
        tids = np.frombuffer(self.tids, dtype=np.uint32)
        used = np.flatnonzero(np.bincount(tids, minlength=len(terms)))
        keys = [terms[i].encode("utf-8") for i in used.tolist()]
        by_key = sorted(range(len(keys)), key=keys.__getitem__)
        rank = np.empty(len(terms), dtype=np.uint32)
        rank[used[by_key]] = np.arange(len(keys), dtype=np.uint32)
        r = rank[tids]
        # Stable: each term's tokens stay in arrival order, documents and positions rising.
        order = np.argsort(r, kind="stable")
        r = r[order]
        docs = np.repeat(np.frombuffer(self.docnums, dtype=np.uint32),
                         np.frombuffer(self.counts, dtype=np.uint32))[order]
        positions = np.frombuffer(self.positions, dtype=np.uint32)[order]
        del order
        # A posting begins where the term or the document changes.
        first = np.ones(len(r), dtype=bool)
        np.not_equal(r[1:], r[:-1], out=first[1:])
        first[1:] |= docs[1:] != docs[:-1]
        heads = np.flatnonzero(first)
        tfs = np.diff(np.append(heads, len(r))).astype(np.uint32)
        starts = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(r[heads], minlength=len(keys)), out=starts[1:])
        return [keys[i] for i in by_key], starts, docs[heads], tfs, positions


class _GroupedPool:
    """Postings grouped as they arrive, so the flush hands the codec whole terms or fields.

    Whoosh's PostingPool keeps one tuple per posting and sorts them all at the flush.
    ``raw`` holds postings from Whoosh's own ``add`` (``add_document``, merges through
    Whoosh, the one-term ID and keyword fields), keyed by (field, term bytes), with Whoosh's
    encoded values; ``text`` holds the text fields of :meth:`NewsSegmentWriter.add_article`
    as :class:`_FlatField` arrays.
    """

    def __init__(self) -> None:
        self.raw: dict[tuple[str, bytes], tuple[list[int], list[float], list[bytes]]] = {}
        self.text: dict[str, _FlatField] = {}
        self.fieldnames: set[str] = set()
        self.terms = TermNumbers()  # the text fields' terms, shared by the fields

    def add(self, item: tuple[str, bytes, int, float, bytes]) -> None:
        fieldname, btext, docnum, weight, value = item
        g = self.raw.get((fieldname, btext))
        if g is None:
            g = self.raw[(fieldname, btext)] = ([], [], [])
            self.fieldnames.add(fieldname)
        g[0].append(docnum)
        g[1].append(weight)
        g[2].append(value)

    def text_field(self, fieldname: str) -> _FlatField:
        fg = self.text.get(fieldname)
        if fg is None:
            fg = self.text[fieldname] = _FlatField()
            self.fieldnames.add(fieldname)
        return fg

    def raw_by_field(self) -> dict[str, list[tuple[bytes, Any]]]:
        out: dict[str, list[tuple[bytes, Any]]] = {}
        for (fieldname, btext), group in self.raw.items():
            if fieldname in self.text:
                raise AssertionError(f"postings for {fieldname} added both ways")
            out.setdefault(fieldname, []).append((btext, group))
        for terms in out.values():
            terms.sort(key=lambda kv: kv[0])
        return out

    def cleanup(self) -> None:
        self.raw = {}
        self.text = {}
        self.terms = TermNumbers()


def _write_postings(fieldwriter: Any, schema: Any, pool: _GroupedPool) -> None:
    """Hand every field's postings to the codec's field writer: text fields whole, other
    fields a term at a time."""
    raw = pool.raw_by_field()
    for fieldname in sorted(pool.fieldnames):
        fieldobj = schema[fieldname]
        if fieldname in pool.text:
            fieldwriter.add_field_arrays(fieldname,
                                         *pool.text[fieldname].arrays(pool.terms.terms))
            continue
        fieldwriter.start_field(fieldname, fieldobj)
        fmt = fieldobj.format
        for btext, (docs, weights, values) in raw[fieldname]:
            if fmt.supports("positions"):  # Whoosh's encoded position lists
                plists = [fmt.decode_positions(v) if v else [] for v in values]
                fieldwriter.add_term(btext, docs, [len(p) for p in plists],
                                     [p for plist in plists for p in plist])
            else:
                fieldwriter.add_term(btext, docs, [max(1, round(w)) for w in weights])
        fieldwriter.finish_field()


class NewsSegmentWriter(SegmentWriter):
    """A SegmentWriter with grouped postings, the newsearch codec and a private temp folder."""

    def __init__(self, ix: FileIndex, **kwargs: Any) -> None:
        kwargs.setdefault("codec", make_codec())
        super().__init__(ix, **kwargs)
        tmp = self.storage.temp_storage(f"newsearch-{uuid.uuid4().hex}.tmp")
        self._tempstorage = tmp
        self.pool = _GroupedPool()

    def _flush_segment(self) -> None:
        self.perdocwriter.close()
        _write_postings(self.fieldwriter, self.schema, self.pool)
        self.fieldwriter.close()

    def _merge_segments(self, mergetype: Any, optimize: Any, merge: Any) -> Any:
        # Whoosh's default policy (MERGE_SMALL) re-adds merged documents one posting at a
        # time; newsearch segments merge by arrays (merge.py), in tiers.
        optimize = optimize if optimize is not None else self.optimize
        merge = merge if merge is not None else self.merge
        if mergetype is None and self.mergetype is None and not optimize and merge:
            mergetype = tiered_merge
        return super()._merge_segments(mergetype, optimize, merge)

    @property
    def has_documents(self) -> bool:
        return bool(self._added)

    def add_article(self, article: Article, dedup: str, cluster: int | None = None,
                    added: int | None = None) -> None:
        """``add_document`` for an Article, writing postings straight into the pool.

        The same postings, stored fields, lengths and columns as
        ``add_document(**document_fields(article))`` (tests/test_segments.py checks it), but
        without the intermediate (term, freq, weight, value) lists and one call per posting:
        on Reuters-21578 this halves the time from analysis to pool.
        """
        self._check_state()
        lang = article_language(article)
        values = document_fields(article, analysed=False, dedup=dedup, lang=lang,
                                 cluster=cluster, added=added)
        schema = self.schema
        pdw = self.perdocwriter
        docnum = self.docnum
        pool = self.pool
        groups = pool.raw
        fieldnames = pool.fieldnames
        pdw.start_doc(docnum)
        for name in sorted(values):
            if name.startswith("_"):
                continue
            value = values[name]
            field = schema[name]
            length = 0
            if isinstance(field, NewsText):
                tids, at = pool.terms.read(value, lang)
                length = len(tids)
                pool.text_field(name).add(docnum, tids, at)
            elif field.indexed:
                # ExactID and KEYWORD: one posting per distinct value, Whoosh's own encoding.
                for tbytes, _freq, weight, vbytes in field.index(value):
                    key = (name, tbytes)
                    g = groups.get(key)
                    if g is None:
                        g = groups[key] = ([], [], [])
                        fieldnames.add(name)
                    g[0].append(docnum)
                    g[1].append(weight)
                    g[2].append(vbytes)
            pdw.add_field(name, field, value if field.stored else None, length)
            column = field.column_type
            if column:
                pdw.add_column_value(name, column, field.to_column_value(value))
        pdw.finish_doc()
        self._added = True
        self.docnum += 1


# --- worker side ------------------------------------------------------------------------------

# Memory budget of a worker (see README, "Memory"): the articles it has read and holds until
# the main process says which to keep (besides the parts of newsearch.runs they travel in),
# and the text it has added to its open segment before it writes that segment to disk and
# starts another.
HELD_CHARS = 2_000_000
SEGMENT_CHARS = 24_000_000
SEGMENT_ARTICLES = 50_000


Held = list[list[tuple[Article, str]]]


def _chars(article: Article) -> int:
    return len(article.title) + len(article.body) + len(article.subtitle or "")


class SegmentBuilder:
    """Reads chunks of files in parts and writes the articles it is told to keep into
    segments, each finished (written to disk) when it holds :data:`SEGMENT_CHARS` of text."""

    def __init__(self, index_dir: str) -> None:
        self.ix = FileIndex(storage_for(index_dir), None, "MAIN")
        self.writer: NewsSegmentWriter | None = None
        self.finished: list[Any] = []
        self.held: dict[tuple[int, int], tuple[Held, int]] = {}
        self.held_chars = 0
        self._chars = 0
        self._articles = 0

    def parts(self, chunk_id: int, files: list[CorpusFile]) -> Iterator[tuple[int, list[FileMeta],
                                                                              bool]]:
        """Read ``files``: ``(seq, metas, last)`` per part of at most about
        :data:`PART_ARTICLES` articles or :data:`PART_CHARS` characters; the part's articles
        are held until :meth:`write` is told which to keep."""
        seq = 0
        metas: list[FileMeta] = []
        held: Held = []
        count = chars = 0
        for f in files:
            for meta, articles in read_file_parts(f, PART_ARTICLES, PART_CHARS, sketch=False):
                metas.append(meta)
                held.append(articles)
                count += len(articles)
                chars += sum(_chars(a) for a, _key in articles)
                if count >= PART_ARTICLES or chars >= PART_CHARS:
                    sketch_parts(metas)  # the parts of many small files in one go
                    self._hold(chunk_id, seq, held, chars)
                    yield seq, metas, False
                    seq += 1
                    metas, held, count, chars = [], [], 0, 0
        sketch_parts(metas)
        self._hold(chunk_id, seq, held, chars)
        yield seq, metas, True

    def _hold(self, chunk_id: int, seq: int, held: Held, chars: int) -> None:
        self.held[(chunk_id, seq)] = (held, chars)
        self.held_chars += chars

    @property
    def over_budget(self) -> bool:
        return self.held_chars > HELD_CHARS

    def write(self, chunk_id: int, seq: int, keep: list[list[int]],
              marks: list[list[tuple[int, int]]] | None = None) -> None:
        """Analyse and add the articles the main process kept (with their cluster numbers
        and index times, parallel to ``keep``)."""
        held, chars = self.held.pop((chunk_id, seq))
        self.held_chars -= chars
        for f, (articles, idxs) in enumerate(zip(held, keep, strict=True)):
            for n, i in enumerate(idxs):
                article, key = articles[i]
                if self.writer is None:
                    self.writer = NewsSegmentWriter(self.ix, _lk=False, limitmb=256)
                self.writer.add_article(article, key, *(marks[f][n] if marks else ()))
                self._chars += _chars(article)
                self._articles += 1
                if self._chars >= SEGMENT_CHARS or self._articles >= SEGMENT_ARTICLES:
                    self._finish_segment()

    def _finish_segment(self) -> None:
        w, self.writer = self.writer, None
        self._chars = self._articles = 0
        if w is None:
            return
        if not w.has_documents:
            w.cancel()
            return
        segment = w._finalize_segment()
        w._finish()
        self.finished.append(segment)
        gc.collect()  # the pool's arrays are freed by reference counting; this is the rest

    def flush(self) -> list[Any]:
        """Finish the open segment; return every segment finished since the last flush."""
        self._finish_segment()
        done, self.finished = self.finished, []
        return done

    def cancel(self) -> None:
        if self.writer is not None:
            try:
                self.writer.cancel()
            finally:
                self.writer = None


# --- worker processes ---------------------------------------------------------------------------

_PR_SET_PDEATHSIG = 1
_PARENT_CHECK_SECONDS = 1.0


def _die_with_parent(parent_pid: int, inherited: list[int]) -> None:
    """Make this worker end when the main process ends, however it ends.

    A forked worker inherits the main process's descriptors: the writer lock (an ``flock``
    lasts while any process holds its descriptor) and the main process's ends of every
    worker's pipe, its own included (so it would never see end-of-file). Those are closed.
    On Linux the kernel also kills the worker when its parent dies (``PR_SET_PDEATHSIG``);
    elsewhere the worker notices the pipe's end or its new parent (:func:`_receive`).
    """
    for fd in inherited:
        with contextlib.suppress(OSError):
            os.close(fd)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)


def _receive(conn: Any, parent_pid: int) -> Any:
    """The next message; EOFError once the main process is gone."""
    while not conn.poll(_PARENT_CHECK_SECONDS):
        if os.getppid() != parent_pid:
            raise EOFError
    return conn.recv()


def _worker_main(conn: Any, index_dir: str, inherited: list[int], parent_pid: int) -> None:
    _die_with_parent(parent_pid, inherited)
    # Ctrl-C is the main process's to handle; a worker dies with it, quietly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker's objects are acyclic (reference counting frees them); the cyclic collector
    # only re-scans the growing posting pool, which cost a fifth of the indexing time.
    gc.disable()
    builder = SegmentBuilder(index_dir)
    reads: deque[tuple[int, list[CorpusFile]]] = deque()
    reading: tuple[int, Iterator[tuple[int, list[FileMeta], bool]]] | None = None
    writes: deque[tuple[Any, ...]] = deque()  # decided parts waiting to be analysed
    try:
        while True:
            # Reading comes before analysing, within the budget: the main process decides
            # parts in file order, so a part not yet read holds up both workers, while
            # decided parts can wait (analysing first left one worker idle most of the
            # time: a worker read the next chunk's parts only after analysing everything
            # it had been sent, while the other waited for the main process to get past it).
            msg = _receive(conn, parent_pid) if conn.poll() else None
            if msg is None and ((reading is None and not reads) or builder.over_budget):
                if not writes:
                    msg = _receive(conn, parent_pid)  # nothing to do until told
                else:
                    builder.write(*writes.popleft()[1:])
                    continue
            if msg is not None:
                kind = msg[0]
                if kind == "read":
                    reads.append((msg[1], msg[2]))
                elif kind == "write":
                    writes.append(msg)
                elif kind == "flush":
                    while writes:  # everything decided before the flush is in its segments
                        builder.write(*writes.popleft()[1:])
                    conn.send(("segments", builder.flush()))
                else:
                    break
                continue
            if reading is None:
                chunk_id, files = reads.popleft()
                reading = (chunk_id, builder.parts(chunk_id, files))
            seq, metas, last = next(reading[1])
            conn.send(("meta", reading[0], seq, metas, last))
            if last:
                reading = None
    except (EOFError, KeyboardInterrupt, BrokenPipeError):
        pass
    except OSError as exc:  # the index folder: disk full, permissions
        with contextlib.suppress(Exception):
            conn.send(("oserror", exc.errno, exc.strerror or str(exc)))
    except BaseException as exc:  # report instead of dying silently
        with contextlib.suppress(Exception):
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        with contextlib.suppress(Exception):  # a full disk can fail the cancel too
            builder.cancel()


class BuilderPool:
    """``jobs`` segment builders: in worker processes, or in this process when ``jobs`` is 1.

    Chunks are assigned round-robin, so each worker's parts arrive in chunk order.
    ``inherited`` are descriptors of this process that workers must not keep (the writer
    lock).
    """

    def __init__(self, index_dir: str, jobs: int, inherited: list[int | None] | None = None
                 ) -> None:
        self.index_dir = index_dir
        self.jobs = max(1, jobs)
        self.local: SegmentBuilder | None = None
        self.local_parts: dict[int, Iterator[tuple[int, list[FileMeta], bool]]] = {}
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        self.stash: dict[int, deque[tuple[int, list[FileMeta], bool]]] = {}
        self.flushed: dict[int, list[Any]] = {}  # worker -> its segments, once it flushed
        if self.jobs == 1:
            self.local = SegmentBuilder(index_dir)
            return
        methods = multiprocessing.get_all_start_methods()
        # Typed as the fork context (the spawn context has the same Process and Pipe).
        ctx: multiprocessing.context.ForkContext = multiprocessing.get_context(
            "fork" if "fork" in methods else "spawn")  # type: ignore[assignment]
        keep_out = [fd for fd in inherited or [] if fd is not None]
        for _ in range(self.jobs):
            parent, child = ctx.Pipe()
            close = [*keep_out, *(c.fileno() for c in self.conns), parent.fileno()]
            p = ctx.Process(target=_worker_main, args=(child, index_dir, close, os.getpid()),
                            daemon=True)
            p.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(p)

    def _worker(self, chunk_id: int) -> int:
        return chunk_id % self.jobs

    def _send(self, i: int, msg: tuple[Any, ...]) -> None:
        try:
            self.conns[i].send(msg)
        except OSError:  # its end of the pipe is gone: the worker ended
            # A worker that failed (a full disk) said why before it ended: that is the error.
            self._raise_reported(i)
            raise WorkerDied(self.index_dir, self._death(i)) from None

    def _raise_reported(self, i: int) -> None:
        """Raise the failure worker ``i`` reported before it ended, if it did."""
        with contextlib.suppress(EOFError, OSError):
            while self.conns[i].poll(0):
                msg = self.conns[i].recv()
                if msg[0] in ("oserror", "error"):
                    self._check(msg)

    def submit(self, chunk_id: int, files: list[CorpusFile]) -> None:
        if self.local is not None:
            self.local_parts[chunk_id] = self.local.parts(chunk_id, files)
        else:
            self._send(self._worker(chunk_id), ("read", chunk_id, files))

    def _recv(self, i: int) -> tuple[Any, ...]:
        try:
            msg = self.conns[i].recv()
        except (EOFError, OSError):
            raise WorkerDied(self.index_dir, self._death(i)) from None
        self._check(msg)
        return msg

    def _check(self, msg: tuple[Any, ...]) -> None:
        if msg[0] == "oserror":
            raise IndexIOError(self.index_dir, "write", OSError(msg[1], msg[2]))
        if msg[0] == "error":
            raise WorkerDied(self.index_dir, f"an indexing worker failed ({msg[1]})")

    def _death(self, i: int) -> str:
        p = self.procs[i]
        p.join(timeout=5)
        code = p.exitcode
        if code is not None and code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            hint = " (the out-of-memory killer?)" if -code == signal.SIGKILL else ""
            return f"an indexing worker process was killed by {name}{hint}"
        return f"an indexing worker process ended unexpectedly (exit code {code})"

    def next_part(self, chunk_id: int) -> tuple[int, list[FileMeta], bool]:
        """The next part of ``chunk_id``'s files: ``(seq, metas, last)``."""
        if self.local is not None:
            part = next(self.local_parts[chunk_id])
            if part[2]:
                del self.local_parts[chunk_id]
            return part
        while True:
            queued = self.stash.get(chunk_id)
            if queued:
                return queued.popleft()
            self._take_in()

    def _take_in(self, timeout: float | None = None) -> None:
        """Receive what any worker has sent (waiting up to ``timeout``; None: until one
        does): parts are kept until their chunk's turn, segments until the flush collects
        them. Every worker is listened to, not only the one whose chunk is next: a part's
        message (its articles' ids, keys and sketches) can be larger than a pipe holds, and
        a worker blocked sending it analyses nothing meanwhile."""
        for conn in mp_connection.wait(self.conns, timeout):
            i = self.conns.index(conn)
            msg = self._recv(i)
            if msg[0] == "meta":
                self.stash.setdefault(msg[1], deque()).append((msg[2], msg[3], msg[4]))
            elif msg[0] == "segments":
                self.flushed[i] = msg[1]

    def write(self, chunk_id: int, seq: int, keep: list[list[int]],
              marks: list[list[tuple[int, int]]] | None = None) -> None:
        if self.local is not None:
            self.local.write(chunk_id, seq, keep, marks)
        else:
            self._send(self._worker(chunk_id), ("write", chunk_id, seq, keep, marks))
            self._take_in(0)  # let workers waiting to send get on

    def flush(self) -> list[Any]:
        """Finished segments of every builder (parts of reads still in flight are kept)."""
        if self.local is not None:
            return self.local.flush()
        for i in range(self.jobs):
            self._send(i, ("flush",))
        while len(self.flushed) < self.jobs:
            self._take_in()
        segments = [seg for i in range(self.jobs) for seg in self.flushed.pop(i)]
        return segments

    def close(self) -> None:
        if self.local is not None:
            self.local.cancel()
            return
        for conn in self.conns:
            with contextlib.suppress(OSError):
                conn.send(("stop",))
        for p in self.procs:
            p.join(timeout=5)
            if p.is_alive():
                p.terminate()
        for conn in self.conns:
            conn.close()

    def terminate(self) -> None:
        if self.local is not None:
            self.local.cancel()
            return
        for p in self.procs:
            if p.is_alive():
                p.kill()
        for p in self.procs:
            p.join(timeout=5)


