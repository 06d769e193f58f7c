"""Parity of the two backends on real corpora: Reuters-21578 and RIA, each indexed into a
Whoosh folder and into the OpenSearch cluster with the shipped defaults (3 shards, 1
replica), then searched with 51 queries: words, phrases, proximity, fields, date ranges,
sections, Latin for Cyrillic, Cyrillic for Latin, prefixes, fuzzy words and the any-word
fallback.

What must agree (the issue's tolerances): totals exactly, section, language and date facets
exactly, the fallback, the notices and "did you mean", for every hit both return the
snippets character for character, and the top 10 overlapping in at least 9 of 10 on average
(a hit tied with Whoosh's tenth counts: ties are ordered by document number there and by id
in the cluster).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from newsearch import index_paths, open_index
from newsearch.trends import BY

from .opensearch_support import LocalCluster

pytestmark = [pytest.mark.opensearch, pytest.mark.shared, pytest.mark.slow]

REUTERS_QUERIES = [
    "oil", "oil prices", "coffee brazil", '"bank of england"', '"interest rates"',
    '"crude oil prices"~3', '"dollar yen"~5', "title:coffee", "body:opec", "title:gold mine",
    "section:crude", "section:acq takeover", "section:coffee OR section:cocoa",
    "tags:japan trade", "date:1987-03-05", "date:[1987-03-01 TO 1987-03-10] dollar",
    "date:[* TO 1987-03-03] wheat", "econom*", "opec~", "gold OR silver", "wheat -corn",
    "what did economists say about oil exports", "coffee brazil strike quota talks",
    "yen intervention bank of japan", "shipping strike", "brazl coffe", "Бразилия кофе",
    "(wheat OR corn) export*", "-oil section:crude",
]
RIA_QUERIES = [
    "Путин", "putin", "Москва", "moskva", "Китай", "kitai", "Украина", "ukraina",
    '"Владимир Путин"', '"Путин заявил"~3', "title:Путин", "section:economy нефть",
    "section:culture", "date:2023-11", "date:[2023-10-01 TO 2023-10-15] рубль",
    "банк OR рубль", "экономик*", "Путн~", "нефть -Россия",
    "что сказали экономисты о ценах на нефть в России", "Almaty", "Алматы",
]
assert len(REUTERS_QUERIES) + len(RIA_QUERIES) >= 40


def both(opensearch: LocalCluster, folder: Path, tmp: Path, label: str):
    w = tmp / label
    where = f"opensearch+{opensearch.urls}/{opensearch.new_index(label)}"
    reports = index_paths([folder], w), index_paths([folder], where)
    return w, where, reports


@pytest.fixture(scope="module")
def reuters(opensearch, cluster, corpora: Path, tmp_path_factory: pytest.TempPathFactory):
    return both(opensearch, corpora / "reuters21578", tmp_path_factory.mktemp("par"), "reuters")


@pytest.fixture(scope="module")
def ria(opensearch, cluster, corpora: Path, tmp_path_factory: pytest.TempPathFactory):
    return both(opensearch, corpora / "cyrillic", tmp_path_factory.mktemp("par"), "ria")


def compare(indexes, queries: list[str]) -> list[float]:
    """Assert everything but the order of the hits; return each query's top-10 overlap."""
    w_path, os_path, (w_report, os_report) = indexes
    keys = ("added", "updated", "deleted", "unchanged", "duplicates", "documents")
    assert [getattr(os_report, k) for k in keys] == [getattr(w_report, k) for k in keys]
    overlaps = []
    with open_index(w_path) as w, open_index(os_path) as o:
        same = {"index": "", "index_bytes": 0}  # where and how large differ by design
        assert o.stats().to_dict() | same == w.stats().to_dict() | same
        for q in queries:
            a, b = w.search(q), o.search(q)
            assert b.total == a.total, q
            assert b.facets == a.facets, q
            assert (b.fallback, b.notices, b.suggestion, b.date_granularity) == \
                (a.fallback, a.notices, a.suggestion, a.date_granularity), q
            wa, wb = {h.id: h for h in a.hits}, {h.id: h for h in b.hits}
            if a.total:
                # Equal scores are ordered by document number in Whoosh and by id in the
                # cluster: a hit tied with Whoosh's last one on the page is as good a pick.
                deeper = {h.id: h.score for h in w.search(q, per_page=100).hits}
                last = a.hits[-1].score
                tied = [i for i in wb if i in wa or (last == 0 and wb[i].score == 0)
                        or deeper.get(i, -1.0) == pytest.approx(last, rel=1e-6)]
                overlaps.append(len(tied) / min(10, a.total))
            for i in wa.keys() & wb.keys():
                assert wb[i].snippets == wa[i].snippets, (q, i)
                assert (wb[i].title, wb[i].date, wb[i].section) == \
                    (wa[i].title, wa[i].date, wa[i].section)
    print(f"{len(queries)} queries, top-10 overlap {sum(overlaps) / len(overlaps):.3f} on "
          f"average, lowest {min(overlaps):.1f}")  # the figure for bench/README.md (-s)
    assert len(overlaps) >= len(queries) - 2  # nearly every query finds something
    return overlaps


