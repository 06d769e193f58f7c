"""The web API's tests, run again with the index in the OpenSearch cluster.

Every backend-neutral test of tests/test_web_api.py is imported here and runs against
``newsearch serve`` / ``create_app`` over an ``opensearch+http://...`` index holding the same
articles (the ``index`` fixture below replaces the folder with the cluster's URL, which the
CLI's ``--index`` takes as well). The tests that build, change or delete a folder index are
written again below for the cluster: articles indexed while serving, the cluster going away
under a running server (503 with a sentence), ETags that follow the index's generation.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsearch import index_paths
from newsearch.backends.opensearch import Cluster, OpenSearchIndex

from .conftest import SAMPLE
from .opensearch_support import LocalCluster
from .web_support import (
    ARTICLES,
    EVIL_URL,
    LiveServer,
    live_server,
    served_by_cli,
    write_articles,
)

httpx = pytest.importorskip("httpx")

from .test_web_api import (  # noqa: E402, F401 - collected again here, over the cluster
    test_app_mounts_under_a_prefix,
    test_article_is_the_json_of_show,
    test_article_json_carries_cyrillic_as_utf8,
    test_bad_parameters_are_json_errors_with_a_message,
    test_errors_are_not_stored_and_static_files_are_cached,
    test_head_is_answered_wherever_get_is,
    test_json_is_sent_as_utf8_never_as_escapes,
    test_no_request_path_reaches_the_file_system,
    test_openapi_describes_the_api,
    test_pages_forbid_scripts_and_framing,
    test_search_returns_the_json_of_the_cli,
    test_section_is_repeatable_and_means_any_of_them,
    test_serve_command_runs_uvicorn_on_loopback,
    test_serve_sends_no_server_header,
    test_snippets_escape_article_markup,
    test_static_files_come_from_package_data,
    test_stats_is_the_json_of_stats,
    test_trend_is_the_json_of_the_cli,
    test_trend_refuses_bad_parameters,
    test_unknown_api_path_is_json,
    test_unknown_article_is_a_json_404,
    without_timing,
)

pytestmark = pytest.mark.opensearch


def build_cluster_index(opensearch: LocalCluster, root: Path, label: str) -> str:
    """:func:`tests.web_support.build_index`'s articles, in a new index of the cluster."""
    feed = write_articles(root / "literal", ARTICLES, extra=(EVIL_URL,))
    where = f"opensearch+{opensearch.urls}/{opensearch.new_index(label)}"
    index_paths([SAMPLE, feed], where, jobs=1)
    return where


@pytest.fixture(scope="module")
def index(opensearch: LocalCluster, cluster: Cluster,
          tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_cluster_index(opensearch, tmp_path_factory.mktemp("os-web"), "web")


@pytest.fixture(scope="module")
def server(index: str) -> Iterator[LiveServer]:
    with live_server(index) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=60) as c:
        yield c


def test_the_app_serves_the_cluster(client: httpx.Client, index: str) -> None:
    assert index.startswith("opensearch+http://")
    assert client.get("/api/stats").json()["index"] == index


def test_serve_takes_the_backend_options(opensearch: LocalCluster, index: str,
                                        client: httpx.Client) -> None:
    name = index.rsplit("/", 1)[1]
    # `newsearch serve --index NAME --backend opensearch --opensearch-url URLS`
    with served_by_cli(Path(name), "--backend", "opensearch", "--opensearch-url",
                       opensearch.urls) as served:
        res = httpx.get(served.url + "/api/search", params={"q": "harbour"}, timeout=60)
        assert res.status_code == 200
        assert without_timing(res.json()) == without_timing(
            client.get("/api/search", params={"q": "harbour"}).json())


def test_articles_indexed_while_serving_appear_without_restart(
        opensearch: LocalCluster, cluster: Cluster, tmp_path: Path) -> None:
    index = build_cluster_index(opensearch, tmp_path, "live")
    with live_server(index) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        assert c.get("/api/search", params={"q": "zeppelin"}).json()["total"] == 0
        before = c.get("/api/stats").json()["documents"]
        feed = write_articles(tmp_path / "more", [
            ("zep", "Zeppelin lands in the harbour", "A zeppelin landed in the harbour.",
             "2023-09-01T10:00:00Z", "Local")])
        index_paths([feed], index, jobs=1)
        res = c.get("/api/search", params={"q": "zeppelin"}).json()
        assert res["total"] == 1 and res["hits"][0]["title"] == "Zeppelin lands in the harbour"
        assert c.get("/api/stats").json()["documents"] == before + 1
        assert "Zeppelin lands in the harbour" in c.get("/", params={"q": "zeppelin"}).text


@pytest.mark.parametrize("path", ["/api/search?q=harbour", "/api/stats", "/?q=harbour"])
def test_index_answers_are_revalidated_by_etag_and_never_stale(
        opensearch: LocalCluster, cluster: Cluster, tmp_path: Path, path: str) -> None:
    index = build_cluster_index(opensearch, tmp_path, "etag")
    with live_server(index) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        first = c.get(path)
        assert first.status_code == 200 and first.headers["cache-control"] == "no-cache"
        etag = first.headers["etag"]
        again = c.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        feed = write_articles(tmp_path / "more", [
            ("zep", "Zeppelin over the harbour", "A zeppelin flew over the harbour.",
             "2023-09-01T10:00:00Z", "Local")])
        index_paths([feed], index, jobs=1)  # a new generation
        after = c.get(path, headers={"If-None-Match": etag})
        assert after.status_code == 200 and after.headers["etag"] != etag


def test_an_unreachable_cluster_is_a_503_with_a_sentence(opensearch: LocalCluster,
                                                         cluster: Cluster) -> None:
    # The app reaches the cluster through a forwarder that is then closed: the outage of a
    # whole cluster, without stopping the cluster the other tests share.
    name = opensearch.new_index("outage")
    index_paths([SAMPLE], f"opensearch+{opensearch.urls}/{name}", jobs=1)
    proxy = _Forwarder(int(opensearch.node_url(0).rsplit(":", 1)[1]))
    threading.Thread(target=proxy.run, daemon=True).start()
    ix = OpenSearchIndex(f"http://127.0.0.1:{proxy.port}", name, retry_seconds=2)
    with live_server(ix) as srv, httpx.Client(base_url=srv.url, timeout=60) as c:
        assert c.get("/api/search", params={"q": "almaty"}).status_code == 200
        proxy.stop()
        for path, kind in [("/api/search?q=bridge", "application/json"),
                           ("/?q=bridge", "text/html"), ("/api/stats", "application/json")]:
            res = c.get(path)
            assert res.status_code == 503, path
            assert res.headers["content-type"].startswith(kind)
            assert "Traceback" not in res.text
        assert c.get("/api/stats").json() == {
            "error": "the index cannot be read right now; try again later"}


class _Forwarder:
    """Forwards a free loopback port to ``target`` until stopped; then the port refuses
    connections, as a cluster that went away."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = int(self.sock.getsockname()[1])
        self.conns: list[socket.socket] = []

    def run(self) -> None:
        while True:
            try:
                client, _ = self.sock.accept()
            except OSError:
                return  # stopped
            upstream = socket.create_connection(("127.0.0.1", self.target))
            self.conns += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)  # wakes the accept() (close alone does not)
        self.sock.close()
        for s in self.conns:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
                s.close()


def _pipe(a: socket.socket, b: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := a.recv(65536):
            b.sendall(data)
