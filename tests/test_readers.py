"""Readers: format detection, each reader on tiny literal files, and the real corpora.

Each literal reproduces a quirk listed in ``../shared/corpora/README.md``; the acceptance tests
at the end read the real files (skipped when ``../shared`` is absent).
"""

from __future__ import annotations

import contextlib
import csv
import io
import re
from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsearch.article import (
    Article,
    RecordSkip,
    article_id,
    normalise_section,
    section_key,
    section_keys,
)
from newsearch.errors import SkippedInput
from newsearch.readers import SourceFile, detect_format, read_source
from newsearch.readers.records import MAX_JSON_DEPTH
from newsearch.textnorm import decode


def read(name: str, content: str | bytes, folder: str | None = None) -> list[Article | RecordSkip]:
    data = content.encode() if isinstance(content, str) else content
    return list(
        read_source(SourceFile(path=f"/corpus/{name}", name=name, data=data, folder=folder))
    )


def read_one(name: str, content: str | bytes, folder: str | None = None) -> Article:
    items = read(name, content, folder)
    assert len(items) == 1 and isinstance(items[0], Article), items
    return items[0]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- detect_format -----------------------------------------------------------------------------

DING_HEAD = (
    b"-- Ford posts record loss\n-- By  Jack Kim\n-- Mon Oct 23, 2006 6:42pm EDT\n"
    b"-- http://www.reuters.com/article/2006/10/23/us-autos-ford-earns-idUSN2333593620061023\n"
)


@pytest.mark.parametrize(
    "name, head, fmt",
    [
        ("reut2-000.sgm", b"", "reuters"),
        ("ria_news_topics_3.csv", b"", "csv"),
        ("feed.tsv", b"", "csv"),
        ("feed.json", b"", "json"),
        ("feed.JSON", b"", "json"),
        ("feed.jsonl", b"", "jsonl"),
        ("feed.ndjson", b"", "jsonl"),
        ("page.html", b"", "html"),
        ("page.htm", b"", "html"),
    ],
)
def test_detect_format_by_extension(name, head, fmt):
    assert detect_format(name, head) == fmt


@pytest.mark.parametrize(
    "name, head, fmt",
    [
        ("reut2-000", b'<!DOCTYPE lewis SYSTEM "lewis.dtd">\n<REUTERS TOPICS="YES">', "reuters"),
        ("record", b'\n<REUTERS TOPICS="NO" NEWID="1">', "reuters"),
        ("page", b"<!DOCTYPE html><html><head>", "html"),
        ("page", b"\n  <html lang='en'><head>", "html"),
        ("page", b"<!-- saved from url --><html>", "html"),
        ("feed", b'[{"title": "A"}, {"title": "B"}]', "json"),
        ("feed", b'{"title": "A", "body": "a"}\n', "json"),
        ("feed", b'{"title": "A",\n "body": "a"}', "json"),
        ("feed", b'[\n{"title": "A"},\n{"title": "B"}\n]\n', "json"),  # pretty-printed list
        ("feed", b'{"articles": [\n{"title": "A"},\n{"title": "B"}\n]}', "json"),
        ("feed", b'{"title": "A"}\n{"title": "B"}\n', "jsonl"),
        ("us-autos-ford-earns-idUSN2333593620061023", DING_HEAD, "dashheader"),
        (
            "kz.txt",
            b"Home World Kazakhstan forces withdraw\n\nKazakhstan forces withdraw\n",
            "webpage",
        ),
        (
            "page.txt",
            b"Forces withdraw\n\nTroops left.\n\nRead More About: World News\n",
            "webpage",
        ),
        ("page.txt", b"Forces withdraw\n\nTroops left.\n\nExit mobile version", "webpage"),
        (
            "001.txt",
            b"Home loan approvals rise\n\nHome loan approvals rose in March.\n",
            "headline",
        ),
        ("002.txt", b"Ad sales boost Time Warner profit\n\nQuarterly profits rose.\n", "headline"),
        ("story", b"Ad sales boost Time Warner profit\n\nQuarterly profits rose.\n", "headline"),
    ],
)
def test_detect_format_by_content(name, head, fmt):
    assert detect_format(name, head) == fmt


@pytest.mark.parametrize(
    "name", ["README", "README.TXT", "readme.md", "LICENSE", "Licence.txt", "COPYING"]
)
def test_detect_format_rejects_documentation_files(name):
    with pytest.raises(ValueError, match="documentation file"):
        detect_format(name, b"Headline\n\nBody.\n")


@pytest.mark.parametrize(
    "name", ["scan.pdf", "photo.jpg", "logo.png", "corpus.zip", "lewis.dtd", "tool.py"]
)
def test_detect_format_rejects_binary_and_code_extensions(name):
    with pytest.raises(ValueError, match="unsupported file type"):
        detect_format(name, b"Headline\n\nBody.\n")


