"""The search page and the article page, rendered on the server (Jinja2, autoescaped).

    GET /                 ─▶ SearchForm (lenient parsing of the query string)
                          ─▶ NewsIndex.search ─▶ SearchView (facet links, histogram, pages)
                          ─▶ templates/search.html
    GET /articles/{id}    ─▶ NewsIndex.get, .versions, .similar ─▶ templates/article.html
    GET /static/{name}    ─▶ bytes loaded from the package's static/ folder at import

Everything a page needs is computed here (every link is built from the parsed form, never
copied from the request); the templates only lay it out. Article text reaches the page through
Jinja's autoescaping; the only markup let through is the library's snippets, which are
HTML-safe by contract (escaped text, ``<mark>`` around matches). The pages work without
JavaScript: a GET form, links, and ``<details>`` for the date filter.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from importlib import resources
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader, StrictUndefined

from ..article import section_key, section_keys
from ..errors import ArticleNotFound, NotAvailable, QueryError
from ..query import MAX_QUERY_CHARS, day_bound
from ..results import FacetValue, SearchResults
from ..search import MAX_PAGE, MAX_PER_PAGE, SORTS
from ..trends import BY
from .api import DEFAULT_PER_PAGE, MAX_ID_CHARS, MAX_SECTIONS, index_of
from .charts import SERIES_CLASSES, trend_svg

__all__ = ["SearchForm", "error_page", "router"]

MAX_FACETS_SHOWN = 30
MAX_TREND_QUERIES = 4  # query boxes on the trend page
RELATED_SHOWN = 5  # stories in the article page's Related list
HISTOGRAM_LEVELS = 20  # bar heights in 5 % steps: CSS classes h0 ... h20
MAX_BARS = 120  # periods drawn with their gaps; longer spans keep only non-empty ones
PAGE_WINDOW = 2  # page links shown either side of the current page
# What the From/To fields accept (checked again on the server): a day, a month or a year.
DAY_INPUT_PATTERN = r"\d{4}(-\d{1,2}(-\d{1,2})?)?"
SORT_LABELS = {"relevance": "Relevance", "date": "Newest first", "recency": "Relevance and recency"}

_env = Environment(
    loader=PackageLoader("newsearch.web", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def _day(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d") if value else "undated"


_env.filters["day"] = _day
_LANG_TAG = re.compile(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*")


def _lang_tag(value: str | None) -> str | None:
    """A source's language as an HTML ``lang`` value, or None when it is not a BCP 47 tag."""
    return value if value and _LANG_TAG.fullmatch(value) else None


_env.filters["lang_tag"] = _lang_tag


# --- static files: read once from package data; a request only picks a key -----------------------


@dataclass(frozen=True, slots=True)
class _Asset:
    body: bytes
    media_type: str
    etag: str


def _load_assets() -> dict[str, _Asset]:
    assets = {}
    for entry in resources.files("newsearch.web").joinpath("static").iterdir():
        if entry.is_file():
            body = entry.read_bytes()
            media_type = mimetypes.guess_type(entry.name)[0] or "application/octet-stream"
            if media_type.startswith("text/"):
                media_type += "; charset=utf-8"
            etag = hashlib.blake2b(body, digest_size=8).hexdigest()
            assets[entry.name] = _Asset(body, media_type, etag)
    return assets


_ASSETS = _load_assets()


def asset_url(root: str, name: str) -> str:
    """URL of a static file, versioned by its content so it can be cached for long."""
    return f"{root}/static/{name}?v={_ASSETS[name].etag}"


# --- the search form: parsed leniently, every problem said in words ------------------------------


