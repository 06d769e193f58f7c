"""The README's embedding examples are the files in examples/, quoted exactly, and they work:
each is run against a test index under a real server and spoken to over HTTP."""

from __future__ import annotations

import re
import runpy
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from newsearch import open_index

from .conftest import ROOT
from .web_support import LiveServer, build_index

httpx = pytest.importorskip("httpx")

EXAMPLES = ROOT / "examples"
README = ROOT / "README.md"


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```$", markdown, flags=re.S | re.M)


@pytest.mark.parametrize("name", ["flask_embed.py", "mount_fastapi.py"])
def test_readme_quotes_the_example_exactly(name: str) -> None:
    assert (EXAMPLES / name).read_text("utf-8") in python_blocks(README.read_text("utf-8"))


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("web-examples"))


def run_example(name: str, index: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    monkeypatch.setenv("NEWSEARCH_INDEX", str(index))
    return runpy.run_path(str(EXAMPLES / name), run_name=name.removesuffix(".py"))


@pytest.fixture
def flask_url(index: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    pytest.importorskip("flask")
    from werkzeug.serving import make_server

    app = run_example("flask_embed.py", index, monkeypatch)["app"]
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)


def test_flask_example_answers_with_the_library_json(flask_url: str, index: Path) -> None:
    res = httpx.get(flask_url + "/search", params=[("q", "bridge"), ("section", "Local")])
    assert res.status_code == 200
    with open_index(index) as ix:
        expected = ix.search("bridge", sections=["Local"]).to_dict()
    got = res.json()
    assert got.pop("took_ms") >= 0
    expected.pop("took_ms")
    assert got == expected
    assert {h["section"][0] for h in got["hits"]} == {"Local"}


def test_flask_example_turns_a_query_error_into_400(flask_url: str) -> None:
    res = httpx.get(flask_url + "/search", params={"q": "("})
    assert res.status_code == 400
    assert res.json() == {"error": "bad query: the query has nothing to search for"}


def test_flask_example_escapes_snippets(flask_url: str) -> None:
    hit = httpx.get(flask_url + "/search", params={"q": "cyberattack"}).json()["hits"][0]
    assert "&lt;script&gt;" in hit["snippets"][0] and "<script" not in hit["snippets"][0]


def test_mount_example_serves_page_and_api_under_news(index: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    app = run_example("mount_fastapi.py", index, monkeypatch)["app"]
    server = LiveServer(app).start()
    try:
        with httpx.Client(base_url=server.url) as c:
            assert c.get("/news/api/search", params={"q": "harbour"}).json()["total"] == 25
            page = c.get("/news/", params={"q": "harbour"})
            assert page.status_code == 200 and "<mark>harbour</mark>" in page.text
            assert 'href="/news/articles/' in page.text
    finally:
        server.stop()


def test_readme_installs_the_web_extra_from_the_checkout() -> None:
    """newsearch is not on a package index: `pip install 'newsearch[web]'` finds nothing, so the
    README gives the command that works in the checkout, with the venv scripts/main.sh made."""
    import tomllib

    readme = README.read_text("utf-8")
    web = readme[readme.index("## Web"):readme.index("### Embedding")]
    commands = re.findall(r"^```sh\n(.*?)^```$", web, flags=re.S | re.M)[0].splitlines()
    assert commands[0].startswith(".venv/bin/pip install -e '.[web]'")
    assert commands[1].startswith(".venv/bin/newsearch serve")
    assert "pip install 'newsearch[web]'" not in readme
    main_sh = (ROOT / "scripts" / "main.sh").read_text("utf-8")
    assert "python3 -m venv .venv" in main_sh  # the .venv the command uses
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))[
        "project"]["optional-dependencies"]["web"]
    assert {re.split(r"[<>=]", e)[0] for e in extras} == {"fastapi", "uvicorn", "jinja2"}


def test_serve_without_the_web_extra_says_how_to_install_it(
        monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from click.testing import CliRunner

    from newsearch.cli import main

    monkeypatch.setitem(sys.modules, "newsearch.web", None)  # as if FastAPI were missing
    res = CliRunner().invoke(main, ["serve"], catch_exceptions=False)
    assert res.exit_code == 2
    assert res.output.startswith("newsearch: serving needs the web extra")
    assert "install -e '.[web]'`" in res.output and "Traceback" not in res.output
