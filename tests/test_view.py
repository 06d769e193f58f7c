"""The query path's reads of the mapped postings agree with the articles' own text.

Positions per document, exact phrases found by vector operations, and snippets placed from
the index's positions are checked against what analysing the stored text gives, on the sample
corpus (English wire text, Russian CSV, HTML, Reuters SGML) indexed in several segments.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np
import pytest

from newsearch import index_paths, open_index
from newsearch.analysis import tokens
from newsearch.backends.whoosh import merge
from newsearch.backends.whoosh.evaluate import Evaluator, _adjacent, _in_window
from newsearch.snippets import SnippetQuery, snippets

from .conftest import SAMPLE

FIELDS = ("title", "body")


@pytest.fixture(scope="module")
def sample_index(tmp_path_factory) -> Any:
    path = tmp_path_factory.mktemp("view") / "index"
    # One run per part: several segments, so document numbers are offset across segments
    # (as in a large archive; a run's end would merge this sample's small segments).
    parts = sorted(SAMPLE.iterdir())
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(merge, "END_MERGE_FLOOR", 0)
        for k in range(3):
            index_paths(parts[k::3], path, jobs=1)
    ix = open_index(path, results_cache=0)
    yield ix
    ix.close()


def _docs(ix: Any) -> list[tuple[int, dict[str, Any], dict[str, dict[str, list[int]]]]]:
    """(docnum, stored fields, field → term → positions from analysing the text)."""
    ctx = ix._context()
    out = []
    for docnum in range(ctx.view.n):
        stored = ctx.searcher.stored_fields(docnum)
        per_field: dict[str, dict[str, list[int]]] = {}
        for field in FIELDS:
            found: defaultdict[str, list[int]] = defaultdict(list)
            for terms, pos, _start, _end in tokens(stored.get(field) or "", stored.get("lang")):
                for t in terms:
                    found[t].append(pos)
            per_field[field] = dict(found)
        out.append((docnum, stored, per_field))
    return out


def test_index_has_several_segments(sample_index: Any) -> None:
    assert len(sample_index._context().view.segments) >= 3


def test_doc_positions_are_the_texts_token_positions(sample_index: Any) -> None:
    view = sample_index._context().view
    checked = 0
    for docnum, _stored, per_field in _docs(sample_index):
        for field in FIELDS:
            expected = per_field[field]
            got = view.doc_positions(field, [*expected, "no-such-term"], docnum)
            assert got == expected, (docnum, field)
            checked += len(expected)
    assert checked > 1000


def test_page_positions_are_each_texts_token_positions(sample_index: Any) -> None:
    """A page of documents from several segments, in any order, with terms some of them
    lack: each document gets exactly where its text has each term."""
    view = sample_index._context().view
    docs = _docs(sample_index)
    rng = np.random.default_rng(3)
    for _ in range(20):
        page = sorted(rng.choice(len(docs), size=10, replace=False).tolist())
        terms = sorted({t for d in page[:4] for t in list(docs[d][2]["body"])[:6]})
        got = view.page_positions("body", [*terms, "no-such-term"], page)
        assert list(got) == page
        for d in page:
            body = docs[d][2]["body"]
            assert got[d] == {t: body[t] for t in terms if t in body}, d
        ranked = rng.permutation(page).tolist()  # a page comes in rank order
        again = view.page_positions("body", [*terms, "no-such-term"], ranked)
        assert again == got


Word = tuple[str, ...]  # a phrase word: any of its spellings (terms)


def _words_by_position(per_field: dict[str, list[int]]) -> dict[int, Word]:
    """Position → the terms indexed there (a Cyrillic word may have several lemmas)."""
    at: defaultdict[int, list[str]] = defaultdict(list)
    for t, ps in per_field.items():
        for p in ps:
            at[p].append(t)
    return {p: tuple(sorted(ts)) for p, ts in at.items()}


def _word_positions(per_field: dict[str, list[int]], word: Word) -> list[int]:
    return sorted({p for t in word for p in per_field.get(t, ())})


def test_exact_phrases_found_by_arrays_equal_a_scan(sample_index: Any) -> None:
    """Phrases of words as the text has them, and of words with a second spelling taken
    from elsewhere in the text (any spelling may stand at its place)."""
    ctx = sample_index._context()
    ev = Evaluator(ctx.view, ctx.readers)
    docs = _docs(sample_index)
    phrases: set[tuple[Word, ...]] = set()
    for _docnum, _stored, per_field in docs[::3]:
        by_pos = _words_by_position(per_field["body"])
        for start in range(0, max(by_pos, default=0), 7):
            for n in (2, 3):
                seq = tuple(by_pos.get(start + k) for k in range(n))
                if all(seq):
                    phrases.add(seq)  # type: ignore[arg-type]
                    other = by_pos.get(start + n + 3)
                    if other and start % 2:
                        phrases.add(((*seq[0], *other), *seq[1:]))  # type: ignore[misc]
    phrases.add((("the",), ("the",)))  # a word asked for twice
    assert len(phrases) > 50
    assert any(len(w) > 1 for seq in phrases for w in seq)
    for seq in sorted(phrases):
        expected = [d for d, _s, per_field in docs
                    if _adjacent([_word_positions(per_field["body"], w) for w in seq])]
        got = ev.phrase_docs("body", seq, 0)
        assert sorted(np.asarray(got).tolist()) == expected, seq


def test_near_pairs_found_by_arrays_equal_a_scan(sample_index: Any) -> None:
    """Two words (each any of its spellings) at most N apart in either order, as the
    per-document window scan finds."""
    ctx = sample_index._context()
    ev = Evaluator(ctx.view, ctx.readers)
    docs = _docs(sample_index)
    pairs: set[tuple[Word, Word]] = set()
    for _docnum, _stored, per_field in docs[::2]:
        by_pos = _words_by_position(per_field["body"])
        for start in range(0, max(by_pos, default=0), 5):
            a, b = by_pos.get(start), by_pos.get(start + 1 + start % 4)
            if a and b and a != b:
                pairs.add((b, a) if start % 2 else (a, b))
                other = by_pos.get(start + 9)
                if other and start % 3 == 0 and other != b:
                    pairs.add((tuple(sorted({*a, *other})), b))
    assert len(pairs) > 50
    assert any(len(w) > 1 for pair in pairs for w in pair)
    for pair in sorted(pairs):
        for slop in (1, 3):
            expected = []
            for d, _s, per_field in docs:
                at = {w: _word_positions(per_field["body"], w) for w in pair}
                if all(at.values()) and _in_window(at, dict.fromkeys(pair, 1), 1 + slop):
                    expected.append(d)
            got = ev.phrase_docs("body", pair, slop)
            assert sorted(np.asarray(got).tolist()) == expected, (pair, slop)


def test_snippets_from_positions_equal_snippets_from_analysis(sample_index: Any) -> None:
    view = sample_index._context().view
    compared = 0
    for docnum, stored, per_field in _docs(sample_index):
        body = stored.get("body") or ""
        by_pos = {p: t for t, ps in per_field["body"].items() for p in ps}
        if not by_pos:
            continue
        last = max(by_pos)
        queries = [
            SnippetQuery(terms={by_pos[0]}),
            SnippetQuery(terms={by_pos[last], by_pos[last // 2]}),
        ]
        if last > 3 and by_pos.get(1) and by_pos.get(2):
            queries.append(SnippetQuery(terms={by_pos[last]}, phrases=[
                (frozenset([by_pos[1]]), frozenset([by_pos[2]]))]))
        for q in queries:
            terms = set(q.terms).union(*(o for seq in q.phrases for o in seq))
            positions = view.doc_positions("body", terms, docnum)
            assert positions is not None
            assert snippets(body, q, positions=positions) == snippets(body, q), (docnum, q)
            compared += 1
    assert compared > 50


def test_snippets_fall_back_when_positions_do_not_fit_the_text() -> None:
    """Positions that do not match the text (a stale or foreign index) never mark the wrong
    word: the text is analysed instead."""
    text = "Oil prices rose. Brent crude oil gained."
    q = SnippetQuery(terms={"oil"})
    assert snippets(text, q, positions={"oil": [1, 4]}) == snippets(text, q)
    assert snippets(text, q, positions={"oil": [99]}) == snippets(text, q)
    assert "<mark>Oil</mark>" in snippets(text, q, positions={"oil": [0, 5]})[0]


def test_search_results_use_the_positions(sample_index: Any, monkeypatch: Any) -> None:
    """A search's snippets come from the positions path: analysing words is not needed."""
    import newsearch.snippets as snip

    def no_text_scan(*_a: Any) -> Any:
        raise AssertionError("the text was analysed")

    monkeypatch.setattr(snip, "_spans", no_text_scan)
    res = sample_index.search('"central bank"')
    assert res.total and all("<mark>" in s for h in res.hits for s in h.snippets[:1])