@pytest.mark.parametrize(
    "name, data, reason",
    [
        ("README.TXT", b"Consists of 2225 documents", "documentation file, not an article"),
        ("empty.txt", b" \n\n", "empty file"),
        ("image.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00", "binary content"),
    ],
)
def test_read_source_skips_unusable_files_with_a_reason(name, data, reason):
    with pytest.raises(SkippedInput) as exc:
        read(name, data)
    assert exc.value.reason == reason
    assert exc.value.path == f"/corpus/{name}"


# --- webpage (the seed's layout) ---------------------------------------------------------------

SEED_STYLE_PAGE = """\
Home World Kazakhstan forces begin to withdraw

Kazakhstan forces begin to withdraw


On Thursday, the ministry said the forces had begun to withdraw.

A ceremony was held in Almaty, the largest city.

Read More About: World News


Exit mobile version"""


def test_webpage_title_is_the_headline_under_the_breadcrumb():
    assert read_one("kz.txt", SEED_STYLE_PAGE).title == "Kazakhstan forces begin to withdraw"


def test_webpage_body_has_no_breadcrumb_or_chrome_lines():
    assert read_one("kz.txt", SEED_STYLE_PAGE).body == (
        "On Thursday, the ministry said the forces had begun to withdraw.\n\n"
        "A ceremony was held in Almaty, the largest city."
    )


def test_webpage_section_appears_once_from_breadcrumb_and_read_more_about():
    assert read_one("kz.txt", SEED_STYLE_PAGE).sections == ["World"]


def test_webpage_section_from_breadcrumb_alone():
    page = "Home World Forces withdraw\n\nForces withdraw\n\nTroops left.\n"
    assert read_one("kz.txt", page).sections == ["World"]


def test_webpage_section_from_read_more_about_alone():
    page = "Forces withdraw\n\nTroops left.\n\nRead More About: World News\n"
    assert read_one("kz.txt", page).sections == ["World"]


@pytest.mark.parametrize(
    "crumb, section",
    [
        ("Home » Business » Markets rally on rate hopes", "Business"),
        ("Home > Business > Markets > Markets rally on rate hopes", "Business"),
        ("Home › Business", "Business"),
        ("Home | Business", "Business"),
    ],
)
def test_webpage_section_from_breadcrumb_with_separators(crumb, section):
    page = f"{crumb}\n\nMarkets rally on rate hopes\n\nStocks rose.\n\nExit mobile version\n"
    article = read_one("p.txt", page)
    assert (article.title, article.sections) == ("Markets rally on rate hopes", [section])


def test_webpage_headline_starting_with_home_is_not_a_breadcrumb():
    page = (
        "Home loan approvals rise\n\nHome loan approvals rose in March.\n\n"
        "Read More About: Business News\n\nExit mobile version\n"
    )
    article = read_one("loans.txt", page)
    assert article.title == "Home loan approvals rise"
    assert article.body == "Home loan approvals rose in March."
    assert article.sections == ["Business"]


def test_webpage_published_line_is_the_date_and_not_body_text():
    page = (
        "Home World Forces withdraw\n\nForces withdraw\nPublished: January 20, 2022\n\n"
        "Troops left.\n\nExit mobile version"
    )
    article = read_one("kz.txt", page)
    assert (article.date, article.body) == (utc(2022, 1, 20), "Troops left.")


def test_webpage_without_a_date_line_has_no_date():
    assert read_one("kz.txt", SEED_STYLE_PAGE).date is None


# --- dashheader (Reuters/Ding) -----------------------------------------------------------------

DING = "\n".join(
    [
        "-- Ford posts record loss",
        "-- By  Jack Kim",
        "-- Mon Oct 23, 2006 6:42pm EDT",
        "-- http://www.reuters.com/article/2006/10/23/us-autos-ford-earns-idUSN2333593620061023",
        "",
        " ",
        "",
        " DETROIT  (Reuters) - Ford Motor Co. on Monday posted   ",
        " its biggest quarterly loss in 14 years.",
        " ",
        " The automaker said more cuts would come.  ",
        "",
    ]
)
DING_NAME = "us-autos-ford-earns-idUSN2333593620061023"


def test_dashheader_reads_the_header_lines():
    article = read_one(DING_NAME, DING)
    assert article.title == "Ford posts record loss"
    assert article.author == "Jack Kim"
    assert article.date == utc(2006, 10, 23, 22, 42)
    assert article.url == (
        "http://www.reuters.com/article/2006/10/23/us-autos-ford-earns-idUSN2333593620061023"
    )


def test_dashheader_unwraps_hard_wrapped_lines_into_paragraphs():
    assert read_one(DING_NAME, DING).body == (
        "DETROIT (Reuters) - Ford Motor Co. on Monday posted its biggest quarterly loss in 14 "
        "years.\n\nThe automaker said more cuts would come."
    )


