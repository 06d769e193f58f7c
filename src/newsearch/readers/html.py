"""HTML pages: one article per page, main text and metadata via trafilatura.

SourceFile.data ──▶ decode_html ──▶ lxml tree ──▶ trafilatura.bare_extraction ──▶ Article

Parts:
    decode_html       bytes → text: BOM, then strict UTF-8, then the charset the page declares
                      (``<meta charset>``, ``http-equiv``, XML declaration), then trafilatura's
                      own guess (charset-normalizer). Saved pages carry no HTTP header, so the
                      declaration is the best evidence we have.
    ExtractOptions    the trafilatura settings; :data:`DEFAULT_OPTIONS` is the variant that
                      scores best in ``bench/html_extraction.py`` (figures in its docstring).
    read              the reader: body (one paragraph per block, blank lines between), title,
                      date (publication date from the page's markup, converted to UTC, else
                      None), sections (what the page declares: ``article:section``, JSON-LD
                      ``articleSection``, category links, else the top of its breadcrumb
                      trail; generic labels and the site's name dropped; never the folder),
                      canonical url, author, language (``<html lang>`` and friends), keywords
                      as tags.
    score_extraction  the article-extraction-benchmark measure (scrapinghub), shared by the
                      benchmark script and the acceptance test.

A page without extractable text, or one that makes trafilatura fail, is a file-level skip
(:class:`~newsearch.errors.SkippedInput`) with the reason; no library exception escapes.
So is a page beyond :data:`MAX_HTML_BYTES` or :data:`MAX_HTML_ELEMENTS`: trafilatura's time
grows faster than the page (a 2 MB page of links took 39 s, 19 MB of text 494 s and 5.9 GB).
"""

from __future__ import annotations

import codecs
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from ..article import Article, RecordSkip, normalise_section
from ..errors import SkippedInput
from . import SourceFile, create_article
from .dates import parse_date, tz_for_url

__all__ = [
    "DEFAULT_OPTIONS",
    "MAX_HTML_BYTES",
    "MAX_HTML_ELEMENTS",
    "ExtractOptions",
    "ExtractionScores",
    "decode_html",
    "match_counts",
    "read",
    "score_extraction",
]

# How much of the page start is searched for a charset declaration (the HTML standard's
# prescan looks at 1024 bytes; real pages put long scripts first, so look further).
CHARSET_SCAN_BYTES = 8192
# A category list longer than this is a keyword list, not the page's section(s).
MAX_SECTIONS = 3
MAX_SECTION_CHARS = 60
MAX_TAGS = 20
# Main text shorter than this is a navigation, error or media page, not an article
# ("Page not found", a few menu labels).
MIN_BODY_CHARS = 40
# Pages beyond these are not given to trafilatura (time and memory grow faster than the
# page). The article-extraction benchmark's pages are at most 1.5 MB and 1,600 elements.
MAX_HTML_BYTES = 4 * 2**20
MAX_HTML_ELEMENTS = 20_000


@dataclass(frozen=True, slots=True)
class ExtractOptions:
    """trafilatura settings for the main text.

    ``deduplicate`` drops repeated text blocks *within one page* (a per-page cache), never
    across pages: trafilatura's process-wide cache would make a page's body depend on which
    pages were read before it.
    """

    favor_precision: bool = False
    favor_recall: bool = False
    include_tables: bool = True
    include_comments: bool = False
    deduplicate: bool = False
    fast: bool = False  # True skips trafilatura's fallback extractors (readability, jusText)


# favor_precision scores best on html_articles (181 pages; bench/html_extraction.py):
# F1 0.964 against 0.960 for trafilatura's balanced default, 0.962 fast, 0.959 favor_recall.
DEFAULT_OPTIONS = ExtractOptions(favor_precision=True)


# ----------------------------------------------------------------------------- decoding

_CHARSET_META = re.compile(
    rb"""<meta[^>]*?charset\s*=\s*["']?\s*([A-Za-z0-9_.:+-]{2,40})""", re.I
)
_XML_DECL = re.compile(rb"""^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9_.:+-]{2,40})""", re.I)
_XML_DECL_TEXT = re.compile(r"^\s*<\?xml[^>]*\?>", re.I)

