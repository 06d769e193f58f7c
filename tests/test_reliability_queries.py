"""Query fuzzing: whatever the query string and options, ``NewsIndex.search`` returns results
or raises :class:`newsearch.QueryError` (the documented query-error type), within
:data:`QUERY_SECONDS`; and ``newsearch search`` never shows a traceback.

The index is the sample corpus (several formats and scripts). The worst-case queries against
the full Reuters-21578 index are in test_reliability_reuters.py.
"""

from __future__ import annotations

import string
import time
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from newsearch import NewsIndex, QueryError, SearchResults, index_paths, open_index
from newsearch.cli import main
from newsearch.search import SORTS

from .conftest import SAMPLE

QUERY_SECONDS = 2.0  # per query (they take milliseconds here; this catches blow-ups)
FUZZ = settings(max_examples=500, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
FUZZED = {"library": 0, "rejected": 0, "cli": 0}


@pytest.fixture(scope="module")
def index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fuzz") / "index"
    index_paths([SAMPLE], path, jobs=1)
    return path


@pytest.fixture(scope="module")
def ix(index: Path) -> NewsIndex:
    return open_index(index)


def search(ix: NewsIndex, query: str, **options: object) -> SearchResults | None:
    """Run one fuzzed search; None when it raised QueryError. Anything else fails."""
    FUZZED["library"] += 1
    started = time.perf_counter()
    try:
        res = ix.search(query, **options)  # type: ignore[arg-type]
    except QueryError as exc:
        # One sentence: about the query, or naming the option at fault.
        assert str(exc).startswith("bad query") or (
            exc.parameter is not None and str(exc).startswith(exc.parameter)), exc
        FUZZED["rejected"] += 1
        res = None
    seconds = time.perf_counter() - started
    assert seconds < QUERY_SECONDS, f"{seconds:.1f} s for {query[:200]!r}"
    if res is not None:
        assert 0 <= len(res.hits) <= res.per_page and len(res.hits) <= res.total
        assert [h.rank for h in res.hits] == list(
            range((res.page - 1) * res.per_page + 1, (res.page - 1) * res.per_page
                  + len(res.hits) + 1))
        assert len({h.id for h in res.hits}) == len(res.hits)
        res.to_dict()
    return res


# --- strategies ----------------------------------------------------------------------------------

WORDS = ["oil", "bank", "England", "coffee", "Brazil", "Almaty", "Алматы", "Токаев", "Tokayev",
         "Zürich", "zuerich", "the", "of", "и", "в", "econom", "crude", "1987", "2022-01",
         "prices", "Moscow", "Москва", "東京", "مصر", "Ελλάδα", "😀", "x" * 40, "said", "mln"]
SYNTAX = ["AND", "OR", "NOT", "and", "or", "-", "+", "(", ")", '"', "'", "[", "]", "{", "}",
          "*", "?", "~", "~1", "~2", "~9", "~999", ":", "^2", "\\", "/", "TO", "*:*", "&&",
          "||", "!", " ", "  ", "\t", "\n", "\x00", "\u200b", "\ufeff", "%", "…", "«", "»"]
FIELDS = ["title:", "body:", "author:", "section:", "tags:", "tag:", "lang:", "date:",
          "headline:", "category:", "topic:", "byline:", "text:", "foo:", "TITLE:", "url:",
          "date:[", "date:1987", "date:1987-03", "date:1987-02-30", "date:[1987-03-01 TO *]",
          "date:[* TO 1987-03-15]", "date:[1987 TO 1986]", "date:99999", "section:crude",
          "lang:ru", 'title:"', "title:(", "-title:", "+body:"]
token = st.one_of(
    st.sampled_from(WORDS),
    st.sampled_from(SYNTAX),
    st.sampled_from(FIELDS),
    st.builds(lambda w, s: w + s, st.sampled_from(WORDS), st.sampled_from(["*", "~", "~2", "?"])),
    st.text(max_size=6),
    st.text(alphabet=string.printable, max_size=6),
)
soup = st.lists(st.tuples(token, st.sampled_from(["", " ", " ", "  "])), max_size=40).map(
    lambda parts: "".join(t + sep for t, sep in parts))
ten_kb = st.builds(lambda unit, n: (unit * (n // max(1, len(unit)) + 1))[:n],
                   st.one_of(soup, st.text(min_size=1, max_size=50)).filter(bool),
                   st.integers(9_000, 10_240))


@FUZZ
@given(query=st.text(max_size=300))
def test_any_unicode_text(ix: NewsIndex, query: str) -> None:
    search(ix, query)


@settings(FUZZ, max_examples=1_000)
@given(query=soup)
def test_operators_quotes_brackets_and_field_prefixes(ix: NewsIndex, query: str) -> None:
    search(ix, query)


@settings(FUZZ, max_examples=100)
@given(query=ten_kb)
def test_ten_kilobyte_queries(ix: NewsIndex, query: str) -> None:
    search(ix, query)


dates = st.one_of(st.none(), st.dates(min_value=date(1, 1, 1)), st.sampled_from(
    ["", "1987-03-01", "1987-3-1", "03/01/1987", "yesterday", "1987-02-30", "0000-00-00",
     " 1987-03-01 ", "9999-12-31"]), st.text(max_size=12))


@settings(FUZZ, max_examples=300)
@given(query=soup, sections=st.lists(st.one_of(st.sampled_from(
           ["crude", "CRUDE", "World", "money-fx", ""]), st.text(max_size=10)), max_size=3),
       since=dates, until=dates, sort=st.sampled_from([*SORTS, "oldest", ""]),
       page=st.integers(-2, 1_100), per_page=st.integers(-1, 120),
       half_life_days=st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                                st.sampled_from([30.0, 0.0, -1.0, 1e-9, 1e9])),
       date_granularity=st.sampled_from([None, "day", "month", "year", "week"]),
       strict=st.booleans())
def test_search_options(ix: NewsIndex, query: str, **options: object) -> None:
    search(ix, query or "oil", **options)


@pytest.mark.parametrize("query", ["tags:\udcff", "lang:\udcff", 'tags:"x \udcff"'])
def test_undecodable_bytes_in_a_keyword_value(ix: NewsIndex, query: str) -> None:
    search(ix, query)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # unidecode: "Surrogate ... ignored"
@pytest.mark.parametrize("query", ["oil\udcff", "\udcffbank", "x\udcff*", "oil\udcff~",
                                   '"a \udcff b"', "author:\udcff", "\ud800"])
def test_undecodable_bytes_in_words(ix: NewsIndex, query: str) -> None:
    search(ix, query)


# --- the command line -----------------------------------------------------------------------------

option_args = st.lists(st.one_of(
    st.tuples(st.just("--section"), st.one_of(st.sampled_from(["crude", "World"]),
                                               st.text(max_size=8))),
    st.tuples(st.sampled_from(["--since", "--until"]),
              st.one_of(st.sampled_from(["1987-03-01", "2022-1-1", "x"]), st.text(max_size=8))),
    st.tuples(st.just("--sort"), st.sampled_from([*SORTS, "bogus"])),
    st.tuples(st.just("--limit"), st.sampled_from(["1", "100", "0", "101", "-3", "x"])),
    st.tuples(st.just("--page"), st.sampled_from(["1", "2", "0", "1001", "x"])),
    st.tuples(st.just("--half-life"), st.sampled_from(["1", "0", "-1", "nan", "inf", "x"])),
    st.tuples(st.just("--json"), st.none()),
), max_size=4).map(lambda opts: [a for pair in opts for a in pair if a is not None])


@settings(FUZZ, max_examples=200)
@given(query=st.one_of(soup, st.text(max_size=100)), options=option_args)
def test_the_cli_never_shows_a_traceback(index: Path, query: str, options: list[str]) -> None:
    FUZZED["cli"] += 1
    res = CliRunner().invoke(main, ["search", query, "--index", str(index), *options],
                             catch_exceptions=False)
    assert res.exit_code in (0, 2), res.output
    assert "Traceback" not in res.output


def test_report_how_many_queries_were_fuzzed() -> None:
    """Last in this module: the count for the issue's note (visible with ``-s``)."""
    print(f"\nqueries fuzzed: {FUZZED['library']} through the library "
          f"({FUZZED['rejected']} rejected with QueryError), {FUZZED['cli']} through the CLI")