@pytest.mark.parametrize("prefix", ["a", "ban", "econom", "мос", "zz"])
def test_prefix_terms_from_the_arrays_equal_whoosh_expansion(sample_index: Any,
                                                             prefix: str) -> None:
    from newsearch.backends.whoosh.index import PREFIX_SCAN, _prefixed

    ctx = sample_index._context()
    fields = ("title", "subtitle", "body")
    for limit in (3, 200):
        assert ctx.view.prefix_terms(fields, prefix, limit, PREFIX_SCAN * limit) == \
            _prefixed(ctx.searcher.reader(), fields, prefix, limit)


@pytest.mark.parametrize("prefix", ["a", "ban", "bank~", "econom", "mos"])
def test_terms_a_prefix_found_read_the_same_postings_without_lookups(sample_index: Any,
                                                                    prefix: str) -> None:
    """The terms of a prefix (or a word's family) are read at the places the prefix's range
    gave, in each segment and field; the same postings and positions as by lookups."""
    from newsearch.backends.whoosh.index import PREFIX_SCAN
    from newsearch.backends.whoosh.view import View

    ctx = sample_index._context()
    view = ctx.view
    fields = ("title", "subtitle", "body")
    view._known.clear()
    terms = view.prefix_terms(fields, prefix, 50, PREFIX_SCAN * 50)
    assert terms or prefix == "bank~"
    assert all((f, t) in view._known for f in fields for t in terms)
    # A fresh view of the same generation (empty caches, nothing known) looks each term up.
    fresh = View(view.generation, [(s, off, ctx.readers[s.key]) for s, off in view.segments],
                 type(view._cache)(10**6), type(view._positions_cache)(10**6))
    docs = list(range(0, view.n, 7))
    for f in fields:
        for t in terms:
            for got, want in zip(view.postings(ctx.readers, f, t),
                                 fresh.postings(ctx.readers, f, t), strict=True):
                assert got.tolist() == want.tolist()
        assert view.page_positions(f, terms, docs) == fresh.page_positions(f, terms, docs)


