"""Searching a small literal archive: the query language, ranking, facets and snippets."""

from __future__ import annotations

import json
import re
import threading
from datetime import date
from pathlib import Path

import pytest

from newsearch import ArticleNotFound, QueryError, index_paths, open_index
from newsearch.query import MAX_QUERY_CHARS, parse_query
from newsearch.suggest import Vocabulary

ARTICLES = [
    # id, title, body, date, section
    ("boe-1", "Bank of England holds rates",
     "The Bank of England kept its main interest rate unchanged on Thursday.",
     "2023-01-05T10:00:00Z", "Business"),
    ("boe-2", "Bank lending in England slows",
     "Lending by high street banks in England slowed for a third month.",
     "2023-02-10T10:00:00Z", "Business"),
    ("almaty-ru", "В Алматы начали восстанавливать здание акимата",
     "Президент Касым-Жомарт Токаев заявил, что Алматы будет восстановлен.",
     "2022-01-14T12:40:00Z", "World"),
    ("almaty-en", "Almaty rebuilds after unrest",
     "President Kassym-Jomart Tokayev said Almaty would be rebuilt within a year.",
     "2022-01-20T09:00:00Z", "World"),
    ("zurich", "Talks in Zürich",
     "Officials met in Zürich to discuss a peace conference in Switzerland.",
     "2023-03-01T08:00:00Z", "World"),
    ("oil-1", "Oil prices rise on supply worries",
     "Crude oil prices rose as OPEC signalled further output cuts. Economists expect more.",
     "2023-03-15T08:00:00Z", "Business"),
    ("oil-2", "Petroleum exports climb",
     "Petroleum exports climbed after a new pipeline opened. Oil output also rose.",
     "2023-06-15T08:00:00Z", "Business"),
    ("script", "A page with markup",
     "Some sites send <script>alert(1)</script> inside the text & other <b>tags</b>.",
     "2023-06-20T08:00:00Z", "Tech"),
    ("economy", "Economic outlook darkens",
     "The economy slowed and economists cut forecasts for the economic year.",
     "2021-05-01T08:00:00Z", "Business"),
    ("undated", "Undated feature about gardens",
     "Gardens in spring. Tulips and daffodils.", None, "Life"),
]

LONG_BODY = ("Filler sentence about nothing in particular. " * 900) + \
    "At the very end the word zeppelin finally appears."


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    lines = [json.dumps({"id": i, "title": t, "body": b, "date": d, "section": s})
             for i, t, b, d, s in ARTICLES]
    lines.append(json.dumps({"id": "long", "title": "A very long report", "body": LONG_BODY,
                             "date": "2020-01-01", "section": "Life"}))
    lines.append(json.dumps({"id": "standfirst", "title": "River port reopens",
                             "subtitle": "The Kyiv river port reopened on Monday.",
                             "body": "Dock workers returned after repairs were finished.",
                             "date": "2019-04-01", "section": "Transport",
                             "tags": ["Ukraine", "Ports"]}))
    (root / "feed.jsonl").write_text("\n".join(lines), encoding="utf-8")
    index = root / "index"
    index_paths([root / "feed.jsonl"], index, jobs=1)
    return index


@pytest.fixture(scope="module")
def ix(archive: Path):
    with open_index(archive) as idx:
        yield idx


def titles(results) -> list[str]:
    return [h.title for h in results.hits]


def ids(results) -> set[str]:
    return {h.title for h in results.hits}


# --- the query language ----------------------------------------------------------------------


def test_words_are_all_required(ix) -> None:
    r = ix.search("oil prices")
    assert titles(r) == ["Oil prices rise on supply worries"]


def test_or_not_and_minus(ix) -> None:
    assert r_titles(ix, "petroleum OR crude") == {"Oil prices rise on supply worries",
                                                  "Petroleum exports climb"}
    assert r_titles(ix, "oil -petroleum") == {"Oil prices rise on supply worries"}
    assert r_titles(ix, "oil NOT crude") == {"Petroleum exports climb"}


def r_titles(ix, q: str, **kw) -> set[str]:
    return {h.title for h in ix.search(q, per_page=100, **kw).hits}