@dataclass(slots=True)
class SearchForm:
    """What the search page was asked for. Unknown or malformed values fall back to defaults
    (a bad date is reported in ``problems``); the values are always within the API's limits."""

    q: str = ""
    sections: list[str] = field(default_factory=list)
    since: str = ""
    until: str = ""
    sort: str = "relevance"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    problems: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, params: Any) -> SearchForm:
        form = cls(q=(params.get("q") or "")[:MAX_QUERY_CHARS * 2].strip())
        seen: set[str] = set()
        for s in params.getlist("section"):
            s = s.strip()[:200]
            if s and s.casefold() not in seen and len(form.sections) < MAX_SECTIONS:
                seen.add(s.casefold())
                form.sections.append(s)
        for name, label in (("since", "From"), ("until", "To")):
            value = (params.get(name) or "").strip()[:40]
            try:
                day_bound(value, end=name == "until")
            except ValueError as exc:  # the library's sentence, naming the field as shown
                form.problems.append(f"{label} {exc}.")
            setattr(form, name, value)
        sort = params.get("sort") or "relevance"
        form.sort = sort if sort in SORTS else "relevance"
        form.page = _int(params.get("page"), 1, 1, MAX_PAGE)
        form.per_page = _int(params.get("per_page"), DEFAULT_PER_PAGE, 1, MAX_PER_PAGE)
        return form

    @property
    def since_date(self) -> date | None:
        return _parse_day(self.since, end=False)

    @property
    def until_date(self) -> date | None:
        return _parse_day(self.until, end=True)

    def params(self) -> list[tuple[str, str]]:
        """The query-string pairs of this form, defaults left out."""
        pairs: list[tuple[str, str]] = [("q", self.q)]
        pairs += [("section", s) for s in self.sections]
        if self.since:
            pairs.append(("since", self.since))
        if self.until:
            pairs.append(("until", self.until))
        if self.sort != "relevance":
            pairs.append(("sort", self.sort))
        if self.per_page != DEFAULT_PER_PAGE:
            pairs.append(("per_page", str(self.per_page)))
        if self.page != 1:
            pairs.append(("page", str(self.page)))
        return pairs

    def url(self, root: str, **changes: Any) -> str:
        """The search page for this form with ``changes``; anything but a page change starts
        again on page 1."""
        if "page" not in changes:
            changes["page"] = 1
        changed = replace(self, problems=[], **changes)
        return f"{root}/?{urlencode(changed.params())}"


def _parse_day(value: str, *, end: bool) -> date | None:
    """A From/To value as the library reads it (a month or year: its first / last day)."""
    try:
        return day_bound(value, end=end) if value else None
    except ValueError:
        return None


def _int(value: str | None, default: int, lo: int, hi: int) -> int:
    try:
        return min(hi, max(lo, int(value or default)))
    except ValueError:
        return default


# --- what the search page shows ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class FacetLink:
    value: str
    count: int
    selected: bool
    href: str


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    count: int
    level: int
    href: str


@dataclass(frozen=True, slots=True)
class PageLink:
    number: int
    href: str
    current: bool


@dataclass(frozen=True, slots=True)
class Tip:
    """A way out of a search that found nothing: a sentence, maybe a link and its count."""

    text: str
    href: str | None = None
    count: int | None = None


@dataclass(slots=True)
class SearchView:
    results: SearchResults
    sections: list[FacetLink]
    langs: list[FacetLink]
    bars: list[Bar]
    pages: list[PageLink | None]  # None: a gap ("…")
    prev_href: str | None
    next_href: str | None
    suggestion_href: str | None
    first: int
    last: int
    tips: list[Tip] = field(default_factory=list)


def zero_hit_tips(form: SearchForm, root: str, without_filter: dict[str, int]) -> list[Tip]:
    """What to try when nothing was found: each filter dropped (with how many articles that
    finds; ``without_filter`` maps ``sections``/``dates``/``both`` to those totals), fewer
    words, word beginnings and spelling variants. "Did you mean" is shown on its own."""
    tips = []
    drops: list[tuple[str, str, dict[str, Any]]] = [
        ("sections", "Search every section", {"sections": []}),
        ("dates", "Search every date", {"since": "", "until": ""}),
        ("both", "Search without any filter", {"sections": [], "since": "", "until": ""}),
    ]
    for key, text, changes in drops:
        n = without_filter.get(key)
        if n:
            tips.append(Tip(text, form.url(root, **changes), n))
    words = [w for w in re.split(r"\s+", form.q) if w]
    if len(words) > 1:
        tips.append(Tip("Use fewer or more general words"))
    tips.append(Tip("Check the spelling; econom* finds words that begin so, almaty~ finds "
                    "spelling variants"))
    return tips


def section_links(form: SearchForm, root: str, facet: Sequence[FacetValue]) -> list[FacetLink]:
    """Every section with its count; a link adds it to the filter, or removes it if chosen.
    Chosen sections are listed first and always shown."""
    # Matched as the library matches them: "acq" is "Mergers/Acquisitions (ACQ)".
    counts = {key: f for f in facet for key in section_keys(f.value)}
    links: list[FacetLink] = []
    shown: set[str] = set()
    for s in form.sections:
        f = counts.get(section_key(s))
        others = [x for x in form.sections if section_key(x) != section_key(s)]
        links.append(FacetLink(f.value if f else s, f.count if f else 0, True,
                               form.url(root, sections=others)))
        shown.add(f.value if f else s)
    for f in facet:
        if len(links) >= MAX_FACETS_SHOWN:
            break
        if f.value in shown:
            continue
        links.append(FacetLink(f.value, f.count, False,
                               form.url(root, sections=[*form.sections, f.value])))
    return links


