"""Segment building on every core: worker processes read, analyse and write Whoosh segments.

    main (indexer) ──read(chunk)──▶ worker: load ▶ read, keep the articles
                   ◀──metadata────  (ids, dedup keys, skips)
                   ──write(keep)──▶ worker: analyse the kept articles, add them to its segment
                   ──flush────────▶ worker: finish the segment ─▶ main commits all of them

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
import gc
import multiprocessing
import signal
import uuid
from array import array
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any

import numpy as np
from whoosh.index import FileIndex
from whoosh.writing import SegmentWriter

from .analysis import positions
from .article import Article
from .codec import NewsCodec, ranges
from .corpus import CorpusFile
from .language import article_language
from .merge import tiered_merge
from .schema import NewsText, document_fields
from .storage import storage_for

__all__ = ["BuilderPool", "FileMeta", "NewsSegmentWriter", "make_codec"]

def make_codec() -> NewsCodec:
    return NewsCodec()


class _FlatField:
    """One text field's postings in arrival order: for each (document, term) its term's
    number, the document, the frequency, and its positions one after another.

    Appending a document's terms is four C-level ``extend`` calls; the flush sorts by term
    with numpy (stable, so each term's documents stay in order) into the codec's layout.
    """

    __slots__ = ("docs", "numbers", "positions", "tfs", "tids")

    def __init__(self) -> None:
        self.numbers: dict[str, int] = {}
        self.tids = array("I")
        self.docs = array("I")
        self.tfs = array("I")
        self.positions = array("I")

    def add(self, docnum: int, terms: dict[str, list[int]]) -> None:
        numbers = self.numbers
        number = numbers.setdefault
        self.tids.extend([number(t, len(numbers)) for t in terms])
        self.docs.extend(repeat(docnum, len(terms)))
        plists = terms.values()
        self.tfs.extend(map(len, plists))
        self.positions.extend(chain.from_iterable(plists))

    def arrays(self) -> tuple[list[bytes], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(sorted term bytes, each term's first posting, documents, frequencies,
        positions): the arguments of the codec's ``add_field_arrays``."""
        keys = [t.encode("utf-8") for t in self.numbers]
        by_key = sorted(range(len(keys)), key=keys.__getitem__)
        rank = np.empty(len(keys), dtype=np.int64)
        rank[by_key] = np.arange(len(keys))
        r = rank[np.frombuffer(self.tids, dtype=np.uint32)]
        order = np.argsort(r, kind="stable")
        starts = np.zeros(len(keys) + 1, dtype=np.int64)
        np.cumsum(np.bincount(r, minlength=len(keys)), out=starts[1:])
        tfs = np.frombuffer(self.tfs, dtype=np.uint32)
        first = np.cumsum(tfs, dtype=np.int64) - tfs
        positions = np.frombuffer(self.positions, dtype=np.uint32)[
            ranges(first[order], tfs[order])]
        docs = np.frombuffer(self.docs, dtype=np.uint32)[order]
        return [keys[i] for i in by_key], starts, docs, tfs[order], positions


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


def _write_postings(fieldwriter: Any, schema: Any, pool: _GroupedPool) -> None:
    """Hand every field's postings to the codec's field writer: text fields whole, other
    fields a term at a time."""
    raw = pool.raw_by_field()
    for fieldname in sorted(pool.fieldnames):
        fieldobj = schema[fieldname]
        if fieldname in pool.text:
            fieldwriter.add_field_arrays(fieldname, *pool.text[fieldname].arrays())
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

    def add_article(self, article: Article, dedup: str) -> None:
        """``add_document`` for an Article, writing postings straight into the pool.

        The same postings, stored fields, lengths and columns as
        ``add_document(**document_fields(article))`` (tests/test_segments.py checks it), but
        without the intermediate (term, freq, weight, value) lists and one call per posting:
        on Reuters-21578 this halves the time from analysis to pool.
        """
        self._check_state()
        lang = article_language(article)
        values = document_fields(article, analysed=False, dedup=dedup, lang=lang)
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
                terms = positions(value, lang)[0]
                length = sum(map(len, terms.values()))
                pool.text_field(name).add(docnum, terms)
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


@dataclass(slots=True)
class FileMeta:
    """What the main process needs to decide about one file's articles."""

    path: str
    sig: str
    docs: list[tuple[str, str]] = field(default_factory=list)  # (article id, dedup key)
    dups: list[str] = field(default_factory=list)  # dedup keys of copies within the file
    skips: list[Any] = field(default_factory=list)  # indexer.Skip
    failed: Any = None  # indexer.Skip when the whole file was skipped
    format: str | None = None  # readers.FORMATS: which reader read it


class SegmentBuilder:
    """Reads chunks of files and writes the documents it is told to keep into a segment."""

    def __init__(self, index_dir: str) -> None:
        self.ix = FileIndex(storage_for(index_dir), None, "MAIN")
        self.writer: NewsSegmentWriter | None = None
        self.held: dict[int, list[list[Any]]] = {}

    def read(self, chunk_id: int, files: list[CorpusFile]) -> list[FileMeta]:
        from .indexer import read_file

        metas: list[FileMeta] = []
        held: list[list[Any]] = []
        for f in files:
            meta, articles = read_file(f)
            metas.append(meta)
            held.append(articles)
        self.held[chunk_id] = held
        return metas

    def write(self, chunk_id: int, keep: list[list[int]]) -> None:
        """Analyse and add the articles the main process kept."""
        held = self.held.pop(chunk_id)
        for articles, idxs in zip(held, keep, strict=True):
            for i in idxs:
                article, key = articles[i]
                if self.writer is None:
                    self.writer = NewsSegmentWriter(self.ix, _lk=False, limitmb=256)
                self.writer.add_article(article, key)

    def flush(self) -> Any:
        """Finish the current segment; return it (None when nothing was written)."""
        w, self.writer = self.writer, None
        if w is None:
            return None
        if not w.has_documents:
            w.cancel()
            return None
        segment = w._finalize_segment()
        w._finish()
        return segment

    def cancel(self) -> None:
        if self.writer is not None:
            try:
                self.writer.cancel()
            finally:
                self.writer = None


def _worker_main(conn: Any, index_dir: str) -> None:
    # Ctrl-C is the main process's to handle; a worker dies with it, quietly.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # A worker's objects are acyclic (reference counting frees them); the cyclic collector
    # only re-scans the growing posting pool, which cost a fifth of the indexing time.
    gc.disable()
    builder = SegmentBuilder(index_dir)
    try:
        while True:
            msg = conn.recv()
            kind = msg[0]
            if kind == "read":
                conn.send(("meta", msg[1], builder.read(msg[1], msg[2])))
            elif kind == "write":
                builder.write(msg[1], msg[2])
            elif kind == "flush":
                conn.send(("segment", builder.flush()))
                gc.collect()
            else:
                break
    except (EOFError, KeyboardInterrupt, BrokenPipeError):
        pass
    except BaseException as exc:  # report instead of dying silently
        with contextlib.suppress(Exception):
            conn.send(("error", f"{type(exc).__name__}: {exc}"))
    finally:
        builder.cancel()


class WorkerDied(RuntimeError):
    pass


class BuilderPool:
    """``jobs`` segment builders: in worker processes, or in this process when ``jobs`` is 1.

    Chunks are assigned round-robin, so each worker's replies arrive in chunk order.
    """

    def __init__(self, index_dir: str, jobs: int) -> None:
        self.jobs = max(1, jobs)
        self.local: SegmentBuilder | None = None
        self.conns: list[Any] = []
        self.procs: list[Any] = []
        self.stash: dict[int, list[FileMeta]] = {}
        self.local_results: dict[int, list[FileMeta]] = {}
        if self.jobs == 1:
            self.local = SegmentBuilder(index_dir)
            return
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else "spawn")
        for _ in range(self.jobs):
            parent, child = ctx.Pipe()
            p = ctx.Process(target=_worker_main, args=(child, index_dir), daemon=True)
            p.start()
            child.close()
            self.conns.append(parent)
            self.procs.append(p)

    def _conn(self, chunk_id: int) -> Any:
        return self.conns[chunk_id % self.jobs]

    def submit(self, chunk_id: int, files: list[CorpusFile]) -> None:
        if self.local is not None:
            self.local_results[chunk_id] = self.local.read(chunk_id, files)
        else:
            self._conn(chunk_id).send(("read", chunk_id, files))

    def _recv(self, conn: Any) -> tuple[Any, ...]:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            raise WorkerDied("an indexing worker process died") from None
        if msg[0] == "error":
            raise WorkerDied(f"an indexing worker failed: {msg[1]}")
        return msg

    def result(self, chunk_id: int) -> list[FileMeta]:
        if self.local is not None:
            return self.local_results.pop(chunk_id)
        if chunk_id in self.stash:
            return self.stash.pop(chunk_id)
        conn = self._conn(chunk_id)
        while True:
            msg = self._recv(conn)
            if msg[0] == "meta":
                if msg[1] == chunk_id:
                    return msg[2]
                self.stash[msg[1]] = msg[2]

    def write(self, chunk_id: int, keep: list[list[int]]) -> None:
        if self.local is not None:
            self.local.write(chunk_id, keep)
        else:
            self._conn(chunk_id).send(("write", chunk_id, keep))

    def flush(self) -> list[Any]:
        """Finished segments of every builder (replies to reads still in flight are kept)."""
        if self.local is not None:
            seg = self.local.flush()
            return [seg] if seg is not None else []
        for conn in self.conns:
            conn.send(("flush",))
        segments = []
        for conn in self.conns:
            while True:
                msg = self._recv(conn)
                if msg[0] == "segment":
                    if msg[1] is not None:
                        segments.append(msg[1])
                    break
                self.stash[msg[1]] = msg[2]
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
                p.terminate()
        for p in self.procs:
            p.join(timeout=5)


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

