"""The index mapping: how an Article lies in an OpenSearch index, and its version.

    Article ──document()──▶ {"title": original text, ..., "terms": {"title": "bank¦... of"}}
    hit's _source ──article_from_source()──▶ Article

| field            | type                                   | why                              |
|------------------|----------------------------------------|----------------------------------|
| id               | keyword                                | the document's ``_id`` too       |
| title, subtitle, | text, not indexed (kept in ``_source``) | the original text: snippets,     |
| body, author     |                                        | display, ``show``                |
| terms.<field>    | text, ``newsearch_terms`` analyser,    | matching, phrases, BM25          |
|                  | ``newsearch_bm25`` similarity          |                                  |
| date             | date (epoch seconds, UTC)              | ranges, sorting, date histogram  |
| section, tags,   | keyword                                | facets and display               |
| lang             |                                        |                                  |
| fold.<field>     | keyword: the keys newsearch matches by | ``section:`` ``tags:`` ``lang:``  |
| vocab            | keyword (doc values only): the distinct | prefix and family expansion      |
|                  | terms of title, subtitle and body      | (``econom*``, ``kiev~``)          |
| source, dedup    | keyword                                | a file's articles, duplicates    |
| added            | long (UTC µs)                          | when it was indexed: the new     |
|                  |                                        | articles a saved search reports  |
| cluster          | long                                   | its story (newsearch.clusters):  |
|                  |                                        | collapsing, versions             |
| bands, sketch    | long (indexed only) / binary (kept)    | the MinHash sketch's LSH band    |
|                  |                                        | keys and the sketch: a later     |
|                  |                                        | version finds its story by them  |
| url, key         | keyword, not indexed                   | display                          |
| utc_offset       | integer, not indexed                   | the date at the source's offset  |

**Analysis parity.** OpenSearch does no linguistics here: newsearch's own chain
(:func:`newsearch.analysis.tokens`) turns each text field into its terms, one position per
token, and :func:`term_string` writes them space-separated; the ``newsearch_terms`` analyser
only splits on whitespace. A capitalised Cyrillic word has two terms at one position (Snowball
stem and name form): they are written ``stem¦name`` and a ``pattern_capture`` filter emits
both at that position, as the Whoosh index holds them. So both backends index exactly the
same terms at the same positions, and a query plan's terms (already analysed) are looked up
verbatim. Terms are ASCII (transliterated), so the separator ``¦`` cannot occur in one.

**Scores.** ``newsearch_bm25`` is a scripted similarity with newsearch's b
(:mod:`newsearch.ranking`) returning a field's weighted, length-normalised count,
``boost · tf / (1 − b + b·len/avglen)`` with ``boost`` the field's weight; the query sums a
word's fields and saturates the sum once (``w · x·(k1+1) / (x + k1)`` in a
``function_score``), ``w`` = plan boost × query-term weight × idf, the idf computed by
newsearch from the index's document count and the term's document frequency (see
:mod:`.dsl`): BM25F as :func:`newsearch.ranking.bm25_scores` computes it.
Lengths count both terms of a stacked position (``discount_overlaps`` off), as
Whoosh's do. What still differs: Lucene's one-byte length norms round differently from
Whoosh's, and ``avglen`` is the field's total length over the documents *having* the field
(per shard), where Whoosh divides by all documents.

**Version.** ``_meta.newsearch`` holds :data:`MAPPING_VERSION` (this layout) and the
analysis version (:data:`newsearch.analysis.ANALYSIS_VERSION`, bumped whenever analysis output
changes); :func:`open_news_index` refuses an index with other numbers. It also holds the
index's ``generation``, raised by every batch an index run makes searchable
(:func:`set_generation`): searchers key their caches by it, as by a Whoosh generation.

**Names.** An index run creates a concrete index ``<name>-<hex>`` and the alias ``<name>``
pointing at it, so ``--rebuild`` can fill a new concrete index while searches still read the
old one, then move the alias in one step (:func:`concrete_index`).
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from opensearchpy.exceptions import NotFoundError, TransportError

from ...analysis import ANALYSIS_VERSION, ANALYZER_NAME, tokens
from ...article import Article, epoch_to_datetime, section_key, section_keys
from ...clusters import band_keys
from ...errors import IndexNotFound
from ...language import article_language
from ...ranking import B
from ...search import MAX_PAGE, MAX_PER_PAGE
from .client import Cluster
from .errors import MappingVersionError

__all__ = [
    "DEFAULT_REPLICAS",
    "DEFAULT_SHARDS",
    "KEYWORD_FIELDS",
    "MAPPING_VERSION",
    "STACK",
    "TEXT_FIELDS",
    "IndexSettings",
    "article_from_source",
    "band_terms",
    "concrete_index",
    "create_news_index",
    "document",
    "folded",
    "index_body",
    "match_key",
    "open_news_index",
    "read_meta",
    "set_generation",
    "sketch_fields",
    "sketch_of",
    "term_string",
    "terms_field",
]

# 3: the similarity gives a field's weighted count, saturated per word by the query.
# 4: ``added``, each article's index time (saved-search alerts); ``cluster``, ``bands`` and
# ``sketch`` (story clusters).
MAPPING_VERSION = 4
DEFAULT_SHARDS = 3
DEFAULT_REPLICAS = 1
TEXT_FIELDS = ("title", "subtitle", "body", "author")
KEYWORD_FIELDS = ("section", "tags", "lang")
VOCAB_FIELDS = ("title", "subtitle", "body")  # as newsearch.plan.DEFAULT_FIELDS
STACK = "¦"  # joins the terms that share one position
ANALYSER = "newsearch_terms"
SIMILARITY = "newsearch_bm25"
# Whitespace tokens are cut at this length: far above any stacked pair of terms (a term comes
# from at most 64 characters, transliterated).
MAX_TERM_STRING = 4096


def terms_field(name: str) -> str:
    """The indexed field holding the terms of text field ``name``."""
    return f"terms.{name}"


def folded(value: str) -> str:
    """A tag or language as ``tags:``/``lang:`` match it (any case)."""
    return value.strip().casefold()


def match_key(field: str, value: str) -> str:
    """What a ``section:``/``tags:``/``lang:`` value is looked up by in ``fold.<field>``."""
    return section_key(value) if field == "section" else folded(value)


def _keys(field: str, value: str) -> list[str]:
    """The keys one indexed value is found by (a section also by its code, "acq")."""
    return section_keys(value) if field == "section" else [folded(value)]


def term_string(text: str, lang: str | None = None) -> str:
    """The analysed terms of ``text`` (in language ``lang``), one whitespace-separated entry
    per position."""
    return " ".join(STACK.join(terms) for terms, _pos, _start, _end in tokens(text, lang))


def _similarity_script() -> str:
    # The count only, weighted and length-normalised: the query (dsl.scoring_clauses) sums a
    # word's fields and saturates the sum once, as newsearch's BM25F does.
    b = repr(float(B))
    return (
        "double avg = field.sumTotalTermFreq / Math.max(1.0, (double) field.docCount); "
        f"return query.boost * doc.freq / "
        f"(1.0 - {b} + {b} * doc.length / Math.max(avg, 1.0));"
    )


@dataclass(frozen=True, slots=True)
class IndexSettings:
    """How a new index is laid out. ``extra`` is merged into its index settings (for
    example ``{"index.unassigned.node_left.delayed_timeout": "0"}``)."""

    shards: int = DEFAULT_SHARDS
    replicas: int = DEFAULT_REPLICAS
    extra: dict[str, Any] = field(default_factory=dict)


def index_body(settings: IndexSettings | None = None) -> dict[str, Any]:
    """The settings and mappings of a new newsearch index."""
    s = settings or IndexSettings()
    text_terms = {"type": "text", "analyzer": ANALYSER, "similarity": SIMILARITY}
    return {
        "settings": {
            "index": {
                "number_of_shards": s.shards,
                "number_of_replicas": s.replicas,
                # The deepest page newsearch serves (page × per_page).
                "max_result_window": MAX_PAGE * MAX_PER_PAGE,
                **s.extra,
            },
            "analysis": {
                "tokenizer": {"newsearch_positions": {
                    "type": "whitespace", "max_token_length": MAX_TERM_STRING}},
                "filter": {"newsearch_stacked": {
                    "type": "pattern_capture", "preserve_original": False,
                    "patterns": [f"([^{STACK}]+)"]}},
                "analyzer": {ANALYSER: {
                    "type": "custom", "tokenizer": "newsearch_positions",
                    "filter": ["newsearch_stacked"]}},
            },
            "similarity": {SIMILARITY: {
                "type": "scripted", "discount_overlaps": False,
                "script": {"source": _similarity_script()}}},
        },
        "mappings": {
            "dynamic": "strict",
            "_meta": {"newsearch": {"mapping_version": MAPPING_VERSION,
                                    "analysis_version": ANALYSIS_VERSION,
                                    "analyzer": ANALYZER_NAME}},
            # Terms and folded keywords are derived: kept in the index, not in the documents.
            "_source": {"excludes": ["terms", "fold", "vocab", "bands"]},
            "properties": {
                "id": {"type": "keyword"},
                **{f: {"type": "text", "index": False} for f in TEXT_FIELDS},
                "terms": {"properties": {f: dict(text_terms) for f in TEXT_FIELDS}},
                "date": {"type": "date", "format": "epoch_second"},
                **{f: {"type": "keyword"} for f in KEYWORD_FIELDS},
                "fold": {"properties": {f: {"type": "keyword"} for f in KEYWORD_FIELDS}},
                # Prefix expansion reads this column's terms (an aggregation over doc
                # values), which the text fields cannot give without fielddata on the heap.
                "vocab": {"type": "keyword", "index": False},
                "source": {"type": "keyword"},
                "dedup": {"type": "keyword"},
                "added": {"type": "long"},
                "cluster": {"type": "long"},
                "bands": {"type": "long", "doc_values": False},
                "sketch": {"type": "binary"},
                "url": {"type": "keyword", "index": False, "doc_values": False},
                "key": {"type": "keyword", "index": False, "doc_values": False},
                "utc_offset": {"type": "integer", "index": False, "doc_values": False},
            },
        },
    }


def document(article: Article, dedup: str | None = None) -> dict[str, Any]:
    """The ``_source`` for one article (its ``_id`` is ``article.id``). Text is analysed in
    the article's language (declared, else detected), which is stored as ``lang``, as the
    Whoosh backend does."""
    lang = article_language(article)
    doc: dict[str, Any] = {"id": article.id}
    terms: dict[str, str] = {}
    vocab: set[str] = set()
    for name in TEXT_FIELDS:
        value = getattr(article, name)
        if value:
            doc[name] = value
            terms[name] = term_string(value, lang)
            if name in VOCAB_FIELDS:
                vocab.update(t for entry in terms[name].split() for t in entry.split(STACK))
    doc["terms"] = terms
    doc["vocab"] = sorted(vocab)
    if article.date is not None:
        doc["date"] = int(article.date.timestamp())  # the UTC instant
        offset = article.date.utcoffset()
        if offset:
            doc["utc_offset"] = int(offset.total_seconds()) // 60  # minutes, as schema.py
    labels = {"section": article.sections, "tags": article.tags,
              "lang": [lang] if lang else []}
    fold: dict[str, list[str]] = {}
    for name, values in labels.items():
        if values:
            doc[name] = list(values)
            fold[name] = list(dict.fromkeys(k for v in values for k in _keys(name, v)))
    doc["fold"] = fold
    doc["source"] = article.source
    doc["dedup"] = dedup or article.dedup
    if article.url:
        doc["url"] = article.url
    doc["key"] = article.key
    return doc


def sketch_fields(sig: np.ndarray) -> dict[str, Any]:
    """An article's MinHash sketch as the mapping keeps it: its LSH band keys (as signed
    longs) and the sketch itself (little-endian uint32, base64)."""
    return {"bands": band_keys(sig).view(np.int64).tolist(),
            "sketch": base64.b64encode(sig.astype("<u4").tobytes()).decode("ascii")}


def band_terms(sigs: Sequence[np.ndarray]) -> list[int]:
    """The distinct band keys of some sketches, as :func:`sketch_fields` indexes them."""
    if not sigs:
        return []
    return np.unique(band_keys(np.stack(sigs)).view(np.int64)).tolist()


def sketch_of(src: dict[str, Any]) -> np.ndarray | None:
    """The sketch kept in a document's ``_source`` (None: too short to be sketched)."""
    raw = src.get("sketch")
    if not raw:
        return None
    return np.frombuffer(base64.b64decode(raw), dtype="<u4").astype(np.uint32)