def test_phrase_matches_only_the_phrase_and_is_marked_whole(ix) -> None:
    r = ix.search('"bank of england"')
    assert titles(r) == ["Bank of England holds rates"]
    assert "<mark>Bank of England</mark>" in r.hits[0].snippets[0]
    assert r_titles(ix, "bank england") >= {"Bank of England holds rates",
                                            "Bank lending in England slows"}


def test_proximity(ix) -> None:
    assert r_titles(ix, '"lending england"') == set()
    assert r_titles(ix, '"lending england"~6') == {"Bank lending in England slows"}


def test_proximity_is_in_any_order_with_at_most_n_words_between(ix) -> None:
    # Body: "Lending by high street banks in England ...": five words between.
    assert r_titles(ix, 'body:"england lending"~5') == {"Bank lending in England slows"}
    assert r_titles(ix, 'body:"england lending"~4') == set()
    assert r_titles(ix, '"england lending"') == set()  # a phrase keeps its order
    assert r_titles(ix, '"england lending"~1') == {"Bank lending in England slows"}  # title


def test_field_prefixes(ix) -> None:
    assert r_titles(ix, "title:england") == {"Bank of England holds rates",
                                             "Bank lending in England slows"}
    assert r_titles(ix, "body:thursday") == {"Bank of England holds rates"}
    assert r_titles(ix, "title:thursday") == set()
    assert r_titles(ix, "section:world almaty") == {
        "В Алматы начали восстанавливать здание акимата", "Almaty rebuilds after unrest"}
    assert r_titles(ix, "section:tech") == {"A page with markup"}


def test_dates_in_queries(ix) -> None:
    assert r_titles(ix, "oil date:2023-03") == {"Oil prices rise on supply worries"}
    assert r_titles(ix, "oil date:[2023-04-01 TO 2023-12-31]") == {"Petroleum exports climb"}
    assert r_titles(ix, "almaty date:[* TO 2022-01-14]") == {
        "В Алматы начали восстанавливать здание акимата"}
    assert len(r_titles(ix, "date:2023")) == 6


def test_prefix_and_fuzzy(ix) -> None:
    assert r_titles(ix, "econom*") == {"Oil prices rise on supply worries",
                                       "Economic outlook darkens"}
    assert r_titles(ix, "almaty~") >= {"Almaty rebuilds after unrest"}
    assert r_titles(ix, "zuerich~2") == {"Talks in Zürich"}


def test_grouping(ix) -> None:
    assert r_titles(ix, "(petroleum OR crude) rose") == {"Oil prices rise on supply worries",
                                                        "Petroleum exports climb"}


def test_script_accents_and_case_do_not_matter(ix) -> None:
    both = {"В Алматы начали восстанавливать здание акимата", "Almaty rebuilds after unrest"}
    assert r_titles(ix, "almaty") == both
    assert r_titles(ix, "АЛМАТЫ") == both
    assert r_titles(ix, "Tokaev") == both
    assert r_titles(ix, "Zurich") == {"Talks in Zürich"}


@pytest.mark.parametrize("q", ['"bank of', "(oil OR", "oil AND", "OR oil", "NOT", "oil ((",
                               "oil )", "title:", "-", "oil OR OR gas", '"', "(((", "date:"])
def test_malformed_queries_are_repaired_or_rejected_cleanly(ix, q: str) -> None:
    try:
        r = ix.search(q)
    except QueryError as exc:
        assert str(exc).startswith("bad query")
    else:
        assert r.notices  # says what it repaired


def test_strict_mode_rejects_what_lenient_mode_repairs(ix) -> None:
    with pytest.raises(QueryError, match="unbalanced quote"):
        ix.search('"bank of', strict=True)


def test_very_long_queries_are_capped(ix) -> None:
    q = " ".join(["oil"] * 5000)
    r = ix.search(q)
    assert any("cut the query" in n for n in r.notices)
    assert len(parse_query(q).text) <= MAX_QUERY_CHARS