@pytest.fixture(scope="module")
def reuters_overlaps(reuters) -> list[float]:
    return compare(reuters, REUTERS_QUERIES)


@pytest.fixture(scope="module")
def ria_overlaps(ria) -> list[float]:
    return compare(ria, RIA_QUERIES)


def test_reuters_answers_alike(reuters_overlaps: list[float]) -> None:
    """Totals, facets, notices, suggestions, snippets (asserted in compare)."""


def test_ria_answers_alike(ria_overlaps: list[float]) -> None:
    """Totals, facets, notices, suggestions, snippets (asserted in compare)."""


def test_reuters_top_ten_agree(reuters_overlaps: list[float]) -> None:
    assert sum(reuters_overlaps) / len(reuters_overlaps) >= 0.9, reuters_overlaps


def test_ria_top_ten_agree(ria_overlaps: list[float]) -> None:
    assert sum(ria_overlaps) / len(ria_overlaps) >= 0.9, ria_overlaps


TREND_QUERIES = ["oil", "cocoa", '"interest rates"', "econom*", "section:crude opec"]


@pytest.mark.parametrize("by", BY)
@pytest.mark.parametrize("filters", [{}, {"sections": ["crude", "ship"]},
                                     {"since": "1987-03-05", "until": "1987-06"}])
def test_reuters_trends_alike(reuters, by: str, filters: dict) -> None:
    """Every period, label (ISO weeks included), zero and total as Whoosh counts them."""
    w_path, os_path, _reports = reuters
    with open_index(w_path) as w, open_index(os_path) as o:
        a, b = w.trend(TREND_QUERIES, by=by, **filters), o.trend(TREND_QUERIES, by=by, **filters)
    assert b.to_dict() == a.to_dict()
    assert [s.total for s in b.series] == [s.total for s in a.series]
    assert sum(c for s in a.series for _p, c in s.periods) > 0


def test_ria_trends_alike(ria) -> None:
    w_path, os_path, _reports = ria
    with open_index(w_path) as w, open_index(os_path) as o:
        for by in BY:
            assert o.trend(["Путин", "нефть"], by=by).to_dict() == \
                w.trend(["Путин", "нефть"], by=by).to_dict()


def test_reuters_stories_alike(reuters) -> None:
    """The index run groups the same versions into stories in the cluster as in the folder
    (the same rules, in the same order of arrival): compared through versions()."""
    w_path, os_path, _reports = reuters
    with open_index(w_path) as w, open_index(os_path) as o:
        a, b = (ix.search("oil OR coffee OR gold OR wheat", per_page=100, snippets=False)
                for ix in (w, o))
        assert b.total == a.total
        # The cluster counts stories with a cardinality aggregation (HyperLogLog++): close,
        # not exact (2,391 for 2,392 here).
        assert b.stories == pytest.approx(a.stories, rel=0.005)
        several = 0
        for h in w.search("oil", per_page=100, all_versions=True, snippets=False).hits:
            mine = {v.id for v in w.versions(h.id)}
            assert {v.id for v in o.versions(h.id)} == mine, h.id
            several += len(mine) > 1
        assert several >= 5  # Reuters-21578 re-files some stories


# Measured: 0.950 of the top 5 shared on average over these 60 articles (the rest are near
# ties that Lucene's rounded lengths order differently; see the README).
RELATED_OVERLAP_FLOOR = 0.8


def test_reuters_related_alike(reuters) -> None:
    """Both backends choose the same terms (newsearch.related over exact document
    frequencies) and score them by the same BM25F: the top 5 related mostly agree."""
    w_path, os_path, _reports = reuters
    overlaps = []
    with open_index(w_path) as w, open_index(os_path) as o:
        hits = w.search("oil OR coffee OR gold OR wheat", per_page=60, snippets=False).hits
        for h in hits:
            a, b = w.similar(h.id, limit=5).hits, o.similar(h.id, limit=5).hits
            own = {v.id for v in o.versions(h.id)}
            assert not own & {x.id for x in b}
            if a:
                overlaps.append(len({x.id for x in a} & {x.id for x in b}) / len(a))
    share = sum(overlaps) / len(overlaps)
    print(f"related: {len(overlaps)} articles, top-5 overlap {share:.3f}")
    assert share >= RELATED_OVERLAP_FLOOR, overlaps
