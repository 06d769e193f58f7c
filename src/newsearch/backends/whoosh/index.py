"""Searching the Whoosh index: ``NewsIndex``, the engine a CLI, a web backend or a script shares.

    query string ─▶ parse_query (query.py) ─▶ compile_query (plan.py)
        ─▶ evaluate: a mask of matching documents (evaluate.py, over view.py's arrays)
        ─▶ filters (sections, dates) ─▶ total, facets (facets.py)
        ─▶ top hits: BM25F, newest first, or relevance × recency (scoring.py, by the
           rules of newsearch/ranking.py); after
           the any-word fallback, every-word articles first for short queries and terms
           of the best hits for the order (feedback.py); fuzzy words' own forms first
        ─▶ stored fields and snippets for the page (newsearch/snippets.py) ─▶ SearchResults

The request checks, the fallback and suggestion rules and the results cache are the
backend-neutral ones of :mod:`newsearch.search`, shared with the OpenSearch backend.

:func:`open_index` returns a :class:`NewsIndex`. One instance may be shared by many threads:
each thread gets its own Whoosh searcher (Whoosh searchers are not thread-safe), refreshed
when a new index generation is committed, so new articles appear without reopening. What
is derived from the index (document arrays, decoded posting lists, phrase matches, the
vocabulary) is cached per segment or per generation, so a new commit is never answered from
stale data and unchanged segments are not decoded again.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from whoosh.index import EmptyIndexError
from whoosh.searching import Searcher

from ...analysis import TOKEN_RE, query_terms, tokens
from ...article import Article, epoch_to_datetime
from ...clusters import collapse, count_stories, top_stories
from ...errors import ArticleNotFound, IndexDamaged, IndexNotFound, QueryError
from ...feedback import FEEDBACK_DOCS, FEEDBACK_MAX_WORDS, article_text, expanded
from ...plan import (
    DEFAULT_FIELDS,
    CompiledQuery,
    Leaf,
    PFuzzy,
    compile_query,
    required_fuzzy,
    scoring_leaves,
)
from ...query import (
    TEXT_FIELDS,
    Or,
    ParsedQuery,
    Word,
    parse_query,
)
from ...ranking import top_k
from ...related import (
    DEFAULT_RELATED,
    MAX_RELATED,
    MAX_VERSIONS_READ,
    distinctive_terms,
    story_terms,
)
from ...results import Hit, RelatedResults, SearchResults
from ...search import (
    ALL_WORDS_FIRST_UP_TO,
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
from ...suggest import KEEP_FROM, Vocabulary, replace_word
from ...textnorm import CYRILLIC_CHAR
from ...tiers import in_field, words_of
from ...trends import TrendResults, check_trend, trend_results
from .evaluate import Evaluator, evaluate
from .facets import date_facet, lang_facet, section_facet
from .scoring import bm25_at, bm25_scores, recency_factors
from .stats import stats_from_reader
from .storage import index_path, open_whoosh_index
from .stories import story_members
from .view import (
    NO_DAY,
    POSITIONS_CACHE_ENTRIES,
    POSTINGS_CACHE_ENTRIES,
    SegmentData,
    View,
    _PostingsCache,
    leaf_readers,
    segment_key,
)

__all__ = ["NewsIndex", "open_index"]

# A prefix expands to its `limit` most frequent terms among the first PREFIX_SCAN x limit
# terms that have it (a one-letter prefix does not walk the whole vocabulary).
PREFIX_SCAN = 20
# Snippets find the matches at the positions the index gives for up to this many terms;
# beyond (prefix and fuzzy expansions) they analyse the text's words instead.
SNIPPET_POSITION_TERMS = 32
_EPOCH = date(1970, 1, 1)


def open_index(path: str | os.PathLike[str] | None = None, *,
               results_cache: int = RESULTS_CACHE_SIZE,
               results_cache_bytes: int = RESULTS_CACHE_BYTES) -> NewsIndex:
    """Open the index at ``path`` (default ``$NEWSEARCH_INDEX`` or ``./index``) for searching.

    Result pages are kept for repeated queries: at most ``results_cache`` of them (0: none)
    taking at most about ``results_cache_bytes`` of memory (0: none), least recently used
    first out.
    """
    return NewsIndex(path, results_cache=results_cache, results_cache_bytes=results_cache_bytes)


class _Context:
    """One thread's view of one generation: its Whoosh searcher and per-segment readers."""

    def __init__(self, searcher: Searcher, view: View) -> None:
        self.searcher = searcher
        self.view = view
        reader = searcher.reader()
        self.readers = {segment_key(r): r for r, _off in leaf_readers(reader)}


