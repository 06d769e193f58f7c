"""Story clusters: versions of one story collapse into one hit, incrementally, and the
clustering's precision and recall on the large Reuters slice."""

from __future__ import annotations

import difflib
import itertools
import json
import re
import zlib
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from datasketch import MinHash

import newsearch.clusters as clusters_module
from newsearch import index_paths, open_index
from newsearch.article import key_words
from newsearch.cli import main
from newsearch.clusters import (
    MIN_SHINGLES,
    NUM_PERM,
    SHINGLE_WORDS,
    SKETCH_WINDOW,
    Clusters,
    band_keys,
    collapse,
    sketch,
    sketches,
)

from .opensearch_support import index_location

WIRE = ("The central bank raised its benchmark interest rate by a quarter point on Tuesday, "
        "citing stubborn inflation in services and a tight labour market. Economists had "
        "expected the move after strong wage data last week. The governor said further "
        "increases could not be ruled out if price pressures persist into the summer, while "
        "markets trimmed bets on a cut before the end of the year.")
# The same story re-filed: a new headline, a sentence added at the top, a word changed.
UPDATE = ("UPDATE 1 - The decision was unanimous. " + WIRE.replace("stubborn", "persistent"))
OTHER = ("Heavy rain flooded several villages in the north of the country overnight, "
         "forcing hundreds of families to leave their homes, officials said on Wednesday. "
         "Rescue teams used boats to reach people stranded on rooftops.")