def test_natural_language_query_falls_back_to_any_word(ix) -> None:
    r = ix.search("what did economists say about oil exports and the pipeline")
    assert r.fallback == "any-word" and r.total >= 2
    assert any("any of them" in n for n in r.notices)
    assert r.hits[0].title == "Petroleum exports climb"  # matches most of the words


# --- filters, sorting, paging -----------------------------------------------------------------


def test_since_until_are_inclusive_on_every_hit(ix) -> None:
    r = ix.search("oil OR bank OR almaty", since="2022-01-14", until="2023-02-10", per_page=100)
    assert r.total == 4
    assert all(date(2022, 1, 14) <= h.date.date() <= date(2023, 2, 10) for h in r.hits)


def test_section_filter_is_case_insensitive_and_repeatable(ix) -> None:
    assert r_titles(ix, "oil OR almaty", sections=["business"]) == {
        "Oil prices rise on supply worries", "Petroleum exports climb"}
    assert len(r_titles(ix, "oil OR almaty", sections=["business", "WORLD"])) == 4


def test_a_section_that_does_not_exist_is_said_with_the_close_ones(ix) -> None:
    r = ix.search("oil", sections=["Busines"])
    assert r.total == 0
    assert r.notices == ["there is no section “Busines”; close ones: Business"]
    # In the query too, and among existing sections only the missing one is named.
    r = ix.search("oil section:wrld", sections=["business", "Transprot"])
    assert r.notices == ["there is no section “Transprot”; close ones: Transport",
                         "there is no section “wrld”; close ones: World"]
    # Nothing close: the index's sections are listed when they are few.
    (notice,) = ix.search("oil", sections=["sport"]).notices
    assert notice == ("there is no section “sport”; the sections are Business, Life, Tech, "
                      "Transport, World")
    assert ix.search("oil", sections=["business"]).notices == []


def test_sort_by_date_is_newest_first_and_undated_last(ix) -> None:
    r = ix.search("gardens OR oil OR bank", sort="date", per_page=100)
    dates = [h.date for h in r.hits]
    assert dates[-1] is None
    real = [d for d in dates if d]
    assert real == sorted(real, reverse=True)


def test_recency_prefers_newer_among_similar(ix) -> None:
    rel = ix.search("oil", sort="relevance")
    rec = ix.search("oil", sort="recency", half_life_days=7)
    assert titles(rel)[0] == "Oil prices rise on supply worries"
    assert titles(rec)[0] == "Petroleum exports climb"  # three months newer
    assert ix.search("oil", sort="recency", half_life_days=100_000).hits[0].title == \
        titles(rel)[0]


def test_a_split_second_half_life_leaves_old_articles_at_the_floor_quietly(ix) -> None:
    """Any positive half-life is accepted: with one of 1e-320 days every article older than
    the index's newest has the floor factor (its age in half-lives overflows to infinity),
    so the order is relevance's, and nothing warns."""
    import warnings

    from newsearch.ranking import RECENCY_FLOOR

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tiny = ix.search("oil", sort="recency", half_life_days=1e-320)
    rel = ix.search("oil", sort="relevance")
    assert ids(tiny) and [h.id for h in tiny.hits] == [h.id for h in rel.hits]
    for t, r in zip(tiny.hits, rel.hits, strict=True):
        assert t.score == pytest.approx(r.score * RECENCY_FLOOR)


def test_pages(ix) -> None:
    p1 = ix.search("oil OR bank OR almaty OR zurich", per_page=2)
    p2 = ix.search("oil OR bank OR almaty OR zurich", per_page=2, page=2)
    assert p1.total == p2.total == 7
    assert not ids(p1) & ids(p2)
    assert [h.rank for h in p2.hits] == [3, 4]


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"sort": "popular"}, "sort must be"),
    ({"per_page": -1}, "per_page"),
    ({"per_page": 1000}, "per_page"),
    ({"since": "yesterday"}, "since “yesterday” is not a valid date: use YYYY-MM-DD, YYYY-MM"),
    ({"until": "2023-02-29"}, "until “2023-02-29” is not a valid date"),
    ({"since": "2023-05", "until": "2023-04"}, "since 2023-05-01 is after until 2023-04-30"),
])
def test_bad_options_raise_query_error(ix, kwargs, message) -> None:
    with pytest.raises(QueryError, match=message) as err:
        ix.search("oil", **kwargs)
    assert err.value.parameter == next(iter(kwargs))  # names the option, not the query
    assert not str(err.value).startswith("bad query")


