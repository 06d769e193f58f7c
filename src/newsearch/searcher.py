"""Searching a Whoosh index: the engine a CLI, a web backend or a script shares.

    query string ─▶ parse_query (query.py) ─▶ compile to Whoosh queries (this module)
        ─▶ matching documents as a set (filters, total, facets)
        ─▶ top hits: BM25F (title above body), newest first, or relevance × recency decay
        ─▶ snippets (snippets.py) ─▶ SearchResults (results.py)

:func:`open_index` returns a :class:`NewsIndex`. One instance may be shared by many threads:
each thread gets its own Whoosh searcher (Whoosh searchers are not thread-safe), refreshed
when a new index generation is committed, so new articles appear without reopening.
Per-generation data (the date column, section membership, the vocabulary used for
spelling suggestions) is built once and shared.
"""

from __future__ import annotations

import math
import os
import threading
import time
from array import array
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from whoosh import query as wq
from whoosh import scoring
from whoosh.searching import Searcher

from .analysis import analyse, prefix_term, query_terms, tokens
from .article import Article
from .errors import ArticleNotFound, NewsearchError, QueryError
from .query import (
    And,
    DateRange,
    FieldValue,
    Fuzzy,
    MatchAll,
    Node,
    Not,
    Or,
    ParsedQuery,
    Phrase,
    Prefix,
    Word,
    parse_query,
)
from .results import FacetValue, Hit, SearchResults
from .schema import NO_DATE, epoch_to_datetime
from .snippets import SnippetQuery, lead, snippets
from .stats import IndexStats, stats_from_reader
from .storage import index_path, open_whoosh_index

__all__ = [
    "DEFAULT_HALF_LIFE_DAYS",
    "FIELD_BOOSTS",
    "MAX_PER_PAGE",
    "SORTS",
    "NewsIndex",
    "open_index",
]

# Field weights for BM25F: a word in the headline says more than one in the body.
FIELD_BOOSTS = {"title": 2.5, "subtitle": 1.5, "body": 1.0}
DEFAULT_FIELDS = ("title", "subtitle", "body")
SORTS = ("relevance", "date", "recency")
DEFAULT_HALF_LIFE_DAYS = 30.0
# Under recency sorting the oldest article keeps this share of its relevance.
RECENCY_FLOOR = 0.2
MAX_PER_PAGE = 100
MAX_PAGE = 1000
# When requiring every word of a plain query of FALLBACK_MIN_WORDS or more words finds fewer
# articles than FALLBACK_BELOW (a shorter query: none at all), the words are ORed instead
# (ranked by how many and how rare) and the result says so.
FALLBACK_BELOW = 3
FALLBACK_MIN_WORDS = 4
# Suggest a spelling when the query finds fewer articles than this.
SUGGEST_BELOW = 3
PREFIX_MAX_TERMS = 200
FUZZY_MAX_TERMS = 50
FUZZY_BOOST = 0.5  # weight of a fuzzy match's neighbours against the word itself
DAY = 86_400


def open_index(path: str | os.PathLike[str] | None = None) -> NewsIndex:
    """Open the index at ``path`` (default ``$NEWSEARCH_INDEX`` or ``./index``) for searching."""
    return NewsIndex(path)


# --- per-generation shared data ---------------------------------------------------------------