class NewsIndex:
    """A searchable newsearch index. Thread-safe; sees new commits without reopening."""

    def __init__(self, path: str | os.PathLike[str] | None = None, *,
                 results_cache: int = RESULTS_CACHE_SIZE,
                 results_cache_bytes: int = RESULTS_CACHE_BYTES) -> None:
        self.path = index_path(path)
        self._ix = open_whoosh_index(self.path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._segments: dict[str, SegmentData] = {}
        self._views: dict[int, View] = {}
        self._vocab: dict[int, Vocabulary] = {}
        self._postings = _PostingsCache(POSTINGS_CACHE_ENTRIES)
        self._positions = _PostingsCache(POSITIONS_CACHE_ENTRIES)
        self._results = _ResultsCache(results_cache, results_cache_bytes)

    # -- per-thread searchers, kept current --

    def _dir_stamp(self) -> int:
        try:
            return os.stat(self.path).st_mtime_ns
        except OSError:
            return -1

    def _context(self) -> _Context:
        local = self._local
        ctx: _Context | None = getattr(local, "ctx", None)
        stamp = self._dir_stamp()
        if ctx is None:
            s = _retry(self._ix.searcher, self.path)
        elif stamp != local.stamp and not _retry(ctx.searcher.up_to_date, self.path):
            s = _retry(ctx.searcher.refresh, self.path)
        else:
            return ctx
        local.stamp = stamp
        local.ctx = ctx = _Context(s, self._view(s))
        return ctx

    def _view(self, s: Searcher) -> View:
        gen = s.reader().generation()
        view = self._views.get(gen)
        if view is not None:
            return view
        with self._lock:
            view = self._views.get(gen)
            if view is not None:
                return view
            segs = []
            for reader, off in leaf_readers(s.reader()):
                key = segment_key(reader)
                data = self._segments.get(key)
                if data is None:
                    data = self._segments[key] = SegmentData(reader)
                segs.append((data, off, reader))
            view = View(gen, segs, self._postings, self._positions)
            self._views[gen] = view
            # Keep this generation and the one before it (other threads may still use it).
            for old in sorted(self._views)[:-2]:
                del self._views[old]
                self._vocab.pop(old, None)
            keep = {seg.key for v in self._views.values() for seg, _ in v.segments}
            for key in [k for k in self._segments if k not in keep]:
                del self._segments[key]
            self._postings.drop_segments(keep)
            self._positions.drop_segments(keep)
        return view

    def _vocabulary(self, ctx: _Context) -> Vocabulary:
        """The generation's vocabulary, reading through this thread's readers."""
        reader = ctx.searcher.reader()
        fields = [f for f in DEFAULT_FIELDS if f in reader.indexed_field_names()]
        segments = [(seg, ctx.readers[seg.key]) for seg, _off in ctx.view.segments]

        def starting(letter: str) -> set[str]:
            terms: set[str] = set()
            for seg, seg_reader in segments:
                terms |= seg.terms_starting(seg_reader, DEFAULT_FIELDS, letter)
            return terms

        def df(term: str) -> int:
            return sum(reader.doc_frequency(f, term) for f in fields)

        vocab = self._vocab.get(ctx.view.generation)
        if vocab is None:
            vocab = Vocabulary(starting, df)
            with self._lock:
                vocab = self._vocab.setdefault(ctx.view.generation, vocab)
        return vocab.bound(starting, df)

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
        snippets: bool = True,
        strict: bool = False,
        all_versions: bool = False,
    ) -> SearchResults:
        """Run ``query`` (see :mod:`newsearch.query` for the syntax).

        ``sections`` keeps articles in any of the named sections (case-insensitive);
        ``since``/``until`` are inclusive UTC days (``date`` or ``YYYY-MM-DD``); ``sort`` is
        ``relevance``, ``date`` (newest first) or ``recency`` (relevance × a decay with
        ``half_life_days``, measured from the newest article in the index). ``facets`` adds
        section counts and a date histogram over all hits (``date_granularity`` ``day``,
        ``month`` or ``year``; by default from the span of the hits). ``snippets=False``
        leaves them out (for callers that only need ids and counts); ``per_page=0`` returns
        no hits, only the total and the facets. Versions of one story (see
        :mod:`newsearch.clusters`) are shown once, by their best-ranked article, unless
        ``all_versions``; ``total`` and the facets count every article either way.
        Raises :class:`~newsearch.errors.QueryError` for a query or option that cannot be
        used.
        """
        started = time.perf_counter()
        sections, since_d, until_d = check_request(
            query, sections=sections, since=since, until=until, sort=sort, page=page,
            per_page=per_page, half_life_days=half_life_days, date_granularity=date_granularity)
        ctx = self._context()
        view = ctx.view
        # Repeated queries (a front page, a popular story) are answered from a cache keyed by
        # the index generation, so a new commit is never answered from stale results.
        key = (view.generation, query, tuple(sections or ()), since_d, until_d, sort, page,
               per_page, facets, half_life_days, date_granularity, snippets, strict,
               all_versions)
        cached = self._results.get(key)
        if cached is not None:
            return _fresh_copy(cached, (time.perf_counter() - started) * 1000)
        parsed = parse_query(query, strict=strict)

        allowed = view.filter_mask(
            tuple(x for x in (sections or ()) if x and x.strip()),
            (since_d - _EPOCH).days if since_d else None,
            (until_d - _EPOCH).days if until_d else None)
        evaluator = Evaluator(view, ctx.readers)

        compiled = self._compile(parsed, ctx)
        mask = self._matches(compiled, evaluator, allowed)
        notices = list(parsed.repairs) + compiled.notices
        notices += _unknown_sections(view, [*(sections or ()), *_section_values(parsed.node)])
        if compiled.dropped:
            notices.append("ignored common words: " + ", ".join(compiled.dropped))
        fallback = None
        words = _content_words(parsed)
        matched = int(np.count_nonzero(mask))
        if len(words) > 1 and (not matched or (len(words) >= FALLBACK_MIN_WORDS
                                               and matched < FALLBACK_BELOW)):
            any_words = self._compile(ParsedQuery(Or(tuple(Word(w) for w in words)),
                                                  parsed.text), ctx)
            any_mask = self._matches(any_words, evaluator, allowed)
            if int(np.count_nonzero(any_mask)) > matched:
                fallback = "any-word"
                notices.append(
                    ("no article has all the words" if not matched else
                     f"only {matched} article{'s' if matched > 1 else ''} have all the words")
                    + "; showing articles with any of them, best first")
                compiled, mask = any_words, any_mask

        hit_ids = np.flatnonzero(mask)  # once: ranking and facets work on the hits
        total = len(hit_ids)
        start = (page - 1) * per_page
        ranked, stories = self._rank(
            compiled, ctx, mask, sort, start + per_page, half_life_days, hit_ids,
            evaluator if fallback else None, one_per_story=not all_versions) if per_page else \
            ([], None if all_versions else count_stories(view.stories, mask))
        shown = ranked[start:]
        # Where the page's hits have the query's terms: one look-up per term for the page.
        at = self._match_positions(ctx, [d for d, _sc in shown], "body", compiled.highlight) \
            if snippets and shown else {}
        hits = [self._hit(ctx, int(d), float(sc), compiled.highlight, start + i + 1, snippets,
                          at.get(d) if at is not None else None)
                for i, (d, sc) in enumerate(shown)]
        facet_data = {}
        granularity = None
        if facets:
            facet_data["section"] = section_facet(view, mask, hit_ids)
            facet_data["lang"] = lang_facet(view, mask, hit_ids)
            facet_data["date"], granularity = date_facet(view, mask, date_granularity,
                                                         hit_ids)
        suggestion = self._suggest(parsed, ctx) if matched < SUGGEST_BELOW else None
        results = SearchResults(
            query=query, total=total, page=page, per_page=per_page,
            took_ms=(time.perf_counter() - started) * 1000, hits=hits, facets=facet_data,
            suggestion=suggestion, sort=sort, date_granularity=granularity, fallback=fallback,
            notices=notices, stories=stories,
        )
        if self._results.size <= 0:
            return results  # nothing cached: no copy to protect
        self._results.put(key, results)
        return _fresh_copy(results, results.took_ms)

    def get(self, article_id: str) -> Article:
        """The article with this id; raises :class:`~newsearch.errors.ArticleNotFound`."""
        ctx = self._context()
        docnum = ctx.searcher.document_number(id=article_id) if article_id else None
        if docnum is None:
            raise ArticleNotFound(article_id)
        return _article(ctx.view.stored_fields(ctx.readers, docnum),
                        int(ctx.view.dates[docnum]))

    def versions(self, article_id: str) -> list[Hit]:
        """Every version of the article's story (see :mod:`newsearch.clusters`), the article
        itself included, oldest first (undated last); raises
        :class:`~newsearch.errors.ArticleNotFound`."""
        ctx = self._context()
        docnum = self._docnum(ctx, article_id)
        return [self._hit(ctx, int(d), 0.0, SnippetQuery(), 0, False)
                for d in story_members(ctx.view, docnum, oldest_first=True)]

    def similar(self, article_id: str, *, limit: int = DEFAULT_RELATED) -> RelatedResults:
        """Stories related to an article (more-like-this over its most distinctive terms, see
        :mod:`newsearch.related`): best first, newest first among equals, one article per
        story, never the article's own story. Raises
        :class:`~newsearch.errors.ArticleNotFound`, or
        :class:`~newsearch.errors.QueryError` for a ``limit`` outside 1-100."""
        started = time.perf_counter()
        if not (1 <= limit <= MAX_RELATED):
            raise QueryError(article_id, f"limit must be between 1 and {MAX_RELATED}",
                             parameter="limit")
        ctx = self._context()
        view = ctx.view
        docnum = self._docnum(ctx, article_id)
        stored = ctx.searcher.stored_fields(docnum)
        story = story_members(view, docnum)
        own = story_terms((f.get("title", ""), f.get("body", ""), f.get("lang"))
                          for d in story[:MAX_VERSIONS_READ + 1] if d != docnum
                          for f in [ctx.searcher.stored_fields(int(d))])

        def df(term: str) -> int:  # articles outside the story holding the term
            return max(view.doc_frequency(ctx.readers, "title", term),
                       view.doc_frequency(ctx.readers, "body", term)) - 1 - own[term]

        terms = distinctive_terms(stored.get("title", ""), stored.get("body", ""),
                                  stored.get("lang"), view.live_count - len(story), df)
        hits: list[Hit] = []
        if terms:
            top = terms[0][1]
            leaves = [Leaf(("title", "body"), t, w / top) for t, w in terms]
            others = view.live & (view.clusters != view.clusters[docnum])
            scores = bm25_scores(view, ctx.readers, leaves, others)
            ids = np.flatnonzero(scores > 0)
            ids, keys = collapse(ids, scores[ids].astype(np.float64), view.clusters,
                                 view.cluster_size)
            order = np.lexsort((ids, -view.dates[ids], -keys))[:limit]
            # The lead as the snippet: marking 25 terms costs more than finding the stories.
            hits = [self._hit(ctx, int(ids[i]), float(keys[i]), SnippetQuery(), rank, True)
                    for rank, i in enumerate(order, 1)]
        return RelatedResults(id=article_id, hits=hits,
                              took_ms=(time.perf_counter() - started) * 1000)

    def trend(self, queries: str | Sequence[str], *, by: str = "month",
              sections: Sequence[str] | None = None, since: date | str | None = None,
              until: date | str | None = None) -> TrendResults:
        """Matching articles per period (``by``: day, week, month or year) for each query,
        over one range of periods with empty ones as zeros (see :mod:`newsearch.trends`).
        A query counts the articles that hold all its words (no any-word fallback: a count
        must mean one thing); ``sections``, ``since`` and ``until`` filter as in
        :meth:`search`."""
        started = time.perf_counter()
        req = check_trend(queries, by, sections, since, until)
        ctx = self._context()
        view = ctx.view
        allowed = view.filter_mask(req.sections, req.lo, req.hi)
        evaluator = Evaluator(view, ctx.readers)
        day_lists, totals = [], []
        for q in req.queries:
            mask = self._matches(self._compile(parse_query(q), ctx), evaluator, allowed)
            days = view.days[mask]
            day_lists.append(days[days != NO_DAY])
            totals.append(int(mask.sum()))
        return trend_results(req, day_lists, totals, (time.perf_counter() - started) * 1000)

    def newest_added(self) -> int:
        """The newest index time (UTC µs) of the articles in the index (0: none)."""
        view = self._context().view
        return max((int(seg.added.max()) for seg, _off in view.segments if seg.n), default=0)

    def new_matches(self, query: str, *, sections: Sequence[str] | None = None, after: int,
                    first: int = 0) -> tuple[list[str], list[Hit]]:
        """Ids of the articles indexed after ``after`` (UTC µs) that ``query`` finds (in
        the order they were indexed), and the first ``first`` of them as hits. Only the
        segments holding such articles are read: the query never runs over the archive."""
        ctx = self._context()
        view = ctx.view
        segs, where = [], []
        off = 0
        for seg, global_off in view.segments:
            if not seg.n or int(seg.added.max()) <= after:
                continue
            segs.append((seg, off, ctx.readers[seg.key]))
            where.append((off, global_off, seg))
            off += seg.n
        if not segs:
            return [], []
        # A view of the new segments alone, with caches of its own (its doc numbers are not
        # the generation's).
        sub = View(view.generation, segs, _PostingsCache(POSTINGS_CACHE_ENTRIES // 16),
                   _PostingsCache(POSITIONS_CACHE_ENTRIES // 16))
        reader = ctx.searcher.reader()
        compiled = compile_query(
            parse_query(query).node, sub, lambda: self._vocabulary(ctx),
            lambda fields, prefix, limit: _prefixed(reader, fields, prefix, limit))
        mask = self._matches(compiled, Evaluator(sub, ctx.readers), sub.filter_mask(
            tuple(s for s in sections or () if s and s.strip()), None, None))
        added = np.concatenate([seg.added for _o, _g, seg in where])
        mask &= added > after
        local = np.flatnonzero(mask)
        order = local[np.lexsort((local, added[local]))]
        starts = np.array([o for o, _g, _s in where])
        seg_i = np.searchsorted(starts, order, side="right") - 1
        docs = [int(where[i][1] + d - where[i][0]) for i, d in zip(seg_i, order, strict=True)]
        ids = [ctx.searcher.stored_fields(d)["id"] for d in docs]
        hits = [self._hit(ctx, d, 0.0, compiled.highlight, n, True)
                for n, d in enumerate(docs[:first], 1)]
        return ids, hits

    def _docnum(self, ctx: _Context, article_id: str) -> int:
        docnum = ctx.searcher.document_number(id=article_id) if article_id else None
        if docnum is None:
            raise ArticleNotFound(article_id)
        return int(docnum)

    def stats(self) -> IndexStats:
        return stats_from_reader(self._context().searcher.reader(), str(self.path))

    @property
    def generation(self) -> int:
        return self._context().view.generation

    def committed_generation(self) -> int:
        """The newest generation committed to disk, read from the folder listing without
        opening a searcher (cheap; a search started now answers from it or a newer one)."""
        return int(self._ix.latest_generation())

    def close(self) -> None:
        ctx = getattr(self._local, "ctx", None)
        if ctx is not None:
            ctx.searcher.close()
            self._local.ctx = None

    def __enter__(self) -> NewsIndex:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals --

    def _compile(self, parsed: ParsedQuery, ctx: _Context) -> CompiledQuery:
        reader = ctx.searcher.reader()

        def expand_prefix(fields: Sequence[str], prefix: str, limit: int) -> list[str]:
            found = ctx.view.prefix_terms(fields, prefix, limit, PREFIX_SCAN * limit)
            return found if found is not None else _prefixed(reader, fields, prefix, limit)

        return compile_query(parsed.node, ctx.view, lambda: self._vocabulary(ctx),
                             expand_prefix)

    @staticmethod
    def _matches(compiled: CompiledQuery, ev: Evaluator,
                 allowed: np.ndarray | None) -> np.ndarray:
        mask = evaluate(compiled.plan, ev)
        if allowed is not None:
            mask &= allowed
        return mask

    def _rank(self, compiled: CompiledQuery, ctx: _Context, mask: np.ndarray, sort: str,
              limit: int, half_life_days: float,
              ids: np.ndarray | None = None, any_word: Evaluator | None = None, *,
              one_per_story: bool = False) -> tuple[list[tuple[int, float]], int | None]:
        """The top ``limit`` (doc number, score) pairs, and how many stories the hits hold
        when versions are collapsed (``one_per_story``; else None)."""
        view = ctx.view
        ids = np.flatnonzero(mask) if ids is None else ids
        if not len(ids):
            return [], 0 if one_per_story else None
        leaves = scoring_leaves(compiled.plan)
        if sort == "date":
            keys = view.dates[ids].astype(np.float64)
            top, stories = top_stories(ids, keys, view.stories, limit) \
                if one_per_story else (top_k(ids, keys, limit), None)
            page = np.sort(top)
            scores = bm25_at(view, ctx.readers, leaves, view.mask_of(top), page)
            shown = scores[np.searchsorted(page, top)]
            return list(zip(top.tolist(), shown.tolist(), strict=True)), stories
        scores = bm25_at(view, ctx.readers, leaves, mask, ids)  # parallel to ids
        keys = scores.astype(np.float64)
        words = words_of(compiled.plan) if any_word is not None else ()
        # A short keyword query widened to any word: its articles with every word first.
        tier = _holding_all(ids, words, any_word) \
            if any_word is not None and 1 < len(words) <= ALL_WORDS_FIRST_UP_TO else None
        if any_word is not None and len(words) > 1:
            # Above them, however long the query: articles whose headline holds every word
            # (a headline pasted whole finds its article, not a shorter story sharing most
            # of its words).
            in_title = _holding_all(ids, tuple(in_field(w, "title") for w in words), any_word)
            tier = 2 * in_title + (0 if tier is None else tier)
        if any_word is None and (fuzzy := required_fuzzy(compiled.plan)):
            tier = _closest_forms(ids, fuzzy, ctx)
        if any_word is not None and len(ids) > FEEDBACK_DOCS and \
                len(words) <= FEEDBACK_MAX_WORDS:
            leaves = expanded(leaves, ids, _above(keys, tier),
                              lambda d: article_text(ctx.searcher.stored_fields(d)))
            scores = bm25_at(view, ctx.readers, leaves, mask, ids)
            keys = scores.astype(np.float64)
        if sort == "recency":
            keys = keys * recency_factors(view, ids, half_life_days)
        rank_keys = _above(keys, tier)
        order, stories = top_stories(ids, rank_keys, view.stories, limit) \
            if one_per_story else (top_k(ids, rank_keys, limit), None)
        # ids ascend: the page's own keys by binary search (not a dict over every hit).
        at = np.searchsorted(ids, order)
        shown = keys[at] if sort == "recency" else scores[at]
        return list(zip(order.tolist(), shown.tolist(), strict=True)), stories

    def _hit(self, ctx: _Context, docnum: int, score: float, highlight: SnippetQuery,
             rank: int, with_snippets: bool,
             body_positions: dict[str, list[int]] | None = None) -> Hit:
        """A result; ``body_positions``: where the body has the query's terms (None: found
        by analysing the text)."""
        f = ctx.view.stored_fields(ctx.readers, docnum)
        snips: list[str] = []
        if with_snippets:
            body, subtitle = f.get("body") or "", f.get("subtitle") or ""
            lang = f.get("lang")
            snips = snippets(body, highlight, lang=lang,
                             positions=body_positions) if body else []
            if highlight and subtitle and not any("<mark>" in s for s in snips):
                # The match may be in the standfirst only: show it there, not the body's lead.
                in_subtitle = self._match_positions(ctx, [docnum], "subtitle", highlight)
                marked = snippets(subtitle, highlight, lang=lang, positions=None
                                  if in_subtitle is None else in_subtitle[docnum])
                if not snips or any("<mark>" in s for s in marked):
                    snips = marked
            if not snips and f.get("title"):
                snips = [lead(f["title"])]
        return Hit(
            id=f["id"], title=f.get("title", ""),
            date=epoch_to_datetime(int(ctx.view.dates[docnum]), f.get("utc_offset")),
            section=_labels(f.get("section")), url=f.get("url"), source=f.get("source", ""),
            score=score, snippets=snips, rank=rank, cluster=int(ctx.view.clusters[docnum]),
            versions=int(ctx.view.cluster_size[docnum]),
        )

    @staticmethod
    def _match_positions(ctx: _Context, docnums: list[int], field: str, highlight: SnippetQuery
                         ) -> dict[int, dict[str, list[int]] | None] | None:
        """Where the index has the query's terms in these documents (None: let the snippet
        code analyse the text, which is cheaper for a prefix's hundreds of terms)."""
        terms = set(highlight.terms)
        for seq in highlight.phrases:
            for options in seq:
                terms |= options
        if not terms or len(terms) > SNIPPET_POSITION_TERMS:
            return None
        return ctx.view.page_positions(field, sorted(terms), docnums)

    def _suggest(self, parsed: ParsedQuery, ctx: _Context) -> str | None:
        langs = ctx.view.languages
        words = [w for w in parsed.node.words()
                 if (toks := TOKEN_RE.findall(w)) and len(toks) == 1
                 and query_terms(toks[0], langs)]
        if not words:
            return None
        vocab = self._vocabulary(ctx)
        held = {w: self._holding(ctx, query_terms(TOKEN_RE.findall(w)[0], langs))
                for w in dict.fromkeys(words)}
        found = {w: m for w, m in held.items() if m.any()}
        text = parsed.text
        changed = False
        for w in held:
            matched = int(held[w].sum())
            if matched >= KEEP_FROM:
                continue  # never replaced: skip the work (a pasted paragraph has hundreds)
            token = TOKEN_RE.findall(w)[0]
            # The articles holding the query's other words (those found at all): a candidate
            # seen with them is likelier meant than a more frequent stranger.
            others = [m for o, m in found.items() if o != w]
            context = np.logical_and.reduce(others) if others else None

            def together(term: str, context: np.ndarray | None = context) -> int:
                return 0 if context is None else int((context & self._holding(ctx, (term,))).sum())

            best = vocab.correction(query_terms(token, langs)[0], matched,
                                    together if others else None)
            surface = self._surface(best, ctx, cyrillic=bool(CYRILLIC_CHAR.search(token))) \
                if best else None
            if surface is None:
                continue
            new_text = replace_word(text, w, surface, TEXT_FIELDS)
            changed |= new_text != text
            text = new_text
        return text if changed else None

    def _holding(self, ctx: _Context, terms: Sequence[str]) -> np.ndarray:
        """A mask of the articles holding any of ``terms`` in a searched field."""
        view = ctx.view
        m = np.zeros(view.n, dtype=bool)
        for f in DEFAULT_FIELDS:
            for t in terms:
                m[view.postings(ctx.readers, f, t)[0]] = True
        return m

    def _surface(self, term: str, ctx: _Context, *, cyrillic: bool) -> str | None:
        """A word as articles spell it for an index term (the term itself may be a stem):
        in the script the user typed when an article has it so (a Latin typo gets a Latin
        word, not "кремля"), else as written; a plain form before a possessive
        ("parliament", not "parliament's")."""
        ranked: list[tuple[int, str]] = []
        for f in ("title", "body"):
            ids = ctx.view.postings(ctx.readers, f, term)[0]
            for docnum in ids[:SURFACE_DOCS]:
                stored = ctx.view.stored_fields(ctx.readers, int(docnum))
                text: str = stored.get(f) or ""
                for terms, _p, start, end in tokens(text, stored.get("lang")):
                    if term not in terms:
                        continue
                    word = text[start:end].lower()
                    rank = (2 * (bool(CYRILLIC_CHAR.search(word)) != cyrillic)
                            + any(c in word for c in "'’"))
                    if rank == 0:
                        return word
                    ranked.append((rank, word))
        return min(ranked)[1] if ranked else None


def _holding_all(ids: np.ndarray, words: tuple[Any, ...], ev: Evaluator) -> np.ndarray:
    """1.0 for the documents of ``ids`` that hold every word, else 0.0."""
    held = np.ones(len(ids), dtype=bool)
    for w in words:
        held &= ev.mask(w)[ids]
    return held.astype(np.float64)


def _closest_forms(ids: np.ndarray, fuzzy: list[PFuzzy], ctx: _Context) -> np.ndarray:
    """A tier per document of ``ids`` (higher first) from the forms of the fuzzy words it
    holds: the word itself, then look-alikes by edits, then by frequency (the order of
    ``PFuzzy.forms``), summed over the query's fuzzy words."""
    view = ctx.view
    total = np.zeros(len(ids), dtype=np.float64)
    for node in fuzzy:
        # Rank 0 for the word's own terms, then 1, 2 ... for the look-alikes in their order.
        groups = [node.word, *((t,) for t in node.forms)]
        rank = np.full(len(ids), len(groups), dtype=np.int64)
        for i, terms in enumerate(groups):
            for f in node.fields:
                for t in terms:
                    pids = view.postings(ctx.readers, f, t)[0]
                    if not len(pids):
                        continue
                    at = np.minimum(np.searchsorted(ids, pids), len(ids) - 1)
                    hit = at[ids[at] == pids]
                    rank[hit] = np.minimum(rank[hit], i)
        total -= rank
    return total


def _above(keys: np.ndarray, tier: np.ndarray | None) -> np.ndarray:
    """Sort keys that put every document of a higher tier above every document of a lower
    one, each tier in the order of ``keys``."""
    if tier is None or not len(keys):
        return keys
    levels = np.unique(tier, return_inverse=True)[1]
    return np.asarray(keys + levels * (float(keys.max() - min(0.0, keys.min())) + 1.0))


def _prefixed(reader: Any, fields: Sequence[str], prefix: str, limit: int) -> list[str]:
    """Up to ``limit`` terms starting with ``prefix`` in ``fields``, most frequent first."""
    df: dict[str, int] = {}
    for f in fields:
        if f not in reader.indexed_field_names():
            continue
        for n, btext in enumerate(reader.expand_prefix(f, prefix)):
            if n > PREFIX_SCAN * limit:
                break  # a very short prefix: the most frequent of the first few thousand
            t = btext.decode("utf-8") if isinstance(btext, bytes) else btext
            df[t] = df.get(t, 0) + reader.doc_frequency(f, t)
    return sorted(df, key=lambda t: (-df[t], t))[:limit]


def _retry(fn: Any, path: Any) -> Any:
    """Open or refresh a searcher; a commit may delete files between reading the table of
    contents and opening them, and the next attempt then sees the complete new generation.
    An index that disappeared or broke under a running server becomes a typed error."""
    for attempt in range(5):
        try:
            return fn()
        except OSError as exc:
            if attempt == 4:
                if not Path(path).is_dir():
                    raise IndexNotFound(str(path)) from None
                raise IndexDamaged(str(path), f"cannot read it ({exc})") from None
            time.sleep(0.05)
        except EmptyIndexError:
            raise IndexNotFound(str(path)) from None
    raise AssertionError("unreachable")


def _labels(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _article(f: dict[str, Any], epoch: int) -> Article:
    return Article(
        id=f["id"], title=f.get("title", ""), body=f.get("body", ""), source=f.get("source", ""),
        key=f.get("key", ""), date=epoch_to_datetime(epoch, f.get("utc_offset")),
        sections=_labels(f.get("section")),
        url=f.get("url"), author=f.get("author"), lang=f.get("lang"),
        subtitle=f.get("subtitle"), tags=_labels(f.get("tags")),
    )


