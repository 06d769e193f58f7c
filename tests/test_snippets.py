"""Snippets on literal texts: whole words at the edges, the best windows, marks on the original."""

from __future__ import annotations

import re

from newsearch.analysis import query_terms
from newsearch.snippets import DEFAULT_FRAGMENT_CHARS, SnippetQuery, snippets

DATELINE = (
    "LONDON, March 6 - The Bank of England resisted pressure for lower interest rates and held "
    "base rates at 11 pct, dealers in the City said today as sterling firmed again."
)


def words(*ws: str) -> SnippetQuery:
    return SnippetQuery(terms={t for w in ws for t in query_terms(w)})


def plain(fragment: str) -> str:
    return re.sub(r"</?mark>", "", fragment).strip("…")


def test_a_text_shorter_than_a_fragment_comes_back_whole() -> None:
    (frag,) = snippets(DATELINE, words("rates"))
    assert plain(frag) == DATELINE
    assert frag.count("<mark>rates</mark>") == 2


def test_fragments_start_and_end_on_whole_words_wherever_the_match_is() -> None:
    # Words of uneven length, the match moved over every position near both ends.
    base = ("LONDON, March 6 - The Bank of England resisted strong market pressure for lower "
            "interest rates this week, holding base rates at 11 pct, dealers said. ") * 8
    tokens = base.split()
    for i in [*range(40), *range(len(tokens) - 40, len(tokens))]:
        text = " ".join([*tokens[:i], "zeppelin", *tokens[i + 1:]])
        vocabulary = set(text.split())
        (frag,) = snippets(text, words("zeppelin"))
        edge = plain(frag).split()
        assert edge[0] in vocabulary and edge[-1] in vocabulary, (i, frag)
        assert len(plain(frag)) <= DEFAULT_FRAGMENT_CHARS + 60
        assert frag.startswith("…") == (not text.startswith(plain(frag)))


def test_a_match_in_the_first_word_starts_the_fragment_at_the_text_start() -> None:
    text = DATELINE + " " + "More words follow here. " * 30
    (frag,) = snippets(text, words("march", "england"))
    assert frag.startswith("LONDON, <mark>March</mark>")


def test_a_match_near_the_end_of_a_long_text_is_found() -> None:
    text = "Nothing to see. " * 5_000 + "The zeppelin landed."
    (frag,) = snippets(text, words("zeppelin"))
    assert "<mark>zeppelin</mark> landed." in frag and frag.startswith("…")


def test_at_most_three_fragments_in_text_order() -> None:
    text = " ".join(f"Paragraph {i} mentions oil and then a great deal of other matter "
                    "that goes on for a long while." for i in range(12))
    frags = snippets(text, words("oil"))
    assert len(frags) == 3
    positions = [text.find(plain(f)[:40]) for f in frags]
    assert positions == sorted(positions) and -1 not in positions


def test_a_phrase_is_marked_as_a_whole_on_the_original_script() -> None:
    text = "Вчера Банк России сообщил о решении. Потом банк ответил, а России было всё равно."
    query = SnippetQuery(phrases=[tuple(frozenset(query_terms(w)) for w in ("bank", "rossiya"))])
    (frag,) = snippets(text, query)
    assert "<mark>Банк России</mark>" in frag
    assert frag.count("<mark>") == 1  # the separate "банк" and "России" are not the phrase


def test_article_markup_is_escaped_and_matches_marked() -> None:
    (frag,) = snippets("Breaking <script>alert(1)</script> news about oil & gas.", words("oil"))
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in frag and "&amp; gas" in frag
    assert "<mark>oil</mark>" in frag and "<script>" not in frag


def test_no_match_gives_the_opening_of_the_text() -> None:
    (frag,) = snippets(DATELINE, words("zeppelin"))
    assert plain(frag) == DATELINE


def test_a_match_just_past_a_fragment_never_becomes_a_lone_word_fragment() -> None:
    # A short Reuters story: three matches, the third just past the best window's end.
    text = ("NEW YORK, Oct 20 - Viacom Inc said Gordon E. Belt has\nresigned as vice "
            "president, chief financial officer of Viacom\nInterntional Inc, effective Nov 13, "
            "1987.\n\nThe company said a successor will be announced shortly.\n\nViacom said "
            "Belt has not announced immediate plans after\nhis resignation.")
    frags = snippets(text, words("viacom"))
    assert frags and all(len(plain(f)) >= 40 for f in frags), frags


def test_a_match_near_a_chosen_fragment_gets_its_own_when_there_is_room() -> None:
    filler = "The committee met again on Tuesday and reviewed the figures in great detail. "
    text = ("Oil rose early. " + filler * 3 + "Oil fell later. " + filler * 3
            + "Oil closed flat. " + filler * 10)
    frags = snippets(text, words("oil"))
    shown = " ".join(plain(f) for f in frags)
    for sentence in ("Oil rose early.", "Oil fell later.", "Oil closed flat."):
        assert sentence in shown
    assert all(len(plain(f)) >= 100 for f in frags)
