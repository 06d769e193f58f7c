"""The Whoosh schema: which article fields are indexed, stored and sortable, and how.

    Article ──▶ document_fields() ──▶ writer.add_document(**fields)

| field     | type                         | why                                              |
|-----------|------------------------------|--------------------------------------------------|
| id        | ExactID, stored, unique      | ``get(id)``, updates                             |
| title     | NewsText, positions, stored  | searched, weighted above the body, phrases       |
| subtitle  | NewsText, positions, stored  | searched (RIA/JSON standfirsts)                  |
| body      | NewsText, positions, stored  | searched, phrases, snippets cut from it          |
| author    | NewsText, stored             | ``author:`` queries                              |
| date      | column (int64), not indexed  | UTC seconds: filters, sorting, date histogram    |
| utc_offset| STORED                       | minutes east of UTC the source gave: display     |
| day       | ExactID                      | ``YYYY-MM-DD`` (UTC) for ``date:`` in queries    |
| section   | KEYWORD (comma), stored      | facets and filters, several per article          |
| tags      | KEYWORD (comma), stored      | places, people, tags                             |
| url, key  | STORED                       | display                                          |
| source    | ExactID, stored              | display; deletes a file's articles               |
| lang      | ExactID, stored              | ``lang:`` filter and facet, the analysis language |
| dedup     | ExactID, stored              | exact-duplicate detection across runs            |
| cluster   | column (int64), not indexed  | story cluster number (clusters.py): collapsing    |
| added     | column (int64), not indexed  | when it was indexed (UTC µs): watches' new ones   |

:class:`NewsText` accepts either a string (analysed here) or a :class:`PreAnalyzed` value
built ahead of the writer. :class:`ExactID` indexes a value as one term without running a
tokenizer. The date lives in a numeric column only (no posting lists): date filters and
histograms read the column, and ``day`` serves ``date:`` terms inside queries.
These classes' import paths are part of the on-disk format (the schema is pickled into
the index): keep them here.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pickle import dumps
from typing import Any

from whoosh import columns, fields
from whoosh.formats import Positions
from whoosh.system import pack_uint

from ...analysis import ANALYZER_NAME, positions
from ...article import NO_DATE, Article
from .analyzer import NewsAnalyzer

__all__ = [
    "NO_CLUSTER",
    "NO_DATE",
    "SCHEMA_VERSION",
    "NewsText",
    "PreAnalyzed",
    "document_fields",
    "encode_positions",
    "make_schema",
]

# Bump when the schema, the analyzer's output (analysis.ANALYSIS_VERSION, bumped with it) or
# the stored layout changes; indexes with another version refuse to open and ask for --rebuild.
SCHEMA_VERSION = 6  # 2: -yi → -i (Навальный → navalni), -iia → -ia (Мария → maria)
# 3: utc_offset stored (dates shown at the source's local time); Reuters topics by name
# 4: Cyrillic lemmas (pymorphy3), stems per article language, cut-short stems marked (kiev~)
# 5: postings as arrays (codec.py)
# 6: cluster and added columns (story clusters, saved-search alerts); the analyzer's output is
# unchanged, so ANALYSIS_VERSION (OpenSearch indexes) stays

# Cluster column value of documents written without one (never the case for newsearch's own
# writers; see clusters.py).
NO_CLUSTER = -1


@dataclass(slots=True)
class PreAnalyzed:
    """Postings for one field of one document, computed ahead of the writer."""

    items: list[tuple[bytes, int, float, bytes]]
    text: str


_encode_positions = Positions().encode
# Most terms occur once in a document: their encoded position lists are memoised.
_single_position: dict[int, bytes] = {}


def encode_positions(plist: list[int]) -> bytes:
    """Whoosh's Positions encoding of a position list, byte for byte: the count, then the
    pickled deltas (memoised for single positions, the common case)."""
    if len(plist) == 1:
        enc = _single_position.get(plist[0])
        if enc is None:
            enc = _single_position[plist[0]] = _encode_positions(plist)
        return enc
    deltas = [plist[0], *[b - a for a, b in itertools.pairwise(plist)]]
    return pack_uint(len(deltas)) + dumps(deltas, 2)


def analyse_field(text: str, boost: float = 1.0, lang: str | None = None) -> PreAnalyzed:
    """The (term, freq, weight, encoded positions) tuples Whoosh's writer wants, for text
    in ``lang``."""
    terms, _length = positions(text, lang)
    items = [(t.encode("utf-8"), len(p), len(p) * boost, encode_positions(p))
             for t, p in terms.items()]
    return PreAnalyzed(items, text)


class NewsText(fields.TEXT):
    """TEXT with the news analyzer and a fast path for pre-analysed values."""

    def __init__(self, stored: bool = True, field_boost: float = 1.0) -> None:
        super().__init__(analyzer=NewsAnalyzer(ANALYZER_NAME), phrase=True, stored=stored,
                         field_boost=field_boost)

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        if isinstance(value, PreAnalyzed):
            return iter(value.items)
        return iter(analyse_field(value, self.format.field_boost).items)

    def process_text(self, qstring: str, mode: str = "", **kwargs: Any) -> Iterator[str]:
        for tok in self.tokenize(qstring, mode=mode, **kwargs):
            yield tok.text


class ExactID(fields.ID):
    """An ID field indexed as exactly one term, without a tokenizer pass."""

    def index(self, value: Any, **kwargs: Any) -> Iterator[tuple[bytes, int, float, bytes]]:
        return iter(((value.encode("utf-8"), 1, 1.0, b""),))


class DateColumn(fields.COLUMN):
    """UTC seconds in a numeric column; :data:`NO_DATE` for undated articles."""

    def __init__(self) -> None:
        super().__init__(columns.NumericColumn("q", default=NO_DATE))

    def to_column_value(self, value: Any) -> int:
        return int(value)

    def from_column_value(self, value: Any) -> int:
        return int(value)


class ClusterColumn(fields.COLUMN):
    """The story cluster number (see :mod:`newsearch.clusters`) in a numeric column."""

    def __init__(self) -> None:
        super().__init__(columns.NumericColumn("q", default=NO_CLUSTER))

    def to_column_value(self, value: Any) -> int:
        return int(value)

    def from_column_value(self, value: Any) -> int:
        return int(value)


class AddedColumn(ClusterColumn):
    """When the article was indexed, UTC microseconds (see :mod:`newsearch.watches`)."""


def make_schema() -> fields.Schema:
    return fields.Schema(
        id=ExactID(stored=True, unique=True),
        title=NewsText(),
        subtitle=NewsText(),
        body=NewsText(),
        author=NewsText(),
        date=DateColumn(),
        day=ExactID(),
        utc_offset=fields.STORED(),
        section=fields.KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        tags=fields.KEYWORD(stored=True, commas=True, lowercase=False, scorable=False),
        url=fields.STORED(),
        source=ExactID(stored=True),
        key=fields.STORED(),
        lang=ExactID(stored=True),
        dedup=ExactID(stored=True),
        cluster=ClusterColumn(),
        added=AddedColumn(),
    )


def _labels(values: list[str]) -> str:
    return ",".join(v.replace(",", " ") for v in values)


def document_fields(a: Article, *, analysed: bool = True, dedup: str | None = None,
                    lang: str | None = None, cluster: int | None = None,
                    added: int | None = None) -> dict[str, Any]:
    """Keyword arguments for ``writer.add_document``. With ``analysed``, text fields are
    :class:`PreAnalyzed` (picklable, so a worker process can build them). ``lang`` is the
    article's language when the source declares none (detected), else ``a.lang``."""
    dedup = dedup or a.dedup
    lang = a.lang or lang

    def text(value: str | None) -> Any:
        if not value:
            return None
        return analyse_field(value, lang=lang) if analysed else value

    doc: dict[str, Any] = {
        "id": a.id,
        "title": text(a.title),
        "subtitle": text(a.subtitle),
        "body": text(a.body),
        "author": text(a.author),
        "date": int(a.date.timestamp()) if a.date else NO_DATE,
        "day": a.date.astimezone(UTC).strftime("%Y-%m-%d") if a.date else None,
        "utc_offset": _offset_minutes(a.date),
        "section": _labels(a.sections) or None,
        "tags": _labels(a.tags) or None,
        "url": a.url,
        "source": a.source,
        "key": a.key,
        "lang": lang or None,
        "dedup": dedup,
        "cluster": cluster,
        "added": added,
    }
    for f in ("title", "subtitle", "body", "author"):
        v = doc[f]
        if isinstance(v, PreAnalyzed):
            doc[f"_stored_{f}"] = v.text
    # Whoosh stores an empty string for fields it is given; omit absent ones instead.
    return {k: v for k, v in doc.items() if v is not None}


def _offset_minutes(dt: datetime | None) -> int | None:
    offset = dt.utcoffset() if dt else None
    return int(offset.total_seconds()) // 60 if offset else None