def test_dashheader_empty_author_line_means_no_author():
    article = read_one(DING_NAME, DING.replace("-- By  Jack Kim", "-- "))
    assert article.author is None
    assert article.date == utc(2006, 10, 23, 22, 42)
    assert article.title == "Ford posts record loss"


def test_dashheader_with_empty_body_keeps_the_headline():
    text = "\n".join(DING.split("\n")[:4]) + "\n\n \n\n"
    article = read_one(DING_NAME, text)
    assert (article.title, article.body) == ("Ford posts record loss", "")


# --- headline-first (BBC) ----------------------------------------------------------------------

BBC_STYLE = (
    "Home loan approvals rise\n\n"
    "Home loan approvals rose in March, figures show.\n\n"
    "The Bank of England said lending was up.\n"
)


def test_headline_first_line_is_the_title_and_the_rest_the_body():
    article = read_one("001.txt", BBC_STYLE)
    assert article.title == "Home loan approvals rise"
    assert article.body == (
        "Home loan approvals rose in March, figures show.\n\n"
        "The Bank of England said lending was up."
    )


def test_headline_section_is_the_folder_hint():
    assert read_one("001.txt", BBC_STYLE, folder="business").sections == ["Business"]


def test_headline_without_a_folder_hint_has_no_section():
    assert read_one("001.txt", BBC_STYLE).sections == []


def test_headline_has_no_date_when_the_text_has_none():
    assert read_one("001.txt", BBC_STYLE).date is None


def test_headline_date_line_under_the_headline_is_the_date():
    article = read_one("002.txt", "Ad sales boost profit\n\n12 January 2005\n\nProfits rose.\n")
    assert (article.date, article.body) == (utc(2005, 1, 12), "Profits rose.")


def test_headline_sentence_mentioning_a_date_stays_in_the_body():
    article = read_one("003.txt", "Smith quits bank\n\nMr Smith joined on 1 May 2005 and left.\n")
    assert article.date is None
    assert article.body == "Mr Smith joined on 1 May 2005 and left."


def test_headline_file_that_is_a_term_list_is_skipped():
    terms = "\n".join(f"term-{i}" for i in range(40))
    with pytest.raises(SkippedInput, match="no running text"):
        read("all-orgs-strings.lc.txt", "adb-africa\n" + terms)


def test_headline_file_that_is_a_data_dump_is_skipped():
    facts = "\n".join(f'bgfact("Land{i}","Capital",["City{i}"]).' for i in range(30))
    with pytest.raises(SkippedInput, match="no running text"):
        read("facts.txt", "Facts about countries\n" + facts)


def test_headline_file_of_notes_and_long_lists_is_skipped_whatever_its_name():
    # Like Reuters-21578's cat-descriptions: a few sentences, then long lists of names, some
    # of them five words or more (so a word-per-line measure alone calls it prose).
    intro = ("The letter we received gave a list of categories. We reproduce it below.\n\n"
             "The numbers stated at the top of each list are a little off.\n\n")
    names = "\n".join(f"International Association of Producers Number {i} (IAP{i})@*"
                       for i in range(60))
    for name in ("cat-descriptions_120396.txt", "story.txt"):
        with pytest.raises(SkippedInput, match="mostly lists"):
            read(name, "Some notes on the categories\n\n" + intro + names)


def test_headline_file_without_sentence_ends_is_judged_by_running_text_alone():
    prose = " ".join(["the river rose slowly through the night and the town waited"] * 4)
    article = read_one("th.txt", "Flood\n\n" + "\n\n".join([prose] * 3))
    assert article.title == "Flood"


def test_headline_file_in_chinese_is_an_article():
    para = ("国家统计局周一公布的数据显示，第三季度国内生产总值同比增长百分之四点九，"
            "略低于市场预期。")
    article = read_one("zh.txt", "中国经济增长\n\n" + "\n\n".join([para] * 22))
    assert article.title == "中国经济增长" and para in article.body


def test_headline_short_note_and_a_results_table_are_still_articles():
    assert read_one("note.txt", "Markets closed\n\nHoliday.\n").body == "Holiday."
    table = "\n".join(f"Team {i} {i} {i + 1}" for i in range(10))
    prose = "The home side dominated from the first whistle and never looked back.\n" * 6
    assert read_one("205.txt", "Results round-up\n\n" + prose + table).title == (
        "Results round-up")


# --- Reuters-21578 SGML ------------------------------------------------------------------------

