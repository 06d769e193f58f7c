"""Searching an index kept in a cluster: :class:`OpenSearchIndex`, with ``NewsIndex``'s
methods and result types.

    query string ─▶ parse_query ─▶ compile_query (newsearch.plan; its inputs from the cluster:
        languages, prefix and family expansion, fuzzy neighbours) ─▶ plan
        ─▶ counts for the any-word fallback (one _msearch, only for queries of several words)
        ─▶ after the fallback, feedback (one _msearch: the best hits' text and the tiers
           in use; newsearch.feedback picks the terms)
        ─▶ one _search: the plan as a filter, newsearch's BM25F as scoring clauses and its
           tiers (newsearch.tiers) as constant-score lifts (dsl), facets as aggregations
           (aggs), one page of hits with their original text
        ─▶ snippets by newsearch's highlighter ─▶ SearchResults

The index's ``generation`` (in its ``_meta``, raised by every batch an index run makes
searchable) keys everything derived from the index: the result pages, the languages and
sections, the expansions and each scoring leaf's document frequency, so repeated words cost no
request and a new batch is never answered from stale data. One request per search reads the
generation (a cluster-state read on the node asked, no shard work).
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Sequence
from datetime import date
from typing import Any, cast

import numpy as np
from opensearchpy.exceptions import TransportError

from ...analysis import TOKEN_RE, query_terms, tokens
from ...article import Article, epoch_to_datetime, section_key, section_keys
from ...errors import ArticleNotFound, QueryError
from ...feedback import FEEDBACK_DOCS, FEEDBACK_MAX_WORDS, article_text, expanded
from ...plan import FUZZY_MAX_TERMS, CompiledQuery, PDays, PSections, PTerms, compile_query
from ...query import TEXT_FIELDS, Or, ParsedQuery, Word, parse_query
from ...related import (
    DEFAULT_RELATED,
    MAX_RELATED,
    MAX_VERSIONS_READ,
    rank_terms,
    story_terms,
    term_frequencies,
)
from ...results import FacetValue, Hit, RelatedResults, SearchResults
from ...search import (
    DEFAULT_HALF_LIFE_DAYS,
    FALLBACK_BELOW,
    FALLBACK_MIN_WORDS,
    RESULTS_CACHE_BYTES,
    RESULTS_CACHE_SIZE,
    SUGGEST_BELOW,
    SURFACE_DOCS,
    _content_words,
    _fresh_copy,
    _ResultsCache,
    _section_values,
    _unknown_sections,
    check_request,
)
from ...snippets import SnippetQuery, lead, snippets
from ...stats import IndexStats
from ...suggest import KEEP_FROM, MIN_NEAR_CHARS, Vocabulary, edit_distance, replace_word
from ...textnorm import CYRILLIC_CHAR
from ...tiers import tier_conditions, words_of
from ...trends import TrendResults, check_trend, trend_results
from .aggs import facet_aggs, facets_from_response
from .client import Address, Cluster, parse_url
from .dsl import (
    MATCH_ALL,
    DfKey,
    Leaf,
    LeafStats,
    compile_plan,
    df_keys,
    leaf_df,
    leaves_of,
    score_bound,
    search_body,
    stats_body,
)
from .errors import ClusterUnhealthy
from .mapping import VOCAB_FIELDS, article_from_source, open_news_index, read_meta, terms_field
from .watches import ClusterWatches

__all__ = ["DEFAULT_INDEX", "SEARCH_RETRY_SECONDS", "OpenSearchIndex", "location"]

DEFAULT_INDEX = "news"
# A search is repeated with back-off for this long while the cluster recovers (a node lost,
# a new manager elected) before it becomes ClusterUnavailable (a web request: 503). Shorter
# than an index run's patience: someone is waiting for the answer.
SEARCH_RETRY_SECONDS = 30.0
SCORED_SEARCH_TYPE = "dfs_query_then_fetch"
# Languages and sections an index holds, read once per generation.
LABELS_MAX = 10_000
DAY_MS = 86_400_000
# Ids of new articles per request when a saved search is checked.
NEW_PAGE = 5_000
RELATED_FIELDS = ("title", "body")  # as NewsIndex.similar
# The cardinality aggregation counting stories is closest below this (OpenSearch's maximum).
STORIES_PRECISION = 40_000
MAX_VERSIONS_LISTED = 1_000
_EPOCH = date(1970, 1, 1)


def location(address: Address, name: str) -> str:
    """How an index in a cluster is named to users: ``opensearch+http://h:9200,.../news``."""
    return f"opensearch+{address.display}/{name}"


