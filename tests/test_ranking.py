"""Ranking, fuzzy words and "did you mean" on small literal archives (issue 12).

Each archive is built for one property; its filler articles give the words realistic document
frequencies. The figures on real collections are benchmarks (bench/test_effectiveness.py).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsearch import index_paths, open_index
from newsearch.cli import main
from newsearch.query import MAX_TERMS, parse_query

FILLER = ("The committee met again on Tuesday and discussed the budget, the schedule and "
          "the staffing of the regional offices, without reaching a decision. ")


def build(tmp_path: Path, docs: list[tuple[str, str]], name: str = "feed") -> Path:
    """Index ``(title, body)`` articles (ids "0", "1", ...); return the index folder."""
    root = tmp_path / name
    root.mkdir()
    (root / "feed.jsonl").write_text("\n".join(
        json.dumps({"id": str(i), "title": t, "body": b}) for i, (t, b) in enumerate(docs)),
        encoding="utf-8")
    index_paths([root], tmp_path / f"{name}-index", jobs=1)
    return tmp_path / f"{name}-index"


def keys(ix, query: str, **kw) -> list[str]:
    return [ix.get(h.id).key for h in ix.search(query, per_page=50, **kw).hits]


# --- all words above partial matches --------------------------------------------------------


@pytest.fixture(scope="module")
def four_words(tmp_path_factory: pytest.TempPathFactory):
    """One long article holds lumber, turbines, harbour and cobalt; short ones hold one of
    them, cobalt (the rarest) in a headline; fillers make the other three commoner."""
    docs = [("Regional economy review",
             FILLER * 6 + "Shipments of lumber left the harbour, and new turbines arrived. "
             + FILLER * 6 + "A cobalt refinery is planned. " + FILLER * 3),
            ("Cobalt prices jump", "Cobalt rose again. Traders bought cobalt."),
            ("Lumber mill closes", "The lumber mill shut down."),
            ("Turbines ordered", "Two turbines were ordered for the plant.")]
    docs += [(f"Port report {i}", f"The harbour handled lumber and turbines, week {i}.")
             for i in range(6)]
    docs += [(f"Filler {i}", FILLER) for i in range(20)]
    with open_index(build(tmp_path_factory.mktemp("four"), docs)) as ix:
        yield ix


def test_the_article_with_all_four_words_beats_one_with_a_single_rarer_word(four_words) -> None:
    r = four_words.search("lumber turbines harbour cobalt")
    assert r.fallback == "any-word"  # one article has all four: fewer than ten
    assert four_words.get(r.hits[0].id).key == "0"
    assert r.total > 5  # the partial matches are still there, below it


def test_a_long_question_ranks_by_evidence_over_all_its_words(tmp_path: Path) -> None:
    """From six words on, holding every word is not a tier of its own: an article that says
    five of them again and again outranks one that mentions all six once in passing."""
    words = ["glacier", "meltwater", "sediment", "fjord", "moraine"]
    docs = [("Notes", FILLER * 8 + " ".join(words) + " and a crevasse. " + FILLER * 8),
            ("Glacier meltwater carries sediment into the fjord",
             " ".join(words * 4) + ". The moraine and the fjord and the glacier again."),
            *((f"Filler {i}", FILLER) for i in range(20))]
    with open_index(build(tmp_path, docs)) as ix:
        assert keys(ix, " ".join(words) + " crevasse")[0] == "1"
        # The same article with the five words it has: both hold all, evidence decides.
        assert keys(ix, " ".join(words))[0] == "1"
        # Five words, of which only the passing mention has all: it comes first.
        assert keys(ix, "glacier meltwater sediment fjord crevasse")[0] == "0"


def test_a_pasted_headline_finds_its_article(tmp_path: Path) -> None:
    """A wire brief (a headline only) against the longer story that holds all but two of its
    words, again and again: the article whose headline holds every word comes first, however
    long the query."""
    docs = [("Midland says Greenwell Montagu securities to pull out of equity market making",
             ""),
            ("Midland unit pulls out of equity market making",
             "Midland Bank said its unit Greenwell Montagu will pull out of equity market "
             "making. The equity market making of Greenwell Montagu was small, and pulling "
             "out of market making costs Midland little."),
            ("Greenwell appoints a director", "Greenwell named a new director."),
            ("Securities firms merge", "Two securities firms merged."),
            *((f"Filler {i}", FILLER) for i in range(20))]
    with open_index(build(tmp_path, docs)) as ix:
        query = "midland says greenwell montagu securities pull out equity market making"
        r = ix.search(query)
        assert r.fallback == "any-word"
        assert [ix.get(h.id).key for h in r.hits][:2] == ["0", "1"]


# --- query-term frequency ---------------------------------------------------------------------


def test_a_repeated_word_weighs_more(tmp_path: Path) -> None:
    docs = [("Council notes", "budget budget budget cuts " + FILLER),
            ("Council notes", "cuts cuts cuts budget " + FILLER),
            *((f"Filler {i}", FILLER.replace("budget", "plan")) for i in range(10))]
    # The two differ only in their first four words (of 27): one story in two versions
    # (clusters.py), so every version is listed to compare them.
    with open_index(build(tmp_path, docs)) as ix:
        assert keys(ix, "budget budget cuts", all_versions=True)[:2] == ["0", "1"]
        assert keys(ix, "cuts cuts budget", all_versions=True)[:2] == ["1", "0"]
        # wherever the repeat is
        assert keys(ix, "budget cuts budget", all_versions=True)[:2] == ["0", "1"]


# --- long queries -----------------------------------------------------------------------------


def test_a_300_word_query_is_searched_whole(tmp_path: Path) -> None:
    docs = [("Airship history", "The zeppelin flew over the lake."),
            *((f"Filler {i}", FILLER) for i in range(5))]
    words = [f"word{i:03d}" for i in range(MAX_TERMS - 1)] + ["zeppelin"]
    query = " ".join(words)
    assert len(words) == 300 and len(query) > 2000
    assert parse_query(query).plain_words == words
    with open_index(build(tmp_path, docs)) as ix:
        r = ix.search(query)
        assert [ix.get(h.id).key for h in r.hits] == ["0"]  # only the last word matches
        assert not any("search terms" in n or "cut the query" in n for n in r.notices)
        over = ix.search(query + " extra")
        assert any(f"first {MAX_TERMS}" in n for n in over.notices)


# --- fuzzy words ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def lookalikes(tmp_path_factory: pytest.TempPathFactory):
    docs = [("Almaty rebuilds",  # the word itself, once, deep in a long article
             FILLER * 10 + "Almaty was calm on Monday. " + FILLER * 10),
            ("Coca-Cola Amatil results", "Amatil raised its dividend. Amatil shares rose."),
            ("L'Oreal and Armani sign deal", "Armani perfumes. Armani and L'Oreal agree."),
            ("Armani opens store", "Armani opened a store."),
            ("Almaly district news", "Residents of Almaly met."),
            ("Owens-Illinois <OI> earnings", "OI said profit rose."),
            ("Oil prices rise", "Oil rose on supply worries."),
            ("The Gap Inc sales", "Gap sales fell."),
            ("Gas exports", "Gas exports grew.")]
    docs += [(f"Filler {i}", FILLER) for i in range(10)]
    with open_index(build(tmp_path_factory.mktemp("fuzzy"), docs)) as ix:
        yield ix


def test_fuzzy_ranks_the_word_itself_first_then_by_edits_then_frequency(lookalikes) -> None:
    ranked = keys(lookalikes, "almaty~")
    assert ranked[0] == "0"  # Almaty itself, however weak its match
    assert ranked[1] == "4"  # Almaly: one edit
    # Two edits: Armani (two articles) before Amatil (one).
    assert ranked[2:] == ["2", "3", "1"] or ranked[2:] == ["3", "2", "1"]


def test_fuzzy_never_reaches_words_of_three_letters_or_fewer(lookalikes) -> None:
    assert keys(lookalikes, "oil~") == ["6"]  # not <OI>
    assert keys(lookalikes, "gas~1") == ["8"]  # not Gap


def test_fuzzy_edits_follow_the_word_length(lookalikes) -> None:
    r = lookalikes.search("oil~2")
    assert any("at most 1 edit" in n for n in r.notices)
    assert r.total == lookalikes.search("oil~1").total
    assert lookalikes.search("ga~").total == 0  # two letters: the word itself only


# --- did you mean -----------------------------------------------------------------------------


def test_did_you_mean_weighs_the_other_words(tmp_path: Path) -> None:
    """blare → blame is one edit, blare → blair two; but Blair is what articles say next to
    Tony, and blame is not."""
    docs = [(f"Tony Blair speech {i}", f"Tony Blair spoke in Leeds, day {i}.") for i in range(6)]
    docs += [(f"Who is to blame {i}", f"Ministers blame the weather, week {i}.")
             for i in range(8)]
    docs += [(f"Filler {i}", FILLER) for i in range(10)]
    with open_index(build(tmp_path, docs)) as ix:
        assert ix.search("tony blare").suggestion == "tony blair"
        assert ix.search("blare").suggestion == "blame"  # alone: the nearer, commoner word


def test_did_you_mean_keeps_words_that_match_and_field_syntax(tmp_path: Path) -> None:
    docs = [(f"Театр в Москве {i}", f"В Москве открылся новый театр, сезон {i}.")
            for i in range(5)]
    docs += [("Quotes of the day", "Quotes and quotes."), ("Yen falls", "The yen fell.")]
    with open_index(build(tmp_path, docs)) as ix:
        # Moscow matches five articles through Москве: it is never replaced.
        suggestion = ix.search("Moscow theatre").suggestion
        assert suggestion is None or suggestion.startswith("Moscow ")
        # "qutoes:" reads as a word (not a field), but a suggestion must not rewrite it.
        suggestion = ix.search("qutoes:japan yen").suggestion
        assert suggestion is None or "qutoes:japan" in suggestion
        # The value of a real field is a word like any other.
        assert ix.search("title:qutoes").suggestion == "title:quotes"


def test_the_suggestion_is_shown_above_the_hits(tmp_path: Path) -> None:
    """"goverment" is stemmed like "governess": one weak hit, and the suggestion first."""
    docs = [(f"Government budget {i}", f"The government set its budget for year {i}.")
            for i in range(25)]
    docs += [("The governess", "A governess arrived with the household.")]
    index = build(tmp_path, docs)
    res = CliRunner().invoke(main, ["search", "goverment budjet", "--index", str(index)],
                             env={"NO_COLOR": "1"}, catch_exceptions=False)
    out = res.output
    assert "Did you mean: government budget" in out
    assert out.index("Did you mean") < out.index("  1. ")


# --- pseudo-relevance feedback ----------------------------------------------------------------


def test_feedback_weighs_its_articles_by_the_odds_of_their_scores() -> None:
    """A feedback article's words weigh e^(score / T) (not the score itself): the article
    ranked clearly first gives its words e^(9 / T) times the weight of the one below."""
    import math

    import numpy as np

    from newsearch.analysis import positions
    from newsearch.feedback import FEEDBACK_TEMPERATURE, expanded
    from newsearch.plan import DEFAULT_FIELDS, Leaf

    texts = {0: "pipeline pipeline pipeline", 1: "harvest harvest harvest"}
    leaves = expanded([Leaf(DEFAULT_FIELDS, "oil", 1.0)], np.array([0, 1]),
                      np.array([10.0, 1.0]), lambda d: (texts[d], "en"))
    weight = {leaf.term: leaf.boost for leaf in leaves[1:]}
    [first] = positions(texts[0], "en")[0]
    [second] = positions(texts[1], "en")[0]
    assert weight[first] / weight[second] == pytest.approx(math.exp(9 / FEEDBACK_TEMPERATURE))
    assert leaves[0].term == "oil"  # the query's own word keeps its share