SGML_RECORD_1 = """\
<REUTERS TOPICS="YES" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5544" NEWID="1">
<DATE>26-FEB-1987 15:01:01.79</DATE>
<TOPICS><D>cocoa</D><D>grain</D></TOPICS>
<PLACES><D>el-salvador</D><D>usa</D></PLACES>
<PEOPLE></PEOPLE>
<ORGS><D>ico-coffee</D></ORGS>
<EXCHANGES></EXCHANGES>
<COMPANIES></COMPANIES>
<UNKNOWN>
&#5;&#5;&#5;C T
&#22;&#22;&#1;f0704&#31;reute
u f BC-BAHIA-COCOA-REVIEW   02-26 0105</UNKNOWN>
<TEXT>&#2;
<TITLE>VIACOM &lt;VIA> BUYS STAKE IN A&amp;P</TITLE>
<DATELINE>    SALVADOR, Feb 26 - </DATELINE><BODY>Showers continued in the cocoa zone &lt;BCZ>.
    Comissaria Smith said the A&amp;P crop was good.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
"""
SGML_RECORD_2 = """\
<REUTERS TOPICS="NO" LEWISSPLIT="TRAIN" CGISPLIT="TRAINING-SET" OLDID="5545" NEWID="2">
<DATE>27-MAR-1987 00:02:59.13&#5;&#5;&#5;RM</DATE>
<TOPICS></TOPICS>
<PLACES><D>usa</D></PLACES>
<TEXT>&#2;
<TITLE>GENCORP PROFIT RISES</TITLE>
<DATELINE>    AKRON, Ohio, March 27 - </DATELINE><BODY>GenCorp said profit rose.
 Reuter
&#3;</BODY></TEXT>
</REUTERS>
"""
SGML_BRIEF = """\
<REUTERS TOPICS="NO" OLDID="5546" NEWID="3">
<DATE> 3-MAR-1987 09:18:04.45</DATE>
<TOPICS></TOPICS>
<TEXT TYPE="BRIEF">&#2;
******<TITLE>STANDARD OIL &lt;SRD> TO FORM FINANCIAL UNIT
</TITLE>
&#3;

</TEXT>
</REUTERS>
"""
SGML_UNPROC = """\
<REUTERS TOPICS="NO" OLDID="5547" NEWID="4">
<DATE> 3-MAR-1987 09:20:00.00</DATE>
<TOPICS></TOPICS>
<TEXT TYPE="UNPROC">&#2;
FARM CREDIT BANK REPORTS LOSS
 Reuter
&#3;</TEXT>
</REUTERS>
"""
SGML_TRUNCATED = """\
<REUTERS TOPICS="NO" OLDID="5548" NEWID="5">
<DATE> 3-MAR-1987 09:21:00.00</DATE>
<TEXT>&#2;
<TITLE>CUT OFF</TITLE>
<BODY>The file ends in the middle of
"""
DOCTYPE = '<!DOCTYPE lewis SYSTEM "lewis.dtd">\n'


def reuters(*records: str) -> list[Article | RecordSkip]:
    return read("reut2-000.sgm", DOCTYPE + "".join(records))


def test_reuters_reads_every_record_keyed_by_newid():
    items = reuters(SGML_RECORD_1, SGML_RECORD_2)
    assert [(type(i), i.key) for i in items] == [(Article, "1"), (Article, "2")]


def test_reuters_unescapes_lt_and_amp():
    first = reuters(SGML_RECORD_1)[0]
    assert first.title == "VIACOM <VIA> BUYS STAKE IN A&P"
    assert "zone <BCZ>." in first.body
    assert "the A&P crop" in first.body


def test_reuters_removes_control_references():
    for article in reuters(SGML_RECORD_1, SGML_RECORD_2, SGML_BRIEF, SGML_UNPROC):
        text = article.title + article.body
        assert "&#" not in text
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f]", text)


def test_reuters_body_opens_with_the_dateline_and_drops_the_sign_off():
    assert reuters(SGML_RECORD_1)[0].body == (
        "SALVADOR, Feb 26 - Showers continued in the cocoa zone <BCZ>.\n\n"
        "Comissaria Smith said the A&P crop was good."
    )


def test_reuters_topics_become_sections():
    assert reuters(SGML_RECORD_1)[0].sections == ["Cocoa", "Grain"]


@pytest.mark.parametrize(("code", "section"), [
    ("acq", "Mergers/Acquisitions (ACQ)"),
    ("gnp", "Gross National/Domestic Product (GNP)"),
    ("dlr", "U.S. Dollar (DLR)"),
    ("bop", "Balance of Payments (BOP)"),
    ("money-fx", "Money/Foreign Exchange (MONEY-FX)"),
    ("alum", "Aluminium (ALUM)"),  # a commodity code whose word is abbreviated
    ("castor-oil", "Castor Oil"),  # the name says the code: no need to repeat it
    ("trade", "Trade"),
    ("nosuchtopic", "Nosuchtopic"),  # not in the collection's list: as it is
])
def test_reuters_topic_codes_are_shown_by_the_collections_names(code, section):
    record = SGML_RECORD_1.replace("<D>cocoa</D><D>grain</D>", f"<D>{code}</D>")
    assert reuters(record)[0].sections == [section]


