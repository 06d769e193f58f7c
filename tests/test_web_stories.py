"""The web side of issue 16: versions and Related on the article page, the trend page's SVG
chart and CSV, versions on the results page, and the JSON API's new fields, over a folder and
over the cluster."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

import pytest

from newsearch import index_paths
from newsearch.watches import add_watch

from .opensearch_support import BACKENDS, index_location
from .test_clusters import OTHER, UPDATE, WIRE
from .web_support import LiveServer, live_server

httpx = pytest.importorskip("httpx")


ROWS = [("rate", "Central bank raises rates", WIRE, "2024-05-07T08:00:00Z"),
        ("rate-update", "Bank lifts rates again", UPDATE, "2024-05-07T11:00:00Z"),
        ("mortgage", "Lenders follow the central bank",
         "Mortgage lenders raised rates after the central bank's interest rate decision.",
         "2024-06-01T08:00:00Z"),
        ("flood", "Floods in the north", OTHER, "2024-06-02T08:00:00Z")]


def _served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory,
            backend: str) -> Iterator[httpx.Client]:
    root = tmp_path_factory.mktemp("web-stories")
    (root / "f.jsonl").write_text("\n".join(json.dumps(
        {"id": i, "title": t, "body": b, "date": d, "section": "News"}) for i, t, b, d in ROWS),
        encoding="utf-8")
    index = index_location(request, backend, root / "index", "webstories")
    index_paths([root / "f.jsonl"], index, jobs=1)
    add_watch(index, "rates", "rates")
    srv: LiveServer
    with live_server(index) as srv, httpx.Client(base_url=srv.url, timeout=30) as c:
        yield c


@pytest.fixture(scope="module", params=BACKENDS)
def client(request: pytest.FixtureRequest,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """A server over the articles in a folder, then in the cluster."""
    yield from _served(request, tmp_path_factory, request.param)


def test_results_page_and_api_show_versions(client: httpx.Client) -> None:
    # Two words: every hit holds both (from three, too few hits fall back to any word)
    data = client.get("/api/search", params={"q": "benchmark interest"}).json()
    assert data["total"] == 2 and data["stories"] == 1
    hit = data["hits"][0]
    assert hit["versions"] == 2
    every = client.get("/api/search", params={"q": "benchmark interest",
                                              "all_versions": "true"}).json()
    assert len(every["hits"]) == 2
    page = client.get("/", params={"q": "benchmark interest"}).text
    assert "1 more version" in page and "#versions" in page
    article = client.get(f"/api/articles/{hit['id']}").json()
    assert article["cluster"] == hit["cluster"] and len(article["versions"]) == 2


def test_article_page_lists_versions_and_related(client: httpx.Client) -> None:
    hit = client.get("/api/search", params={"q": "benchmark interest"}).json()["hits"][0]
    page = client.get(f"/articles/{hit['id']}").text
    assert 'id="versions"' in page and "2 versions of this story" in page
    assert 'id="related"' in page
    related = page[page.index('id="related"'):]
    assert "Lenders follow the central bank" in related
    assert "Bank lifts rates again" not in related and "Central bank raises rates" not in related


def test_trend_page_draws_svg_and_offers_csv(client: httpx.Client) -> None:
    page = client.get("/trend", params=[("q", "rates"), ("q", "floods"), ("by", "month")]).text
    assert "<svg" in page and "<script" not in page
    assert page.count("<rect") == 2 * 2  # two months, two queries
    assert "Download CSV" in page
    csv_text = client.get("/trend.csv", params=[("q", "rates"), ("q", "floods")])
    assert csv_text.headers["content-type"].startswith("text/csv")
    assert list(csv.reader(io.StringIO(csv_text.text))) == [
        ["period", "rates", "floods"], ["2024-05", "2", "0"], ["2024-06", "1", "1"]]
    bad = client.get("/trend", params={"q": "rates", "since": "2024-13"})
    assert bad.status_code == 400 and "since" in bad.text


def test_api_watch_new_articles(client: httpx.Client) -> None:
    none = client.get("/api/watches/rates/new").json()
    assert none["count"] == 0  # nothing indexed since the watch was saved
    data = client.get("/api/watches/rates/new", params={"since": "2000-01-01"}).json()
    assert data["count"] == 3 and len(data["ids"]) == 3 and len(data["hits"]) == 3
    later = client.get("/api/watches/rates/new", params={"since": data["next_since"]}).json()
    assert later["count"] == 0
    assert client.get("/api/watches/nope/new").status_code == 404
    assert client.get("/api/watches/rates/new", params={"since": "2024-13"}).status_code in (
        400, 422)