# Labels whose WHATWG meaning differs from Python's codec of the same name: browsers read
# "iso-8859-1" and "ascii" as windows-1252, and so do the pages written for them.
_WHATWG_LABELS = {
    "iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin1": "cp1252", "latin-1": "cp1252",
    "l1": "cp1252", "us-ascii": "cp1252", "ascii": "cp1252", "iso-8859-9": "cp1254",
    "latin5": "cp1254", "iso-8859-11": "cp874", "tis-620": "cp874", "gb2312": "gb18030",
    "gbk": "gb18030", "x-gbk": "gb18030", "shift_jis": "cp932", "shift-jis": "cp932",
    "sjis": "cp932", "x-sjis": "cp932", "euc-kr": "cp949", "ks_c_5601-1987": "cp949",
    "x-user-defined": "cp1252",
}
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _declared_charset(data: bytes) -> str | None:
    head = data[:CHARSET_SCAN_BYTES]
    m = _XML_DECL.match(head) or _CHARSET_META.search(head)
    if not m:
        return None
    label = m.group(1).decode("ascii").strip().lower()
    label = _WHATWG_LABELS.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    return info.name if getattr(info, "_is_text_encoding", True) else None


def decode_html(data: bytes) -> str:
    """The page as text: BOM → UTF-8 → declared charset → trafilatura's detection."""
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return data[len(bom) :].decode(enc, errors="replace")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    declared = _declared_charset(data)
    # A page that is not valid UTF-8 cannot be UTF-8; one "declaring" UTF-16/32 in ASCII
    # markup is not UTF-16 either (the HTML standard ignores such declarations).
    if declared and not declared.startswith(("utf-8", "utf-16", "utf-32", "utf_")):
        try:
            return data.decode(declared)
        except (UnicodeError, LookupError):  # a wrong declaration: let detection decide
            pass
    from trafilatura.utils import decode_file

    return decode_file(data)


# ----------------------------------------------------------------------------- metadata

_LANG = re.compile(r"^([a-z]{2,3})(?:[-_][a-z0-9]{1,8})*$", re.I)


def _language(tree: Any) -> str | None:
    """Primary language subtag the page declares (``en-US`` → ``en``), else None.

    ``<html lang>`` first, then ``<meta http-equiv="content-language">``, ``og:locale`` and
    ``<meta name="language">``.
    """
    candidates = [tree.get("lang"), tree.get("{http://www.w3.org/XML/1998/namespace}lang")]
    for meta in tree.iterfind(".//meta"):
        kind = (meta.get("http-equiv") or meta.get("property") or meta.get("name") or "").lower()
        if kind in ("content-language", "og:locale", "language"):
            candidates.append(meta.get("content"))
    for value in candidates:
        m = _LANG.match((value or "").split(",")[0].strip())
        if m:
            return m.group(1).lower()
    return None


def _split_list(values: Iterable[str] | None) -> list[str]:
    out: list[str] = []
    for value in values or ():
        for part in value.split(","):
            part = part.strip()
            if part and part not in out:
                out.append(part)
    return out


# Labels that name no section: the home page, site-wide lists and flags, content types, and
# "news" itself (on a news page it distinguishes nothing). Compared case-insensitively.
_NOT_SECTIONS = frozenset(
    "home|homepage|home page|front page|frontpage|main|index|start|all|latest|latest news|"
    "top stories|top news|popular|most popular|featured|trending|slider|carousel|headlines|"
    "breaking news|news|post|posts|article|articles|story|stories|blog|blogs|page|pages|daily|"
    "general|uncategorized|uncategorised|default|other|misc|more|"
    "главная|новости|início|inicio|página inicial|startseite|accueil|portada|ホーム|トップ"
    .split("|")
)
# A section is a short label; longer ones are slogans or headlines ("White Label Native
# Advertising Platform" is a site's tagline, the last breadcrumb is often the headline).
MAX_SECTION_WORDS = 4
# Breadcrumb trails are short; a longer "trail" is some other list that happens to carry the
# class name (share buttons, tags).
MAX_CRUMBS = 6
# One label holding a path: "Blog Briefing Room - News", "Home > Business".
_LABEL_PARTS = re.compile(r"\s+[-|>›»/]\s+")
_SLUG = re.compile(r"^[^\W\d_]+(?:-[^\W\d_]+)+$")
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)*\.[a-z]{2,}")
_BREADCRUMB_CLASS = re.compile(r"^(?:[\w-]*[-_])?breadcrumbs?$", re.I)
_BREADCRUMB_TYPE = re.compile(r"(schema\.org/BreadcrumbList|data-vocabulary\.org/Breadcrumb)$",
                              re.I)