def test_every_reuters_topic_code_has_a_name():
    from newsearch.readers.reuters_topics import TOPIC_NAMES

    assert len(TOPIC_NAMES) == 135  # the subject codes of cat-descriptions_120396.txt
    for code, name in TOPIC_NAMES.items():
        assert code == code.lower() and name[0].isupper(), (code, name)


@pytest.mark.parametrize(("name", "keys"), [
    ("Mergers/Acquisitions (ACQ)", ["mergers/acquisitions (acq)", "acq"]),
    ("Petro-Chemicals (PET-CHEM)", ["petro chemicals (pet chem)", "pet chem"]),
    ("Castor Oil", ["castor oil"]),
    ("Politics (uk)", ["politics (uk)"]),  # a code is written in capitals
])
def test_section_keys(name, keys):
    assert section_keys(name) == keys
    assert section_key("Castor-Oil") == section_key("castor oil") == "castor oil"


def test_reuters_places_and_orgs_become_tags():
    assert reuters(SGML_RECORD_1)[0].tags == ["el-salvador", "usa", "ico-coffee"]


def test_reuters_date_with_trailing_junk_is_read():
    assert reuters(SGML_RECORD_2)[0].date == utc(1987, 3, 27, 0, 2, 59)


def test_reuters_brief_record_has_a_title_and_no_body():
    brief = reuters(SGML_BRIEF)[0]
    assert (brief.title, brief.body) == ("STANDARD OIL <SRD> TO FORM FINANCIAL UNIT", "")
    assert brief.date == utc(1987, 3, 3, 9, 18, 4)


def test_reuters_unproc_record_body_is_the_text_element():
    unproc = reuters(SGML_UNPROC)[0]
    assert (unproc.title, unproc.body) == ("", "FARM CREDIT BANK REPORTS LOSS")


def test_reuters_truncated_last_record_is_skipped_and_earlier_records_kept():
    items = reuters(SGML_RECORD_1, SGML_RECORD_2, SGML_TRUNCATED)
    assert [(type(i), i.key) for i in items] == [(Article, "1"), (Article, "2"), (RecordSkip, "5")]
    assert "truncated" in items[-1].reason


def test_reuters_file_without_records_is_skipped():
    with pytest.raises(SkippedInput, match="no <REUTERS> records"):
        read("reut2-000.sgm", DOCTYPE + "<!-- nothing here -->\n")


# --- CSV -----------------------------------------------------------------------------------------

RIA_HEADER = "id,url,title,subtitle,content,datetime,views,tags,topic\n"
RIA_ROW = (
    "1904,https://ria.ru/20231020/ekonomika-1904.html,Цены на нефть выросли,,"
    '"БЛАГОВЕЩЕНСК, 20 окт – РИА Новости.  Цены на ""Брент"" выросли.",'
    "16:25 20.10.2023,1200,\"['Амурская область', 'Китай', 'Китай']\",economy\n"
)
RIA_SAME_ID = (
    "1904,https://ria.ru/20231020/ekonomika-1904.html,Цены на нефть выросли,,Текст,"
    "16:25 20.10.2023,1300,[],society\n"
)
RIA_UNBALANCED = (
    '1905,https://ria.ru/x-1905.html,"Открытая кавычка,,Текст,16:25 20.10.2023,1,[],culture\n'
)
RIA_SHORT = "1906,https://ria.ru/x-1906.html,Мало полей,,Текст\n"
RIA_LAST = (
    "1907,https://ria.ru/x-1907.html,Последняя,,Текст,09:20 20.10.2023,5,['Банк России'],economy\n"
)


def test_csv_reads_a_ria_style_row():
    article = read_one("ria.csv", RIA_HEADER + RIA_ROW)
    assert article.key == "1904"
    assert article.title == "Цены на нефть выросли"
    assert article.body == 'БЛАГОВЕЩЕНСК, 20 окт – РИА Новости.\n\nЦены на "Брент" выросли.'
    assert article.url == "https://ria.ru/20231020/ekonomika-1904.html"
    assert article.sections == ["Economy"]
    assert article.subtitle is None


def test_csv_ria_datetime_is_moscow_time():
    assert read_one("ria.csv", RIA_HEADER + RIA_ROW).date == utc(2023, 10, 20, 13, 25)


def test_csv_python_list_tags_are_parsed_and_repeats_dropped():
    assert read_one("ria.csv", RIA_HEADER + RIA_ROW).tags == ["Амурская область", "Китай"]


def test_csv_duplicate_id_gets_a_distinct_key_and_id():
    first, second = read("ria.csv", RIA_HEADER + RIA_ROW + RIA_SAME_ID)
    assert (first.key, second.key) == ("1904", "1904#2")
    assert first.id != second.id
    assert second.sections == ["Society"]


def test_csv_unbalanced_quote_skips_that_row_and_reads_the_next():
    items = read("ria.csv", RIA_HEADER + RIA_ROW + RIA_UNBALANCED + RIA_LAST)
    assert [(type(i), i.key) for i in items] == [
        (Article, "1904"),
        (RecordSkip, "line 3"),
        (Article, "1907"),
    ]
    assert items[1].reason == "unbalanced quotes"