# --- facets ----------------------------------------------------------------------------------


def test_section_facet_counts_match_filtered_totals(ix) -> None:
    q = "oil OR bank OR almaty OR zurich OR markup"
    r = ix.search(q)
    facet = {f.value: f.count for f in r.facets["section"]}
    assert facet == {"Business": 4, "World": 3, "Tech": 1}
    for name, count in facet.items():
        assert ix.search(q, sections=[name]).total == count


def test_date_histogram_granularity_follows_the_span(ix) -> None:
    r = ix.search("almaty")
    assert r.date_granularity == "day"
    assert [(f.value, f.count) for f in r.facets["date"]] == [("2022-01-14", 1),
                                                               ("2022-01-20", 1)]
    r = ix.search("oil OR bank")
    assert r.date_granularity == "month"
    assert sum(f.count for f in r.facets["date"]) == r.total
    r = ix.search("oil OR economy OR almaty OR report")
    assert r.date_granularity == "year"
    assert [f.value for f in r.facets["date"]] == ["2020", "2021", "2022", "2023"]
    r = ix.search("oil", date_granularity="day")
    assert [f.value for f in r.facets["date"]] == ["2023-03-15", "2023-06-15"]


def test_undated_articles_are_not_in_the_histogram(ix) -> None:
    r = ix.search("gardens")
    assert r.total == 1 and r.facets["date"] == []


def test_facets_can_be_skipped(ix) -> None:
    assert ix.search("oil", facets=False).facets == {}


def test_per_page_zero_gives_counts_and_facets_only(ix) -> None:
    r = ix.search("oil OR bank", per_page=0)
    assert r.hits == [] and r.total == ix.search("oil OR bank").total
    assert r.facets["section"] == ix.search("oil OR bank").facets["section"]


# --- snippets ---------------------------------------------------------------------------------


def test_latin_query_marks_original_cyrillic(ix) -> None:
    r = ix.search("Tokayev")
    ru = next(h for h in r.hits if h.title.startswith("В Алматы"))
    assert "<mark>Токаев</mark>" in ru.snippets[0]


def test_accented_original_is_marked(ix) -> None:
    r = ix.search("zurich")
    assert "<mark>Zürich</mark>" in r.hits[0].snippets[0]


def test_article_html_is_escaped_in_snippets_and_raw_in_show(ix) -> None:
    r = ix.search("alert")
    snippet = r.hits[0].snippets[0]
    assert "<script>" not in snippet and "&lt;script&gt;" in snippet
    assert "&amp;" in snippet and "<b>" not in snippet
    assert "<mark>alert</mark>" in snippet
    article = ix.get(r.hits[0].id)
    assert "<script>alert(1)</script>" in article.to_dict()["body"]


def test_late_match_in_a_long_article_is_found(ix) -> None:
    r = ix.search("zeppelin")
    assert len(LONG_BODY) > 32_000
    assert "<mark>zeppelin</mark>" in r.hits[0].snippets[0]
    assert len(r.hits[0].snippets[0]) < 400


def test_a_sign_before_a_field_negates_it(ix) -> None:
    for q in ("almaty -title:almaty", "oil -section:business", "oil -date:2023-03",
              "oil -date:[2023-03-01 TO 2023-03-31]"):
        negated = ix.search(q.replace(" -", " NOT "))
        r = ix.search(q)
        assert r.total == negated.total < ix.search(q.split(" -")[0]).total, q
        assert r.notices == [], q


def test_explicit_and_or_quotes_keep_every_word_required(ix) -> None:
    loose = ix.search("oil prices output pipeline")
    assert loose.fallback == "any-word" and loose.total > 0
    assert ix.search("oil prices output pipeline AND").fallback == "any-word"  # dangling
    for q in ("oil AND prices AND output AND pipeline", 'oil prices "output" pipeline'):
        r = ix.search(q)
        assert (r.total, r.fallback) == (0, None), q


