"""Related stories: more-like-this that never returns the article or its own story, on both
backends."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsearch import QueryError, index_paths, open_index
from newsearch.cli import main

from .opensearch_support import index_location
from .test_clusters import UPDATE, WIRE

RATES_2 = ("Mortgage lenders raised their rates within hours of the central bank's interest rate "
           "decision, and economists said the bank's governor left the door open to another "
           "increase if inflation stays high.")
FOOTBALL = ("The striker scored twice in the second half as the home side came from behind to "
            "win the cup final in front of a record crowd on Saturday.")


def _feed(path: Path, rows: list[tuple[str, str, str]]) -> None:
    path.write_text("\n".join(json.dumps({"id": i, "title": t, "body": b,
                                          "date": "2024-05-07T08:00:00Z"})
                              for i, t, b in rows), encoding="utf-8")


@pytest.fixture
def archive(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> tuple[Path, str]:
    root = tmp_path / "feeds"
    root.mkdir()
    _feed(root / "a.jsonl", [("rate", "Central bank raises rates", WIRE),
                             ("cup", "Striker wins the cup final", FOOTBALL)])
    _feed(root / "b.jsonl", [("mortgage", "Lenders follow the central bank", RATES_2)])
    return root, index_location(request, backend, tmp_path / "index", "related")


def _rate_id(ix) -> str:
    return ix.search('"raised its benchmark interest rate"').hits[0].id


def test_related_excludes_the_article_and_its_story_through_updates(
        archive: tuple[Path, str]) -> None:
    root, index = archive
    index_paths([root], index, jobs=1)
    with open_index(index) as ix:
        rate = _rate_id(ix)
        related = ix.similar(rate)
        assert [h.title for h in related.hits] == ["Lenders follow the central bank"]
    # A version of the story arrives, and a second related article in its own file.
    _feed(root / "c.jsonl", [("rate-update", "Bank lifts rates again", UPDATE)])
    _feed(root / "d.jsonl", [("savers", "Savers gain as the central bank raises rates",
                              "Savers will earn more after the central bank raised its "
                              "benchmark interest rate, banks said.")])
    index_paths([root], index, jobs=1)
    with open_index(index) as ix:
        own = {v.id for v in ix.versions(rate)}
        assert len(own) == 2
        ids = [h.id for h in ix.similar(rate).hits]
        assert rate not in ids and not own & set(ids)
        assert len(ids) == 2
        # From the update's side the original is not "related": it is the same story.
        update = next(i for i in own if i != rate)
        assert not own & {h.id for h in ix.similar(update).hits}
    (root / "b.jsonl").unlink()
    index_paths([root], index, jobs=1)
    with open_index(index) as ix:
        titles = [h.title for h in ix.similar(rate).hits]
        assert titles == ["Savers gain as the central bank raises rates"]


def test_similar_checks_its_limit_and_the_id(archive: tuple[Path, str]) -> None:
    root, index = archive
    index_paths([root], index, jobs=1)
    with open_index(index) as ix, pytest.raises(QueryError):
        ix.similar(_rate_id(ix), limit=0)
    runner = CliRunner()
    out = runner.invoke(main, ["similar", "no-such-id", "--index", str(index)])
    assert out.exit_code == 2 and "no-such-id" in out.output


def test_cli_similar_json_is_shaped_as_search(archive: tuple[Path, str]) -> None:
    root, index = archive
    index_paths([root], index, jobs=1)
    with open_index(index) as ix:
        rate = _rate_id(ix)
        search_hit = ix.search("mortgage").to_dict()["hits"][0]
    runner = CliRunner()
    out = runner.invoke(main, ["similar", rate, "--index", str(index), "--json", "--limit", "1"],
                        catch_exceptions=False)
    data = json.loads(out.output)
    assert set(data) == {"id", "hits"} and data["id"] == rate
    assert len(data["hits"]) == 1
    assert set(data["hits"][0]) == set(search_hit)
    text = runner.invoke(main, ["similar", rate, "--index", str(index)],
                         catch_exceptions=False).output
    assert "Lenders follow the central bank" in text


# Issue 16 aims at 0.8; measured 0.880 over every BBC article (2,122 indexed, top 5 each;
# 0.84 before issue 12's ranking).
SAME_SECTION_FLOOR = 0.8


@pytest.mark.slow
def test_bbc_related_stories_share_the_section(corpora: Path, tmp_path: Path, backend: str,
                                               request: pytest.FixtureRequest) -> None:
    index = index_location(request, backend, tmp_path / "index", "bbc")
    index_paths([corpora / "bbc"], index)
    if backend == "whoosh":
        with open_index(index) as ix:
            reader = ix._context().searcher.reader()
            section = {f["id"]: f.get("section") for _d, f in reader.iter_docs()}
    else:
        cluster = request.getfixturevalue("cluster")
        found = cluster.client.search(index=index.rsplit("/", 1)[1], body={
            "size": 10_000, "_source": ["id", "section"], "query": {"match_all": {}}})
        section = {h["_source"]["id"]: (h["_source"].get("section") or [None])[0]
                   for h in found["hits"]["hits"]}
    with open_index(index) as ix:
        shares = []
        for aid, sec in section.items():
            hits = ix.similar(aid, limit=5).hits
            assert aid not in {h.id for h in hits}
            if hits:
                shares.append(sum(section[h.id] == sec for h in hits) / len(hits))
    share = sum(shares) / len(shares)
    print(f"related ({backend}): {len(shares)} articles, same-section share of the top 5 "
          f"{share:.3f}")
    assert len(shares) > 0.95 * len(section)
    assert share >= SAME_SECTION_FLOOR
    assert Counter(section.values()).most_common(1)[0][1] / len(section) < 0.3  # not trivial
