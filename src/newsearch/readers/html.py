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
                      None), sections (``article:section``, else the page's categories, else the
                      folder), canonical url, author, language (``<html lang>`` and friends),
                      keywords as tags.
    score_extraction  the article-extraction-benchmark measure (scrapinghub), shared by the
                      benchmark script and the acceptance test.

A page without extractable text, or one that makes trafilatura fail, is a file-level skip
(:class:`~newsearch.errors.SkippedInput`) with the reason; no library exception escapes.
"""

from __future__ import annotations

import codecs
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from ..article import Article, RecordSkip
from ..errors import SkippedInput
from . import SourceFile, create_article
from .dates import parse_date, tz_for_url

__all__ = [
    "DEFAULT_OPTIONS",
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


def _sections(tree: Any, categories: list[str] | None, folder: str | None) -> list[str]:
    """``article:section`` meta, else trafilatura's categories, else the folder name."""
    declared = [v.strip() for v in tree.xpath('//meta[@property="article:section"]/@content')]
    for candidates in (_split_list(declared), _split_list(categories)):
        candidates = [c for c in candidates if len(c) <= MAX_SECTION_CHARS]
        if 0 < len(candidates) <= MAX_SECTIONS:
            return candidates
    return [folder] if folder else []


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


def _extract(text: str, options: ExtractOptions) -> tuple[Any, Any]:
    import trafilatura
    from trafilatura.deduplication import LRUCache
    from trafilatura.settings import set_date_params
    from trafilatura.utils import load_html

    tree = load_html(text)
    if tree is None:
        return None, None
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
    try:
        text = _XML_DECL_TEXT.sub("", decode_html(src.data), count=1)
        tree, document = _extract(text, options)
        if tree is None:
            raise src.skip("not parseable as HTML")
        if document is None:
            raise src.skip("no article text found in the page")
        body = _body(document)
        lang = _language(tree)
        sections = _sections(tree, document.categories, src.folder)
    except SkippedInput:
        raise
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