def test_three_words_few_articles_have_widen_with_those_articles_first(ix) -> None:
    r = ix.search("oil prices output")
    assert r.fallback == "any-word" and r.total > 1
    assert titles(r)[0] == "Oil prices rise on supply worries"  # the one with all three
    assert r.notices[-1].startswith("only 1 article ")
    # Two words stay required while any article has both.
    two = ix.search("oil prices")
    assert two.fallback is None and "Oil prices rise on supply worries" in titles(two)


def test_tags_match_regardless_of_case(ix) -> None:
    assert titles(ix.search("tags:ukraine")) == ["River port reopens"]
    assert ix.search("tags:UKRAINE").total == ix.search("tags:Ukraine").total == 1


def test_an_unknown_field_prefix_is_searched_as_a_word_and_said(ix) -> None:
    r = ix.search("places:zurich")
    assert any("places: is not a field" in n for n in r.notices)
    assert r.total == ix.search("places zurich").total
    # Negated, the whole "places:zurich" is excluded (there is no such phrase), not "places".
    assert ix.search("zurich -places:zurich").total == ix.search("zurich").total == 1


def test_fuzzy_edits_are_capped(ix) -> None:
    r = ix.search("oil~9")
    assert any("at most 2 edits" in n for n in r.notices)
    assert r.total == ix.search("oil~2").total


def test_since_and_until_take_months_and_years(ix) -> None:
    assert titles(ix.search("oil", since="2023-06")) == ["Petroleum exports climb"]
    assert titles(ix.search("oil", until="2023-03")) == ["Oil prices rise on supply worries"]
    assert ix.search("oil", since="2023", until="2023").total == ix.search("oil").total


def test_reversed_dates_are_an_error_or_swapped(ix) -> None:
    with pytest.raises(QueryError, match="after until"):
        ix.search("oil", since="2023-06-01", until="2023-01-01")
    r = ix.search("oil date:[2023-12-31 TO 2023-04-01]")
    assert titles(r) == ["Petroleum exports climb"]
    assert any("swapped" in n for n in r.notices)


def test_library_arguments_of_the_wrong_shape(ix) -> None:
    assert ix.search("oil", sections="business").total == ix.search(
        "oil", sections=["business"]).total == 2
    with pytest.raises(QueryError):
        ix.search(None)  # type: ignore[arg-type]


def test_a_typo_is_suggested_even_when_the_fallback_finds_articles(ix) -> None:
    r = ix.search("petrolium oil bank england")
    assert r.fallback == "any-word" and r.total >= 3
    assert r.suggestion == "petroleum oil bank england"


def test_a_match_in_the_standfirst_only_is_shown_from_the_standfirst(ix) -> None:
    (hit,) = ix.search("Kyiv").hits
    assert hit.snippets == ["The <mark>Kyiv</mark> river port reopened on Monday."]
    (hit,) = ix.search("dock workers").hits
    assert hit.snippets == ["<mark>Dock</mark> <mark>workers</mark> returned after repairs "
                            "were finished."]


def test_at_most_three_snippets_each_with_a_match(ix) -> None:
    r = ix.search("filler")
    snips = r.hits[0].snippets
    assert 1 <= len(snips) <= 3 and all("<mark>" in s for s in snips)


def test_suggestion_for_a_misspelling(ix) -> None:
    r = ix.search("petrolium")
    assert r.total == 0 and r.suggestion == "petroleum"
    assert ix.search("petroleum").suggestion is None


# --- the JSON and the library object ----------------------------------------------------------


def test_results_json_shape(ix) -> None:
    d = ix.search("oil").to_dict()
    assert d.keys() >= {"query", "total", "page", "took_ms", "suggestion", "hits", "facets"}
    hit = d["hits"][0]
    assert hit.keys() >= {"id", "title", "date", "section", "url", "source", "score", "snippets"}
    assert isinstance(hit["section"], list)
    assert re.match(r"\d{4}-\d\d-\d\dT", hit["date"])
    assert d["facets"].keys() == {"section", "lang", "date"}
    assert d["facets"]["section"][0].keys() == {"value", "count"}
    json.dumps(d)


