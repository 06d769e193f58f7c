"""The search page and the article page, fetched from a live server with httpx and read with
the standard library's HTML parser: what a browser without JavaScript gets."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest

from .conftest import SAMPLE
from .web_support import SCRIPT, LiveServer, build_index, live_server

httpx = pytest.importorskip("httpx")


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_index(tmp_path_factory.mktemp("web-page"))


@pytest.fixture(scope="module")
def server(index: Path) -> Iterator[LiveServer]:
    with live_server(index) as srv:
        yield srv


@pytest.fixture(scope="module")
def client(server: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as c:
        yield c


class Page(HTMLParser):
    """The parts of a page the tests look at: elements with attributes, links with text."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.links: list[tuple[str, str, dict[str, str]]] = []  # (href, text, attrs)
        self._open: list[tuple[dict[str, str], list[str]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        self.tags.append((tag, a))
        if tag == "a":
            self._open.append((a, []))

    def handle_data(self, data: str) -> None:
        for _, text in self._open:
            text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open:
            a, text = self._open.pop()
            self.links.append((a.get("href", ""), " ".join("".join(text).split()), a))

    def find(self, tag: str, **attrs: str) -> list[dict[str, str]]:
        return [a for t, a in self.tags
                if t == tag and all(a.get(k) == v for k, v in attrs.items())]

    def link(self, text: str) -> str:
        hrefs = [h for h, t, _ in self.links if t == text]
        assert hrefs, f"no link {text!r} in {[t for _, t, _ in self.links]}"
        return hrefs[0]


def get(client: httpx.Client, url: str, status: int = 200, **params: object) -> tuple[str, Page]:
    res = client.get(url, params=params or None)
    assert res.status_code == status, res.text[:500]
    assert res.headers["content-type"] == "text/html; charset=utf-8"
    return res.text, Page(res.text)


def hit_sections(html: str) -> list[str]:
    return re.findall(r'<span class="sections">([^<]*)</span>', html)


# --- structure: landmarks, labels, phone ---------------------------------------------------------


def test_landing_page_is_an_accessible_search_form(client: httpx.Client) -> None:
    html, page = get(client, "/")
    assert page.find("html", lang="en")
    assert page.find("meta", name="viewport", content="width=device-width, initial-scale=1")
    assert page.link("Skip to content") == "#main"
    assert page.find("main", id="main") and page.find("header") and page.find("footer")
    assert page.find("form", role="search", method="get", action="/")
    for field in ("q", "sort", "since", "until"):
        assert page.find("label", **{"for": field}), f"no label for {field}"
        assert page.find("input", id=field) or page.find("select", id=field)
    assert "<script" not in html  # works without JavaScript: there is none
    assert page.find("link", rel="stylesheet")[0]["href"].startswith("/static/style.css?v=")
    # Browse by section links run a section query.
    href = page.link("World")
    assert parse_qs(urlsplit(href).query)["q"] == ['section:"World"']


def test_results_show_total_timing_highlights_and_pages(client: httpx.Client) -> None:
    html, page = get(client, "/", q="harbour")
    assert re.search(r"1–10 of <strong>25</strong>\s+articles", html)
    assert re.search(r"\(\d+ ms, relevance\)", html)
    assert html.count('<p class="snippet">') == 10
    assert "<mark>harbour</mark>" in html
    assert page.find("option", value="relevance", selected="")
    nav = page.find("nav", **{"aria-label": "Pages of results"})
    assert nav
    assert page.find("a", **{"aria-current": "page"})
    next_page = page.link("Next ›")
    assert parse_qs(urlsplit(next_page).query) == {"q": ["harbour"], "page": ["2"]}
    html2, _ = get(client, next_page)
    assert re.search(r"11–20 of <strong>25</strong>", html2)


def test_sort_selector_sorts(client: httpx.Client) -> None:
    html, page = get(client, "/", q="harbour", sort="date")
    assert page.find("option", value="date", selected="")
    titles = re.findall(r'<h2 class="hit-title"><a [^>]*>([^<]*)</a>', html)
    assert titles[:2] == ["Harbour report 25", "Harbour report 24"]


def test_section_facet_links_add_and_remove_a_filter(client: httpx.Client) -> None:
    html, page = get(client, "/", q="harbour")
    assert set(hit_sections(html)) == {"Local", "Shipping"}
    local = page.link("Local")
    assert parse_qs(urlsplit(local).query) == {"q": ["harbour"], "section": ["Local"]}
    html, page = get(client, local)
    assert set(hit_sections(html)) == {"Local"}
    assert re.search(r"of <strong>12</strong>", html)
    # The chosen section is marked and links back; the others still add to the filter.
    remove = page.link("✓ Local")
    assert parse_qs(urlsplit(remove).query) == {"q": ["harbour"]}
    both = page.link("Shipping")
    assert parse_qs(urlsplit(both).query)["section"] == ["Local", "Shipping"]
    # The form keeps the filter as a checkbox the user can untick.
    assert page.find("input", type="checkbox", name="section", value="Local", checked="")
    html, _ = get(client, both)
    assert re.search(r"of <strong>25</strong>", html)


def test_date_histogram_bars_link_to_their_period(client: httpx.Client) -> None:
    html, page = get(client, "/", q="bridge OR harbour")
    bars = [(href, text) for href, text, _ in page.links if re.search(r": \d+ articles?$", text)]
    assert [t for _, t in bars] == ["2022-11: 1 article", "2023-04: 1 article",
                                    "2023-05: 1 article", "2023-07: 25 articles"]
    assert 'class="bar h20"' in html and 'class="bar h1"' in html
    query = parse_qs(urlsplit(bars[-1][0]).query)
    assert query["since"] == ["2023-07"] and query["until"] == ["2023-07"]  # the month
    html, page = get(client, bars[-1][0])
    assert re.search(r"of <strong>25</strong>", html)
    assert '<p class="date-filter">2023-07' in html
    assert parse_qs(urlsplit(page.link("remove date filter")).query) == {
        "q": ["bridge OR harbour"]}


def form_fields(page: Page) -> list[tuple[str, str]]:
    """What submitting the search form sends, as a browser builds it from the markup."""
    fields = [(a["name"], a.get("value", "")) for t, a in page.tags
              if t == "input" and a.get("name") and (a.get("type") != "checkbox"
                                                      or "checked" in a)]
    return [*fields, ("sort", page.find("option", selected="")[0]["value"])]


@pytest.mark.parametrize(("since", "until", "total"), [
    ("2023-07", "2023-07", 25), ("2023", "2023-06", 2), ("2022-11-30", "2023-04", 2)])
def test_month_and_year_filters_stay_in_the_form_when_it_is_sent_again(
        client: httpx.Client, since: str, until: str, total: int) -> None:
    html, page = get(client, "/", q="bridge OR harbour", since=since, until=until)
    assert re.search(rf"of <strong>{total}</strong>", html)
    # Shown as typed, in fields that hold a month or a year (a date input shows those empty).
    for name, value in (("since", since), ("until", until)):
        (field,) = page.find("input", name=name)
        assert field["value"] == value and field["type"] == "text"
        assert re.fullmatch(field["pattern"], value)
        assert not re.fullmatch(field["pattern"], "March")
    # Sending the form again, here to sort by date, keeps the filter.
    fields = [(k, "date" if k == "sort" else v) for k, v in form_fields(page)]
    assert ("since", since) in fields and ("until", until) in fields
    res = client.get("/", params=fields)
    assert res.status_code == 200
    assert re.search(rf"of <strong>{total}</strong>", res.text)
    assert Page(res.text).find("option", value="date", selected="")


def tips(html: str) -> list[str]:
    block = re.search(r'<section class="tips".*?</section>', html, re.S)
    return [" ".join(re.sub("<[^>]+>", "", li).split())
            for li in re.findall(r"<li>(.*?)</li>", block.group(), re.S)] if block else []


def test_zero_hits_page_offers_what_to_try(client: httpx.Client) -> None:
    # Filters that hide everything: a link to search without each, with what it finds.
    html, page = get(client, "/", q="harbour", section="Tech")
    assert "No articles found" in html
    assert tips(html)[0] == "Search every section: 25 articles"
    assert parse_qs(urlsplit(page.link("Search every section")).query) == {"q": ["harbour"]}
    html, page = get(client, "/", q="harbour", since="2022", until="2022")
    assert tips(html)[0] == "Search every date: 25 articles"
    assert parse_qs(urlsplit(page.link("Search every date")).query) == {"q": ["harbour"]}
    html, page = get(client, "/", q="bridge", section="Shipping", since="2023-07")
    assert tips(html)[0] == "Search without any filter: 3 articles"
    # No filter: fewer words, spelling; a section that does not exist is named.
    html, _ = get(client, "/", q="zebra quokka")
    assert tips(html) == ["Use fewer or more general words",
                          "Check the spelling; econom* finds words that begin so, almaty~ "
                          "finds spelling variants"]
    html, _ = get(client, "/", q="harbour", section="Shiping")
    assert "there is no section “Shiping”; close ones: Shipping" in unescape(html)
    # Hits: no tips.
    html, _ = get(client, "/", q="harbour")
    assert tips(html) == []


def test_did_you_mean_is_a_link(client: httpx.Client) -> None:
    html, page = get(client, "/", q="brigde")
    assert "No articles found" in html
    assert parse_qs(urlsplit(page.link("bridge")).query) == {"q": ["bridge"]}


@pytest.mark.parametrize(("query", "notice"), [
    ('"old bridge', "closed an unbalanced quote"),
    ("bridge harbour cranes zebra quokka", "showing articles with any of them"),
])
def test_notices_are_shown(client: httpx.Client, query: str, notice: str) -> None:
    html, _ = get(client, "/", q=query)
    assert notice in html


@pytest.mark.parametrize(("params", "message"), [
    ({"q": "("}, "the query has nothing to search for"),
    ({"q": "date:[x TO y]"}, "is not a valid date"),
    ({"q": "oil", "since": "March"}, "From “March” is not a valid date: use YYYY-MM-DD, "
                                     "YYYY-MM for a month or YYYY for a year."),
    ({"q": "oil", "until": "2023-02-30"}, "To “2023-02-30” is not a valid date"),
])
def test_bad_input_is_a_400_page_with_a_message(client: httpx.Client, params: dict,
                                                message: str) -> None:
    html, page = get(client, "/", 400, **params)
    assert page.find("div", role="alert") and message in unescape(html)


@pytest.mark.parametrize("params", [
    {"q": "oil", "page": "999999"}, {"q": "oil", "page": "x"}, {"q": "oil", "per_page": "5000"},
    {"q": "oil", "sort": "nonsense"}, {"q": "\x00"}, {"q": "x" * 5000},
    {"q": "oil", "section": ["a"] * 100},
])
def test_odd_parameters_never_break_the_page(client: httpx.Client, params: dict) -> None:
    res = client.get("/", params=params)
    assert res.status_code in (200, 400)


def test_page_past_the_last(client: httpx.Client) -> None:
    html, page = get(client, "/", q="bridge", page="5")
    assert "past the last one" in html
    assert parse_qs(urlsplit(page.link("Back to the first page")).query) == {"q": ["bridge"]}
    html, page = get(client, "/", q="bridge OR harbour OR almaty", per_page="1", page="999")
    previous = parse_qs(urlsplit(page.link("‹ Previous")).query)["page"]
    total = json.loads(client.get("/api/search", params={"q": "bridge OR harbour OR almaty",
                                                         "per_page": "1"}).text)["total"]
    assert previous == [str(total)]  # the last real page, not page 998


# --- the article page ----------------------------------------------------------------------------


def test_article_page_from_a_result(client: httpx.Client) -> None:
    _, page = get(client, "/", q="tolls")
    href = page.link("Bridge tolls to rise")
    assert href.startswith("/articles/")
    html, article = get(client, href)
    assert article.find("article") and "<h1>Bridge tolls to rise</h1>" in html
    assert '<time datetime="2023-05-11T09:00:00+00:00">2023-05-11</time>' in html
    assert parse_qs(urlsplit(article.link("‹ Back to the results")).query) == {"q": ["tolls"]}
    assert parse_qs(urlsplit(article.link("Business")).query) == {"q": ['section:"Business"']}


def test_unknown_article_is_a_404_page(client: httpx.Client) -> None:
    html, page = get(client, "/articles/0123456789abcdef", 404)
    assert page.find("div", role="alert") and "no article with this id" in html


def test_unknown_page_is_a_404_page(client: httpx.Client) -> None:
    _, page = get(client, "/nothing/here", 404)
    assert page.find("main", id="main")


# --- escaping ------------------------------------------------------------------------------------


def test_article_markup_shows_as_text_on_the_results_page(client: httpx.Client) -> None:
    html, page = get(client, "/", q="cyberattack")
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "Markup &lt;b&gt;in&lt;/b&gt; a headline &amp; more" in html
    assert "<mark>cyberattack</mark>" in html
    assert any(t == "Markup <b>in</b> a headline & more" for _, t, _ in page.links)


def test_article_markup_shows_as_text_on_the_article_page(client: httpx.Client) -> None:
    _, page = get(client, "/", q="cyberattack")
    html, _ = get(client, page.link("Markup <b>in</b> a headline & more"))
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert SCRIPT in unescape(html)


def test_query_is_escaped_where_it_is_echoed(client: httpx.Client) -> None:
    html, _ = get(client, "/", q='"><script>alert(4)</script>')
    assert "<script" not in html
    assert 'value="&#34;&gt;&lt;script&gt;alert(4)&lt;/script&gt;"' in html


def test_only_http_links_leave_the_site(client: httpx.Client) -> None:
    html, page = get(client, "/", q="lighthouse")
    assert "javascript:" not in html
    html, _ = get(client, page.link("Link test"))
    assert "javascript:" not in html
    _, page = get(client, "/", q="almaty")
    assert "https://ria.ru/20220114/almaty-1001.html" in [h for h, _, _ in page.links]


def test_pages_do_not_show_server_paths(client: httpx.Client, index: Path) -> None:
    for html, _ in (get(client, "/", q="almaty"), get(client, "/")):
        assert str(index) not in html and str(SAMPLE) not in html


def test_a_source_language_reaches_html_only_as_a_valid_tag() -> None:
    from newsearch.web.pages import _lang_tag

    assert _lang_tag("ru") == "ru" and _lang_tag("en-GB") == "en-GB"
    assert _lang_tag('en" onmouseover="x') is None and _lang_tag("") is None


def test_the_histogram_shows_empty_periods_as_gaps() -> None:
    from newsearch.results import FacetValue
    from newsearch.web.pages import MAX_BARS, _with_gaps

    days = _with_gaps([FacetValue("2023-10-30", 3), FacetValue("2023-11-02", 1)])
    assert [(f.value, f.count) for f in days] == [
        ("2023-10-30", 3), ("2023-10-31", 0), ("2023-11-01", 0), ("2023-11-02", 1)]
    assert [f.count for f in _with_gaps([FacetValue("1987-02", 3),
                                         FacetValue("1987-04", 1)])] == [3, 0, 1]
    wide = [FacetValue("2000-01-01", 1), FacetValue("2020-01-01", 1)]
    assert _with_gaps(wide) == wide and MAX_BARS < 7000  # too many days: left as it is


def test_head_requests_are_answered(client: httpx.Client) -> None:
    for path in ("/", "/?q=bridge"):
        res = client.head(path)
        assert res.status_code == 200 and res.headers["content-type"].startswith("text/html")


def test_language_facet_links_add_and_remove_a_lang_filter(client: httpx.Client) -> None:
    html, page = get(client, "/", q="harbour")
    assert "Languages" in html
    english = page.link("English (en)")
    assert parse_qs(urlsplit(english).query) == {"q": ["harbour lang:en"]}
    html, page = get(client, english)
    assert re.search(r"of <strong>\d+</strong>", html)
    remove = page.link("✓ English (en)")
    assert parse_qs(urlsplit(remove).query) == {"q": ["harbour"]}