def article_from_source(src: dict[str, Any]) -> Article:
    date = src.get("date")
    lang = src.get("lang") or []
    when = epoch_to_datetime(int(date), src.get("utc_offset")) if date is not None else None
    return Article(
        id=src["id"], title=src.get("title", ""), body=src.get("body", ""),
        source=src.get("source", ""), key=src.get("key", ""),
        date=when,
        sections=list(src.get("section") or []), url=src.get("url"),
        author=src.get("author"), lang=lang[0] if lang else None,
        subtitle=src.get("subtitle"), tags=list(src.get("tags") or []),
    )


def create_news_index(cluster: Cluster, index: str,
                      settings: IndexSettings | None = None, *,
                      wait_for_active_shards: int | str = 1) -> None:
    """Create ``index`` with the newsearch mapping (an existing one is checked instead)."""
    try:
        cluster.call(cluster.client.indices.create, index=index, body=index_body(settings),
                     params={"wait_for_active_shards": str(wait_for_active_shards)})
    except TransportError as exc:
        if exc.error != "resource_already_exists_exception":
            raise
        open_news_index(cluster, index)


def concrete_index(cluster: Cluster, name: str) -> str | None:
    """The concrete index ``name`` stands for (itself, or the one its alias points at); None
    when there is neither."""
    try:
        found = cluster.call(cluster.client.indices.get, index=name,
                             params={"filter_path": "*.settings.index.provided_name"})
    except NotFoundError:
        return None
    names = sorted(found)
    return names[0] if names else None


