"""Crash safety at chosen points: an index run killed with SIGKILL (its whole process group,
workers too) inside a commit or while creating the index keeps exactly one whole generation,
leaves no process behind, and the next run completes the job with nothing left over.

The random kills over Reuters-21578 are in test_reliability_reuters.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from newsearch import IndexNotFound, open_index
from newsearch.cli import main

from .reliability_support import (
    IndexRun,
    committed_manifest,
    ids_by_source,
    leftovers,
    manifest_ids,
    stats_documents,
    survivors,
    synthetic_corpus,
)

FILES, PER_FILE, BATCH = 40, 10, 100  # 16 files per chunk: commits after 160, 320, 400


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    synthetic_corpus(tmp_path / "corpus", FILES, PER_FILE)
    return tmp_path / "corpus"


def killed_at(point: str, corpus: Path, index: Path) -> IndexRun:
    run = IndexRun.start([corpus], index, batch=BATCH, jobs=2, env={"RELIABILITY_DIE_AT": point})
    run.proc.wait(timeout=300)
    run.kill()  # collects the output; the group is gone already
    assert run.proc.returncode == -9, run.stderr()
    assert survivors(run.proc.pid) == []
    return run


@pytest.mark.parametrize(("point", "stands"), [
    ("manifest-saved:2", "first"),  # the second commit's manifest is on disk, not its TOC
    ("toc-written:3", "second"),  # its TOC is written (the 1st is generation 0's); not cleaned
    ("before-prune:2", "second"),  # committed and cleaned; the old manifest still there
])
def test_a_kill_inside_a_commit_leaves_one_whole_generation(point: str, stands: str,
                                                            corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    run = killed_at(point, corpus, index)
    first = run.commits[0]
    documents = stats_documents(index)
    gen, manifest = committed_manifest(index)
    if stands == "first":
        assert (gen, documents) == (first.generation, first.documents)
    else:
        assert gen == first.generation + 1 and documents > first.documents
    assert ids_by_source(index) == manifest_ids(manifest)
    report = IndexRun.start([corpus], index, batch=BATCH, jobs=2).finish()
    assert report["documents"] == FILES * PER_FILE
    assert report["unchanged"] == documents and report["updated"] == 0
    assert leftovers(index) == []


def test_a_run_killed_while_creating_the_index_is_started_afresh(corpus: Path,
                                                                 tmp_path: Path) -> None:
    index = tmp_path / "index"
    killed_at("index-created:1", corpus, index)  # Whoosh's files exist, the marker not yet
    res = CliRunner().invoke(main, ["stats", "--index", str(index)], catch_exceptions=False)
    assert res.exit_code == 2
    assert "no newsearch index" in res.output and "Traceback" not in res.output
    with pytest.raises(IndexNotFound):
        open_index(index)
    report = IndexRun.start([corpus], index, batch=BATCH, jobs=2).finish()
    assert report["documents"] == FILES * PER_FILE
    assert leftovers(index) == []


def test_a_run_killed_between_two_parts_of_a_file_reads_it_again(tmp_path: Path) -> None:
    """A file of more than PART_ARTICLES records travels in parts, and a commit may fall
    between two of them: the parts committed stay (nothing committed is lost), the file is
    recorded with an unknown signature, and the next run reads it again and completes it."""
    from newsearch.runs import PART_ARTICLES

    records = PART_ARTICLES * 2 + PART_ARTICLES // 2  # three parts
    synthetic_corpus(tmp_path / "corpus", 1, records)
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    clean = IndexRun.start([corpus], tmp_path / "clean", batch=PART_ARTICLES, jobs=2).finish()
    assert clean["documents"] == records
    want = ids_by_source(tmp_path / "clean")
    # The first commit (after the first part: a batch) is written, then the run dies; the
    # first table of contents is generation 0's, written when the index was created.
    run = IndexRun.start([corpus], index, batch=PART_ARTICLES, jobs=2,
                         env={"RELIABILITY_DIE_AT": "toc-written:2"})
    run.proc.wait(timeout=300)
    run.kill()
    assert run.proc.returncode == -9, run.stderr()
    _gen, manifest = committed_manifest(index)
    [(source, ids)] = ids_by_source(index).items()
    assert ids_by_source(index) == manifest_ids(manifest)
    assert len(ids) == PART_ARTICLES and ids < want[source]
    assert manifest.files[source].sig == "?"
    report = IndexRun.start([corpus], index, batch=PART_ARTICLES, jobs=2).finish()
    assert report["documents"] == records
    assert report["added"] == records - PART_ARTICLES and report["updated"] == PART_ARTICLES
    assert ids_by_source(index) == want
    assert leftovers(index) == []
