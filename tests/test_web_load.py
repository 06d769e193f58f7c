"""Load: 20 clients at once, 50 requests each, against one live server and its one shared
index. Every request must succeed; the latencies are printed (no timing is asserted)."""

from __future__ import annotations

import pytest

from .web_support import build_index, run_load, served_by_cli

pytest.importorskip("httpx")

CLIENTS = 20
REQUESTS_EACH = 50


def test_twenty_concurrent_clients_get_no_errors(tmp_path_factory: pytest.TempPathFactory,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    index = build_index(tmp_path_factory.mktemp("web-load"))
    # The server runs in its own process (`newsearch serve`), so the clients' threads do not
    # share its interpreter lock and the latencies are the server's.
    with served_by_cli(index) as served:
        report = run_load(served.url, clients=CLIENTS, requests_each=REQUESTS_EACH)
    with capsys.disabled():
        print(f"\nweb load, {CLIENTS} clients x {REQUESTS_EACH}: {report.summary()}")
    assert report.errors == []
    assert len(report.latencies_ms) == CLIENTS * REQUESTS_EACH
