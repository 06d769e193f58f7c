"""The JSON API under a real uvicorn, spoken to over loopback HTTP with httpx: the same JSON as
the CLI, errors as JSON with a message, escaping, live index updates, start-up and mounting."""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsearch import IndexNotFound, index_paths
from newsearch.cli import main
from newsearch.query import MAX_QUERY_CHARS

from .web_support import (
    SCRIPT,
    LiveServer,
    build_index,
    live_server,
    served_by_cli,
    write_articles,
)

httpx = pytest.importorskip("httpx")

from fastapi import FastAPI  # noqa: E402

from newsearch.web import create_app  # noqa: E402


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("web-api"))


@pytest.fixture(scope="module")
def server(index: Path) -> Iterator[LiveServer]:
    with live_server(index) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


def cli_json(*args: str) -> dict:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def without_timing(d: dict) -> dict:
    return {k: v for k, v in d.items() if k != "took_ms"}


# --- same JSON as the command line ---------------------------------------------------------------


@pytest.mark.parametrize(("params", "cli_args"), [
    ({"q": "almaty"}, []),
    ({"q": "Алматы"}, []),
    ({"q": "bridge", "section": "Local", "sort": "date"}, ["--section", "Local", "--sort", "date"]),
    ({"q": "harbour", "since": "2023-07-05", "until": "2023-07-20", "per_page": "3", "page": "2"},
     ["--since", "2023-07-05", "--until", "2023-07-20", "--limit", "3", "--page", "2"]),
    ({"q": "harbour OR bridge", "sort": "recency"}, ["--sort", "recency"]),
    ({"q": "harbour", "since": "2023-07", "until": "2023"}, ["--since", "2023-07", "--until",
                                                            "2023"]),
    ({"q": "brigde"}, []),
])
def test_search_returns_the_json_of_the_cli(client: httpx.Client, index: Path, params: dict,
                                            cli_args: list[str]) -> None:
    res = client.get("/api/search", params=params)
    assert res.status_code == 200
    assert res.headers["content-type"] == "application/json"
    expected = cli_json("search", params["q"], "--index", str(index), "--json", *cli_args)
    assert without_timing(res.json()) == without_timing(expected)
    assert isinstance(res.json()["took_ms"], float)


def test_section_is_repeatable_and_means_any_of_them(client: httpx.Client) -> None:
    one = client.get("/api/search", params={"q": "bridge", "section": "Local"}).json()
    both = client.get("/api/search", params=[("q", "bridge"), ("section", "Local"),
                                             ("section", "business")]).json()
    assert {tuple(h["section"]) for h in one["hits"]} == {("Local",)}
    assert {tuple(h["section"]) for h in both["hits"]} == {("Local",), ("Business",)}
    assert both["total"] == one["total"] + 1


def test_article_is_the_json_of_show(client: httpx.Client, index: Path) -> None:
    hit = client.get("/api/search", params={"q": "bridge tolls"}).json()["hits"][0]
    res = client.get(f"/api/articles/{hit['id']}")
    assert res.status_code == 200
    assert res.json() == cli_json("show", hit["id"], "--index", str(index), "--json")


@pytest.mark.parametrize(("params", "cli_args"), [
    ([("q", "harbour")], []),
    ([("q", "harbour"), ("q", "bridge"), ("by", "day")], ["--by", "day"]),
    ([("q", "harbour"), ("by", "week"), ("since", "2023-07"), ("until", "2023")],
     ["--by", "week", "--since", "2023-07", "--until", "2023"]),
    ([("q", "bridge"), ("section", "Local")], ["--section", "Local"]),
])
def test_trend_is_the_json_of_the_cli(client: httpx.Client, index: Path,
                                      params: list[tuple[str, str]],
                                      cli_args: list[str]) -> None:
    res = client.get("/api/trend", params=params)
    assert res.status_code == 200
    queries = [v for k, v in params if k == "q"]
    expected = cli_json("trend", *queries, "--index", str(index), "--json", *cli_args)
    assert res.json() == expected
    assert [s["query"] for s in res.json()["series"]] == queries
    assert sum(p["count"] for s in res.json()["series"] for p in s["periods"]) > 0


