"""Across scripts on literal archives: whole words only (no false friends), every case form,
place names from data, and the language of each article (detected, stored, faceted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsearch import index_paths, open_index

ARTICLES = [
    # id, title, body (no lang field: the language is detected)
    ("ky", "LOUISVILLE GAS SETS DIVIDEND",
     "LOUISVILLE, Ky, March 3 - Louisville Gas and Electric Co said its board declared a "
     "quarterly dividend. The Kentucky utility serves customers across the state."),
    ("kieves", "Mr Kieves joins the board",
     "The company said Mr Kieves, a former banker, joined its board of directors on Monday "
     "and will chair the audit committee from next year."),
    ("pop", "POP RADIO SETS MERGER",
     "Pop Radio Corp said it agreed to merge with a larger broadcaster. Pop music stations "
     "across the country will keep their formats, the company said in a statement."),
    ("ivan", "Boesky case widens",
     "Ivan Boesky, the arbitrager, agreed to cooperate with investigators, and lawyers said "
     "more traders could be charged in the insider trading case this year."),
    ("kiev-en", "Talks in Kiev", "Ministers met in Kiev on Tuesday to discuss gas transit "
     "fees and the security of the pipeline that crosses the country."),
    ("kiev-ru", "Переговоры в Киеве",
     "Министры встретились в Киеве во вторник, чтобы обсудить плату за транзит газа и "
     "безопасность трубопровода, проходящего через страну."),
    ("nabiullina", "Набиуллину назвали разрушителем года",
     "Американская газета назвала главу Банка России Эльвиру Набиуллину главным "
     "разрушителем года. Набиуллиной вручили награду в Брюсселе."),
    ("popov", "Попов возглавил совет директоров",
     "Сергей Попов возглавил совет директоров компании, сообщила пресс-служба. Попова "
     "поздравили коллеги и партнеры по бизнесу."),
    ("beijing-ru", "Пекин готов к переговорам",
     "В Пекине заявили о готовности к переговорам о торговле. Представитель МИД Китая "
     "подчеркнул, что Пекин открыт для диалога с партнерами."),
    ("de", "Die Wirtschaft wächst",
     "Die deutsche Wirtschaft ist im dritten Quartal überraschend stark gewachsen, teilte das "
     "Statistische Bundesamt in Wiesbaden mit. Die Kinder der Region profitieren davon."),
]


@pytest.fixture(scope="module")
def ix(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("cross")
    (root / "news.jsonl").write_text(
        "\n".join(json.dumps({"id": i, "title": t, "body": b}) for i, t, b in ARTICLES) + "\n",
        "utf-8")
    index = root / "index"
    index_paths([root / "news.jsonl"], index, jobs=1)
    with open_index(index) as ix:
        yield ix


def keys(ix, query: str) -> set[str]:
    return {ix.get(h.id).key for h in ix.search(query, per_page=100).hits}


@pytest.mark.parametrize(("query", "never"), [
    ("Киев", {"ky", "kieves"}), ("Попов", {"pop"}), ("Иванов", {"ivan"}),
    ("Ky", {"kiev-ru"}), ("pop", {"popov"}), ("Ivan", set()),
])
def test_no_false_friends(ix, query: str, never: set[str]) -> None:
    assert not keys(ix, query) & never


def test_whole_names_meet_across_scripts(ix) -> None:
    assert keys(ix, "Киев") == {"kiev-en", "kiev-ru"}
    assert keys(ix, "Kiev") == {"kiev-en", "kiev-ru", "kieves"}  # English stemming, as ever
    assert keys(ix, "Kyiv") == {"kiev-en", "kiev-ru"}
    assert keys(ix, "Nabiullina") == {"nabiullina"}
    assert keys(ix, "Popov") == {"popov"} and keys(ix, "Popova") == {"popov"}
    assert keys(ix, "Beijing") == {"beijing-ru"}


def test_highlights_stay_on_the_original_words(ix) -> None:
    hit = ix.search("Nabiullina").hits[0]
    assert "<mark>Набиуллину</mark>" in " ".join(hit.snippets)
    hit = ix.search("Beijing").hits[0]
    assert "<mark>Пекине</mark>" in " ".join(hit.snippets)


def test_language_is_detected_stored_and_faceted(ix) -> None:
    res = ix.search("Киев OR Kiev OR Wirtschaft")
    langs = {f.value: f.count for f in res.facets["lang"]}
    assert langs == {"en": 2, "ru": 1, "de": 1}  # Kiev, Mr Kieves; Киеве; Wirtschaft
    assert res.to_dict()["facets"]["lang"]
    assert keys(ix, "lang:de") == {"de"}
    assert ix.get(ix.search("lang:de").hits[0].id).lang == "de"


def test_a_german_article_is_stemmed_in_german(ix) -> None:
    assert keys(ix, "Kind") == {"de"}  # "Kinder" stems to "kind" in German only
    hit = ix.search("Kind").hits[0]
    assert "<mark>Kinder</mark>" in " ".join(hit.snippets)


def test_phrases_match_cut_short_capitalised_words(ix) -> None:
    assert keys(ix, '"pop radio"') == {"pop"}
    assert keys(ix, '"statistische bundesamt"') == {"de"}


def test_the_cli_prints_the_language_facet(ix, tmp_path: Path) -> None:
    from click.testing import CliRunner

    from newsearch.cli import main

    out = CliRunner().invoke(main, ["search", "Kiev", "--index", str(ix.path)],
                             catch_exceptions=False).output
    assert "Languages: " in out and "ru 1" in out and "en " in out
