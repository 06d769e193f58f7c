"""Indexing throughput on Reuters-21578, parsing included, next to peers in the same run.

    newsearch            index_paths() with its defaults (one worker process per core)
    newsearch-by-count   the same, committing only every BATCH_ARTICLES articles, as before
                         commits also came every COMMIT_SECONDS of work: what those cost
    whoosh-defaults      stock Whoosh: StemmingAnalyzer, one SegmentWriter, one process
    sqlite-fts5          stdlib sqlite3, FTS5 with the porter/unicode61 tokenizer
    tantivy              tantivy-py, en_stem (only when installed: pip install -e '.[bench]')

Every engine parses the same .sgm files with newsearch's Reuters reader inside the timed
region, so the figures compare whole pipelines. Throughput is records per second (21,578
records in the full collection; duplicates and the one empty record count as processed).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from newsearch import index_paths

from .conftest import QUICK, parsed, record, reuters_files

ROUNDS = 1 if QUICK else 3




def count_records(files: list[Path]) -> int:
    return sum(p.read_bytes().count(b"<REUTERS ") for p in files)


def index_newsearch(files: list[Path], tmp: Path) -> None:
    index_paths(files, tmp / "newsearch")


def index_newsearch_by_count(files: list[Path], tmp: Path) -> None:
    import newsearch.runs as runs

    every = runs.COMMIT_SECONDS
    runs.COMMIT_SECONDS = float("inf")
    try:
        index_paths(files, tmp / "newsearch")
    finally:
        runs.COMMIT_SECONDS = every


def index_whoosh_defaults(files: list[Path], tmp: Path) -> None:
    from whoosh import fields, index
    from whoosh.analysis import StemmingAnalyzer

    schema = fields.Schema(
        id=fields.ID(stored=True, unique=True),
        title=fields.TEXT(stored=True, analyzer=StemmingAnalyzer()),
        body=fields.TEXT(stored=True, analyzer=StemmingAnalyzer()),
        section=fields.KEYWORD(stored=True, commas=True),
        date=fields.DATETIME(stored=True),
    )
    path = tmp / "whoosh"
    path.mkdir()
    ix = index.create_in(str(path), schema)
    w = ix.writer()
    for a in parsed(files):
        w.add_document(id=a.id, title=a.title, body=a.body, section=",".join(a.sections),
                       date=a.date.replace(tzinfo=None) if a.date else None)
    w.commit()


def index_fts5(files: list[Path], tmp: Path) -> None:
    con = sqlite3.connect(tmp / "fts5.db")
    con.execute("CREATE VIRTUAL TABLE articles USING fts5(id UNINDEXED, title, body, "
                "section UNINDEXED, date UNINDEXED, tokenize='porter unicode61')")
    con.executemany(
        "INSERT INTO articles VALUES (?, ?, ?, ?, ?)",
        ((a.id, a.title, a.body, ",".join(a.sections), a.date.isoformat() if a.date else None)
         for a in parsed(files)),
    )
    con.commit()
    con.close()


def index_tantivy(files: list[Path], tmp: Path) -> None:
    import tantivy

    sb = tantivy.SchemaBuilder()
    sb.add_text_field("id", stored=True, tokenizer_name="raw")
    sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("body", stored=True, tokenizer_name="en_stem")
    sb.add_text_field("section", stored=True, tokenizer_name="raw")
    schema = sb.build()
    path = tmp / "tantivy"
    path.mkdir()
    ix = tantivy.Index(schema, path=str(path))
    w = ix.writer()
    for a in parsed(files):
        w.add_document(tantivy.Document(id=a.id, title=a.title, body=a.body,
                                        section=a.sections or [""]))
    w.commit()
    w.wait_merging_threads()


ENGINES: dict[str, Callable[[list[Path], Path], None]] = {
    "newsearch": index_newsearch,
    "newsearch-by-count": index_newsearch_by_count,
    "whoosh-defaults": index_whoosh_defaults,
    "sqlite-fts5": index_fts5,
    "tantivy": index_tantivy,
}


@pytest.mark.parametrize("engine", list(ENGINES))
def test_index_reuters(benchmark, engine: str) -> None:
    if engine == "tantivy":
        pytest.importorskip("tantivy")
    files = reuters_files()
    records = count_records(files)
    build = ENGINES[engine]
    seconds: list[float] = []
    sizes: list[int] = []

    def setup():
        return (files, Path(tempfile.mkdtemp(prefix=f"bench-{engine}-"))), {}

    def run(files: list[Path], tmp: Path) -> None:
        t = time.perf_counter()
        build(files, tmp)
        seconds.append(time.perf_counter() - t)
        sizes.append(sum(p.stat().st_size for p in tmp.rglob("*") if p.is_file()))
        shutil.rmtree(tmp, ignore_errors=True)

    benchmark.pedantic(run, setup=setup, rounds=ROUNDS, iterations=1)
    best = min(seconds)
    benchmark.extra_info.update(records=records, best_seconds=best, records_per_s=records / best)
    record("Indexing Reuters-21578 (parsing included)", engine=engine, records=records,
           best_s=f"{best:.2f}", median_s=f"{sorted(seconds)[len(seconds) // 2]:.2f}",
           records_per_s=f"{records / best:,.0f}", index_MB=f"{min(sizes) / 1e6:.1f}")