def test_get_returns_the_full_article(ix) -> None:
    hit = ix.search("zurich").hits[0]
    a = ix.get(hit.id).to_dict()
    assert a["title"] == "Talks in Zürich" and a["section"] == ["World"]
    assert a["date"].startswith("2023-03-01") and a["body"].startswith("Officials met")
    with pytest.raises(ArticleNotFound):
        ix.get("no-such-id")


def test_one_instance_serves_many_threads_and_sees_new_commits(tmp_path: Path) -> None:
    root = tmp_path / "c"
    root.mkdir()
    (root / "a.txt").write_text("Harbour strike\n\nDockers stopped work at the harbour.\n")
    index = tmp_path / "ix"
    index_paths([root], index, jobs=1)
    errors: list[BaseException] = []
    seen: list[int] = []
    with open_index(index) as shared:
        def worker() -> None:
            try:
                for _ in range(30):
                    r = shared.search("harbour")
                    seen.append(r.total)
                    assert r.hits and r.hits[0].snippets
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker) for _ in range(8)]
        for t in threads:
            t.start()
        (root / "b.txt").write_text("Harbour reopens\n\nThe harbour reopened today.\n")
        index_paths([root], index, jobs=1)
        for t in threads:
            t.join()
        assert errors == []
        assert set(seen) <= {1, 2}
        assert shared.search("harbour").total == 2  # the same object sees the new commit


def test_repeated_queries_come_from_the_cache_until_a_commit(tmp_path: Path) -> None:
    root = tmp_path / "c"
    root.mkdir()
    (root / "a.txt").write_text("Harbour strike\n\nDockers stopped work at the harbour.\n")
    index_paths([root], tmp_path / "ix", jobs=1)
    with open_index(tmp_path / "ix") as cached, \
            open_index(tmp_path / "ix", results_cache=0) as uncached:
        first = cached.search("harbour")
        first.hits.clear()  # callers may change what they get back
        again = cached.search("harbour")
        assert again.total == 1 and len(again.hits) == 1
        assert again.to_dict()["hits"] == uncached.search("harbour").to_dict()["hits"]
        (root / "b.txt").write_text("Harbour reopens\n\nThe harbour reopened today.\n")
        index_paths([root], tmp_path / "ix", jobs=1)
        assert cached.search("harbour").total == 2  # a new generation is never stale


def test_the_results_cache_is_bounded_by_bytes(archive: Path) -> None:
    """2,048 distinct pages of 100 hits once grew a server by 270 MB: the cache now holds
    pages up to a memory budget, least recently used out first."""
    budget = 60_000
    words = ["bank", "oil", "england", "almaty", "zurich", "economy", "gardens", "tulips",
             "report", "exports", "prices", "lending"]
    queries = [f"{a} OR {b}" for i, a in enumerate(words) for b in words[i + 1:]]
    with open_index(archive, results_cache_bytes=budget) as ix:
        cache = ix._results
        for q in queries:
            ix.search(q, per_page=100)
            assert cache.bytes <= budget
            assert cache.bytes == sum(cost for _, cost in cache.items.values())
        assert 0 < len(cache.items) < len(queries)  # older pages made room
        newest = ix.search(queries[-1], per_page=100)
        assert ix.search(queries[-1], per_page=100).to_dict()["hits"] == newest.to_dict()["hits"]
    with open_index(archive, results_cache_bytes=0) as ix:
        ix.search("oil")
        assert not ix._results.items
    # The default budget is documented and large enough for the default cache size of small
    # pages, not for 2,048 pages of 100 hits.
    from newsearch.search import RESULTS_CACHE_BYTES, RESULTS_CACHE_SIZE

    assert 16 * 2**20 <= RESULTS_CACHE_BYTES <= 64 * 2**20 and RESULTS_CACHE_SIZE == 2048