class _Generation:
    """Read-only data derived from one index generation, shared by all threads."""

    def __init__(self, reader: Any) -> None:
        self.doc_count_all = reader.doc_count_all()
        col = reader.column_reader("date")
        self.dates = array("q", col)
        dated = [d for d in self.dates if d > NO_DATE // 2]
        self.newest = max(dated) if dated else None
        # Day number (days since 1970-01-01) per document; -1 when undated.
        self.days = array("l", (d // DAY if d > NO_DATE // 2 else -1 for d in self.dates))
        self.section_docs: dict[str, frozenset[int]] = {}
        for btext in reader.lexicon("section") if "section" in reader.indexed_field_names() \
                else ():
            name = btext.decode("utf-8")
            self.section_docs[name] = frozenset(reader.postings("section", btext).all_ids())
        self.section_by_key: dict[str, list[str]] = {}
        for name in self.section_docs:
            self.section_by_key.setdefault(name.casefold(), []).append(name)
        self._lock = threading.Lock()
        self._vocab: dict[str, Any] | None = None
        self._filters: dict[tuple[Any, ...], frozenset[int] | None] = {}

    def sections_named(self, value: str) -> list[str]:
        return self.section_by_key.get(value.strip().casefold(), [])

    def date_docs(self, start: date | None, end: date | None) -> frozenset[int]:
        lo = (start - date(1970, 1, 1)).days if start else -(2**40)
        hi = (end - date(1970, 1, 1)).days if end else 2**40
        return frozenset(i for i, d in enumerate(self.days) if d >= 0 and lo <= d <= hi)

    def filter_set(self, sections: tuple[str, ...], since: date | None,
                   until: date | None) -> frozenset[int] | None:
        """Documents allowed by the section and date filters (None: no filter)."""
        key = (sections, since, until)
        with self._lock:
            if key in self._filters:
                return self._filters[key]
        allowed: frozenset[int] | None = None
        if sections:
            docs: set[int] = set()
            for s in sections:
                for name in self.sections_named(s):
                    docs |= self.section_docs[name]
            allowed = frozenset(docs)
        if since or until:
            in_range = self.date_docs(since, until)
            allowed = in_range if allowed is None else allowed & in_range
        with self._lock:
            if len(self._filters) > 256:
                self._filters.clear()
            self._filters[key] = allowed
        return allowed


# --- compiling the query tree -------------------------------------------------------------------


@dataclass
class _Compiled:
    query: wq.Query | None
    highlight: SnippetQuery = field(default_factory=SnippetQuery)
    dropped: list[str] = field(default_factory=list)


class _Compiler:
    def __init__(self, reader: Any, gen: _Generation, index: NewsIndex) -> None:
        self.reader = reader
        self.gen = gen
        self.index = index
        self.highlight = SnippetQuery()
        self.dropped: list[str] = []

    def fields(self, field_name: str | None) -> Sequence[str]:
        return DEFAULT_FIELDS if field_name is None else (field_name,)

    def compile(self, node: Node, negated: bool = False) -> wq.Query | None:
        if isinstance(node, Word):
            terms = query_terms(node.text)
            if not terms:
                self.dropped.append(node.text)
                return None
            if not negated and node.field in (None, "title", "body"):
                self.highlight.terms.update(terms)
            return self._any_term(self.fields(node.field), terms)
        if isinstance(node, Phrase):
            seq = [_phrase_term(w) for w in node.texts]
            seq = [t for t in seq if t]
            if not seq:
                self.dropped.append(" ".join(node.texts))
                return None
            if len(seq) == 1:
                return self.compile(Word(node.texts[0], node.field), negated)
            if not negated and node.field in (None, "title", "body"):
                self.highlight.phrases.append(tuple(frozenset([t]) for t in seq))
            return _or([wq.Phrase(f, seq, slop=node.slop + 1, boost=FIELD_BOOSTS.get(f, 1.0))
                        for f in self.fields(node.field)])
        if isinstance(node, Prefix):
            pfx = prefix_term(node.text)
            terms = _prefixed(self.reader, self.fields(node.field), pfx, PREFIX_MAX_TERMS)
            if not negated:
                self.highlight.terms.update(terms)
            return self._any_term(self.fields(node.field), terms) if terms else wq.NullQuery
        if isinstance(node, Fuzzy):
            base = analyse(node.text)
            if not base:
                return None
            maxdist = node.maxdist if node.maxdist is not None else (1 if len(base[0]) <= 5 else 2)
            near = self.index.vocabulary(self.gen, self.reader).near(
                base[0], maxdist, FUZZY_MAX_TERMS)
            if not negated:
                self.highlight.terms.update([base[0], *near])
            # The word as typed outranks its neighbours.
            exact = self._any_term(self.fields(node.field), [base[0]])
            others = self._any_term(self.fields(node.field), near, FUZZY_BOOST) if near else None
            return _or([q for q in (exact, others) if q is not None])
        if isinstance(node, FieldValue):
            return self._field_value(node)
        if isinstance(node, DateRange):
            start = node.start.isoformat() if node.start else None
            end = node.end.isoformat() if node.end else None
            return wq.TermRange("day", start, end, startexcl=False, endexcl=False)
        if isinstance(node, And):
            parts = [self.compile(c, negated) for c in node.children]
            return _and([p for p in parts if p is not None])
        if isinstance(node, Or):
            parts = [self.compile(c, negated) for c in node.children]
            return _or([p for p in parts if p is not None])
        if isinstance(node, Not):
            inner = self.compile(node.child, not negated)
            return None if inner is None else wq.Not(inner)
        if isinstance(node, MatchAll):
            return wq.Every()
        raise NewsearchError(f"unsupported query node {type(node).__name__}")

    def _any_term(self, fields: Sequence[str], terms: Iterable[str],
                  boost: float = 1.0) -> wq.Query:
        terms = list(terms)
        return _or([wq.Term(f, t, boost=boost * FIELD_BOOSTS.get(f, 1.0))
                    for f in fields for t in terms])

    def _field_value(self, node: FieldValue) -> wq.Query:
        if node.field == "section":
            names = self.gen.sections_named(node.value)
            return _or([wq.Term("section", n) for n in names]) if names else wq.NullQuery
        if node.field == "lang":
            return wq.Term("lang", node.value.lower())
        key = node.value.casefold()
        names = [b.decode("utf-8") for b in self.reader.lexicon("tags")
                 if b.decode("utf-8").casefold() == key] if "tags" in \
            self.reader.indexed_field_names() else []
        return _or([wq.Term("tags", n) for n in names]) if names else wq.NullQuery


def _phrase_term(word: str) -> str | None:
    """The term a phrase word must match at its position: the Snowball form, which every
    token of the word carries (capitalised Cyrillic words carry their name form too)."""
    terms = analyse(word.lower())
    return terms[0] if terms else None


def _or(parts: list[wq.Query]) -> wq.Query | None:
    parts = [p for p in parts if p is not wq.NullQuery]
    if not parts:
        return wq.NullQuery
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _and(parts: list[wq.Query]) -> wq.Query | None:
    if not parts:
        return None
    if any(p is wq.NullQuery for p in parts if not isinstance(p, wq.Not)):
        return wq.NullQuery
    parts = [p for p in parts if not (isinstance(p, wq.Not) and p.query is wq.NullQuery)]
    return parts[0] if len(parts) == 1 else wq.And(parts)


# --- matching document sets -------------------------------------------------------------------


def _docset(q: wq.Query, searcher: Searcher) -> set[int]:
    """Every document matching ``q`` (global numbers), by set algebra over posting lists."""
    subs = searcher.subsearchers or [(searcher, 0)]
    out: set[int] = set()
    for sub, offset in subs:
        docs = _leaf_docs(q, sub)  # posting lists already leave deleted documents out
        out |= docs if not offset else {d + offset for d in docs}
    return out


def _leaf_docs(q: wq.Query, s: Searcher) -> set[int]:
    reader = s.reader()
    if isinstance(q, wq.Term):
        if (q.fieldname, q.text) not in reader:
            return set()
        return set(reader.postings(q.fieldname, q.text).all_ids())
    if isinstance(q, wq.Or):
        out: set[int] = set()
        for c in q.subqueries:
            out |= _leaf_docs(c, s)
        return out
    if isinstance(q, wq.And):
        pos = [c for c in q.subqueries if not isinstance(c, wq.Not)]
        neg = [c.query for c in q.subqueries if isinstance(c, wq.Not)]
        if not pos:
            result = set(reader.all_doc_ids())
        else:
            sets = sorted((_leaf_docs(c, s) for c in pos), key=len)
            result = sets[0]
            for other in sets[1:]:
                result &= other
                if not result:
                    return result
        for c in neg:
            result -= _leaf_docs(c, s)
        return result
    if isinstance(q, wq.Not):
        return set(reader.all_doc_ids()) - _leaf_docs(q.query, s)
    if isinstance(q, wq.Every):
        return set(reader.all_doc_ids())
    if q is wq.NullQuery:
        return set()
    return set(q.docs(s))  # phrases and ranges: Whoosh's own matcher


# --- ranking -----------------------------------------------------------------------------------


class _RecencyScorer(scoring.BaseScorer):
    def __init__(self, inner: Any, factors: array) -> None:
        self.inner = inner
        self.factors = factors

    def supports_block_quality(self) -> bool:
        return False

    def score(self, matcher: Any) -> float:
        return self.inner.score(matcher) * self.factors[matcher.id()]


class RecencyBM25F(scoring.BM25F):
    """BM25F times a per-document decay: ``floor + (1 - floor) * 2^(-age / half_life)``, the
    age measured from the newest article in the index (undated articles get the floor)."""

    def __init__(self, index: NewsIndex, half_life_days: float, newest: int | None) -> None:
        super().__init__()
        self._index = index
        self.half_life = half_life_days * DAY
        self.newest = newest

    def scorer(self, searcher: Any, fieldname: str, text: bytes, qf: float = 1) -> Any:
        inner = super().scorer(searcher, fieldname, text, qf)
        factors = self._index._decay_factors(searcher.reader(), self.half_life, self.newest)
        return _RecencyScorer(inner, factors)


# --- the engine --------------------------------------------------------------------------------


class _Vocabulary:
    """Index terms of the text fields, for spelling suggestions and fuzzy matching.

    Built on first use per generation from the segments' term lists (a few hundred ms on a
    large index); document frequencies are looked up only for candidates.
    """

    def __init__(self, reader: Any) -> None:
        self.reader = reader
        self.fields = [f for f in DEFAULT_FIELDS if f in reader.indexed_field_names()]
        terms: set[str] = set()
        leaves = [r for r, _ in reader.leaf_readers()] if not reader.is_atomic() else [reader]
        for leaf in leaves:
            for f in self.fields:
                terms.update(b.decode("utf-8") for b in leaf.lexicon(f))
        self.by_first: dict[str, list[str]] = {}
        for t in terms:
            if t.isalpha():
                self.by_first.setdefault(t[:1], []).append(t)
        self._df: dict[str, int] = {}

    def df(self, term: str) -> int:
        n = self._df.get(term)
        if n is None:
            n = self._df[term] = sum(self.reader.doc_frequency(f, term) for f in self.fields)
        return n

    def near(self, term: str, maxdist: int, limit: int) -> list[str]:
        """Terms within ``maxdist`` edits of ``term`` (same first letter), most frequent first."""
        out = []
        n = len(term)
        for cand in self.by_first.get(term[:1], ()):
            if abs(len(cand) - n) > maxdist or cand == term:
                continue
            if _edit_distance(term, cand, maxdist) <= maxdist:
                out.append(cand)
        out.sort(key=lambda t: -self.df(t))
        return out[:limit]


def _prefixed(reader: Any, fields: Sequence[str], prefix: str, limit: int) -> list[str]:
    """Up to ``limit`` terms starting with ``prefix`` in ``fields``, most frequent first."""
    df: dict[str, int] = {}
    for f in fields:
        if f not in reader.indexed_field_names():
            continue
        for n, btext in enumerate(reader.expand_prefix(f, prefix)):
            if n > 20 * limit:
                break  # a very short prefix: the most frequent of the first few thousand
            t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
            df[t] = df.get(t, 0) + reader.doc_frequency(f, t)
    return sorted(df, key=lambda t: -df[t])[:limit]


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment), giving up beyond ``limit``."""
    if a == b:
        return 0
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        best = i
        for j, cb in enumerate(b, 1):
            cost = 0 if ca == cb else 1
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
            best = min(best, v)
        if best > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


class NewsIndex:
    """A searchable newsearch index. Thread-safe; sees new commits without reopening."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = index_path(path)
        self._ix = open_whoosh_index(self.path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._generations: dict[int, _Generation] = {}
        self._vocabularies: dict[int, _Vocabulary] = {}
        self._decay: dict[tuple[Any, float], array] = {}

    # -- searchers, one per thread, kept current --

    def _dir_stamp(self) -> int:
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return -1

    def _searcher(self) -> Searcher:
        local = self._local
        s = getattr(local, "searcher", None)
        stamp = self._dir_stamp()
        if s is None:
            s = local.searcher = self._open_searcher()
            local.stamp = stamp
        elif stamp != local.stamp:
            local.stamp = stamp
            if not s.up_to_date():
                local.searcher = s = self._refresh(s)
        return s

    def _open_searcher(self) -> Searcher:
        for attempt in range(5):
            try:
                return self._ix.searcher()
            except (FileNotFoundError, OSError):
                # A commit removed files between reading the table of contents and opening
                # them; the next generation is complete.
                if attempt == 4:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _refresh(self, s: Searcher) -> Searcher:
        for attempt in range(5):
            try:
                return s.refresh()
            except (FileNotFoundError, OSError):
                if attempt == 4:
                    raise
                time.sleep(0.05)
        raise AssertionError("unreachable")

    def _generation(self, s: Searcher) -> _Generation:
        gen = s.reader().generation()
        data = self._generations.get(gen)
        if data is None:
            with self._lock:
                data = self._generations.get(gen)
                if data is None:
                    data = _Generation(s.reader())
                    # Keep the current and the previous generation (threads may lag one).
                    for old in sorted(self._generations)[:-1]:
                        del self._generations[old]
                        self._vocabularies.pop(old, None)
                    self._generations[gen] = data
        return data

    def vocabulary(self, gen: _Generation, reader: Any) -> _Vocabulary:
        key = reader.generation()
        vocab = self._vocabularies.get(key)
        if vocab is None:
            with self._lock:
                vocab = self._vocabularies.get(key)
                if vocab is None:
                    vocab = self._vocabularies[key] = _Vocabulary(reader)
        return vocab

    def _decay_factors(self, seg_reader: Any, half_life: float, newest: int | None) -> array:
        """Per-document recency factors for one segment (cached per segment)."""
        seg = seg_reader.segment() if hasattr(seg_reader, "segment") else None
        key = (seg.segment_id() if seg is not None else id(seg_reader), half_life, newest)
        factors = self._decay.get(key)
        if factors is None:
            col = seg_reader.column_reader("date")
            vals = []
            for d in col:
                if d <= NO_DATE // 2 or newest is None:
                    vals.append(RECENCY_FLOOR)
                else:
                    age = max(0, newest - d)
                    vals.append(RECENCY_FLOOR + (1 - RECENCY_FLOOR) * 0.5 ** (age / half_life))
            factors = array("d", vals)
            with self._lock:
                if len(self._decay) > 64:
                    self._decay.clear()
                self._decay[key] = factors
        return factors

    # -- public API --

    def search(
        self,
        query: str,
        *,
        sections: Sequence[str] | None = None,
        since: date | str | None = None,
        until: date | str | None = None,
        sort: str = "relevance",
        page: int = 1,
        per_page: int = 10,
        facets: bool = True,
        half_life_days: float = DEFAULT_HALF_LIFE_DAYS,
        date_granularity: str | None = None,
        strict: bool = False,
    ) -> SearchResults:
        """Run ``query`` (see :mod:`newsearch.query` for the syntax).

        ``sections`` keeps articles in any of the named sections (case-insensitive);
        ``since``/``until`` are inclusive UTC days (``date`` or ``YYYY-MM-DD``); ``sort`` is
        ``relevance``, ``date`` (newest first) or ``recency`` (relevance × a decay with
        ``half_life_days``, measured from the newest article in the index). ``facets`` adds
        section counts and a date histogram over all hits (``date_granularity`` ``day``,
        ``month`` or ``year``; by default from the span of the hits).
        Raises :class:`~newsearch.errors.QueryError` for a query or option that cannot be
        used.
        """
        started = time.perf_counter()
        if sort not in SORTS:
            raise QueryError(query, f"sort must be one of {', '.join(SORTS)}")
        if date_granularity not in (None, "day", "month", "year"):
            raise QueryError(query, "date granularity must be day, month or year")
        if not (1 <= per_page <= MAX_PER_PAGE):
            raise QueryError(query, f"per_page must be between 1 and {MAX_PER_PAGE}")
        if not (1 <= page <= MAX_PAGE):
            raise QueryError(query, f"page must be between 1 and {MAX_PAGE}")
        if half_life_days <= 0 or not math.isfinite(half_life_days):
            raise QueryError(query, "the half-life must be a positive number of days")
        since_d = _as_date(since, query, "since")
        until_d = _as_date(until, query, "until")
        parsed = parse_query(query, strict=strict)

        s = self._searcher()
        gen = self._generation(s)
        sections_t = tuple(x for x in (sections or ()) if x and x.strip())
        allowed = gen.filter_set(sections_t, since_d, until_d)

        compiled = self._compile(parsed, s, gen)
        notices = list(parsed.repairs)
        if compiled.dropped:
            notices.append("ignored common words: " + ", ".join(compiled.dropped))
        matched = self._matches(compiled.query, s, allowed)
        fallback = None
        words = parsed.plain_words
        too_few = not matched or (words is not None and len(words) >= FALLBACK_MIN_WORDS
                                  and len(matched) < FALLBACK_BELOW)
        if words and len(words) > 1 and too_few:
            any_q = self._compile(
                ParsedQuery(Or(tuple(Word(w) for w in words)), parsed.text), s, gen)
            any_matched = self._matches(any_q.query, s, allowed)
            if len(any_matched) > len(matched):
                fallback = "any-word"
                notices.append(
                    ("no article has all the words" if not matched else
                     f"only {len(matched)} article{'s' if len(matched) > 1 else ''} "
                     "have all the words") + "; showing articles with any of them, best first")
                compiled, matched = any_q, any_matched

        total = len(matched)
        start = (page - 1) * per_page
        top = self._top(compiled.query, s, gen, matched, sort, start + per_page, half_life_days)
        page_docs = top[start:]
        hits = [self._hit(s, gen, docnum, score, compiled.highlight, start + i + 1)
                for i, (docnum, score) in enumerate(page_docs)]
        facet_data: dict[str, list[FacetValue]] = {}
        granularity = None
        if facets:
            facet_data["section"] = _section_facet(gen, matched)
            facet_data["date"], granularity = _date_facet(gen, matched, date_granularity)
        suggestion = None
        if total < SUGGEST_BELOW:
            suggestion = self._suggest(parsed, s, gen)
        return SearchResults(
            query=query, total=total, page=page, per_page=per_page,
            took_ms=(time.perf_counter() - started) * 1000, hits=hits, facets=facet_data,
            suggestion=suggestion, sort=sort, date_granularity=granularity, fallback=fallback,
            notices=notices,
        )

    def get(self, article_id: str) -> Article:
        """The article with this id; raises :class:`~newsearch.errors.ArticleNotFound`."""
        s = self._searcher()
        docnum = s.document_number(id=article_id) if article_id else None
        if docnum is None:
            raise ArticleNotFound(article_id)
        gen = self._generation(s)
        return _article(s.stored_fields(docnum), gen.dates[docnum])

    def stats(self) -> IndexStats:
        return stats_from_reader(self._searcher().reader(), str(self.path))

    @property
    def generation(self) -> int:
        return self._searcher().reader().generation()

    def close(self) -> None:
        s = getattr(self._local, "searcher", None)
        if s is not None:
            s.close()
            self._local.searcher = None

    def __enter__(self) -> NewsIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --

    def _compile(self, parsed: ParsedQuery, s: Searcher, gen: _Generation) -> _Compiled:
        comp = _Compiler(s.reader(), gen, self)
        q = comp.compile(parsed.node)
        return _Compiled(q, comp.highlight, comp.dropped)

    def _matches(self, q: wq.Query | None, s: Searcher,
                 allowed: frozenset[int] | None) -> set[int]:
        if q is None or q is wq.NullQuery:
            return set()
        docs = _docset(q, s)
        if allowed is not None:
            docs &= allowed
        return docs

    def _top(self, q: wq.Query | None, s: Searcher, gen: _Generation, matched: set[int],
             sort: str, limit: int, half_life_days: float) -> list[tuple[int, float]]:
        if not matched or q is None:
            return []
        if sort == "date":
            import heapq

            dates = gen.dates
            docs = heapq.nlargest(limit, matched, key=lambda d: (dates[d], -d))
            scores = self._scores(q, s, docs)
            return [(d, scores.get(d, 0.0)) for d in docs]
        if sort == "recency":
            weighting = RecencyBM25F(self, half_life_days, gen.newest)
            searcher = Searcher(s.reader(), weighting=weighting, closereader=False)
        else:
            searcher = s
        results = searcher.search(q, limit=limit, filter=matched)
        return [(docnum, score) for score, docnum in results.top_n]

    def _scores(self, q: wq.Query, s: Searcher, docs: list[int]) -> dict[int, float]:
        if not docs:
            return {}
        results = s.search(q, limit=len(docs), filter=set(docs))
        return {docnum: score for score, docnum in results.top_n}

    def _hit(self, s: Searcher, gen: _Generation, docnum: int, score: float,
             highlight: SnippetQuery, rank: int) -> Hit:
        f = s.stored_fields(docnum)
        body = f.get("body", "")
        text = body or f.get("subtitle", "")
        snips = snippets(text, highlight) if text else []
        if not snips and f.get("title"):
            snips = [lead(f["title"])]
        return Hit(
            id=f["id"], title=f.get("title", ""), date=epoch_to_datetime(gen.dates[docnum]),
            section=_labels(f.get("section")), url=f.get("url"), source=f.get("source", ""),
            score=float(score), snippets=snips, rank=rank,
        )

    def _suggest(self, parsed: ParsedQuery, s: Searcher, gen: _Generation) -> str | None:
        words = [w for w in parsed.node.words() if query_terms(w)]
        if not words:
            return None
        vocab = self.vocabulary(gen, s.reader())
        text = parsed.text
        changed = False
        for w in dict.fromkeys(words):
            term = analyse(w)[0]
            if vocab.df(term) >= 3 or not term.isalpha() or len(term) < 3:
                continue
            cands = vocab.near(term, 1 if len(term) <= 5 else 2, 5)
            cands = [c for c in cands if vocab.df(c) > vocab.df(term)]
            if not cands:
                continue
            best = min(cands, key=lambda c: (_edit_distance(term, c, 2), -vocab.df(c)))
            surface = self._surface(best, s) or best
            text = _replace_word(text, w, surface)
            changed = True
        return text if changed else None

    def _surface(self, term: str, s: Searcher) -> str | None:
        """A word as articles spell it for an index term (the term itself may be a stem)."""
        for f in ("title", "body"):
            if (f, term) not in s.reader():
                continue
            docnum = next(iter(s.reader().postings(f, term).all_ids()), None)
            if docnum is None:
                continue
            text = s.stored_fields(docnum).get(f, "")
            for terms, _p, start, end in tokens(text):
                if term in terms:
                    return text[start:end].lower()
        return None


def _replace_word(text: str, word: str, new: str) -> str:
    import re

    return re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", new, text, count=1)


def _labels(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _article(f: dict[str, Any], epoch: int) -> Article:
    return Article(
        id=f["id"], title=f.get("title", ""), body=f.get("body", ""), source=f.get("source", ""),
        key=f.get("key", ""), date=epoch_to_datetime(epoch), sections=_labels(f.get("section")),
        url=f.get("url"), author=f.get("author"), lang=f.get("lang"),
        subtitle=f.get("subtitle"), tags=_labels(f.get("tags")),
    )


def _as_date(value: date | str | None, query: str, name: str) -> date | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.astimezone(UTC).date() if value.tzinfo else value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise QueryError(query, f"--{name} needs a date as YYYY-MM-DD, not {value!r}") from None


# --- facets ------------------------------------------------------------------------------------


def _section_facet(gen: _Generation, matched: set[int]) -> list[FacetValue]:
    counts: list[FacetValue] = []
    for name, docs in gen.section_docs.items():
        n = len(docs & matched) if len(matched) > len(docs) else len(matched & docs)
        if n:
            counts.append(FacetValue(name, n))
    counts.sort(key=lambda f: (-f.count, f.value))
    return counts


def _date_facet(gen: _Generation, matched: set[int],
                granularity: str | None) -> tuple[list[FacetValue], str | None]:
    days = Counter(map(gen.days.__getitem__, matched))
    days.pop(-1, None)
    if not days:
        return [], granularity
    lo, hi = min(days), max(days)
    if granularity is None:
        span = hi - lo
        granularity = "day" if span <= 62 else "month" if span <= 3 * 366 else "year"
    epoch = date(1970, 1, 1)
    buckets: Counter[str] = Counter()
    for day, n in days.items():
        d = epoch + timedelta(days=day)
        key = (d.isoformat() if granularity == "day" else
               f"{d.year:04d}-{d.month:02d}" if granularity == "month" else f"{d.year:04d}")
        buckets[key] += n
    return [FacetValue(k, v) for k, v in sorted(buckets.items())], granularity