class _Generation:
    """What one generation of the index gives the query compiler (the part of a Whoosh
    ``View`` that :func:`newsearch.plan.compile_query` and the section notices read)."""

    def __init__(self, index: OpenSearchIndex, generation: int) -> None:
        self.index = index
        self.generation = generation
        resp = index._search({
            "size": 0, "track_total_hits": True,
            "aggs": {"lang": {"terms": {"field": "lang", "size": LABELS_MAX}},
                     "section": {"terms": {"field": "section", "size": LABELS_MAX}},
                     "newest": {"max": {"field": "date"}}}})
        aggs = resp.get("aggregations", {})
        self.documents = int(resp["hits"]["total"]["value"])
        newest = aggs.get("newest", {}).get("value")
        self.newest = int(newest) // 1000 if newest is not None else None
        self.lang_names = sorted(b["key"] for b in aggs.get("lang", {}).get("buckets", []))
        self.languages = frozenset(n.lower() for n in self.lang_names)
        self.sec_names = sorted(b["key"] for b in aggs.get("section", {}).get("buckets", []))
        self.sections_by_key: dict[str, list[int]] = {}
        for i, n in enumerate(self.sec_names):
            for key in section_keys(n):
                self.sections_by_key.setdefault(key, []).append(i)
        self.families: dict[tuple[Any, ...], tuple[str, ...]] = {}
        self.df: dict[DfKey, int] = {}  # the parts of the scoring leaves' df
        self.vocabulary = _ClusterVocabulary(index)

    def section_indexes(self, name: str) -> list[int]:
        return self.sections_by_key.get(section_key(name), [])

    def expand_prefix(self, fields: Sequence[str], prefix: str, limit: int) -> list[str]:
        """Up to ``limit`` terms starting with ``prefix``, most documents first (from the
        ``vocab`` column: the title, subtitle and body terms of each article)."""
        if limit <= 0 or not prefix:
            return []
        query: dict[str, Any] = {"match_all": {}}
        if tuple(fields) != VOCAB_FIELDS:
            # One field (title:econ*): terms of the articles that have such a word there.
            query = {"bool": {"should": [{"prefix": {terms_field(f): prefix}} for f in fields],
                              "minimum_should_match": 1}}
        resp = self.index._search({
            "size": 0, "query": query,
            "aggs": {"t": {"terms": {"field": "vocab", "include": _regex_prefix(prefix),
                                     "size": limit, "shard_size": max(limit * 4, 100),
                                     "order": [{"_count": "desc"}, {"_key": "asc"}]}}}})
        return [b["key"] for b in resp["aggregations"]["t"]["buckets"]]

    def leaf_stats(self, leaves: Sequence[Leaf]) -> LeafStats:
        """Document count, each leaf's document frequency (each part asked for only once
        per generation) and the newest date."""
        missing = [k for k in dict.fromkeys(k for leaf in leaves for k in df_keys(leaf))
                   if k not in self.df]
        if missing:
            aggs = self.index._search(stats_body(keys=missing)).get("aggregations", {})
            buckets = aggs.get("df", {}).get("buckets", {})
            for i, k in enumerate(missing):
                # A running index run's documents can be searchable before its generation
                # is raised: a frequency above this generation's count would make idf
                # meaningless.
                self.df[k] = min(int(buckets[str(i)]["doc_count"]), self.documents)
        return LeafStats(self.documents, tuple(leaf_df(leaf, self.df) for leaf in leaves),
                         self.newest)