_LANG_FILTER = re.compile(r"(?<!\S)lang:(\S+)", re.IGNORECASE)


def language_name(code: str) -> str:
    """``ru`` → ``Russian (ru)``, from CLDR; an unknown code as it is."""
    from babel import Locale

    name = Locale("en").languages.get(code.lower().replace("-", "_"))
    return f"{name} ({code})" if name else code


def _without_lang(q: str, value: str) -> str:
    """The query without its ``lang:value`` filters."""
    def drop(m: re.Match[str]) -> str:
        return "" if m.group(1).casefold() == value.casefold() else m.group(0)

    return _LANG_FILTER.sub(drop, q)


def lang_links(form: SearchForm, root: str, facet: Sequence[FacetValue]) -> list[FacetLink]:
    """Every language with its count; a link adds ``lang:xx`` to the query, or takes it out
    when the query has it (languages are filtered in the query language, as ``lang:``)."""
    chosen = {m.group(1).casefold() for m in _LANG_FILTER.finditer(form.q)}
    links: list[FacetLink] = []
    for f in facet[:MAX_FACETS_SHOWN]:
        if f.value.casefold() in chosen:
            q = _without_lang(form.q, f.value)
            links.append(FacetLink(language_name(f.value), f.count, True,
                                   form.url(root, q=" ".join(q.split()))))
        else:
            links.append(FacetLink(language_name(f.value), f.count, False,
                                   form.url(root, q=f"{form.q} lang:{f.value}".strip())))
    return links


def _bucket_range(value: str) -> tuple[str, str] | None:
    """The From and To of a date-facet bucket (``1987``, ``1987-03`` or ``1987-03-02``): the
    bucket itself for both, which the library reads as its first and last day, so that the
    filter shows as the month or year it is."""
    try:
        day_bound(value, end=False)
    except ValueError:
        return None
    return value, value


def _with_gaps(facet: Sequence[FacetValue]) -> list[FacetValue]:
    """The facet with its empty periods as zero counts, so that a gap in the coverage shows
    as a gap in the chart (up to :data:`MAX_BARS` periods; beyond, the facet as it is)."""
    if len(facet) < 2:
        return list(facet)
    units: dict[int, Literal["Y", "M", "D"]] = {4: "Y", 7: "M", 10: "D"}
    unit = units.get(len(facet[0].value))
    if unit is None:
        return list(facet)
    try:
        first, last = (np.datetime64(facet[i].value, unit) for i in (0, -1))
    except (TypeError, ValueError):
        return list(facet)
    n = int((last - first).astype(int)) + 1
    if not 0 < n <= MAX_BARS:
        return list(facet)
    counts = {f.value: f.count for f in facet}
    periods = [str(first + i) for i in range(n)]
    return [FacetValue(p, counts.get(p, 0)) for p in periods]


def histogram(form: SearchForm, root: str, facet: Sequence[FacetValue]) -> list[Bar]:
    """The date facet as bars (height in :data:`HISTOGRAM_LEVELS` steps), empty periods
    included; each bar links to its period as the date filter."""
    facet = _with_gaps(facet)
    top = max((f.count for f in facet), default=0)
    bars = []
    for f in facet:
        span = _bucket_range(f.value)
        href = form.url(root, since=span[0], until=span[1]) if span else form.url(root)
        level = max(1, round(HISTOGRAM_LEVELS * f.count / top)) if top and f.count else 0
        bars.append(Bar(f.value, f.count, level, href))
    return bars


def page_links(form: SearchForm, root: str, pages: int) -> list[PageLink | None]:
    last = min(pages, MAX_PAGE)
    wanted = {1, last, *range(form.page - PAGE_WINDOW, form.page + PAGE_WINDOW + 1)}
    numbers = sorted(n for n in wanted if 1 <= n <= last)
    out: list[PageLink | None] = []
    for i, n in enumerate(numbers):
        if i and n != numbers[i - 1] + 1:
            out.append(None)
        out.append(PageLink(n, form.url(root, page=n), n == form.page))
    return out