def test_trend_refuses_bad_parameters(client: httpx.Client) -> None:
    assert client.get("/api/trend").status_code == 422  # no query
    assert client.get("/api/trend", params={"q": "harbour", "by": "hour"}).status_code == 422
    res = client.get("/api/trend", params={"q": "harbour", "since": "2023-13"})
    assert res.status_code == 422 and "since" in res.json()["error"]


def test_stats_is_the_json_of_stats(client: httpx.Client, index: Path) -> None:
    assert client.get("/api/stats").json() == cli_json("stats", "--index", str(index), "--json")


def test_openapi_describes_the_api(client: httpx.Client) -> None:
    spec = client.get("/openapi.json").json()
    assert set(spec["paths"]) == {"/api/search", "/api/articles/{article_id}", "/api/stats",
                                  "/api/trend", "/api/watches/{name}/new"}
    params = {p["name"]: p for p in spec["paths"]["/api/search"]["get"]["parameters"]}
    assert params.keys() >= {"q", "section", "since", "until", "sort", "page", "per_page"}
    assert params["per_page"]["schema"]["maximum"] == 100
    assert params["q"]["schema"]["maxLength"] == MAX_QUERY_CHARS
    # No page that loads scripts from a CDN.
    assert client.get("/docs").status_code == 404


# --- errors: JSON with a message, never a 5xx ----------------------------------------------------


def test_unknown_article_is_a_json_404(client: httpx.Client) -> None:
    res = client.get("/api/articles/0123456789abcdef")
    assert res.status_code == 404
    assert res.json() == {"error": "no article with id '0123456789abcdef' in the index"}


@pytest.mark.parametrize(("params", "status", "says"), [
    ({}, 422, "q: Field required"),
    ({"q": ""}, 422, "q: String should have at least 1 character"),
    ({"q": "x" * (MAX_QUERY_CHARS + 1)}, 422, f"q: String should have at most {MAX_QUERY_CHARS}"),
    ({"q": "oil", "per_page": "101"}, 422, "per_page: Input should be less than or equal to 100"),
    ({"q": "oil", "per_page": "0"}, 422, "per_page"),
    ({"q": "oil", "page": "-1"}, 422, "page"),
    ({"q": "oil", "page": "two"}, 422, "page: Input should be a valid integer"),
    ({"q": "oil", "sort": "popularity"}, 422, "sort"),
    # Every malformed date: 422 and one sentence naming the parameter and the forms it takes.
    ({"q": "oil", "since": "March"}, 422, "since “March” is not a valid date: use YYYY-MM-DD, "
                                          "YYYY-MM for a month or YYYY for a year"),
    ({"q": "oil", "since": "2023-13"}, 422, "since “2023-13” is not a valid date: use"),
    ({"q": "oil", "until": "1987-02-30"}, 422, "until “1987-02-30” is not a valid date: use"),
    ({"q": "oil", "until": "notadate"}, 422, "until “notadate” is not a valid date: use"),
    ({"q": "oil", "since": "2023-08-01", "until": "2023-07-01"}, 422,
     "since 2023-08-01 is after until 2023-07-01"),
    ({"q": "oil", "half_life": "nan"}, 422, "half_life"),
    ({"q": "("}, 400, "bad query: the query has nothing to search for"),
    ({"q": "date:[x TO y]"}, 400, "“x” is not a valid date"),
])
def test_bad_parameters_are_json_errors_with_a_message(client: httpx.Client, params: dict,
                                                       status: int, says: str) -> None:
    res = client.get("/api/search", params=params)
    assert res.status_code == status
    assert res.headers["content-type"] == "application/json"
    assert says in res.json()["error"]


def test_unknown_api_path_is_json(client: httpx.Client) -> None:
    res = client.get("/api/nothing")
    assert res.status_code == 404 and res.json() == {"error": "Not Found"}


@pytest.mark.parametrize("path", [
    "/api/articles/..%2F..%2F..%2Fetc%2Fpasswd",
    "/api/articles/%2Fetc%2Fpasswd",
    "/articles/..%2F..%2Fsearcher.py",
    "/static/..%2F__init__.py",
    "/static/__init__.py",
    "/static/%2Fetc%2Fpasswd",
    "/static/../pages.py",
    "/templates/base.html",
])
def test_no_request_path_reaches_the_file_system(client: httpx.Client, path: str) -> None:
    res = client.get(path)
    assert res.status_code == 404
    assert b"import" not in res.content and b"root:" not in res.content


