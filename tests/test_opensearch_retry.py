"""Which cluster errors a request is repeated for (no cluster needed): a search whose shards
failed because a node died is repeated; one that failed on the query itself is not."""

from __future__ import annotations

from opensearchpy.exceptions import TransportError

from newsearch.backends.opensearch.client import _retryable


def _phase_failure(*types: str) -> TransportError:
    body = {"error": {"type": "search_phase_execution_exception", "root_cause": [],
                      "failed_shards": [{"shard": i, "reason": {"type": t}}
                                        for i, t in enumerate(types)]},
            "status": 500}
    return TransportError(500, "search_phase_execution_exception", body)


def test_a_search_failing_on_a_dead_node_is_repeated() -> None:
    assert _retryable(_phase_failure("node_not_connected_exception"))
    assert _retryable(_phase_failure())  # all shards failed, no reason given


def test_a_search_failing_on_its_query_is_not_repeated() -> None:
    assert not _retryable(_phase_failure("node_not_connected_exception", "script_exception"))
    nested = _phase_failure("transport_exception")
    nested.info["error"]["failed_shards"][0]["reason"]["caused_by"] = {
        "type": "query_shard_exception"}
    assert not _retryable(nested)


def test_other_statuses_as_before() -> None:
    assert _retryable(TransportError(503, "unavailable", {}))
    assert _retryable(TransportError(429, "too_many_requests", {}))
    assert not _retryable(TransportError(500, "null_pointer_exception", {}))
    assert not _retryable(TransportError(400, "parsing_exception", {}))


def test_a_batch_of_searches_is_repeated_when_one_failed_on_a_dying_node() -> None:
    from types import SimpleNamespace

    from newsearch.backends.opensearch.client import Cluster
    from newsearch.backends.opensearch.search import OpenSearchIndex

    cluster = Cluster("http://127.0.0.1:1", retry_seconds=5.0)
    cluster.backoff = lambda attempt: 0.0  # type: ignore[method-assign]
    answers = [
        {"responses": [{"_shards": {"failed": 0}, "hits": {}},
                       {"error": {"type": "search_phase_execution_exception",
                                  "failed_shards": [{"reason": {"type": "node_closed_exception"}}]},
                        "status": 500}]},
        {"responses": [{"_shards": {"failed": 0}, "hits": {"n": 1}},
                       {"_shards": {"failed": 0}, "hits": {"n": 2}}]},
    ]
    calls = []

    def msearch(**kwargs: object) -> dict:
        calls.append(kwargs)
        return answers[len(calls) - 1]

    cluster.client = SimpleNamespace(msearch=msearch)  # type: ignore[assignment]
    index = SimpleNamespace(cluster=cluster, name="news", _check_shards=lambda r: None)
    out = OpenSearchIndex._msearch(index, [{"query": {}}, {"query": {}}])  # type: ignore[arg-type]
    assert len(calls) == 2 and [r["hits"] for r in out] == [{"n": 1}, {"n": 2}]
