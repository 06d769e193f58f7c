"""A person at a real browser: Debian's Chromium, headless, driven by Playwright.

Nothing downloads a browser: Playwright only drives ``/usr/bin/chromium``. Without it (or
without the ``playwright`` package) the test is skipped, unless ``NEWSEARCH_REQUIRE_BROWSER=1``
(CI), where that is a failure.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from .web_support import LiveServer, build_index, live_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _need_browser() -> Any:
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
        missing.append("the playwright package (pip install playwright)")
    if missing:
        message = "no browser to test with: missing " + " and ".join(missing)
        if os.environ.get("NEWSEARCH_REQUIRE_BROWSER") == "1":
            pytest.fail(message + " and NEWSEARCH_REQUIRE_BROWSER=1")
        pytest.skip(message)
    return sync_playwright


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(build_index(tmp_path_factory.mktemp("web-browser"))) as srv:
        yield srv


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A Chromium context with a fresh profile folder, closed after the module."""
    sync_playwright = _need_browser()
    with sync_playwright() as pw, tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        context = pw.chromium.launch_persistent_context(
            profile, executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS,
            viewport={"width": 1200, "height": 900}, java_script_enabled=True)
        context.set_default_timeout(15_000)
        try:
            yield context
        finally:
            context.close()


def result_sections(page: Any) -> set[str]:
    return set(page.locator("ol.hits .sections").all_inner_texts())


def test_type_a_query_see_highlights_and_filter_by_section(server: LiveServer,
                                                           browser: Any) -> None:
    page = browser.new_page()
    page.goto(server.url + "/")
    page.get_by_label("Search the archive").fill("harbour")
    page.keyboard.press("Enter")
    page.wait_for_url("**/?q=harbour**")

    assert page.locator("ol.hits > li").count() == 10
    marks = page.locator("ol.hits mark")
    assert marks.count() >= 10 and marks.first.inner_text().lower() == "harbour"
    assert "of 25 articles" in page.locator("#summary").inner_text()
    assert result_sections(page) == {"Local", "Shipping"}

    page.locator("aside.facets").get_by_role("link", name="Shipping", exact=True).click()
    page.wait_for_url("**section=Shipping**")
    assert result_sections(page) == {"Shipping"}
    assert "of 13 articles" in page.locator("#summary").inner_text()
    assert page.get_by_role("checkbox", name="Shipping").is_checked()

    # Unticking the filter in the form and searching again shows everything.
    page.get_by_role("checkbox", name="Shipping").uncheck()
    page.get_by_role("button", name="Search").click()
    page.wait_for_url(lambda url: "section=" not in url)
    assert result_sections(page) == {"Local", "Shipping"}
    page.close()


def test_keyboard_only_skip_link_and_focus(server: LiveServer, browser: Any) -> None:
    page = browser.new_page()
    page.goto(server.url + "/?q=bridge")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent")
    assert focused == "Skip to content"
    assert page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    page.keyboard.press("Enter")
    assert page.url.endswith("#main")
    # Tabbing on from the results lands on the first hit's link.
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('ol.hits') !== null")
    page.close()


def test_article_markup_is_text_and_no_script_runs(server: LiveServer, browser: Any) -> None:
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(server.url + "/?q=cyberattack")
    snippet = page.locator("ol.hits .snippet").first.inner_text()
    assert "<script>alert(1)</script>" in snippet
    page.get_by_role("link", name="Markup <b>in</b> a headline & more").click()
    assert page.locator("h1").inner_text() == "Markup <b>in</b> a headline & more"
    assert "<script>alert(1)</script>" in page.locator("article .body").inner_text()
    assert page.locator("article script, article img").count() == 0
    assert dialogs == []
    page.close()


def test_readable_on_a_phone(server: LiveServer, browser: Any) -> None:
    page = browser.new_page()
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(server.url + "/?q=harbour")
    # Nothing wider than the screen: no sideways scrolling.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    font = page.evaluate(
        "parseFloat(getComputedStyle(document.querySelector('.snippet')).fontSize)")
    assert font >= 14
    # The facets come after the results, one column.
    hits_box = page.locator("ol.hits").bounding_box()
    facets_box = page.locator("aside.facets").bounding_box()
    assert hits_box and facets_box and facets_box["y"] > hits_box["y"]
    page.close()


def test_a_month_filter_is_shown_and_kept_when_the_sort_changes(server: LiveServer,
                                                               browser: Any) -> None:
    page = browser.new_page()
    page.goto(server.url + "/?q=bridge+OR+harbour&since=2023-07&until=2023-07")
    assert "of 25 articles" in page.locator("#summary").inner_text()
    assert page.get_by_label("From").input_value() == "2023-07"
    assert page.get_by_label("To").input_value() == "2023-07"
    page.get_by_label("Sort").select_option("date")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**sort=date**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["since"] == ["2023-07"] and query["until"] == ["2023-07"]
    assert "of 25 articles" in page.locator("#summary").inner_text()
    # A year typed by hand is a filter too.
    page.get_by_label("From").fill("2022")
    page.get_by_label("To").fill("2022")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**since=2022&until=2022**")
    assert "of 1 article" in page.locator("#summary").inner_text()
    page.close()