def read_meta(cluster: Cluster, index: str) -> dict[str, Any] | None:
    """``_meta.newsearch`` of ``index`` (a name or an alias), None when it has none."""
    mapping = cluster.call(cluster.client.indices.get_mapping, index=index)
    for body in mapping.values():  # keyed by the concrete index, also when asked by alias
        meta = (body.get("mappings", {}).get("_meta") or {}).get("newsearch")
        return meta if isinstance(meta, dict) else None
    return None


def set_generation(cluster: Cluster, index: str, generation: int,
                   added: int | None = None) -> None:
    """Record that ``index`` (its documents made searchable) is now at ``generation``, and
    the bytes it takes on the cluster's disks then (every copy of every shard): ``newsearch
    stats`` reports that figure, which background merges would otherwise change between
    two asks. ``added`` is the newest index time (UTC µs) of the documents made searchable:
    saved searches look at no article above it, since one indexed later may not be
    searchable yet on every shard."""
    meta = read_meta(cluster, index) or {}
    store = cluster.call(cluster.client.indices.stats, index=index, metric="store")
    meta = {**meta, "generation": int(generation),
            "index_bytes": int(store["_all"]["total"]["store"]["size_in_bytes"])}
    if added is not None:
        meta["added"] = max(int(added), int(meta.get("added", 0)))
    # _meta is replaced as a whole by a mapping update: send all of it.
    cluster.call(cluster.client.indices.put_mapping, index=index,
                 body={"_meta": {"newsearch": meta}})


def open_news_index(cluster: Cluster, index: str) -> dict[str, Any]:
    """Check that ``index`` exists, is not red and has this newsearch's mapping; return its
    ``_meta.newsearch``. Raises IndexNotFound, ClusterUnhealthy or MappingVersionError."""
    cluster.check_index(index)
    meta = read_meta(cluster, index)
    if not isinstance(meta, dict):
        raise IndexNotFound(index, f"the OpenSearch index {index} at {cluster.urls} is not "
                                   "a newsearch index")
    found = (meta.get("mapping_version"), meta.get("analysis_version"))
    if found != (MAPPING_VERSION, ANALYSIS_VERSION):
        raise MappingVersionError(index, f"{found[0]} (analysis {found[1]})",
                                  f"{MAPPING_VERSION} (analysis {ANALYSIS_VERSION})")
    return meta