def search_view(form: SearchForm, root: str, results: SearchResults,
                section_facet: Sequence[FacetValue]) -> SearchView:
    last_page = min(results.pages, MAX_PAGE)
    first = (results.page - 1) * results.per_page + 1
    return SearchView(
        results=results,
        sections=section_links(form, root, section_facet),
        langs=lang_links(form, root, results.facets.get("lang") or []),
        bars=histogram(form, root, results.facets.get("date") or []),
        pages=page_links(form, root, results.pages) if results.pages > 1 else [],
        # Past the end (an old link, a typed URL), "Previous" leads to the last real page.
        prev_href=form.url(root, page=min(form.page - 1, max(last_page, 1)))
        if form.page > 1 else None,
        next_href=form.url(root, page=form.page + 1) if form.page < last_page else None,
        suggestion_href=form.url(root, q=results.suggestion) if results.suggestion else None,
        first=first,
        last=first + len(results.hits) - 1,
    )


# --- rendering -----------------------------------------------------------------------------------


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


def _render(request: Request, template: str, status_code: int = 200,
            **context: Any) -> HTMLResponse:
    root = _root(request)
    context.setdefault("form", SearchForm())
    html = _env.get_template(template).render(
        root=root, css=asset_url(root, "style.css"), icon=asset_url(root, "favicon.svg"),
        sort_labels=SORT_LABELS, max_query=MAX_QUERY_CHARS, day_pattern=DAY_INPUT_PATTERN,
        **context)
    return HTMLResponse(html, status_code=status_code)


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    titles = {404: "Not found", 405: "Method not allowed", 503: "Index unavailable"}
    return _render(request, "error.html", status, message=message,
                   title=titles.get(status, "Error"))


def external_url(url: str | None) -> str | None:
    """An article's own URL, only if it is a plain http(s) link (never ``javascript:``)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.netloc else None


def section_query(name: str) -> str | None:
    """The query that lists a section (``section:"Real Estate"``), if it can be written."""
    return f'section:"{name}"' if '"' not in name else None


def article_href(root: str, article_id: str, form: SearchForm) -> str:
    path = f"{root}/articles/{quote(article_id, safe='')}"
    return f"{path}?{urlencode(form.params())}" if form.q else path


def paragraphs(text: str) -> list[str]:
    return [p.strip() for p in text.replace("\r\n", "\n").split("\n\n") if p.strip()]


# --- routes --------------------------------------------------------------------------------------


@dataclass(slots=True)
class TrendOptions:
    """The trend page's form, as given."""

    by: str
    sections: list[str]
    since: str | None
    until: str | None