def test_csv_row_with_wrong_field_count_is_skipped():
    items = read("ria.csv", RIA_HEADER + RIA_SHORT + RIA_LAST)
    assert [(type(i), i.key) for i in items] == [(RecordSkip, "line 2"), (Article, "1907")]
    assert items[0].reason == "5 fields where the header has 9"


def test_csv_without_title_or_body_column_is_skipped():
    with pytest.raises(SkippedInput, match="no title or body column"):
        read("views.csv", "id,url,views\n1,https://ria.ru/1,3\n")


@pytest.mark.parametrize(
    "name, content",
    [
        ("feed.csv", "title;body\nA;B, with a comma\n"),
        ("feed.tsv", "title\tbody\nA\tB, with a comma\n"),
        ("feed.csv", '\ufefftitle,body\r\nA,"B, with a comma"\r\n'),
    ],
    ids=["semicolon", "tab", "bom-crlf"],
)
def test_csv_dialects(name, content):
    article = read_one(name, content)
    assert (article.title, article.body) == ("A", "B, with a comma")


# --- JSON and JSON Lines -----------------------------------------------------------------------


def test_json_list_of_records():
    items = read("feed.json", '[{"title": "A", "body": "a"}, {"title": "B", "body": "b"}]')
    assert [(i.key, i.title, i.body) for i in items] == [
        ("record 1", "A", "a"),
        ("record 2", "B", "b"),
    ]


def test_json_list_cut_short_keeps_its_complete_records():
    items = read("feed.json", '[{"title": "A", "body": "a"}, {"title": "B", "body": "b"}, {"ti')
    assert [(type(i), i.key) for i in items] == [(Article, "record 1"), (Article, "record 2"),
                                                 (RecordSkip, "record 3")]
    assert items[2].reason.startswith("invalid JSON at line 1 column 61")
    assert items[2].reason.endswith("the rest of the file was not read")
    with pytest.raises(SkippedInput, match="invalid JSON at line 1 column 3"):
        read("feed.json", "[{oops}]")  # broken from the start: the file is skipped


def test_json_pretty_printed_list_without_extension():
    items = read("feed", '[\n{"title": "A", "body": "a"},\n{"title": "B", "body": "b"}\n]\n')
    assert [(type(i), i.title) for i in items] == [(Article, "A"), (Article, "B")]


def test_json_wrapper_object_holding_the_list():
    items = read("feed.json", '{"status": "ok", "articles": [{"title": "A"}, {"title": "B"}]}')
    assert [i.title for i in items] == ["A", "B"]


def test_json_single_object_is_one_article():
    assert read_one("one.json", '{"id": "x1", "title": "A", "body": "a"}').key == "x1"


def test_json_common_alternative_field_names():
    article = read_one(
        "alt.json",
        '{"headline": "H", "text": "T", "published": "2023-10-20T16:25:00Z", '
        '"category": "world news", "keywords": "oil; gas", "byline": ["Ann", "Bob"], '
        '"link": "https://example.com/h"}',
    )
    assert (article.title, article.body) == ("H", "T")
    assert article.date == utc(2023, 10, 20, 16, 25)
    assert article.sections == ["World"]
    assert article.tags == ["oil", "gas"]
    assert article.author == "Ann, Bob"
    assert article.url == "https://example.com/h"


@pytest.mark.parametrize("record", ["5", '"text"', "null", "[1, 2]"])
def test_json_non_object_record_is_a_record_skip(record):
    items = read("feed.json", f'[{{"title": "A"}}, {record}, {{"title": "C"}}]')
    assert [type(i) for i in items] == [Article, RecordSkip, Article]
    assert items[1].key == "record 2"


def test_json_record_without_title_or_body_is_a_record_skip():
    (skip,) = read("feed.json", '[{"views": 3}]')
    assert skip == RecordSkip("record 1", "record has neither a title nor a body field")


def test_invalid_json_is_skipped():
    with pytest.raises(SkippedInput, match="invalid JSON"):
        read("feed.json", '{"title": "A", ')


def test_json_at_max_depth_is_read():
    nested = "[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1)  # plus the object: the max
    assert read_one("deep.json", f'{{"title": "A", "extra": {nested}}}').title == "A"


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_json_nested_deeper_than_the_max_is_skipped_without_recursion_error(depth):
    with pytest.raises(SkippedInput, match="nested deeper"):
        read("deep.json", '{"title": "A", "extra": ' + "[" * depth + "]" * depth + "}")


def test_jsonl_bad_line_skips_that_line_only():
    items = read("feed.jsonl", '{"title": "A"}\n{"title": \n\n{"title": "C"}\n')
    assert [(type(i), i.key) for i in items] == [
        (Article, "line 1"),
        (RecordSkip, "line 2"),
        (Article, "line 4"),
    ]