def test_static_files_come_from_package_data(client: httpx.Client) -> None:
    res = client.get("/static/style.css")
    assert res.status_code == 200 and res.headers["content-type"].startswith("text/css")
    again = client.get("/static/style.css", headers={"If-None-Match": res.headers["etag"]})
    assert again.status_code == 304


# --- security ------------------------------------------------------------------------------------


def test_snippets_escape_article_markup(client: httpx.Client) -> None:
    hit = client.get("/api/search", params={"q": "cyberattack"}).json()["hits"][0]
    snippet = " ".join(hit["snippets"])
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in snippet
    assert "<script" not in snippet and "<img" not in snippet
    assert "<mark>cyberattack</mark>" in snippet
    # The raw text is the article's data: the API returns it as written, as JSON.
    article = client.get(f"/api/articles/{hit['id']}")
    assert SCRIPT in article.json()["body"]
    assert article.headers["content-type"] == "application/json"
    assert article.headers["x-content-type-options"] == "nosniff"


def test_pages_forbid_scripts_and_framing(client: httpx.Client) -> None:
    res = client.get("/", params={"q": "bridge"})
    csp = res.headers["content-security-policy"]
    assert "default-src 'none'" in csp and "script-src" not in csp
    assert "frame-ancestors 'none'" in csp


# --- one index object, live updates --------------------------------------------------------------


def test_articles_indexed_while_serving_appear_without_restart(tmp_path: Path) -> None:
    index = build_index(tmp_path)
    with live_server(index) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.get("/api/search", params={"q": "zeppelin"}).json()["total"] == 0
        before = c.get("/api/stats").json()["documents"]
        feed = write_articles(tmp_path / "more", [
            ("zep", "Zeppelin lands in the harbour", "A zeppelin landed in the harbour.",
             "2023-09-01T10:00:00Z", "Local")])
        index_paths([feed], index, jobs=1)
        res = c.get("/api/search", params={"q": "zeppelin"}).json()
        assert res["total"] == 1 and res["hits"][0]["title"] == "Zeppelin lands in the harbour"
        assert c.get("/api/stats").json()["documents"] == before + 1
        page = c.get("/", params={"q": "zeppelin"}).text
        assert "Zeppelin lands in the harbour" in page


def test_an_index_removed_under_the_server_is_an_error_not_a_dropped_connection(
        tmp_path: Path) -> None:
    index = build_index(tmp_path)
    with live_server(index) as srv, httpx.Client(base_url=srv.url) as c:
        assert c.get("/api/search", params={"q": "bridge"}).status_code == 200
        shutil.rmtree(index)
        for path, kind in [("/api/search?q=bridge", "application/json"),
                           ("/?q=bridge", "text/html"), ("/api/stats", "application/json")]:
            res = c.get(path)  # the same keep-alive connection each time
            assert res.status_code in (500, 503)
            assert res.headers["content-type"].startswith(kind)
            assert "Traceback" not in res.text


# --- start-up and embedding ----------------------------------------------------------------------


def test_missing_index_is_a_clear_error_at_startup(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="no newsearch index at"):
        create_app(tmp_path / "nowhere")
    res = CliRunner().invoke(main, ["serve", "--index", str(tmp_path / "nowhere")])
    assert res.exit_code == 2
    assert "no newsearch index at" in res.output and "Traceback" not in res.output


def test_serve_command_runs_uvicorn_on_loopback(index: Path) -> None:
    with served_by_cli(index) as served:
        res = httpx.get(served.url + "/api/stats")
        assert res.status_code == 200 and res.json()["index"] == str(index)
    assert served.proc.returncode is not None
    assert f"Uvicorn running on {served.url}" in served.output()  # loopback by default


def test_serve_help_shows_loopback_default() -> None:
    res = CliRunner().invoke(main, ["serve", "--help"])
    assert res.exit_code == 0 and "127.0.0.1" in res.output and "8000" in res.output