@pytest.mark.parametrize("few_hits", [0, 10**9])  # both ways to a hit's further labels
def test_facets_count_what_each_hit_holds(sample_index: Any, monkeypatch: Any,
                                          few_hits: int) -> None:
    """Facets from the view's per-document tables (a first label per document, further
    labels aside, a month per document) count, over the hits given as a mask or as document
    numbers, what a plain loop over each hit's (document, label) pairs and its day gives."""
    from collections import Counter
    from datetime import date, timedelta

    from newsearch.backends.whoosh import facets
    from newsearch.backends.whoosh.facets import date_facet, lang_facet, section_facet
    from newsearch.backends.whoosh.view import NO_DAY

    monkeypatch.setattr(facets, "FEW_HITS", few_hits)
    view = sample_index._context().view
    # The sample holds Reuters articles in several topics and undated pages: both cases.
    assert len(view.sec_table.extra_doc) and (view.days == NO_DAY).any()

    def plain(names: list[str], docs: np.ndarray, labels: np.ndarray,
              mask: np.ndarray) -> list[tuple[str, int]]:
        c = Counter(names[int(i)] for d, i in zip(docs, labels, strict=True) if mask[d])
        return sorted(c.items(), key=lambda kv: (-kv[1], kv[0]))

    def plain_dates(mask: np.ndarray, unit: str) -> list[tuple[str, int]]:
        cut = {"day": 10, "month": 7, "year": 4}[unit]
        c = Counter((date(1970, 1, 1) + timedelta(days=int(d))).isoformat()[:cut]
                    for d in view.days[mask] if d != NO_DAY)
        return sorted(c.items())

    rng = np.random.default_rng(7)
    for density in (0.0, 0.01, 0.02, 0.1, 0.5, 1.0):
        mask = rng.random(view.n) < density
        ids = np.flatnonzero(mask)
        for hits in (ids, None):
            assert [(f.value, f.count) for f in section_facet(view, mask, hits)] == \
                plain(view.sec_names, view.sec_doc, view.sec_id, mask)
            assert [(f.value, f.count) for f in lang_facet(view, mask, hits)] == \
                plain(view.lang_names, view.lang_doc, view.lang_id, mask)
            for granularity in ("day", "month", "year"):
                got, g = date_facet(view, mask, granularity, hits)
                assert g == granularity
                assert [(f.value, f.count) for f in got] == plain_dates(mask, granularity)
            got, g = date_facet(view, mask, None, hits)
            assert [(f.value, f.count) for f in got] == (plain_dates(mask, g) if g else [])