def test_the_size_estimate_of_a_cached_page_is_close_to_what_it_holds(archive: Path) -> None:
    import gc
    import tracemalloc

    from newsearch.search import _results_bytes

    with open_index(archive, results_cache=0) as ix:
        for q in ("bank OR oil OR almaty OR zurich OR gardens", "economy", "tulips OR zeppelin"):
            ix.search(q, per_page=100)  # warm every other cache first
            gc.collect()
            tracemalloc.start()
            try:
                before = tracemalloc.get_traced_memory()[0]
                page = ix.search(q, per_page=100)
                gc.collect()
                held = tracemalloc.get_traced_memory()[0] - before
            finally:
                tracemalloc.stop()
            assert 0.9 * held <= _results_bytes(page) <= 1.6 * held, (q, held)


def test_searching_after_incremental_deletes_and_updates(tmp_path: Path) -> None:
    # Whoosh marks removed articles deleted inside their segment; terms and sections whose
    # every posting is deleted must read as empty, not crash.
    root, index = tmp_path / "corpus", tmp_path / "index"
    for section, name, title, body in [
        ("tech", "a.txt", "Plover chips ship", "Plover shipped new chips to cafes."),
        ("tech", "b.txt", "Cafe robots arrive", "Robots now serve coffee in a cafe."),
        ("arts", "c.txt", "Gallery reopens", "The gallery reopened with a robots show."),
    ]:
        (root / section).mkdir(parents=True, exist_ok=True)
        (root / section / name).write_text(f"{title}\n\n{body}\n", encoding="utf-8")
    index_paths([root], index, jobs=1)
    ix = open_index(index)
    assert ix.search("robots").total == 2
    (root / "tech" / "a.txt").unlink()  # "plover" now only in deleted postings
    (root / "arts" / "c.txt").unlink()  # section Arts now only in deleted documents
    (root / "tech" / "b.txt").write_text("Cafe robots leave\n\nThe robots left the cafe.\n")
    report = index_paths([root], index, jobs=1)
    assert (report.deleted, report.updated, report.documents) == (2, 1, 1)
    for q in ("plover", "gallery", "cafe", "section:arts", '"new chips"', "plov*"):
        ix.search(q)  # no exception for any of them
    assert ix.search("plover").total == ix.search("gallery").total == 0
    assert titles(ix.search("cafe")) == ["Cafe robots leave"]
    assert ix.search("robots", sections=["Arts"]).total == 0
    assert {f.value for f in ix.search("robots").facets["section"]} == {"Tech"}


def test_a_query_of_common_words_only_searches_them(ix) -> None:
    r = ix.search("the of")
    assert r.total > 0 and not any("ignored" in n for n in r.notices)
    assert ix.search("the economy").notices == ["ignored common words: the"]


def test_a_word_too_long_to_be_indexed_is_named_as_such(ix) -> None:
    r = ix.search("x" * 200)
    assert r.total == 0 and any("longer than 64" in n for n in r.notices)


def test_a_rare_real_word_gets_no_suggestion() -> None:
    df = {"pixi": 1, "piti": 4, "petroleum": 30, "parliament": 1}.get
    vocab = Vocabulary(["pixi", "piti", "petroleum", "parliament"], lambda t: df(t) or 0)
    assert vocab.correction("pixi", 1) is None  # in the index: not a typo of "piti"
    assert vocab.correction("petrolium", 0) == "petroleum"  # absent: corrected
    assert vocab.correction("parliment", 0) == "parliament"
    df20 = {"pixi": 1, "piti": 20}.get
    assert Vocabulary(["pixi", "piti"], lambda t: df20(t) or 0).correction("pixi", 1) == "piti"
    # A word found in enough articles (through any of its spellings) is never replaced.
    assert vocab.correction("petrolium", 3) is None


def test_a_suggestion_is_spelled_in_the_script_typed(ix) -> None:
    # "almati" is spelled "Almaty" in one article and "Алматы" in another.
    assert ix.search("almatu").suggestion == "almaty"
    assert ix.search("алматв").suggestion == "алматы"


