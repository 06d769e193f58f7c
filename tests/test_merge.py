"""Merging segments by arrays gives what Whoosh's own merge gives, and the tiered policy keeps
the segment count down as an index grows."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from whoosh.writing import OPTIMIZE

from newsearch import index_paths, open_index
from newsearch.article import Article
from newsearch.backends.whoosh.codec import NewsCodec
from newsearch.backends.whoosh.merge import (
    END_MERGE_FLOOR,
    MAX_MERGED_DOCS,
    MERGE_FACTOR,
    end_of_run_groups,
    merge_segments,
)
from newsearch.backends.whoosh.segments import NewsSegmentWriter
from newsearch.backends.whoosh.storage import create_index, open_whoosh_index

from .test_segments import _dump

WORDS = ("bank rates oil prices Токаев Алматы Zürich wheat exports tariffs the of a "
         "Москва England").split()


def _article(i: int) -> Article:
    body = " ".join(WORDS[(i * k) % len(WORDS)] for k in range(1, 9 + i % 17))
    return Article.create(source=f"/corpus/part-{i // 25}.jsonl", key=str(i),
                          title=f"Story {i} {WORDS[i % len(WORDS)]}", body=body,
                          sections=["World" if i % 3 else "Business"],
                          tags=["t" + str(i % 4)], subtitle="standfirst" if i % 5 == 0 else None)


def _segmented(path: Path, commits: int = 12, per_commit: int = 25) -> Any:
    ix = create_index(path)
    n = 0
    for _ in range(commits):
        w = NewsSegmentWriter(ix)
        for _ in range(per_commit):
            a = _article(n)
            w.add_article(a, a.dedup)
            n += 1
        w.commit(merge=False)
    w = NewsSegmentWriter(ix)
    for i in (3, 26, 27, 140, 299):  # deletions in several segments
        w.delete_by_term("id", _article(i).id)
    w.commit(merge=False)
    return ix


def _without_field_totals(dump: dict[str, Any]) -> dict[str, Any]:
    # Whoosh's merge re-adds each document's length from its one-byte approximation, so its
    # field totals drift; everything else must be equal.
    dump["lengths"] = [(f, maxlen, per_doc) for f, _total, maxlen, per_doc in dump["lengths"]]
    return dump


def test_array_merge_equals_whoosh_merge(tmp_path: Path) -> None:
    _segmented(tmp_path / "whoosh")
    shutil.copytree(tmp_path / "whoosh", tmp_path / "arrays")
    ix_w = open_whoosh_index(tmp_path / "whoosh")
    ix_a = open_whoosh_index(tmp_path / "arrays")
    assert len(ix_a.reader().leaf_readers()) == 12

    NewsSegmentWriter(ix_w).commit(OPTIMIZE)  # Whoosh: every posting through its matcher

    def arrays(writer: Any, segments: list[Any]) -> list[Any]:
        return [merge_segments(writer.storage, writer.schema, writer.indexname, segments)]

    NewsSegmentWriter(ix_a).commit(mergetype=arrays)
    with ix_a.reader() as r:
        assert r.is_atomic() and r.doc_count() == 12 * 25 - 5 and not r.has_deletions()
    assert _without_field_totals(_dump(ix_a)) == _without_field_totals(_dump(ix_w))
    with ix_a.reader() as ra, ix_w.reader() as rw:
        for f in ("title", "body", "subtitle"):
            assert abs(ra.field_length(f) - rw.field_length(f)) <= 0.05 * rw.field_length(f)


def test_merged_index_searches_the_same(tmp_path: Path) -> None:
    _segmented(tmp_path / "before")
    shutil.copytree(tmp_path / "before", tmp_path / "after")
    NewsSegmentWriter(open_whoosh_index(tmp_path / "after")).commit(
        mergetype=lambda w, segs: [merge_segments(w.storage, w.schema, w.indexname, segs)])
    queries = ["bank", '"oil prices"', "Токаев", "zurich", '"wheat exports"~3', "tags:t2",
               "section:business rates", "stor*"]
    with open_index(tmp_path / "before") as a, open_index(tmp_path / "after") as b:
        for q in queries:
            ra, rb = a.search(q, per_page=20), b.search(q, per_page=20)
            assert ra.total == rb.total, q
            assert [(h.id, h.snippets) for h in ra.hits] == [(h.id, h.snippets) for h in rb.hits]
            assert ra.facets == rb.facets


def test_merge_of_only_deleted_documents_leaves_nothing(tmp_path: Path) -> None:
    ix = create_index(tmp_path / "ix")
    w = NewsSegmentWriter(ix)
    a = _article(0)
    w.add_article(a, a.dedup)
    w.commit()
    w = NewsSegmentWriter(ix)
    w.delete_by_term("id", a.id)
    merged = merge_segments(w.storage, w.schema, w.indexname, w.segments)
    w.cancel()
    assert merged is None


@pytest.mark.parametrize("runs", [MERGE_FACTOR + 2])
def test_tiered_policy_keeps_few_segments(tmp_path: Path, runs: int) -> None:
    """Index runs that each add a file: the small segments are merged by tier, the index
    stays complete and searchable."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    index = tmp_path / "index"
    for k in range(runs):
        rows = [_article(k * 25 + i) for i in range(25)]
        (corpus / f"part-{k:02d}.csv").write_text(
            "title,body\n" + "".join(f'"{a.title}","{a.body}"\n' for a in rows), "utf-8")
        index_paths([corpus], index, jobs=1)
    ix = open_whoosh_index(index)
    with ix.reader() as r:
        leaves = len(r.leaf_readers()) if not r.is_atomic() else 1
        assert r.doc_count() == runs * 25
    assert leaves < MERGE_FACTOR
    with open_index(index) as nix:
        assert nix.search("bank").total == sum(
            "bank" in _article(i).body for i in range(runs * 25))