def test_app_mounts_under_a_prefix(index: Path) -> None:
    parent = FastAPI()
    parent.mount("/news", create_app(index))
    server = LiveServer(parent).start()
    try:
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/news/api/search", params={"q": "bridge"}).json()["total"] == 3
            page = c.get("/news/", params={"q": "bridge"})
            assert page.status_code == 200
            assert 'href="/news/static/style.css?v=' in page.text
            assert 'href="/news/articles/' in page.text
            assert 'action="/news/"' in page.text
            assert c.get("/news/static/style.css").status_code == 200
            assert c.get("/news/api/nothing").json() == {"error": "Not Found"}
    finally:
        server.stop()


@pytest.mark.parametrize(("path", "params", "status"), [
    ("/api/search", {"q": "Алматы"}, 200),
    ("/api/search", {"q": "Алматы", "since": "вчера"}, 422),
    ("/api/articles/Алматы", None, 404),
    ("/openapi.json", None, 200),
])
def test_json_is_sent_as_utf8_never_as_escapes(client: httpx.Client, path: str,
                                               params: dict | None, status: int) -> None:
    res = client.get(path, params=params)
    assert res.status_code == status
    assert res.headers["content-type"] == "application/json"  # JSON is UTF-8 (RFC 8259)
    assert b"\\u0" not in res.content and b"\\u2" not in res.content
    if path != "/openapi.json":
        assert "Алматы".encode() in res.content or "вчера".encode() in res.content


def test_article_json_carries_cyrillic_as_utf8(client: httpx.Client) -> None:
    hit = client.get("/api/search", params={"q": "Алматы"}).json()["hits"][0]
    res = client.get(f"/api/articles/{hit['id']}")
    assert "Токаев".encode() in res.content and b"\\u04" not in res.content


# --- HTTP semantics: caching, HEAD, headers ------------------------------------------------------


@pytest.mark.parametrize("path", ["/api/search?q=harbour", "/api/stats", "/?q=harbour"])
def test_index_answers_are_revalidated_by_etag_and_never_stale(tmp_path: Path,
                                                                path: str) -> None:
    index = build_index(tmp_path)
    with live_server(index) as srv, httpx.Client(base_url=srv.url) as c:
        first = c.get(path)
        assert first.status_code == 200
        assert first.headers["cache-control"] == "no-cache"  # results change with commits
        etag = first.headers["etag"]
        assert etag.startswith('W/"')
        again = c.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        # Another request has another tag.
        assert c.get(path + "&page=2" if "?" in path else path + "?x=1").headers["etag"] != etag
        # A commit changes every tag: the old one gets the full, new answer.
        feed = write_articles(tmp_path / "more", [
            ("zep", "Zeppelin over the harbour", "A zeppelin flew over the harbour.",
             "2023-09-01T10:00:00Z", "Local")])
        index_paths([feed], index, jobs=1)
        after = c.get(path, headers={"If-None-Match": etag})
        assert after.status_code == 200 and after.headers["etag"] != etag


def test_errors_are_not_stored_and_static_files_are_cached(client: httpx.Client) -> None:
    for path in ("/api/search?q=oil&since=x", "/api/articles/nothing", "/?q=(",
                 "/api/nothing"):
        res = client.get(path)
        assert res.status_code >= 400 and res.headers["cache-control"] == "no-store", path
        assert "etag" not in res.headers
    css = client.get("/static/style.css")
    assert css.headers["cache-control"] == "public, max-age=86400"


@pytest.mark.parametrize("path", ["/api/search?q=harbour", "/api/stats", "/static/style.css",
                                  "/static/favicon.svg", "/openapi.json", "/?q=harbour",
                                  "/api/search?q=oil&since=x"])
def test_head_is_answered_wherever_get_is(client: httpx.Client, path: str) -> None:
    got, head = client.get(path), client.head(path)
    assert head.status_code == got.status_code != 405
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content)) or \
        abs(int(head.headers["content-length"]) - len(got.content)) < 10  # took_ms varies


def test_serve_sends_no_server_header(index: Path) -> None:
    with served_by_cli(index) as served:
        for path in ("/api/stats", "/", "/static/style.css", "/api/nothing"):
            res = httpx.get(served.url + path)
            assert "server" not in res.headers, path