def test_spellings_of_one_word_score_as_one_term(tmp_path: Path) -> None:
    # "Russia" also asks for "Россия" (rossia); that spelling is rare in this archive, but
    # must weigh like the word it spells, not like a rare word. The surname Rossi, which
    # "России" reached when Cyrillic words were Snowball stems, is no longer a spelling.
    root = tmp_path / "corpus"
    root.mkdir()
    docs = [(f"Report {i}", f"Russia and its neighbours, part {i}. More text follows here.")
            for i in range(30)]
    docs += [("Russia wins", "Russia won the race in Italy."),
             ("Россия побеждает", "Россия выиграла эту гонку в Италии."),
             ("Rossi wins", "Rossi won the race in Italy.")]
    (root / "feed.jsonl").write_text("\n".join(
        json.dumps({"id": str(i), "title": t, "body": b}) for i, (t, b) in enumerate(docs)),
        encoding="utf-8")
    index_paths([root], tmp_path / "index", jobs=1)
    r = open_index(tmp_path / "index").search("Russia", per_page=40)
    scores = {h.title: h.score for h in r.hits}
    assert r.total == 32 and "Rossi wins" not in scores
    assert scores["Россия побеждает"] <= scores["Russia wins"] + 1e-6


def test_dates_shown_at_the_sources_offset_and_filtered_by_utc_day(tmp_path: Path) -> None:
    """RIA gives Moscow times: a story filed at 00:30 on 1 December is listed on 1 December
    (its own offset), while filters and the histogram use its UTC day, 30 November."""
    feed = tmp_path / "ria.csv"
    feed.write_text(
        "id,url,title,content,datetime,topic\n"
        "1,https://ria.ru/20231201/a-1.html,Урин уходит,\"МОСКВА, 1 дек - Урин ушел.\","
        "00:30 01.12.2023,culture\n"
        "2,https://example.com/b,Late story,Filed late in UTC.,2023-11-30T23:30:00Z,culture\n",
        encoding="utf-8")
    index_paths([feed], tmp_path / "ix", jobs=1)
    with open_index(tmp_path / "ix") as ix:
        (hit,) = ix.search("Урин").hits
        assert hit.date is not None and hit.date.isoformat() == "2023-12-01T00:30:00+03:00"
        assert hit.to_dict()["date"] == "2023-12-01T00:30:00+03:00"
        assert ix.get(hit.id).date == hit.date
        assert ix.search("Урин", since="2023-12-01").total == 0
        assert ix.search("Урин", until="2023-11-30").total == 1
        assert ix.search("Урин date:2023-11-30").total == 1
        assert [(f.value, f.count) for f in ix.search("Урин").facets["date"]] == [
            ("2023-11-30", 1)]
        # A source that gives UTC (or nothing) is shown in UTC.
        (late,) = ix.search("late").hits
        assert late.date is not None and late.date.isoformat() == "2023-11-30T23:30:00+00:00"


def test_articles_before_1970_are_dated_filtered_and_counted(tmp_path: Path) -> None:
    """Day numbers before the epoch are negative: none may be taken for "undated"
    (31 December 1969 is day -1)."""
    rows = [("1965", "Moon landing planned", "1965-05-01"),
            ("eve", "Moon on new year's eve", "1969-12-31"),
            ("1971", "Moon rover drives", "1971-07-30"),
            ("none", "Moon feature", None)]
    (tmp_path / "old.jsonl").write_text("\n".join(
        json.dumps({"id": i, "title": t, "body": t + ".", "date": d}) for i, t, d in rows),
        encoding="utf-8")
    index_paths([tmp_path / "old.jsonl"], index=tmp_path / "ix")
    with open_index(tmp_path / "ix") as idx:
        assert titles(idx.search("moon date:1965")) == ["Moon landing planned"]
        assert titles(idx.search("moon date:1969-12-31")) == ["Moon on new year's eve"]
        assert {h.title for h in idx.search("moon", until="1969").hits} == {
            "Moon landing planned", "Moon on new year's eve"}
        by_date = idx.search("moon", sort="date")
        assert titles(by_date) == ["Moon rover drives", "Moon on new year's eve",
                                   "Moon landing planned", "Moon feature"]
        years = {f.value: f.count for f in by_date.facets["date"]}
        assert years == {"1965": 1, "1969": 1, "1971": 1}