@dataclass(frozen=True, slots=True)
class _Site:
    """What identifies the site a page belongs to: its host and its declared name."""

    host: str
    names: frozenset[str]

    def is_home(self, href: str | None) -> bool:
        if not href:
            return False
        parts = urlsplit(href.strip())
        return parts.path.strip("/") == "" and not parts.query and (
            not parts.netloc or parts.netloc.lower().removeprefix("www.") == self.host)

    def is_page(self, href: str | None, url: str | None) -> bool:
        if not href or not url:
            return False
        a, b = urlsplit(href.strip()), urlsplit(url)
        return a.path.rstrip("/") == b.path.rstrip("/") and a.path.strip("/") != ""

    def named(self, label: str) -> bool:
        """The site's own name ("The Telegraph" on telegraph.co.uk), or any domain name."""
        key = label.casefold()
        host = self.host.split(".")[0] if self.host else ""
        return key in self.names or bool(_DOMAIN.fullmatch(key)) or bool(
            host and key.replace(" ", "").removeprefix("the") == host)


def _site(tree: Any, url: str | None) -> _Site:
    names = {v.strip().casefold() for v in tree.xpath(
        '//meta[@property="og:site_name" or @name="application-name"]/@content') if v.strip()}
    host = urlsplit(url).netloc.lower().removeprefix("www.") if url else ""
    return _Site(host, frozenset(names))


def _label(value: str, site: _Site) -> str | None:
    """A raw section label cleaned, or None when it names no section."""
    value = " ".join(value.split())
    for part in _LABEL_PARTS.split(value):
        part = part.strip()
        if _SLUG.match(part) and part.islower():
            part = part.replace("-", " ")  # "government-and-politics"
        part = normalise_section(part)
        if part.isupper() and max(len(w) for w in part.split()) >= 5:
            # Shouted by the page ("SPORT", "SCIENCE & TECH"); short words may be acronyms.
            part = " ".join(w.capitalize() if len(w) > 2 else w for w in part.split())
        if (not part or part.casefold() in _NOT_SECTIONS or site.named(part)
                or len(part) > MAX_SECTION_CHARS or len(part.split()) > MAX_SECTION_WORDS):
            continue
        return part
    return None


def _usable(values: Iterable[str], site: _Site) -> list[str]:
    """The cleaned labels of one declaration; none if it lists too many to be sections."""
    out: list[str] = []
    for value in _split_list(values):
        label = _label(value, site)
        if label and label.casefold() not in {x.casefold() for x in out}:
            out.append(label)
    return out if len(out) <= MAX_SECTIONS else []  # more: a keyword list


def _json_ld(tree: Any) -> Iterator[dict[str, Any]]:
    """Every JSON-LD object of the page, nested ones and ``@graph`` members included."""
    for script in tree.xpath('//script[@type="application/ld+json"]/text()'):
        try:
            data = json.loads(script)
        except (ValueError, RecursionError):
            continue  # malformed JSON-LD is common; the page is still fine
        stack = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                yield item
                stack.extend(v for k, v in item.items() if k == "@graph" or
                             (k in ("mainEntity", "mainEntityOfPage") and isinstance(v, dict)))


def _ld_sections(objects: list[dict[str, Any]]) -> list[str]:
    for obj in objects:
        value = obj.get("articleSection")
        if isinstance(value, str) and value.strip():
            return [value]
        if isinstance(value, list):
            return [v for v in value if isinstance(v, str)]
    return []


def _category_links(tree: Any) -> list[str]:
    """The post's categories as blogs mark them up: ``<a rel="category tag">``."""
    return [" ".join(a.text_content().split()) for a in tree.iter("a")
            if "category" in (a.get("rel") or "").lower().split()]


def _ld_trail(objects: list[dict[str, Any]]) -> list[tuple[str, str | None]]:
    for obj in objects:
        kind = obj.get("@type")
        if kind != "BreadcrumbList" and not (isinstance(kind, list) and "BreadcrumbList" in kind):
            continue
        elements = obj.get("itemListElement")
        if not isinstance(elements, list):
            continue
        crumbs = []
        for el in sorted((e for e in elements if isinstance(e, dict)),
                         key=lambda e: _position(e.get("position"))):
            item = el.get("item")
            name, href = el.get("name"), item if isinstance(item, str) else None
            if isinstance(item, dict):
                name = name or item.get("name")
                href = item.get("@id") or item.get("url")
            if isinstance(name, str):
                crumbs.append((name, href if isinstance(href, str) else None))
        if crumbs:
            return crumbs
    return []