def _segment_sizes(index: Path) -> dict[str, int]:
    return {s.segment_id(): s.doc_count() for s in open_whoosh_index(index)._segments()}


def test_a_run_ends_with_its_segments_merged_into_one(tmp_path: Path) -> None:
    """A run that commits several times (here every 25 articles) leaves one segment, which
    searches as the separate segments did."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    rows = [_article(i) for i in range(120)]
    (corpus / "all.csv").write_text(
        "title,body\n" + "".join(f'"{a.title}","{a.body}"\n' for a in rows), "utf-8")
    report = index_paths([corpus], tmp_path / "index", jobs=1, batch_articles=25)
    assert report.documents == 120
    assert len(_segment_sizes(tmp_path / "index")) == 1
    with open_index(tmp_path / "index") as nix:
        assert nix.search("bank").total == sum("bank" in a.body for a in rows)
        assert nix.search('"oil prices"').total > 0


def test_a_small_run_never_rewrites_a_big_segment(tmp_path: Path) -> None:
    """Runs that add a few articles onto a built index merge their segments with each other,
    never with the index's big segment."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    index = tmp_path / "index"

    def add(name: str, first: int, count: int) -> None:
        rows = [_article(first + i) for i in range(count)]
        (corpus / name).write_text(
            "title,body\n" + "".join(f'"{a.title}","{a.body}"\n' for a in rows), "utf-8")
        index_paths([corpus], index, jobs=1)

    add("big.csv", 0, END_MERGE_FLOOR + 100)
    (big,) = _segment_sizes(index)
    add("one.csv", 5_000, 3)
    assert sorted(_segment_sizes(index).values()) == [3, END_MERGE_FLOOR + 100]
    add("two.csv", 6_000, 4)
    sizes = _segment_sizes(index)
    assert big in sizes and sorted(sizes.values()) == [7, END_MERGE_FLOOR + 100]
    with open_index(index) as nix:
        assert nix.search("bank").total == sum(
            "bank" in _article(i).body
            for i in [*range(END_MERGE_FLOOR + 100), *range(5_000, 5_003), *range(6_000, 6_004)])


class _Seg:
    """A newsearch segment as the end-of-run policy sees it: a codec and a size."""

    def __init__(self, docs: int) -> None:
        self.docs = docs

    def codec(self) -> NewsCodec:
        return NewsCodec()

    def doc_count(self) -> int:
        return self.docs


def test_a_large_run_ends_with_few_segments_rewriting_at_most_what_it_wrote() -> None:
    """A million articles left by the tiered merges as ten segments of 100,000, four of
    10,000 and seven of 1,000 (the 1M benchmark's shape): the run's end merges them in
    groups of at most MAX_MERGED_DOCS, smallest first, in index order."""
    segs = [_Seg(100_000) for _ in range(10)] + [_Seg(10_000) for _ in range(4)] + \
        [_Seg(1_000) for _ in range(7)]
    groups = end_of_run_groups(segs, written=1_000_000)
    sizes = [sum(s.docs for s in g) for g in groups]
    assert all(len(g) >= 2 for g in groups) and max(sizes) <= MAX_MERGED_DOCS
    assert sum(sizes) <= 1_000_000
    assert all(g == sorted(g, key=segs.index) for g in groups)
    merged = {id(s) for g in groups for s in g}
    # 247,000 (the eleven small and two large), then three pairs of 100,000; the last two
    # would take the rewritten articles past the million the run wrote: 6 segments of 21.
    assert sizes == [247_000, 200_000, 200_000, 200_000]
    assert len(groups) + sum(id(s) not in merged for s in segs) == 6


def test_a_small_run_rewrites_only_small_segments() -> None:
    segs = [_Seg(100_000), _Seg(END_MERGE_FLOOR + 100), _Seg(3), _Seg(4)]
    assert end_of_run_groups(segs, written=4) == [[segs[2], segs[3]]]
    # what a 5,000-article run wrote bounds what its end rewrites
    assert end_of_run_groups(segs, written=5_000) == [segs[1:]]
