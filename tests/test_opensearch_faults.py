"""Faults through the whole OpenSearch backend (index runs and searches as users run them):
a node killed while an index run and a search loop go on, then the whole cluster stopped and
started again from its data."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path

import pytest

from newsearch import index_paths, open_index

from .opensearch_support import LocalCluster

pytestmark = [pytest.mark.opensearch, pytest.mark.slow]

WORDS = ("oil wheat bank rates coffee gold talks strike export grain dollar yen market "
         "minister reserve budget tariff crude shipping harvest").split()
FILES, PER_FILE = 160, 100


def archive(root: Path) -> Path:
    """16,000 short articles in 160 JSON Lines files, some copies among them."""
    root.mkdir(parents=True, exist_ok=True)
    for f in range(FILES):
        rows = []
        for j in range(PER_FILE):
            i = f * PER_FILE + j
            n = i - 1 if i % 50 == 49 else i  # every 50th repeats the one before it
            words = [WORDS[(n * 7 + k * 3) % len(WORDS)] for k in range(40)]
            rows.append({"id": f"a{i}", "title": f"{WORDS[n % len(WORDS)].title()} report {n}",
                         "body": " ".join(words) + f" item{n}",
                         "date": f"1987-03-{1 + n % 28:02d}T10:00:00Z",
                         "section": WORDS[n % 5]})
        (root / f"feed-{f:03d}.jsonl").write_text("\n".join(map(json.dumps, rows)), "utf-8")
    return root


def test_node_killed_during_an_index_run_and_searches(opensearch: LocalCluster, cluster,
                                                     tmp_path: Path) -> None:
    corpus = archive(tmp_path / "corpus")
    clean = f"opensearch+{opensearch.urls}/{opensearch.new_index('clean')}"
    faulty = f"opensearch+{opensearch.urls}/{opensearch.new_index('faulty')}"
    expected = index_paths([corpus], clean, batch_articles=1_000)

    # A first batch, so that searches have an index to ask from the start.
    index_paths([corpus / "feed-000.jsonl"], faulty)
    reports: list = []
    failures: list[BaseException] = []
    done = threading.Event()
    searches = {"ok": 0, "errors": 0}
    errors: list[str] = []

    def run() -> None:
        try:
            reports.append(index_paths([corpus], faulty, batch_articles=1_000))
        except BaseException as exc:  # reported below
            failures.append(exc)
        finally:
            done.set()

    killed = threading.Event()
    after_kill = [0]

    def search() -> None:
        with open_index(faulty) as ix:
            i = 0
            # Until the run ends, and at least a few searches after the kill whatever the
            # machine's load (the run may end before a slow search returns).
            while not done.is_set() or (killed.is_set() and after_kill[0] < 5):
                try:
                    ix.search(f"{WORDS[i % len(WORDS)]} item{i % 997}*", page=1 + i % 3)
                    searches["ok"] += 1
                    after_kill[0] += killed.is_set()
                except Exception as exc:
                    searches["errors"] += 1
                    errors.append(f"{type(exc).__name__}: {exc}")
                i += 1
                time.sleep(0.05)

    threads = [threading.Thread(target=run), threading.Thread(target=search)]
    for t in threads:
        t.start()
    victim = None
    try:
        while not done.is_set() and searches["ok"] < 20:
            time.sleep(0.1)
        assert not done.is_set(), "the run ended before the node could be killed"
        manager = cluster.client.cat.cluster_manager(format="json")[0]["node"]
        victim = next(n for n in range(3) if f"node{n}" != manager)
        killed.set()  # searches from here on meet a dying or dead node
        opensearch.kill_node(victim)
        assert not done.is_set(), "the run ended before the node was killed"
        for t in threads:
            t.join(timeout=600)
    finally:
        done.set()
        if victim is not None:
            opensearch.start_node(victim)
    assert not failures, failures
    assert searches["errors"] == 0, errors[:3]
    assert after_kill[0] >= 5  # searches went on after the kill
    report = reports[0]
    assert report.documents == expected.documents == 15_680  # 320 copies of the one before
    cluster.client.cluster.health(wait_for_status="green", params={"timeout": "120s"},
                                  request_timeout=130)
    # Counted as a clean run would (the first file was indexed before: unchanged).
    assert (report.added + 98, report.unchanged, report.duplicates + 2) == \
        (expected.added, 98, expected.duplicates)
    again = index_paths([corpus], faulty)  # nothing left half-done for the next run
    assert (again.added, again.updated, again.deleted, again.files_read) == (0, 0, 0, 0)
    with open_index(clean) as a, open_index(faulty) as b:
        for q in ("oil", "wheat OR gold", "item42", "section:bank date:1987-03-02"):
            ra, rb = a.search(q), b.search(q)
            assert (rb.total, rb.facets) == (ra.total, ra.facets), q

    # The whole cluster stopped by pid and started from its data: nothing lost.
    opensearch.restart()
    with open_index(faulty) as ix:
        assert ix.stats().documents == expected.documents
        assert ix.search("item42").total == 1
    assert index_paths([corpus], faulty).files_read == 0  # the manifest survived too
