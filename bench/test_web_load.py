"""The web server under load: 20 concurrent clients x 50 requests on Reuters-21578.

`newsearch serve` runs in its own process (one NewsIndex shared by uvicorn's worker threads);
20 client threads, each with its own keep-alive connection, send 50 GETs each as fast as the
answers come, cycling through JSON searches (filters, sorts, pages), search pages and stats.
Every answer must be a 200; latency is measured per request by the client (p50/p95 over all
1,000) and recorded with the request rate.

    .venv/bin/python -m pytest bench/test_web_load.py -s
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsearch import index_paths

from .conftest import QUICK, need_corpora, record

pytest.importorskip("httpx")
pytest.importorskip("uvicorn")

from tests.web_support import run_load, served_by_cli

CLIENTS = 20
REQUESTS_EACH = 50
PATHS = [
    "/api/search?q=oil+prices",
    "/api/search?q=%22bank+of+england%22&sort=date",
    "/api/search?q=coffee+brazil&section=coffee",
    "/api/search?q=wheat+OR+corn&since=1987-03-01&until=1987-03-31",
    "/api/search?q=econom*&sort=recency",
    "/api/search?q=dollar&page=3&per_page=20",
    "/api/search?q=opec+-saudi",
    "/api/search?q=tokio",
    "/api/stats",
    "/?q=oil+prices",
    "/?q=crude&section=crude&section=ship",
    "/",
]


@pytest.fixture(scope="module")
def reuters_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    files = sorted((need_corpora() / "reuters21578").glob("reut2-*.sgm"))
    index = tmp_path_factory.mktemp("web-load") / "index"
    index_paths(files[:2] if QUICK else files, index)
    return index


def test_web_load_reuters(reuters_index: Path) -> None:
    with served_by_cli(reuters_index) as served:
        report = run_load(served.url, clients=CLIENTS, requests_each=REQUESTS_EACH,
                          paths=PATHS)
    print(f"\nweb load on Reuters: {report.summary()}")
    record("Web server under load (20 clients x 50 requests, Reuters-21578)",
           requests=report.requests, errors=len(report.errors),
           p50_ms=round(report.percentile(50), 1), p95_ms=round(report.percentile(95), 1),
           requests_per_s=round(report.requests / report.seconds))
    assert report.errors == []