def _write(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    return path


@pytest.fixture
def archive(tmp_path: Path) -> tuple[Path, Path]:
    root = tmp_path / "feeds"
    root.mkdir()
    _write(root / "a.jsonl", [
        {"id": "rate", "title": "Central bank raises rates", "body": WIRE,
         "date": "2024-05-07T08:00:00Z", "section": "Business"},
        {"id": "flood", "title": "Floods in the north", "body": OTHER,
         "date": "2024-05-08T08:00:00Z", "section": "World"},
    ])
    # An exact copy of "rate" (indexed once, counted as a duplicate) in another file.
    _write(root / "b.jsonl", [
        {"id": "rate-copy", "title": "Central bank raises rates", "body": WIRE,
         "date": "2024-05-07T09:00:00Z", "section": "Business"},
    ])
    _write(root / "c.jsonl", [
        {"id": "rate-update", "title": "Bank lifts rates again, more rises possible",
         "body": UPDATE, "date": "2024-05-07T11:00:00Z", "section": "Business"},
    ])
    return root, tmp_path / "index"


@pytest.fixture
def stories(archive: tuple[Path, Path], backend: str,
            request: pytest.FixtureRequest) -> tuple[Path, str]:
    """The archive, its index in a folder or in the cluster (the same assertions hold)."""
    root, folder = archive
    return root, index_location(request, backend, folder, "stories")


def test_versions_collapse_into_one_hit_with_a_count(stories: tuple[Path, str]) -> None:
    root, index = stories
    report = index_paths([root], index, jobs=1)
    assert report.duplicates == 1  # the exact copy: not indexed
    with open_index(index) as ix:
        res = ix.search("interest rate")
        assert res.total == 2  # both indexed versions are counted
        assert res.stories == 1
        assert [h.versions for h in res.hits] == [2]
        assert sum(f.count for f in res.facets["section"]) == 2
        every = ix.search("interest rate", all_versions=True)
        assert every.total == 2 and every.stories is None
        assert len(every.hits) == 2
        assert every.hits[0].cluster == every.hits[1].cluster
        assert all(h.versions == 2 for h in every.hits)
        flood = ix.search("floods")
        assert flood.hits[0].versions == 1
        assert flood.hits[0].cluster != every.hits[0].cluster
        versions = ix.versions(res.hits[0].id)
        assert {v.title for v in versions} == {"Central bank raises rates",
                                               "Bank lifts rates again, more rises possible"}


def test_versions_are_listed_oldest_first_even_before_1970(tmp_path: Path, backend: str,
                                                          request: pytest.FixtureRequest
                                                          ) -> None:
    # Day numbers before 1970 are negative: only the undated version goes last.
    path = _write(tmp_path / "f.jsonl", [
        {"id": "late", "title": "Central bank raises rates", "body": WIRE,
         "date": "1987-05-07T08:00:00Z"},
        {"id": "undated", "title": "Bank lifts rates", "body": UPDATE},
        {"id": "early", "title": "Bank lifts rates again",
         "body": WIRE.replace("stubborn", "high"), "date": "1965-05-07T08:00:00Z"},
    ])
    index = index_location(request, backend, tmp_path / "index", "before1970")
    index_paths([path], index, jobs=1)
    with open_index(index) as ix:
        hit = ix.search("interest rate").hits[0]
        assert hit.versions == 3
        assert [ix.get(v.id).key for v in ix.versions(hit.id)] == ["early", "late", "undated"]


def test_deleting_a_file_dissolves_its_articles_from_clusters(
        stories: tuple[Path, str]) -> None:
    root, index = stories
    index_paths([root], index, jobs=1)
    with open_index(index) as ix:
        cluster = ix.search("interest rate").hits[0].cluster
    # The indexed original goes: its exact copy in b.jsonl is read again and must join the
    # update's cluster, which the index already holds.
    (root / "a.jsonl").unlink()
    index_paths([root], index, jobs=1)
    with open_index(index) as ix:
        res = ix.search("interest rate", all_versions=True)
        assert sorted(h.title for h in res.hits) == [
            "Bank lifts rates again, more rises possible", "Central bank raises rates"]
        assert {h.cluster for h in res.hits} == {cluster}
        assert all(h.versions == 2 for h in res.hits)
    (root / "c.jsonl").unlink()
    index_paths([root], index, jobs=1)
    with open_index(index) as ix:
        res = ix.search("interest rate")
        assert res.total == 1 and res.hits[0].versions == 1


def test_a_version_added_later_joins_the_story(tmp_path: Path,
                                              stories: tuple[Path, str]) -> None:
    root, index = stories
    late = tmp_path / "late"
    late.mkdir()
    (root / "c.jsonl").rename(late / "c.jsonl")
    index_paths([root], index, jobs=2)
    index_paths([root, late], index, jobs=2)
    with open_index(index) as ix:
        res = ix.search("interest rate")
        assert res.total == 2 and [h.versions for h in res.hits] == [2]


def test_cluster_state_follows_the_committed_generation(archive: tuple[Path, Path]) -> None:
    root, index = archive
    index_paths([root], index, jobs=1)
    files = sorted(p.name for p in index.glob("newsearch-clusters-*"))
    with open_index(index) as ix:
        gen = ix.committed_generation()
        cluster = ix.search("interest rate").hits[0].cluster
    assert files == [Clusters.filename(gen)]
    # Lost (an index copied without it): rebuilt from the stored articles, numbers kept, so
    # a later version still joins the story.
    (index / files[0]).unlink()
    _write(root / "d.jsonl", [{"id": "rate-3", "title": "Rates: what the rise means",
                               "body": WIRE + " Mortgage costs will follow.",
                               "date": "2024-05-09T08:00:00Z"}])
    index_paths([root], index, jobs=1)
    with open_index(index) as ix:
        res = ix.search("interest rate", all_versions=True)
        assert {h.cluster for h in res.hits} == {cluster} and len(res.hits) == 3


def test_cli_search_json_and_show_list_versions(stories: tuple[Path, str]) -> None:
    root, index = stories
    index_paths([root], index, jobs=1)
    runner = CliRunner()
    out = runner.invoke(main, ["search", "interest rate", "--index", str(index), "--json"],
                        catch_exceptions=False)
    data = json.loads(out.output)
    assert data["total"] == 2 and len(data["hits"]) == 1
    hit = data["hits"][0]
    assert hit["versions"] == 2 and isinstance(hit["cluster"], int)
    out = runner.invoke(main, ["search", "interest rate", "--index", str(index), "--json",
                               "--all-versions"], catch_exceptions=False)
    assert len(json.loads(out.output)["hits"]) == 2
    text = runner.invoke(main, ["search", "interest rate", "--index", str(index)],
                         catch_exceptions=False).output
    assert "1 more version" in text
    shown = runner.invoke(main, ["show", hit["id"], "--index", str(index), "--json"],
                          catch_exceptions=False)
    article = json.loads(shown.output)
    assert article["cluster"] == hit["cluster"]
    assert len(article["versions"]) == 2 and hit["id"] in {v["id"] for v in article["versions"]}
    text = runner.invoke(main, ["show", hit["id"], "--index", str(index)],
                         catch_exceptions=False).output
    assert "2 versions of this story" in text


def test_collapse_keeps_the_best_of_each_cluster() -> None:
    ids = np.array([0, 1, 2, 3, 4])
    keys = np.array([1.0, 5.0, 3.0, 4.0, 2.0])
    clusters = np.array([7, 7, 8, 7, 9])
    sizes = np.array([3, 3, 1, 3, 1])
    kept, kept_keys = collapse(ids, keys, clusters, sizes)
    assert sorted(kept.tolist()) == [1, 2, 4]
    assert dict(zip(kept.tolist(), kept_keys.tolist(), strict=True))[1] == 5.0


def test_sketches_are_datasketch_minhash_signatures() -> None:
    """The batched sketch is datasketch's MinHash (affine32 scheme, NUM_PERM permutations)
    of the body's word 3-shingles, text by text, whatever the texts around it."""
    texts = [("Rates", WIRE), ("", "too short to compare"), ("Update", UPDATE),
             ("Floods", OTHER), ("Only a headline " * 30, "")]
    sigs = sketches(texts)
    assert sigs[1] is None
    for (title, body), sig in zip(texts, sigs, strict=True):
        words = key_words(body or title)
        if len(words) < MIN_SHINGLES + SHINGLE_WORDS - 1:
            assert sig is None
            continue
        h = np.array([zlib.crc32(w.encode()) for w in words], dtype=np.uint64)
        shingles = (h[:-2] * np.uint64(0x9E3779B1) + h[1:-1] * np.uint64(0x85EBCA77) + h[2:]
                    ) & np.uint64(0xFFFFFFFF)
        m = MinHash(num_perm=NUM_PERM, hashfunc=int)
        m.update_batch(shingles.tolist())
        assert sig is not None and sig.tolist() == m.hashvalues.tolist()
        alone = sketch(title, body)
        assert alone is not None and alone.tolist() == sig.tolist()


def test_lsh_buckets_find_versions_and_forget_removed_ones(tmp_path: Path) -> None:
    """A version shares a band with its story and joins it; a removed article leaves no
    bucket behind; the buckets come back from a saved state."""
    c = Clusters()
    rate, update, flood = sketches([("", WIRE), ("", UPDATE), ("", OTHER)])
    assert rate is not None and update is not None and flood is not None
    first = c.assign("rate", rate)
    assert c.assign("flood", flood) != first
    assert c.candidates(update) == {"rate"}
    assert c.assign("update", update) == first
    c.save(tmp_path, 1)
    loaded = Clusters.load(tmp_path, 1)
    assert loaded is not None and loaded.buckets == c.buckets and loaded.of == c.of
    c.remove(["rate", "update", "flood"])
    assert c.buckets == {} and c.sigs == {} and c.of == {}
    # Keys computed for many signatures at once are each one's own.
    assert (band_keys(np.stack([rate, update])) == [band_keys(rate), band_keys(update)]).all()


def test_the_window_keeps_recent_sketches_and_every_cluster(tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    """Beyond SKETCH_WINDOW the oldest sketches, their buckets and numbers are forgotten
    (the index keeps every article's cluster): a version of a forgotten article starts a new
    story, a version of a recent one still joins it; a saved state loads the same window."""
    monkeypatch.setattr(clusters_module, "SKETCH_WINDOW", 2)
    rate, update, flood = sketches([("", WIRE), ("", UPDATE), ("", OTHER)])
    assert rate is not None and update is not None and flood is not None
    c = Clusters()
    first = c.assign("rate", rate)
    second = c.assign("flood", flood)
    c.assign("flood-copy", flood.copy())  # the third sketch: "rate" leaves the window
    assert list(c.sigs) == ["flood", "flood-copy"] == list(c.of)
    assert c.candidates(update) == set()  # no bucket of the forgotten sketch is left
    assert c.assign("update", update) not in (first, second)
    assert c.assign("flood-again", flood.copy()) == second
    c.save(tmp_path, 1)
    loaded = Clusters.load(tmp_path, 1)
    assert loaded is not None and list(loaded.sigs) == list(c.sigs)
    assert loaded.buckets == c.buckets and loaded.of == c.of


def test_the_shipped_window_bounds_the_sketches_held() -> None:
    """At the shipped SKETCH_WINDOW the main process holds at most that many sketches
    and cluster numbers, however many articles a run adds."""
    rng = np.random.default_rng(7)
    c = Clusters()
    extra = 500
    sigs = rng.integers(0, 2**32, size=(SKETCH_WINDOW + extra, NUM_PERM), dtype=np.uint32)
    for i, sig in enumerate(sigs):
        c.assign(f"a{i}", sig)
    assert len(c.sigs) == SKETCH_WINDOW == len(c.of)
    assert next(iter(c.sigs)) == f"a{extra}"  # the oldest ones went
    held = {aid for ids in c.buckets.values()
            for aid in (ids if isinstance(ids, list) else [ids])}
    assert held == set(c.sigs)


# --- precision and recall on the large Reuters slice ------------------------------------------

# Floors under the measured 0.981 recall and 0.998 precision (THRESHOLD 0.5, see clusters.py):
# they leave room for reader changes that move a few articles, not for a worse method (0.6
# gives 0.90 recall, 0.3 a precision of 0.93).
RECALL_FLOOR = 0.95
PRECISION_FLOOR = 0.98
_WORD = re.compile(r"\w+")
_DATE_SUFFIX = re.compile(r"\d{8}$")


def _ratio(a: list[str], b: list[str]) -> float:
    """Similarity by another measure than the sketch: difflib's ratio of matching word runs
    in order."""
    if not a or not b:
        return 0.0
    m = difflib.SequenceMatcher(None, a, b, autojunk=False)
    return m.ratio() if m.quick_ratio() >= 0.5 else 0.0


@pytest.mark.slow
def test_large_corpus_refiled_stories_cluster(corpora: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    index_paths([corpora / "large"], index)
    with open_index(index) as ix:
        ctx = ix._context()
        reader = ctx.searcher.reader()
        docs = {}
        for docnum, f in reader.iter_docs():
            docs[docnum] = (Path(f["source"]).name, f.get("title", "").strip().lower(),
                            _WORD.findall(f.get("body", "").lower()),
                            int(ctx.view.clusters[docnum]))
    # Pairs established without the sketch: the same URL slug but for the date the id ends
    # with (Reuters re-files a story the next day under it), or the same headline; a pair is
    # a re-filed story when the bodies are near-identical (ratio >= 0.8).
    groups: dict[str, list[int]] = defaultdict(list)
    for d, (name, title, _w, _c) in docs.items():
        if "-id" in name or name.startswith("id"):
            groups["slug:" + _DATE_SUFFIX.sub("", name)].append(d)
        if title:
            groups["title:" + title].append(d)
    candidates = {p for g in groups.values() for p in itertools.combinations(sorted(g), 2)}
    gold = [(a, b) for a, b in candidates if _ratio(docs[a][2], docs[b][2]) >= 0.8]
    assert len(gold) > 400  # the corpus re-files hundreds of stories
    recall = sum(docs[a][3] == docs[b][3] for a, b in gold) / len(gold)
    members: dict[int, list[int]] = defaultdict(list)
    for d, (*_rest, c) in docs.items():
        members[c].append(d)
    grouped = [p for m in members.values() for p in itertools.combinations(m, 2)]
    # A grouped pair is right when at least half of the words match in order: versions
    # (updates add paragraphs), not two market reports that share boilerplate.
    precision = sum(_ratio(docs[a][2], docs[b][2]) >= 0.5 for a, b in grouped) / len(grouped)
    print(f"clusters: {len(gold)} re-filed pairs, recall {recall:.3f}; "
          f"{len(grouped)} grouped pairs, precision {precision:.3f}")
    assert recall >= RECALL_FLOOR
    assert precision >= PRECISION_FLOOR
