"""Bulk writing against a real three-node cluster: batches, retries, a node lost mid-run."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest

from newsearch.article import Article
from newsearch.backends.opensearch import (
    BulkRejected,
    BulkWriter,
    Cluster,
    IndexSettings,
    create_news_index,
    document,
    open_news_index,
)
from newsearch.backends.opensearch.bulk import LOAD_REFRESH_INTERVAL, loading

pytestmark = pytest.mark.opensearch

WORDS = ("oil wheat bank rates coffee gold talks strike export grain dollar yen market "
         "minister reserve budget tariff crude shipping harvest").split()


def articles(n: int, prefix: str = "a") -> list[Article]:
    start = datetime(1987, 3, 1, tzinfo=UTC)
    out = []
    for i in range(n):
        words = [WORDS[(i * 7 + j * 3) % len(WORDS)] for j in range(40)]
        out.append(Article.create(
            source=f"/gen/{prefix}{i // 100}.jsonl", key=str(i),
            title=f"{WORDS[i % len(WORDS)].title()} report {i}", body=" ".join(words),
            date=start + timedelta(hours=i), sections=[WORDS[i % 5]]))
    return out


def count(cluster: Cluster, index: str) -> int:
    cluster.call(cluster.client.indices.refresh, index=index)
    return int(cluster.call(cluster.client.count, index=index)["count"])


def test_batches_are_idempotent_and_deletes_of_missing_ids_are_fine(cluster, opensearch) -> None:
    name = opensearch.new_index("bulk")
    create_news_index(cluster, name)
    docs = articles(2_345)
    with BulkWriter(cluster, name, batch_docs=500) as w:
        w.index_many((a.id, document(a)) for a in docs)
    assert (w.stats.indexed, w.stats.requests) == (2_345, 5)
    assert count(cluster, name) == 2_345
    # The same documents again (a retried batch, a re-run): overwritten, not duplicated.
    with BulkWriter(cluster, name, batch_docs=1_000) as w:
        w.index_many((a.id, document(a)) for a in docs[:1_000])
        for a in docs[:300]:
            w.delete_doc(a.id)
        w.delete_doc("no-such-id")
    assert w.stats.deleted == 301
    assert count(cluster, name) == 2_045


def test_a_long_load_refreshes_less_often_and_ends_searchable(cluster, opensearch) -> None:
    name = opensearch.new_index("load")
    create_news_index(cluster, name)

    def refresh_interval() -> str | None:
        settings = cluster.client.indices.get_settings(index=name)[name]["settings"]["index"]
        return settings.get("refresh_interval")

    docs = articles(500, "l")
    with pytest.raises(RuntimeError), loading(cluster, name):
        assert refresh_interval() == LOAD_REFRESH_INTERVAL
        with BulkWriter(cluster, name) as w:
            w.index_many((a.id, document(a)) for a in docs)
        raise RuntimeError("the run fails after its last batch")
    assert refresh_interval() is None  # back to the default, even after a failure
    assert cluster.client.count(index=name)["count"] == 500  # searchable without a refresh


def test_items_refused_while_no_primary_is_active_are_retried(cluster, opensearch) -> None:
    name = opensearch.new_index("retry")
    # No node may hold this index yet: every item is answered 503 until the rule goes.
    create_news_index(cluster, name, IndexSettings(
        extra={"routing.allocation.require._name": "no-such-node"}), wait_for_active_shards=0)

    def allow() -> None:
        time.sleep(3)
        cluster.client.indices.put_settings(
            index=name, body={"index.routing.allocation.require._name": None})

    opener = threading.Thread(target=allow)
    opener.start()
    docs = articles(300, "r")
    try:
        with BulkWriter(cluster, name, batch_docs=100, wait_for_shards="1s") as w:
            w.index_many((a.id, document(a)) for a in docs)
    finally:
        opener.join()
    assert w.stats.retried_items >= 100  # the first batch at least waited for its shards
    assert w.stats.indexed == 300
    assert count(cluster, name) == 300


def test_items_refused_with_429_are_retried_with_back_off(cluster, opensearch) -> None:
    name = opensearch.new_index("busy")
    create_news_index(cluster, name)
    # The block a full disk sets: the cluster answers every write 429 (too many requests).
    block = "index.blocks.read_only_allow_delete"
    cluster.client.indices.put_settings(index=name, body={block: True})

    def unblock() -> None:
        time.sleep(3)
        cluster.client.indices.put_settings(index=name, body={block: None})

    opener = threading.Thread(target=unblock)
    opener.start()
    started = time.monotonic()
    try:
        with BulkWriter(cluster, name, batch_docs=100) as w:
            w.index_many((a.id, document(a)) for a in articles(200, "b"))
    finally:
        opener.join()
    assert time.monotonic() - started >= 3  # it waited for the block to go, not failed
    assert w.stats.retried_items >= 100
    assert count(cluster, name) == 200


def test_a_document_the_mapping_refuses_is_one_sentence(cluster, opensearch) -> None:
    name = opensearch.new_index("refused")
    create_news_index(cluster, name)
    doc = document(articles(1)[0])
    doc["unexpected"] = 1
    with (pytest.raises(BulkRejected, match=f"the OpenSearch index {name} refused document "
                                            "x1: HTTP 400 .*unexpected"),
          BulkWriter(cluster, name) as w):
        w.index_doc("x1", doc)


@pytest.mark.slow
def test_node_killed_during_bulk_run_and_searches(cluster, opensearch) -> None:
    """SIGKILL a data node that is not the elected manager (its primaries are promoted
    elsewhere) while a bulk run and a search loop go on: the run completes, searches keep
    answering, nothing is lost when the node comes back. (Killing the elected manager
    itself stalled writes for over three minutes in 2 of 7 runs on a loaded machine: an
    open question about elections there, not covered here.)"""
    name = opensearch.new_index("fault")
    # Re-replicate at once when a node leaves (by default the cluster waits a minute).
    create_news_index(cluster, name, IndexSettings(
        extra={"unassigned.node_left.delayed_timeout": "0"}))
    docs = articles(8_000, "f")
    writer = BulkWriter(Cluster(opensearch.urls), name, batch_docs=200)
    failures: list[BaseException] = []
    searches = {"ok": 0, "errors": 0, "partial": 0}
    done = threading.Event()

    def write() -> None:
        try:
            with writer:
                writer.index_many((a.id, document(a)) for a in docs)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
        finally:
            done.set()

    def search() -> None:
        reader = Cluster(opensearch.urls)
        i = 0
        while not done.is_set():
            try:
                r = reader.call(reader.client.search, index=name, body={
                    "size": 5, "query": {"term": {"terms.body": WORDS[i % len(WORDS)]}}})
                searches["ok"] += 1
                searches["partial"] += r["_shards"]["failed"] > 0
            except Exception:
                searches["errors"] += 1
            i += 1
            time.sleep(0.05)

    victim: int | None = None
    threads = [threading.Thread(target=write), threading.Thread(target=search)]
    for t in threads:
        t.start()
    try:
        while writer.stats.requests < 8 and not done.is_set():
            time.sleep(0.05)
        assert not done.is_set(), "the run ended before the node could be killed"
        manager = cluster.client.cat.cluster_manager(format="json")[0]["node"]
        victim = next(n for n in range(3) if f"node{n}" != manager)
        opensearch.kill_node(victim)
        for t in threads:
            t.join(timeout=600)
        assert not failures, failures
        assert writer.stats.indexed == len(docs)
        assert searches["errors"] == 0 and searches["ok"] > 0, searches
        assert count(cluster, name) == len(docs)
    finally:
        done.set()
        if victim is not None:
            opensearch.start_node(victim)
    cluster.health(name, wait_for="green", timeout_s=180)
    assert count(cluster, name) == len(docs)
    print(f"killed node{victim} (manager: {manager}); searches during the fault: {searches}; "
          f"bulk requests {writer.stats.requests}, "
          f"items retried {writer.stats.retried_items}, client retries "
          f"{writer.cluster.retried}")


@pytest.mark.slow
def test_cluster_restarted_from_its_data_loses_nothing(cluster, opensearch) -> None:
    name = opensearch.new_index("restart")
    create_news_index(cluster, name)
    docs = articles(1_500, "s")
    # Acknowledged writes, never flushed to segments by hand: the translog must keep them.
    with BulkWriter(cluster, name, batch_docs=500) as w:
        w.index_many((a.id, document(a)) for a in docs)
    opensearch.restart()
    after = Cluster(opensearch.urls)
    after.health(name, wait_for="green", timeout_s=180)
    open_news_index(after, name)  # mapping and version survived
    assert count(after, name) == 1_500
    hit = after.client.get(index=name, id=docs[42].id)["_source"]
    assert hit["title"] == docs[42].title