QS = ["bank", "prices", "central bank OR rates", '"central bank"', "econom*", "Токаев",
      "almaty~", "said -bank"]


@pytest.mark.parametrize("fill_after", [16, 10**9])  # both ways back to zeros
def test_scores_at_the_hits_equal_scores_over_every_document(sample_index: Any,
                                                              monkeypatch: Any,
                                                              fill_after: int) -> None:
    """BM25F at the hits, from scratch arrays each thread reuses, equals the scores over
    every document: query after query, after a query that failed midway, and in threads."""
    import threading

    from newsearch.backends.whoosh import scoring
    from newsearch.backends.whoosh.evaluate import evaluate
    from newsearch.plan import scoring_leaves
    from newsearch.query import parse_query

    monkeypatch.setattr(scoring, "FILL_AFTER", fill_after)
    ix = sample_index
    ctx = ix._context()
    cases = []
    for q in QS:
        compiled = ix._compile(parse_query(q), ctx)
        mask = evaluate(compiled.plan, Evaluator(ctx.view, ctx.readers))
        leaves = scoring_leaves(compiled.plan)
        cases.append((leaves, mask, np.flatnonzero(mask),
                      scoring.bm25_scores(ctx.view, ctx.readers, leaves, mask)))
    assert [q for q, (_l, _m, ids, _s) in zip(QS, cases, strict=True) if not len(ids)] == []

    def check() -> None:
        for leaves, mask, ids, full in cases:
            got = scoring.bm25_at(ctx.view, ctx.readers, leaves, mask, ids)
            np.testing.assert_array_equal(got, full[ids])

    check()
    check()
    real = scoring._length_norms
    leaves, mask, ids, _full = cases[2]  # two words, each in title and body
    for fail_at in range(1, 5):  # fail at each point of the query: between fields, words
        calls = 0

        def failing(view: Any, field: str, fail_at: int = fail_at) -> np.ndarray:
            nonlocal calls
            calls += 1
            if calls == fail_at:
                raise RuntimeError("disk gone")
            return real(view, field)

        monkeypatch.setattr(scoring, "_length_norms", failing)
        with pytest.raises(RuntimeError):
            scoring.bm25_at(ctx.view, ctx.readers, leaves, mask, ids)
        assert scoring._pairs and not any(a.any() for pair in scoring._pairs for a in pair), \
            fail_at
    monkeypatch.setattr(scoring, "_length_norms", real)
    check()
    errors: list[BaseException] = []

    def run() -> None:
        try:
            for _ in range(20):
                check()
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=run) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_long_position_lists_give_the_same_positions(sample_index: Any, monkeypatch: Any) -> None:
    """A long posting list's positions are found by summing up to the wanted postings (no
    offsets kept); forced here on every list, they equal those of the kept offsets."""
    import newsearch.backends.whoosh.view as view_module
    from newsearch.backends.whoosh.view import View

    ctx = sample_index._context()
    view = ctx.view

    def fresh() -> View:
        return View(view.generation, [(s, off, ctx.readers[s.key]) for s, off in view.segments],
                    type(view._cache)(10**6), type(view._positions_cache)(10**6))

    short = fresh()
    monkeypatch.setattr(view_module, "SHORT_SUM", 0)
    long = fresh()
    terms = sorted({t for _d, _f, per_field in _docs(sample_index)
                    for t in per_field.get("body", {})})[:300]
    docs = list(range(0, view.n, 3))
    assert terms and short.exact_phrase_docs("body", (("central",), ("bank",)),
                                             np.arange(view.n, dtype=np.int64)).size
    assert long.page_positions("body", terms, docs) == short.page_positions("body", terms, docs)
    every = np.arange(view.n, dtype=np.int64)
    for pair in [(("bank",), ("central",)), (("central",), ("bank",))]:
        assert long.exact_phrase_docs("body", pair, every).tolist() == \
            short.exact_phrase_docs("body", pair, every).tolist()


def test_month_numbers_follow_the_calendar_before_and_after_1970() -> None:
    from datetime import date

    from newsearch.backends.whoosh.view import NO_DAY, _months

    days_of = [date(1850, 1, 1), date(1969, 1, 31), date(1969, 12, 31), date(1970, 1, 1),
               date(2020, 2, 29), date(2020, 3, 1)]
    epoch = date(1970, 1, 1)
    days = np.array([(d - epoch).days for d in days_of] + [NO_DAY], dtype=np.int32)
    want = [(d.year - 1970) * 12 + d.month - 1 for d in days_of] + [NO_DAY]
    assert _months(days).tolist() == want