def test_jsonl_in_a_file_named_json_is_read_line_by_line():
    items = read("feed.json", '{"title": "A"}\n{"title": "B"}\n')
    assert [i.title for i in items] == ["A", "B"]


# --- ids ---------------------------------------------------------------------------------------


def test_article_id_is_stable_for_the_same_source_and_key():
    once = read("feed.json", '[{"title": "A"}, {"title": "B"}]')
    again = read("feed.json", '[{"title": "A changed"}, {"title": "B"}]')
    assert [a.id for a in once] == [a.id for a in again]
    assert once[0].id == article_id("/corpus/feed.json", "record 1")


def test_article_id_differs_across_keys_and_sources():
    ids = {article_id(s, k) for s in ("/corpus/a.json", "/corpus/b.json") for k in ("1", "2")}
    assert len(ids) == 4


# --- Article.create / normalise_section --------------------------------------------------------


@pytest.mark.parametrize(
    "raw, section",
    [
        ("World News", "World"),
        (" World  News ", "World"),
        ("world news", "World"),
        ("business", "Business"),
        ("Business", "Business"),
        ("eBusiness", "eBusiness"),  # the publisher's capitalisation is kept
        ("News", "News"),
        ("news", "News"),
        ("News - News", "News"),
        ("Sport »", "Sport"),
        ("\u0421olumn", "Column"),  # a Cyrillic С in a Latin word
        ("Культурa", "Культура"),  # a Latin a in a Cyrillic word
    ],
)
def test_normalise_section(raw, section):
    assert normalise_section(raw) == section


def create(**fields) -> Article:
    return Article.create(source="/corpus/x", key="k", title="T", body="B", **fields)


def test_create_removes_duplicate_sections_case_insensitively():
    sections = ["World News", "world", "WORLD", "business", "Business", "", "  "]
    assert create(sections=sections).sections == ["World", "Business"]


def test_create_accepts_one_section_as_a_string():
    assert create(sections="world news").sections == ["World"]


def test_create_takes_naive_dates_as_utc():
    date = create(date=datetime(2020, 1, 1, 12)).date
    assert date == utc(2020, 1, 1, 12)
    assert date.tzinfo is UTC


def test_create_keeps_the_offset_of_aware_dates_as_a_fixed_one():
    from zoneinfo import ZoneInfo

    date = create(date=datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(hours=3)))).date
    assert (date, date.utcoffset()) == (utc(2020, 1, 1, 9), timedelta(hours=3))
    date = create(date=datetime(2020, 7, 1, 12, tzinfo=ZoneInfo("America/New_York"))).date
    assert (date, date.tzinfo) == (utc(2020, 7, 1, 16), timezone(timedelta(hours=-4)))
    assert create(date=datetime(2020, 1, 1, 12, tzinfo=timezone(timedelta(0)))).date.tzinfo is UTC


def test_create_cleans_text_fields():
    article = Article.create(
        source="s", key="k", title=" Tele\u200bgram\n news ", body="Бии\u0306ск\r\n\r\n\r\nok"
    )
    assert (article.title, article.body) == ("Telegram news", "Бийск\n\nok")


# --- real corpora (acceptance) -----------------------------------------------------------------

REUTERS_RECORDS = 21_578
_RAW_RECORD = re.compile(r'<REUTERS\b[^>]*\bNEWID="(\d+)"[^>]*>.*?<DATE>([^<]*)</DATE>', re.S)
_RAW_DAY = re.compile(r"\s*(\d{1,2})-([A-Z]{3})-(\d{4})")


def read_one_file(path, folder: str | None = None) -> Article:
    items = list(read_source(SourceFile(str(path), path.name, path.read_bytes(), folder)))
    assert len(items) == 1 and isinstance(items[0], Article), items
    return items[0]


@pytest.fixture(scope="module")
def reuters_files(corpora):
    return sorted((corpora / "reuters21578").glob("reut2-*.sgm"))


@pytest.fixture(scope="module")
def reuters_items(reuters_files):
    """Each file's items, or the SkippedInput raised for it."""
    out: dict[str, list[Article | RecordSkip] | SkippedInput] = {}
    for path in reuters_files:
        try:
            out[path.name] = list(read_source(SourceFile(str(path), path.name, path.read_bytes())))
        except SkippedInput as exc:
            out[path.name] = exc
    return out


def _raw_days(files) -> dict[str, object]:
    """NEWID → the day its <DATE> names, for each record whose DATE holds a valid date."""
    days = {}
    for path in files:
        for newid, raw in _RAW_RECORD.findall(path.read_text(encoding="latin-1")):
            m = _RAW_DAY.match(raw)
            if m:
                with contextlib.suppress(ValueError):  # no such day
                    days[newid] = datetime.strptime(" ".join(m.groups()), "%d %b %Y").date()
    return days