def _position(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("inf")


def _markup_trail(tree: Any) -> list[tuple[str, str | None]]:
    """A breadcrumb trail in the page's markup: schema.org microdata, else an element named
    a breadcrumb by its ``aria-label`` or class; its links are the crumbs."""
    candidates = [el for el in tree.iter("nav", "ol", "ul", "div", "p", "span", "section")
                  if _BREADCRUMB_TYPE.search(el.get("itemtype") or "")
                  or "breadcrumb" in (el.get("aria-label") or "").lower()
                  or any(_BREADCRUMB_CLASS.match(c) for c in (el.get("class") or "").split())]
    for el in candidates:
        crumbs = []
        for a in el.iter("a"):
            text = " ".join(a.text_content().split())
            if text:
                crumbs.append((text, a.get("href")))
        if crumbs:
            return crumbs
    return []


def _trail_section(trail: list[tuple[str, str | None]], site: _Site, url: str | None,
                   title: str | None) -> str | None:
    """The top section of a breadcrumb trail: the first crumb that is neither the home page,
    the site, a generic label, nor the page itself."""
    if len(trail) > MAX_CRUMBS:
        return None
    headline = (title or "").casefold().strip()
    for name, href in trail:
        if site.is_home(href) or site.is_page(href, url):
            continue
        if headline and name.casefold().strip() == headline:
            continue
        label = _label(name, site)
        if label:
            return label
    return None


def _sections(tree: Any, url: str | None, title: str | None) -> list[str]:
    """The sections the page declares: ``article:section`` meta, else JSON-LD
    ``articleSection``, else its category links (``rel="category"``), else the top of its
    breadcrumb trail (JSON-LD, microdata or markup).
    None of those (or only generic labels like "Home Page"): no section, never a guess from
    the folder or the navigation."""
    site = _site(tree, url)
    declared = tree.xpath('//meta[@property="article:section" or @name="article:section"]'
                          '/@content')
    labels = _usable(declared, site)
    if labels:
        return labels
    objects = list(_json_ld(tree))
    for values in (_ld_sections(objects), _category_links(tree)):
        labels = _usable(values, site)
        if labels:
            return labels
    for trail in (_ld_trail(objects), _markup_trail(tree)):
        label = _trail_section(trail, site, url, title)
        if label:
            return [label]
    return []


def _body(document: Any) -> str:
    """Main text with one paragraph per block element, separated by blank lines."""
    from trafilatura.xml import xmltotxt

    blocks = []
    if document.body is not None:
        blocks = [xmltotxt(block, False).strip() for block in document.body]
    body = "\n\n".join(b for b in blocks if b)
    if not body and document.text:  # unexpected tree shape: fall back on the flat text
        body = "\n\n".join(line for line in document.text.split("\n") if line.strip())
    return body


# ----------------------------------------------------------------------------- reader


class _TooLarge(Exception):
    pass


def _extract(text: str, options: ExtractOptions) -> tuple[Any, Any]:
    import trafilatura
    from trafilatura.deduplication import LRUCache
    from trafilatura.settings import set_date_params
    from trafilatura.utils import load_html

    tree = load_html(text)
    if tree is None:
        return None, None
    if sum(1 for _ in tree.iter()) > MAX_HTML_ELEMENTS:
        raise _TooLarge(f"HTML page with more than {MAX_HTML_ELEMENTS:,} elements (not read)")
    date_params = {
        **set_date_params(extensive=False),  # markup only: no dates guessed from free text
        "outputformat": "%Y-%m-%dT%H:%M:%S%z",  # keep the time and the offset
        # A date in the URL (/2019/11/18/) is only a fallback: the publication timestamp in
        # the metadata is precise, the URL's day is often the publisher's local day.
        "deferred_url_extractor": True,
    }
    document = trafilatura.bare_extraction(
        tree,
        fast=options.fast,
        favor_precision=options.favor_precision,
        favor_recall=options.favor_recall,
        include_comments=options.include_comments,
        include_tables=options.include_tables,
        deduplicate=LRUCache(maxsize=1024) if options.deduplicate else False,
        with_metadata=True,
        date_extraction_params=date_params,
    )
    return tree, document


def read(
    src: SourceFile, options: ExtractOptions = DEFAULT_OPTIONS
) -> Iterator[Article | RecordSkip]:
    """One :class:`Article` for the page, or :class:`SkippedInput` with the reason."""
    if len(src.data) > MAX_HTML_BYTES:
        raise src.skip(f"HTML page larger than {MAX_HTML_BYTES // 2**20} MB (not read)")
    try:
        text = _XML_DECL_TEXT.sub("", decode_html(src.data), count=1)
        tree, document = _extract(text, options)
        if tree is None:
            raise src.skip("not parseable as HTML")
        if document is None:
            raise src.skip("no article text found in the page")
        body = _body(document)
        lang = _language(tree)
        sections = _sections(tree, document.url or None, document.title)
    except SkippedInput:
        raise
    except _TooLarge as exc:
        raise src.skip(str(exc)) from None
    except RecursionError:
        raise src.skip("HTML nested too deeply to extract") from None
    except Exception as exc:  # trafilatura/lxml/htmldate: any failure is this page's skip
        raise src.skip(f"HTML extraction failed ({type(exc).__name__}: {exc})") from None
    if len(body.strip()) < MIN_BODY_CHARS:
        raise src.skip(f"no article text found in the page (main text: {body.strip()[:40]!r})")
    url = document.url or None
    yield create_article(
        source=src.path,
        key="page",
        title=document.title,
        body=body,
        date=parse_date(document.date, tz=tz_for_url(url)) if document.date else None,
        sections=sections,
        url=url,
        author=document.author,
        lang=lang,
        tags=_split_list(document.tags)[:MAX_TAGS],
    )


# ----------------------------------------------------------------------------- evaluation
#
# The measure of scrapinghub/article-extraction-benchmark (evaluate.py), reimplemented:
# texts are cut into \w+ tokens, then into overlapping 4-token shingles (a text shorter than
# four tokens is one shorter shingle). Per page, true/false positives and false negatives are
# multiset counts of shingles, normalised to sum to 1 so that long pages weigh no more than
# short ones. Precision is averaged over the pages where something was predicted, recall over
# the pages with a non-empty truth; F1 is the harmonic mean of those two averages (not a mean
# of per-page F1). Accuracy is the share of pages whose token sequences are identical.

_TOKEN = re.compile(r"\w+")
SHINGLE_SIZE = 4


def _shingles(text: str, n: int) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN.findall(text or "")
    if not tokens:
        return Counter()
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def match_counts(true: str, pred: str, n: int = SHINGLE_SIZE) -> tuple[float, float, float]:
    """Normalised (tp, fp, fn) of ``pred`` against ``true`` over n-token shingles."""
    t, p = _shingles(true, n), _shingles(pred, n)
    tp = float(sum((t & p).values()))
    fp = float(sum((p - t).values()))
    fn = float(sum((t - p).values()))
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


@dataclass(frozen=True, slots=True)
class ExtractionScores:
    precision: float
    recall: float
    f1: float
    accuracy: float
    pages: int

    def to_dict(self) -> dict[str, float | int]:
        return {
            "precision": self.precision,
            "recall": self.recall,
            "f1": self.f1,
            "accuracy": self.accuracy,
            "pages": self.pages,
        }


def _precision(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fp) if tp + fp else 0.0


def _recall(tp: float, fp: float, fn: float) -> float:
    if fp == fn == 0:
        return 1.0
    return tp / (tp + fn) if tp + fn else 0.0


def score_extraction(pairs: Iterable[tuple[str, str]], n: int = SHINGLE_SIZE) -> ExtractionScores:
    """Benchmark scores over ``(true_body, extracted_body)`` pairs, one pair per page."""
    counts: list[tuple[float, float, float]] = []
    exact = 0
    for true, pred in pairs:
        counts.append(match_counts(true, pred, n))
        exact += _TOKEN.findall(true or "") == _TOKEN.findall(pred or "")
    precisions = [_precision(*c) for c in counts if c[0] + c[1] > 0]
    recalls = [_recall(*c) for c in counts if c[0] + c[2] > 0]
    precision = sum(precisions) / len(precisions) if precisions else 0.0
    recall = sum(recalls) / len(recalls) if recalls else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    accuracy = exact / len(counts) if counts else 0.0
    return ExtractionScores(precision, recall, f1, accuracy, len(counts))