def _untiered(score: float, gap: float) -> float:
    """A hit's score without its tier's lift (see dsl.search_body)."""
    return score - (score // gap) * gap if gap > 0 else score


def _holding(terms: Sequence[str]) -> dict[str, Any]:
    """The articles holding any of ``terms`` in a searched field."""
    return {"bool": {"should": [{"terms": {terms_field(f): list(terms)}} for f in VOCAB_FIELDS],
                     "minimum_should_match": 1}}


def _regex_prefix(prefix: str) -> str:
    """A Lucene regular expression for the terms starting with ``prefix``."""
    return "".join(c if c.isalnum() else "\\" + c for c in prefix) + ".*"


class _ClusterVocabulary(Vocabulary):
    """:class:`newsearch.suggest.Vocabulary` with its look-alikes from the cluster: the term
    suggester reads each shard's term dictionary for words within the edits asked for (same
    first letter), and the rules of ``Vocabulary`` decide as for Whoosh (the edit distance
    checked again with newsearch's own function, closest first, then most frequent)."""

    def __init__(self, index: OpenSearchIndex) -> None:
        self.index = index
        super().__init__(lambda _letter: (), self._count)

    def _count(self, term: str) -> int:
        """Documents holding ``term``, summed over the text fields (as the Whoosh side)."""
        resp = self.index._search({
            "size": 0, "aggs": {"df": {"filters": {"filters": {
                f: {"term": {terms_field(f): term}} for f in VOCAB_FIELDS}}}}})
        buckets = resp["aggregations"]["df"]["buckets"]
        return sum(int(b["doc_count"]) for b in buckets.values())

    def _near(self, term: str, maxdist: int) -> list[tuple[str, int]]:
        if not term:
            return []
        suggest = {f"s{i}": {"text": term, "term": {
            "field": terms_field(f), "suggest_mode": "always", "max_edits": max(1, maxdist),
            "prefix_length": 1, "min_word_length": 1, "size": 4 * FUZZY_MAX_TERMS,
            "shard_size": 4 * FUZZY_MAX_TERMS, "max_inspections": 100, "accuracy": 0.0,
            "max_term_freq": 2**31 - 1, "min_doc_freq": 0, "sort": "frequency",
            "string_distance": "damerau_levenshtein"}} for i, f in enumerate(VOCAB_FIELDS)}
        resp = self.index._search({"size": 0, "suggest": suggest})
        freq: dict[str, int] = {}
        for entries in resp.get("suggest", {}).values():
            for entry in entries:
                for opt in entry.get("options", []):
                    freq[opt["text"]] = freq.get(opt["text"], 0) + int(opt.get("freq", 0))
        out = []
        for c in freq:
            if c == term or not c.isalpha() or c[:1] != term[:1] or \
                    len(c) <= MIN_NEAR_CHARS or abs(len(c) - len(term)) > maxdist:
                continue
            d = edit_distance(term, c, maxdist)
            if d <= maxdist:
                out.append((c, d))
        out.sort(key=lambda c: (c[1], -self.df(c[0]), c[0]))
        return out


class OpenSearchIndex:
    """A newsearch index in an OpenSearch cluster, searched like a
    :class:`~newsearch.NewsIndex`. Thread-safe (one client, shared); sees new batches of a
    running index run without reopening."""

    def __init__(self, url: str | Address, index: str | None = None, *,
                 results_cache: int = RESULTS_CACHE_SIZE,
                 results_cache_bytes: int = RESULTS_CACHE_BYTES,
                 retry_seconds: float = SEARCH_RETRY_SECONDS) -> None:
        address = parse_url(url) if isinstance(url, str) else url
        self.name = index or address.index or DEFAULT_INDEX
        self.address = address
        self.path = location(address, self.name)
        self.cluster = Cluster(address, retry_seconds=retry_seconds)
        try:
            self.cluster.ping()  # an unreachable cluster is one sentence now, not in 30 s
            open_news_index(self.cluster, self.name)
        except BaseException:
            self.cluster.close()
            raise
        self._lock = threading.Lock()
        self._gens: dict[int, _Generation] = {}
        self._results = _ResultsCache(results_cache, results_cache_bytes)

    # -- requests --

    def _search(self, body: dict[str, Any], **params: str) -> dict[str, Any]:
        resp: dict[str, Any] = self.cluster.call(self.cluster.client.search, index=self.name,
                                                 body=body, params=params or None)
        self._check_shards(resp)
        return resp

    def _check_shards(self, resp: dict[str, Any]) -> None:
        # A shard without any copy on a running node: its documents would be silently missing.
        if int(resp.get("_shards", {}).get("failed", 0)):
            raise ClusterUnhealthy(self.cluster.urls, self.name, "red")

    def committed_generation(self) -> int:
        """The generation the index's last index batch made searchable (a cheap read)."""
        meta = read_meta(self.cluster, self.name) or {}
        return int(meta.get("generation", 0))

    @property
    def generation(self) -> int:
        return self.committed_generation()

    def _generation(self, generation: int) -> _Generation:
        gen = self._gens.get(generation)
        if gen is None:
            gen = _Generation(self, generation)
            with self._lock:
                self._gens[generation] = gen
                for old in sorted(self._gens)[:-2]:  # this one and the one before it
                    del self._gens[old]
        return gen

    # -- public API (as NewsIndex) --

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
        snippets: bool = True,
        strict: bool = False,
        all_versions: bool = False,
    ) -> SearchResults:
        """As :meth:`newsearch.NewsIndex.search`, over the cluster. Versions of one story
        are collapsed to the best-ranked (``collapse`` on ``cluster``) unless
        ``all_versions``; ``total`` and the facets count every article; ``stories`` counts
        the matching stories (a ``cardinality`` aggregation: close, not exact)."""
        started = time.perf_counter()
        sections, since_d, until_d = check_request(
            query, sections=sections, since=since, until=until, sort=sort, page=page,
            per_page=per_page, half_life_days=half_life_days, date_granularity=date_granularity)
        generation = self.committed_generation()
        key = (generation, query, tuple(sections or ()), since_d, until_d, sort, page,
               per_page, facets, half_life_days, date_granularity, snippets, strict, all_versions)
        cached = self._results.get(key)
        if cached is not None:
            return _fresh_copy(cached, (time.perf_counter() - started) * 1000)
        parsed = parse_query(query, strict=strict)
        gen = self._generation(generation)

        filters: list[Any] = []
        wanted = tuple(x for x in (sections or ()) if x and x.strip())
        if wanted:
            filters.append(PSections(wanted))
        if since_d or until_d:
            filters.append(PDays((since_d - _EPOCH).days if since_d else None,
                                 (until_d - _EPOCH).days if until_d else None))

        compiled = self._compile(parsed, gen)
        notices = list(parsed.repairs) + compiled.notices
        notices += _unknown_sections(cast(Any, gen),
                                     [*(sections or ()), *_section_values(parsed.node)])
        if compiled.dropped:
            notices.append("ignored common words: " + ", ".join(compiled.dropped))
        fallback = None
        words = _content_words(parsed)
        matched: int | None = None
        any_count = 0
        if len(words) > 1:
            any_words = self._compile(ParsedQuery(Or(tuple(Word(w) for w in words)),
                                                  parsed.text), gen)
            matched, any_count = self._counts([compiled.plan, any_words.plan], filters)
            if (not matched or (len(words) >= FALLBACK_MIN_WORDS and matched < FALLBACK_BELOW)) \
                    and any_count > matched:
                fallback = "any-word"
                notices.append(
                    ("no article has all the words" if not matched else
                     f"only {matched} article{'s' if matched > 1 else ''} have all the words")
                    + "; showing articles with any of them, best first")
                compiled = any_words

        leaves = leaves_of(compiled.plan)
        stats = gen.leaf_stats(leaves)
        # As NewsIndex._rank: tiers and feedback order by relevance (not by date).
        tiers = tier_conditions(compiled.plan, fallback=fallback is not None) \
            if sort != "date" and per_page else []
        if fallback and sort != "date" and per_page and any_count > FEEDBACK_DOCS and \
                len(words_of(compiled.plan)) <= FEEDBACK_MAX_WORDS:
            leaves, stats = self._feedback(compiled.plan, filters, leaves, stats, tiers, gen)
        gap = score_bound(leaves, stats) if tiers else 0.0
        aggs = None
        if facets:
            aggs = {**facet_aggs(),
                    "lang": {"terms": {"field": "lang", "size": LABELS_MAX,
                                       "order": [{"_count": "desc"}, {"_key": "asc"}]}}}
        start = (page - 1) * per_page
        if not all_versions:
            # HyperLogLog++: close below the threshold (the largest OpenSearch allows; 2,391
            # stories for 2,392 on Reuters' "oil OR coffee OR gold OR wheat"), an estimate
            # above. An exact count would cost a bucket per story on every search.
            aggs = {**(aggs or {}), "stories": {"cardinality": {
                "field": "cluster", "precision_threshold": STORIES_PRECISION}}}
        body = search_body(compiled.plan, leaves=leaves, stats=stats, filters=filters,
                           sort=sort, size=per_page, offset=start,
                           half_life_days=half_life_days, aggs=aggs, tiers=tiers,
                           tier_gap=gap)
        if not all_versions:
            # One article per story: its best-ranked version (the page's order decides).
            body["collapse"] = {"field": "cluster"}
        # The similarity's average field length from every shard (the DFS phase), as one
        # Whoosh index has it, rather than each shard's own.
        resp = self._search(body, search_type=SCORED_SEARCH_TYPE) if leaves else \
            self._search(body)
        total = int(resp["hits"]["total"]["value"])
        if matched is None:
            matched = total
        hits = self._with_versions([self._hit(h, compiled.highlight, start + i + 1, snippets,
                                              _untiered(float(h.get("_score") or 0.0), gap))
                                    for i, h in enumerate(resp["hits"]["hits"])])
        facet_data: dict[str, list[FacetValue]] = {}
        granularity = None
        if facets:
            section_values, dates, granularity = facets_from_response(resp, date_granularity)
            langs = [FacetValue(b["key"], int(b["doc_count"]))
                     for b in resp["aggregations"]["lang"]["buckets"]]
            langs.sort(key=lambda f: (-f.count, f.value))
            facet_data = {"section": section_values, "lang": langs, "date": dates}
        suggestion = self._suggest(parsed, gen) if matched < SUGGEST_BELOW else None
        results = SearchResults(
            query=query, total=total, page=page, per_page=per_page,
            took_ms=(time.perf_counter() - started) * 1000, hits=hits, facets=facet_data,
            suggestion=suggestion, sort=sort, date_granularity=granularity, fallback=fallback,
            notices=notices,
            stories=None if all_versions else
            int(resp.get("aggregations", {}).get("stories", {}).get("value", total)),
        )
        self._results.put(key, results)
        return _fresh_copy(results, results.took_ms)

    def get(self, article_id: str) -> Article:
        """The article with this id; raises :class:`~newsearch.errors.ArticleNotFound`."""
        return article_from_source(self._source(article_id))

    def _source(self, article_id: str) -> dict[str, Any]:
        if not article_id:
            raise ArticleNotFound(article_id)
        resp = self._search({"size": 1, "query": {"ids": {"values": [article_id]}}})
        found = resp["hits"]["hits"]
        if not found:
            raise ArticleNotFound(article_id)
        return cast(dict[str, Any], found[0]["_source"])

    def versions(self, article_id: str) -> list[Hit]:
        """Every version of the article's story (see :mod:`newsearch.clusters`), the article
        itself included, oldest first (undated last); raises
        :class:`~newsearch.errors.ArticleNotFound`."""
        cluster = int(self._source(article_id).get("cluster", -1))
        resp = self._search({
            "size": MAX_VERSIONS_LISTED, "query": {"term": {"cluster": cluster}},
            "sort": [{"date": {"order": "asc", "missing": "_last"}}, {"added": "asc"},
                     {"id": "asc"}]})
        hits = [self._hit(h, SnippetQuery(), 0, False, 0.0) for h in resp["hits"]["hits"]]
        for h in hits:
            h.versions = len(hits)
        return hits

    def _story(self, cluster: int) -> tuple[int, list[dict[str, Any]]]:
        """How many articles a story holds, and the text of the first versions indexed."""
        resp = self._search({
            "size": MAX_VERSIONS_READ + 1, "track_total_hits": True,
            "query": {"term": {"cluster": cluster}},
            "sort": [{"added": "asc"}, {"id": "asc"}],
            "_source": ["id", "title", "body", "lang"]})
        return int(resp["hits"]["total"]["value"]), [h["_source"] for h in resp["hits"]["hits"]]

    def _with_versions(self, hits: list[Hit]) -> list[Hit]:
        """The hits with how many articles each one's story holds (one request per page)."""
        clusters = sorted({h.cluster for h in hits if h.cluster >= 0})
        if not clusters:
            return hits
        resp = self._search({"size": 0, "query": {"terms": {"cluster": clusters}},
                             "aggs": {"v": {"terms": {"field": "cluster",
                                                      "size": len(clusters)}}}})
        sizes = {int(b["key"]): int(b["doc_count"])
                 for b in resp["aggregations"]["v"]["buckets"]}
        for h in hits:
            h.versions = sizes.get(h.cluster, 1)
        return hits

    def similar(self, article_id: str, *, limit: int = DEFAULT_RELATED) -> RelatedResults:
        """As :meth:`newsearch.NewsIndex.similar`, over the cluster: the same terms (the
        article analysed here, :func:`newsearch.related.rank_terms` with the exact document
        frequencies of all its terms in one request, cached per generation), scored by
        newsearch's BM25F, best first and newest first among equals, one article per story,
        never the article's own story."""
        started = time.perf_counter()
        if not (1 <= limit <= MAX_RELATED):
            raise QueryError(article_id, f"limit must be between 1 and {MAX_RELATED}",
                             parameter="limit")
        gen = self._generation(self.committed_generation())
        src = self._source(article_id)
        article = article_from_source(src)
        cluster = int(src.get("cluster", -1))
        size, story = self._story(cluster)
        own = story_terms((v.get("title", ""), v.get("body", ""), (v.get("lang") or [None])[0])
                          for v in story[:MAX_VERSIONS_READ + 1] if v["id"] != article_id)
        tf = term_frequencies(article.title, article.body, article.lang)
        probe = [Leaf(RELATED_FIELDS, t, 1.0) for t in tf]
        # Articles outside the story holding a term (as NewsIndex: its own copies left out).
        df = {t: n - 1 - own[t]
              for t, n in zip(tf, gen.leaf_stats(probe).df, strict=True)}
        terms = rank_terms(tf, gen.documents - size, df.__getitem__)
        hits: list[Hit] = []
        if terms:
            top = terms[0][1]
            leaves = [Leaf(RELATED_FIELDS, t, w / top) for t, w in terms]
            body = search_body(PTerms(RELATED_FIELDS, tuple(t for t, _w in terms)),
                               leaves=leaves, stats=gen.leaf_stats(leaves), size=limit)
            body["query"]["bool"]["must_not"] = [{"ids": {"values": [article_id]}},
                                                 {"term": {"cluster": cluster}}]
            body["sort"] = [{"_score": "desc"}, {"date": {"order": "desc", "missing": "_last"}},
                            {"id": "asc"}]
            body["collapse"] = {"field": "cluster"}
            resp = self._search(body, search_type=SCORED_SEARCH_TYPE)
            # The lead as the snippet: marking 25 terms costs more than finding the stories.
            hits = self._with_versions(
                [self._hit(h, SnippetQuery(), rank, True, float(h.get("_score") or 0.0))
                 for rank, h in enumerate(resp["hits"]["hits"], 1)])
        return RelatedResults(id=article_id, hits=hits,
                              took_ms=(time.perf_counter() - started) * 1000)

    def trend(self, queries: str | Sequence[str], *, by: str = "month",
              sections: Sequence[str] | None = None, since: date | str | None = None,
              until: date | str | None = None) -> TrendResults:
        """As :meth:`newsearch.NewsIndex.trend`, over the cluster: per query one
        ``date_histogram`` (calendar periods in UTC) under the query's plan as a filter, all
        queries in one ``_msearch``; the shared range of periods and the zeros are
        :mod:`newsearch.trends`' own, so both backends label and fill alike."""
        started = time.perf_counter()
        req = check_trend(queries, by, sections, since, until)
        gen = self._generation(self.committed_generation())
        filters: list[Any] = []
        if req.sections:
            filters.append(compile_plan(PSections(req.sections)))
        if req.lo is not None or req.hi is not None:
            filters.append(compile_plan(PDays(req.lo, req.hi)))
        bodies = []
        for q in req.queries:
            plan = self._compile(parse_query(q), gen).plan
            bodies.append({
                "size": 0, "track_total_hits": True,
                "query": {"bool": {"filter": [compile_plan(plan), *filters]}},
                # Only periods holding articles: the zeros between them are filled in by
                # newsearch.trends (a long range by day would otherwise be sent as zeros).
                "aggs": {"t": {"date_histogram": {"field": "date", "calendar_interval": by,
                                                  "time_zone": "UTC",
                                                  "min_doc_count": 1}}}})
        day_lists, totals = [], []
        for resp in self._msearch(bodies):
            buckets = resp.get("aggregations", {}).get("t", {}).get("buckets", [])
            # A bucket's key is its period's first instant (a week's Monday, epoch ms); its
            # day lies in that period, so each article counts as a day of it.
            starts = np.array([int(b["key"]) // (DAY_MS) for b in buckets], dtype=np.int64)
            sizes = np.array([int(b["doc_count"]) for b in buckets], dtype=np.int64)
            day_lists.append(np.repeat(starts, sizes))
            totals.append(int(resp["hits"]["total"]["value"]))
        return trend_results(req, day_lists, totals, (time.perf_counter() - started) * 1000)

    def watch_store(self) -> ClusterWatches:
        """Where this index's saved searches live (see :mod:`.watches`)."""
        return ClusterWatches(self.cluster, self.name)

    def newest_added(self) -> int:
        """The newest index time (UTC µs) of the articles made searchable (0: none)."""
        meta = read_meta(self.cluster, self.name) or {}
        return int(meta.get("added", 0))

    def new_matches(self, query: str, *, sections: Sequence[str] | None = None, after: int,
                    first: int = 0) -> tuple[list[str], list[Hit]]:
        """Ids of the articles indexed after ``after`` (UTC µs) that ``query`` finds (in the
        order they were indexed), and the first ``first`` of them as hits. The query runs
        as a filter with an index-time range, so only the new articles are looked at; the
        range ends at the newest index time made searchable (an article written since may
        not be searchable yet on every shard: the next check reports it)."""
        newest = self.newest_added()
        if newest <= after:
            return [], []
        gen = self._generation(self.committed_generation())
        compiled = self._compile(parse_query(query), gen)
        filters = [compile_plan(compiled.plan),
                   {"range": {"added": {"gt": int(after), "lte": newest}}}]
        wanted = tuple(s for s in sections or () if s and s.strip())
        if wanted:
            filters.append(compile_plan(PSections(wanted)))
        body: dict[str, Any] = {"size": NEW_PAGE, "_source": False, "track_total_hits": False,
                                "query": {"bool": {"filter": filters}},
                                "sort": [{"added": "asc"}, {"id": "asc"}]}
        ids: list[str] = []
        while True:
            found = self._search(body)["hits"]["hits"]
            ids += [h["_id"] for h in found]
            if len(found) < NEW_PAGE:
                break
            body["search_after"] = found[-1]["sort"]
        hits: list[Hit] = []
        if first and ids:
            shown = ids[:first]
            resp = self._search({"size": len(shown), "query": {"ids": {"values": shown}}})
            by_id = {h["_id"]: h for h in resp["hits"]["hits"]}
            hits = self._with_versions([self._hit(by_id[i], compiled.highlight, n, True, 0.0)
                                        for n, i in enumerate(shown, 1) if i in by_id])
        return ids, hits

    def stats(self) -> IndexStats:
        """As ``newsearch stats``: articles, sections by count, date range, undated, and
        the bytes the index took in the cluster after the last batch (replicas included)."""
        resp = self._search({
            "size": 0, "track_total_hits": True,
            "aggs": {"section": {"terms": {"field": "section", "size": LABELS_MAX,
                                           "order": [{"_count": "desc"}, {"_key": "asc"}]}},
                     "lo": {"min": {"field": "date"}}, "hi": {"max": {"field": "date"}},
                     "undated": {"missing": {"field": "date"}}}})
        aggs = resp["aggregations"]

        def day(agg: str) -> str | None:
            value = aggs[agg].get("value")
            when = epoch_to_datetime(int(value) // 1000) if value is not None else None
            return when.strftime("%Y-%m-%d") if when else None

        sections = {b["key"]: int(b["doc_count"]) for b in aggs["section"]["buckets"]}
        meta = read_meta(self.cluster, self.name) or {}
        return IndexStats(
            documents=int(resp["hits"]["total"]["value"]),
            sections=dict(sorted(sections.items(), key=lambda kv: (-kv[1], kv[0]))),
            date_min=day("lo"), date_max=day("hi"),
            undated=int(aggs["undated"]["doc_count"]), index=self.path,
            # As the last index batch left it (see mapping.set_generation).
            index_bytes=int(meta.get("index_bytes", 0)))

    def close(self) -> None:
        self.cluster.close()

    def __enter__(self) -> OpenSearchIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --

    def _compile(self, parsed: ParsedQuery, gen: _Generation) -> CompiledQuery:
        return compile_query(parsed.node, cast(Any, gen), lambda: gen.vocabulary,
                             gen.expand_prefix)

    def _counts(self, plans: Sequence[Any], filters: Sequence[Any]) -> list[int]:
        """How many articles each plan matches under the filters (one request)."""
        return self._count_queries(
            [{"bool": {"filter": [compile_plan(plan), *map(compile_plan, filters)]}}
             for plan in plans])

    def _hit(self, h: dict[str, Any], highlight: SnippetQuery, rank: int,
             with_snippets: bool, score: float) -> Hit:
        src = h["_source"]
        snips: list[str] = []
        if with_snippets:
            body, subtitle = src.get("body") or "", src.get("subtitle") or ""
            langs = src.get("lang") or []
            lang = langs[0] if langs else None
            snips = snippets(body, highlight, lang=lang) if body else []
            if highlight and subtitle and not any("<mark>" in s for s in snips):
                marked = snippets(subtitle, highlight, lang=lang)
                if not snips or any("<mark>" in s for s in marked):
                    snips = marked
            if not snips and src.get("title"):
                snips = [lead(src["title"])]
        date_value = src.get("date")
        return Hit(
            id=src["id"], title=src.get("title", ""),
            date=epoch_to_datetime(int(date_value), src.get("utc_offset"))
            if date_value is not None else None,
            section=list(src.get("section") or []), url=src.get("url"),
            source=src.get("source", ""), score=score,
            snippets=snips, rank=rank, cluster=int(src.get("cluster", -1)),
        )

    def _suggest(self, parsed: ParsedQuery, gen: _Generation) -> str | None:
        """As NewsIndex._suggest: rare or absent words replaced by a better-attested
        look-alike, preferring one found with the query's other words."""
        langs = gen.languages
        words = [w for w in parsed.node.words()
                 if (toks := TOKEN_RE.findall(w)) and len(toks) == 1
                 and query_terms(toks[0], langs)]
        if not words:
            return None
        vocab = gen.vocabulary
        held = {w: _holding(query_terms(TOKEN_RE.findall(w)[0], langs))
                for w in dict.fromkeys(words)}
        matched_by = dict(zip(held, self._count_queries(list(held.values())), strict=True))
        found = [w for w, m in matched_by.items() if m]
        text = parsed.text
        changed = False
        for w in held:
            matched = matched_by[w]
            if matched >= KEEP_FROM:
                continue
            token = TOKEN_RE.findall(w)[0]
            others = [held[o] for o in found if o != w]

            def together(term: str, others: list[dict[str, Any]] = others) -> int:
                return self._count_queries([{"bool": {"filter": [*others,
                                                                 _holding((term,))]}}])[0]

            best = vocab.correction(query_terms(token, langs)[0], matched,
                                    together if others else None)
            surface = self._surface(best, cyrillic=bool(CYRILLIC_CHAR.search(token))) \
                if best else None
            if surface is None:
                continue
            new_text = replace_word(text, w, surface, TEXT_FIELDS)
            changed |= new_text != text
            text = new_text
        return text if changed else None

    def _feedback(self, plan: Any, filters: Sequence[Any], leaves: list[Leaf],
                  stats: LeafStats, tiers: list[tuple[Any, int]], gen: _Generation
                  ) -> tuple[list[Leaf], LeafStats]:
        """The leaves re-weighed and joined by terms of the best hits (as NewsIndex._rank
        with :func:`newsearch.feedback.expanded`), and their statistics.

        The best hits are weighed by their key as the Whoosh searcher ranks them: the score
        plus the hit's tier × (the highest score among all hits + 1), the tiers numbered
        0, 1, ... among those some hit is in. One request finds the highest score and the
        tiers in use (an aggregation over every combination of the tier conditions) and the
        best hits with their text."""
        gap = score_bound(leaves, stats)
        combos = []
        for chosen in itertools.product((False, True), repeat=len(tiers)):
            inside = [cond for (cond, _n), c in zip(tiers, chosen, strict=True) if c]
            outside = [cond for (cond, _n), c in zip(tiers, chosen, strict=True) if not c]
            combos.append((sum(n for (_c, n), c in zip(tiers, chosen, strict=True) if c),
                           {"bool": {"filter": [compile_plan(c) for c in inside] or [MATCH_ALL],
                                     "must_not": [compile_plan(c) for c in outside]}}))
        plain = search_body(plan, leaves=leaves, stats=stats, filters=filters, size=1,
                            aggs={"tier": {"filters": {"filters": {
                                str(i): q for i, (_v, q) in enumerate(combos)}}}})
        plain["_source"] = False
        best = search_body(plan, leaves=leaves, stats=stats, filters=filters,
                           size=FEEDBACK_DOCS, tiers=tiers, tier_gap=gap)
        best["_source"] = ["title", "subtitle", "body", "lang"]
        first, top = self._msearch([plain, best], search_type=SCORED_SEARCH_TYPE)
        buckets = first.get("aggregations", {}).get("tier", {}).get("buckets", {})
        used = sorted({v for i, (v, _q) in enumerate(combos)
                       if int(buckets.get(str(i), {}).get("doc_count", 0))})
        step = float(first["hits"].get("max_score") or 0.0) + 1.0
        keys, texts = [], []
        for h in top["hits"]["hits"]:
            score = float(h.get("_score") or 0.0)
            tier = int(score // gap)
            keys.append(score - tier * gap + (used.index(tier) if tier in used else 0) * step)
            src = h["_source"]
            langs = src.get("lang") or []
            texts.append(article_text({**src, "lang": langs[0] if langs else None}))
        if not keys:
            return leaves, stats
        more = expanded(leaves, np.arange(len(keys)), np.array(keys, dtype=np.float64),
                        lambda i: texts[i])
        return more, gen.leaf_stats(more)

    def _msearch(self, bodies: Sequence[dict[str, Any]], search_type: str | None = None
                 ) -> list[dict[str, Any]]:
        """The responses to several searches (one request)."""
        header = {"search_type": search_type} if search_type else {}
        lines: list[dict[str, Any]] = []
        for body in bodies:
            lines += [header, body]

        def once() -> list[dict[str, Any]]:
            # A search of the batch that failed raises here, inside Cluster.call, so that it
            # is repeated as a failed single search would be (a node dying under it).
            resp = self.cluster.client.msearch(index=self.name, body=lines)
            out = []
            for r in resp["responses"]:
                if "error" in r:
                    raise TransportError(int(r.get("status", 500)),
                                         str(r["error"].get("type", "error")),
                                         {"error": r["error"]})
                self._check_shards(r)
                out.append(r)
            return out

        return self.cluster.call(once)

    def _count_queries(self, queries: Sequence[dict[str, Any]]) -> list[int]:
        """How many articles each query matches (one request)."""
        return [int(r["hits"]["total"]["value"]) for r in self._msearch(
            [{"size": 0, "track_total_hits": True, "query": q} for q in queries])]

    def _surface(self, term: str, *, cyrillic: bool) -> str | None:
        """A word as articles spell it for an index term (as NewsIndex._surface)."""
        ranked: list[tuple[int, str]] = []
        for f in ("title", "body"):
            resp = self._search({"size": SURFACE_DOCS, "sort": ["_doc"],
                                 "query": {"term": {terms_field(f): term}},
                                 "_source": [f, "lang"]})
            for h in resp["hits"]["hits"]:
                src = h["_source"]
                text = src.get(f, "")
                langs = src.get("lang") or []
                for terms, _p, start, end in tokens(text, langs[0] if langs else None):
                    if term not in terms:
                        continue
                    word = text[start:end].lower()
                    rank = (2 * (bool(CYRILLIC_CHAR.search(word)) != cyrillic)
                            + any(c in word for c in "'’"))
                    if rank == 0:
                        return word
                    ranked.append((rank, word))
        return min(ranked)[1] if ranked else None