@pytest.mark.shared
def test_real_reuters_every_file_parses(reuters_items):
    assert len(reuters_items) == 22
    assert {n: i for n, i in reuters_items.items() if not isinstance(i, list) or not i} == {}


@pytest.mark.shared
def test_real_reuters_articles_and_record_skips_account_for_every_record(reuters_items):
    items = [i for file_items in reuters_items.values() for i in file_items]
    assert len(items) == REUTERS_RECORDS
    assert {i.key for i in items} == {str(n) for n in range(1, REUTERS_RECORDS + 1)}
    # The one record left out is an UNPROC record whose <TEXT> holds nothing.
    assert [i for i in items if isinstance(i, RecordSkip)] == [
        RecordSkip("12793", "no title and no body")
    ]


@pytest.mark.shared
def test_real_reuters_every_valid_date_is_read(reuters_files, reuters_items):
    expected = _raw_days(reuters_files)
    assert len(expected) == REUTERS_RECORDS  # every DATE, irregular ones included, names a day
    articles = [i for items in reuters_items.values() for i in items if isinstance(i, Article)]
    wrong = [
        (a.key, a.date, expected.get(a.key))
        for a in articles
        if (a.date.date() if a.date else None) != expected.get(a.key)
        or (a.date is not None and a.date.tzinfo is not UTC)
    ]
    assert wrong == []


@pytest.mark.shared
def test_real_seed_article(corpora):
    seed = corpora.parent / "seed" / "kazakhstan-csto-withdrawal.txt"
    article = read_one_file(seed)
    assert article.sections == ["World"]
    assert article.title == "Kazakhstan Russian “police” forces begin to withdraw"
    assert article.body.startswith("On Thursday, the Russian Defense Ministry announced")
    for chrome in ("Read More About", "Exit mobile version", "Home World"):
        assert chrome not in article.body
    assert article.date is None


@pytest.mark.shared
def test_real_bbc_sport_199_decodes_with_the_latin1_pound(corpora):
    raw = (corpora / "bbc" / "sport" / "199.txt").read_bytes()
    text = decode(raw)[0]
    assert "£15.8m" in text
    # Every other byte is ASCII, so the whole text is what Latin-1 makes of the file.
    assert text == raw.decode("latin-1")


@pytest.mark.shared
def test_real_bbc_sport_199_reads_as_a_sport_article(corpora):
    article = read_one_file(corpora / "bbc" / "sport" / "199.txt", folder="sport")
    assert "£15.8m" in article.body
    assert article.sections == ["Sport"]


@pytest.fixture(scope="module")
def ria(corpora):
    """(raw text, items read) for each RIA CSV file."""
    out = []
    for path in sorted((corpora / "cyrillic" / "ria_news").glob("*.csv")):
        items = list(read_source(SourceFile(str(path), path.name, path.read_bytes(), "ria_news")))
        out.append((path.read_text(encoding="utf-8"), items))
    return out


@pytest.mark.shared
def test_real_ria_every_row_is_an_article_with_its_moscow_time_date(ria):
    moscow = timezone(timedelta(hours=3))
    assert len(ria) == 2
    for raw, items in ria:
        rows = list(csv.DictReader(io.StringIO(raw)))
        assert all(isinstance(i, Article) for i in items)
        expected = [
            datetime.strptime(r["datetime"], "%H:%M %d.%m.%Y").replace(tzinfo=moscow) for r in rows
        ]
        assert [a.date for a in items] == expected


@pytest.mark.shared
def test_real_ria_text_is_nfc_without_invisible_characters(ria):
    assert sum(raw.count("\u0306") for raw, _ in ria) == 18  # the README's count
    for _, items in ria:
        for a in items:
            text = "".join([a.title, a.subtitle or "", a.body, *a.tags])
            assert "\u0306" not in text
            assert not set(text) & set("\ufeff\u200b\u200d\u200e")


def test_only_web_addresses_are_kept_as_urls() -> None:
    from newsearch.article import Article

    def url(u: str) -> str | None:
        return Article.create(source="s", key="k", title="t", body="b", url=u).url

    assert url("https://example.org/a") == "https://example.org/a"
    assert url("javascript:alert(3)") is None
    assert url("data:text/html,<b>x</b>") is None


def test_csv_body_paragraphs_set_apart_by_two_spaces_are_kept() -> None:
    data = ('id,title,content\n1,Парк,"БЛАГОВЕЩЕНСК, 20 окт – РИА Новости. Первый абзац.  '
            'Второй абзац «в кавычках».  Третий.  Two  spaces inside a sentence stay."\n')
    article = read_one("ria.csv", data)
    assert article.body.split("\n\n") == [
        "БЛАГОВЕЩЕНСК, 20 окт – РИА Новости. Первый абзац.", "Второй абзац «в кавычках».",
        "Третий.", "Two spaces inside a sentence stay."]
