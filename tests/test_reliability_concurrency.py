"""Concurrency: one writer at a time (a second one is refused with exit code 3, or waits with
``--wait``), never a corrupted index, and searches in other threads and other processes that
keep returning consistent results while an index run commits."""

from __future__ import annotations

import json
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from newsearch import NewsIndex, open_index

from .reliability_support import (
    PYTHON,
    IndexRun,
    cli,
    committed_manifest,
    ids_by_source,
    manifest_ids,
    survivors,
    synthetic_corpus,
)

FILES, PER_FILE = 96, 12  # 1,152 articles; 16 files per chunk, so six commits of 192
BATCH = 100
QUERY = "harbour"


def assert_consistent(index: Path, documents: int) -> None:
    """The index opens, `stats` agrees, and it holds exactly what its manifest lists."""
    out = cli("stats", "--index", str(index), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["documents"] == documents
    _gen, manifest = committed_manifest(index)
    assert ids_by_source(index) == manifest_ids(manifest)


def test_a_second_writer_exits_3_or_waits_and_then_completes(tmp_path: Path) -> None:
    first, second, index = tmp_path / "first", tmp_path / "second", tmp_path / "index"
    synthetic_corpus(first, FILES, PER_FILE, tag="a")
    synthetic_corpus(second, FILES, PER_FILE, tag="b")
    release = tmp_path / "release"  # the first writer holds the lock after its first commit
    writer = IndexRun.start([first], index, batch=BATCH, jobs=1,
                            env={"RELIABILITY_HOLD": str(release)})
    assert writer.wait_for(lambda r: r.commits, timeout=120), writer.stderr()

    refused = cli("index", str(second), "--index", str(index), "--quiet")
    assert refused.returncode == 3
    assert "the index is locked by another writer" in refused.stderr
    assert "Traceback" not in refused.stderr

    waiting = subprocess.Popen(
        [PYTHON, "-m", "newsearch.cli", "index", str(second), "--index", str(index),
         "--wait", "300", "--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with pytest.raises(subprocess.TimeoutExpired):
        waiting.wait(timeout=3)  # it waits (without --wait it would have exited 3 by now)
    release.touch()
    first_report = writer.finish()
    out, err = waiting.communicate(timeout=300)
    assert waiting.returncode == 0, err
    report = json.loads(out)
    assert first_report["documents"] == FILES * PER_FILE
    assert report["added"] == FILES * PER_FILE  # it waited, then did all of its work
    assert report["documents"] == 2 * FILES * PER_FILE
    assert_consistent(index, 2 * FILES * PER_FILE)
    assert survivors(writer.proc.pid) == []


# --- searching while commits land ----------------------------------------------------------------

SEARCH_LOOP = r"""
import json, sys, time
from pathlib import Path
from newsearch import open_index

index, stop, query = Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]
ix = open_index(index)
seen, errors = [], []
print("ready", flush=True)
while not stop.exists():
    try:
        res = ix.search(query, per_page=20)
        gen = ix.generation
        ids = [h.id for h in res.hits]
        bad = [i for i in ids if query not in ix.get(i).body]
        if bad or len(set(ids)) != len(ids):
            errors.append(f"inconsistent hits {bad or ids}")
        seen.append([gen, res.total, ix.stats().documents])
    except Exception as exc:
        errors.append(f"{type(exc).__name__}: {exc}")
final = ix.search(query).total
print(json.dumps({"seen": seen, "errors": errors, "final": final}))
"""


@dataclass
class Observations:
    seen: list[tuple[int, int, int]] = field(default_factory=list)  # generation, total, stats
    errors: list[str] = field(default_factory=list)
    final: int = -1


def search_loop(ix: NewsIndex, stop: threading.Event, obs: Observations) -> None:
    """What SEARCH_LOOP does, in a thread of this process (all threads share ``ix``)."""
    while not stop.is_set():
        try:
            res = ix.search(QUERY, per_page=20)
            gen = ix.generation
            ids = [h.id for h in res.hits]
            bad = [i for i in ids if QUERY not in ix.get(i).body]
            if bad or len(set(ids)) != len(ids):
                obs.errors.append(f"inconsistent hits {bad or ids}")
            obs.seen.append((gen, res.total, ix.stats().documents))
        except Exception as exc:  # the property under test: nothing is raised
            obs.errors.append(f"{type(exc).__name__}: {exc}")
    obs.final = ix.search(QUERY).total


def test_searches_in_threads_and_processes_stay_consistent_while_commits_land(
        tmp_path: Path) -> None:
    corpus, index, stop_file = tmp_path / "corpus", tmp_path / "index", tmp_path / "stop"
    mentions = synthetic_corpus(corpus, FILES, PER_FILE)
    release = tmp_path / "release"
    # After its first commit the writer waits for the searchers (which need an index with a
    # commit: see test_an_index_without_a_commit...), then commits five more times, 0.3 s apart.
    writer = IndexRun.start([corpus], index, batch=BATCH, jobs=1,
                            env={"RELIABILITY_HOLD": str(release), "RELIABILITY_PAUSE": "0.3"})
    assert writer.wait_for(lambda r: r.commits, timeout=120), writer.stderr()
    procs = [subprocess.Popen([PYTHON, "-c", SEARCH_LOOP, str(index), str(stop_file), QUERY],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
             for _ in range(2)]
    for p in procs:
        assert p.stdout is not None and p.stdout.readline().strip() == "ready"
    ix = open_index(index)
    stop = threading.Event()
    observed = [Observations() for _ in range(3)]
    threads = [threading.Thread(target=search_loop, args=(ix, stop, obs)) for obs in observed]
    for t in threads:
        t.start()
    release.touch()
    report = writer.finish()
    stop.set()
    stop_file.touch()
    for t in threads:
        t.join(timeout=60)
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        data = json.loads(out.splitlines()[-1])
        observed.append(Observations([tuple(s) for s in data["seen"]], data["errors"],
                                     data["final"]))

    assert report["documents"] == FILES * PER_FILE
    for obs in observed:
        assert obs.errors == []
        assert obs.seen, "a searcher never got to search"
        gens, totals, docs = zip(*obs.seen, strict=True)
        assert list(totals) == sorted(totals), "a search found fewer articles than before"
        assert list(docs) == sorted(docs) and list(gens) == sorted(gens)
        assert obs.final == mentions  # the last commit is seen without reopening
    for obs in observed:  # every searcher was there while commits landed
        assert len({g for g, _, _ in obs.seen}) >= 2, "a searcher never saw a commit land"
    assert_consistent(index, FILES * PER_FILE)


def test_an_index_without_a_commit_answers_searches_with_no_hits(tmp_path: Path) -> None:
    (tmp_path / "nothing").mkdir()
    out = cli("index", str(tmp_path / "nothing"), "--index", str(tmp_path / "index"), "--quiet")
    assert out.returncode == 0, out.stderr
    with open_index(tmp_path / "index") as ix:
        assert ix.search(QUERY).total == 0