def router() -> APIRouter:
    r = APIRouter()

    @r.api_route("/", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def search_page(request: Request) -> HTMLResponse:
        form = SearchForm.parse(request.query_params)
        root = _root(request)
        index = index_of(request)
        if form.problems:
            return _render(request, "search.html", 400, form=form, error=" ".join(form.problems),
                           view=None, stats=None)
        if not form.q:
            stats = request.app.state.cache.stats(index)
            browse = [(name, n, form.url(root, q=query)) for name, n in stats.sections.items()
                      if (query := section_query(name))][:MAX_FACETS_SHOWN]
            return _render(request, "search.html", form=form, error=None, view=None,
                           stats=stats, browse=browse)
        options: dict[str, Any] = {"since": form.since_date, "until": form.until_date,
                                   "sort": form.sort}
        try:
            results = index.search(form.q, sections=form.sections, page=form.page,
                                   per_page=form.per_page, **options)
            facet = results.facets.get("section") or []
            without: dict[str, int] = {}
            if form.sections:
                # The sidebar offers every section the query finds, not only the chosen ones.
                all_sections = index.search(form.q, page=1, per_page=0, snippets=False,
                                            **options)
                facet = all_sections.facets["section"]
                without["sections"] = all_sections.total
            if not results.total and (form.since or form.until):
                # Nothing found: say what dropping each filter would find (rare, so cheap).
                without["dates"] = index.search(form.q, sections=form.sections, per_page=0,
                                                snippets=False, facets=False).total
                if form.sections and not without["sections"] and not without["dates"]:
                    without["both"] = index.search(form.q, per_page=0, snippets=False,
                                                   facets=False).total
        except QueryError as exc:
            return _render(request, "search.html", 400, form=form, error=str(exc), view=None,
                           stats=None)
        view = search_view(form, root, results, facet)
        if not results.total:
            view.tips = zero_hit_tips(form, root, without)
        hits = [(hit, article_href(root, hit.id, form), external_url(hit.url))
                for hit in results.hits]
        trend_query = urlencode([("q", form.q)] + [("section", s) for s in form.sections])
        return _render(request, "search.html", form=form, error=None, view=view, hits=hits,
                       stats=None, trend_query=trend_query)

    @r.api_route("/articles/{article_id}", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def article_page(request: Request, article_id: str) -> HTMLResponse:
        form = SearchForm.parse(request.query_params)
        form.problems = []
        root = _root(request)
        try:
            if len(article_id) > MAX_ID_CHARS:
                raise ArticleNotFound(article_id[:MAX_ID_CHARS] + "…")
            index = index_of(request)
            article = index.get(article_id)
            versions = [(v, article_href(root, v.id, form)) for v in index.versions(article_id)]
            try:
                related = [(h, article_href(root, h.id, form))
                           for h in index.similar(article_id, limit=RELATED_SHOWN).hits]
            except NotAvailable:  # a backend without related stories: the page without them
                related = []
        except ArticleNotFound:
            return error_page(request, 404, "There is no article with this id in the index.")
        sections = [(name, form.url(root, q=q, sections=[]) if (q := section_query(name))
                     else None) for name in article.sections]
        return _render(request, "article.html", form=form, article=article,
                       body=paragraphs(article.body), sections=sections,
                       link=external_url(article.url), versions=versions, related=related,
                       back=form.url(root, page=form.page) if form.q else None)

    @r.api_route("/trend", methods=["GET", "HEAD"], response_class=HTMLResponse)
    def trend_page(request: Request) -> HTMLResponse:
        form = SearchForm()
        root = _root(request)
        params = request.query_params
        queries = [q.strip()[:MAX_QUERY_CHARS] for q in params.getlist("q") if q.strip()]
        queries = queries[:MAX_TREND_QUERIES]
        by = params.get("by", "month")
        options = TrendOptions(by if by in BY else "month", params.getlist("section"),
                               params.get("since") or None, params.get("until") or None)
        context: dict[str, Any] = {"queries": queries, "slots": max(0, MAX_TREND_QUERIES - len(
            queries)), "by_values": BY, "options": options, "trend": None, "svg": "",
                                   "error": None, "csv_href": None}
        if queries:
            try:
                trend = index_of(request).trend(queries, by=options.by,
                                                sections=options.sections,
                                                since=options.since, until=options.until)
            except (QueryError, NotAvailable) as exc:
                context["error"] = str(exc)
                return _render(request, "trend.html", 400, form=form, **context)
            query = urlencode([("q", q) for q in queries] + [
                (k, v) for k, v in (("by", options.by), ("since", options.since),
                                    ("until", options.until)) if v]
                + [("section", s) for s in options.sections])
            context.update(trend=trend, svg=trend_svg(trend),
                           csv_href=f"{root}/trend.csv?{query}",
                           classes=SERIES_CLASSES)
        return _render(request, "trend.html", form=form, **context)

    @r.api_route("/trend.csv", methods=["GET", "HEAD"])
    def trend_csv(request: Request) -> Response:
        params = request.query_params
        queries = [q.strip()[:MAX_QUERY_CHARS] for q in params.getlist("q")
                   if q.strip()][:MAX_TREND_QUERIES]
        if not queries:
            return Response("give at least one query (q=...)\n", 422, media_type="text/plain")
        try:
            trend = index_of(request).trend(
                queries, by=params.get("by", "month"), sections=params.getlist("section"),
                since=params.get("since") or None, until=params.get("until") or None)
        except (QueryError, NotAvailable) as exc:
            return Response(f"{exc}\n", 400, media_type="text/plain")
        return Response(trend.to_csv(), media_type="text/csv; charset=utf-8", headers={
            "Content-Disposition": f'attachment; filename="trend-{trend.by}.csv"'})

    @r.get("/static/{name}")
    def static(request: Request, name: str) -> Response:
        asset = _ASSETS.get(name)
        if asset is None:
            return error_page(request, 404, "Not found")
        etag = f'"{asset.etag}"'
        headers = {"ETag": etag, "Cache-Control": "public, max-age=86400"}
        if request.headers.get("if-none-match") == etag:
            return Response(status_code=304, headers=headers)
        return Response(asset.body, media_type=asset.media_type, headers=headers)

    return r

