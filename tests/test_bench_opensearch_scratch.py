"""The OpenSearch benchmark scripts' teardown (``bench/opensearch_scratch.py``): a run's
indexes in the cluster and its work folder are gone after it, however it ended."""

from __future__ import annotations

from pathlib import Path

import pytest
from bench.opensearch_scratch import Scratch, cluster_urls, scratch

from newsearch.backends.opensearch import Cluster

from .opensearch_support import LocalCluster


def _leave_traces(s: Scratch) -> Path:
    """What a run leaves: its index and one beside it (as a manifest index is), a folder."""
    s.cluster.client.indices.create(index=s.name)
    s.cluster.client.indices.create(index=f"{s.name}-manifest")
    (s.folder / "whoosh").mkdir()
    (s.folder / "whoosh" / "file").write_text("x", "utf-8")
    return s.folder


def _indexes(opensearch: LocalCluster, name: str) -> list[str]:
    c = Cluster(opensearch.urls)
    try:
        return sorted(c.client.indices.get(index=f"{name}*", params={"allow_no_indices": "true"}))
    finally:
        c.close()


@pytest.mark.opensearch
@pytest.mark.parametrize("ending", [None, RuntimeError, KeyboardInterrupt])
def test_a_run_leaves_nothing_however_it_ends(opensearch: LocalCluster, cluster: object,
                                              ending: type[BaseException] | None,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    closed: list[Cluster] = []
    close = Cluster.close
    monkeypatch.setattr(Cluster, "close", lambda self: (closed.append(self), close(self)))
    name = opensearch.new_index("scratch")  # deleted after the module if this test fails
    folder: Path | None = None
    if ending is None:
        with scratch(name, opensearch.urls) as s:
            folder = _leave_traces(s)
            assert _indexes(opensearch, name) == [name, f"{name}-manifest"]
            assert s.where == f"opensearch+{opensearch.urls}/{name}"
    else:
        with pytest.raises(ending), scratch(name, opensearch.urls) as s:
            folder = _leave_traces(s)
            raise ending()
    assert folder is not None and not folder.exists()
    assert _indexes(opensearch, name) == []
    assert s.cluster in closed


@pytest.mark.opensearch
def test_a_killed_runs_indexes_are_deleted_before_the_run(opensearch: LocalCluster,
                                                          cluster: Cluster) -> None:
    name = opensearch.new_index("scratch")
    cluster.client.indices.create(index=name)  # left by a run killed with SIGKILL
    cluster.client.indices.create(index=f"{name}-lock")
    with scratch(name, opensearch.urls):
        assert _indexes(opensearch, name) == []


def test_the_folder_goes_also_when_the_cluster_stops_answering(
        monkeypatch: pytest.MonkeyPatch) -> None:
    # A cluster that dies during the run (maybe why it failed): deleting its indexes fails,
    # the folder is removed and the client closed all the same.
    calls: list[str] = []

    def delete(self: Scratch) -> None:
        calls.append("delete")
        if len(calls) > 1:
            raise ConnectionError("no node answered")

    monkeypatch.setattr(Scratch, "delete_indexes", delete)
    with pytest.raises(ConnectionError), scratch("bench-x", "http://127.0.0.1:1") as s:
        (s.folder / "file").write_text("x", "utf-8")
        folder = s.folder
    assert calls == ["delete", "delete"]
    assert not folder.exists()


def test_the_cluster_is_found_as_the_cluster_script_starts_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NEWSEARCH_OPENSEARCH_URL", raising=False)
    monkeypatch.delenv("NEWSEARCH_OPENSEARCH_HTTP_PORT", raising=False)
    assert cluster_urls() == "http://127.0.0.1:9200,http://127.0.0.1:9201,http://127.0.0.1:9202"
    monkeypatch.setenv("NEWSEARCH_OPENSEARCH_HTTP_PORT", "9220")
    assert cluster_urls() == "http://127.0.0.1:9220,http://127.0.0.1:9221,http://127.0.0.1:9222"
    monkeypatch.setenv("NEWSEARCH_OPENSEARCH_URL", "http://node:9200")
    assert cluster_urls() == "http://node:9200"
