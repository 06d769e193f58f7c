"""The newsearch codec round-trips what Whoosh's own writer and codec store, and Whoosh reads
it: NewsSegmentWriter's segments hold the same postings, positions, stored fields, lengths and
columns as Whoosh's SegmentWriter with its W3 codec, seen through Whoosh's API and through
the query path's arrays."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from whoosh import qparser
from whoosh.codec.whoosh3 import W3Codec
from whoosh.filedb.filestore import RamStorage
from whoosh.writing import CLEAR, OPTIMIZE, SegmentWriter

from newsearch import open_index
from newsearch.analysis import doc_terms
from newsearch.article import Article
from newsearch.backends.whoosh.codec import (
    NewsCodec,
    NewsFieldWriter,
    NewsTermsReader,
    segment_postings,
)
from newsearch.backends.whoosh.schema import document_fields, make_schema
from newsearch.backends.whoosh.segments import NewsSegmentWriter, make_codec
from newsearch.backends.whoosh.storage import create_index
from newsearch.backends.whoosh.view import segment_postings as mapped_postings

TEXTS = [
    ("Bank of England holds rates", "The Bank of England held rates. " * 3),
    ("Токаев прибыл в Алматы", "Президент Касым-Жомарт Токаев прибыл в Алматы."),
    ("Zürich talks", "Officials met in Zürich. Zurich is calm."),
    ("Short", "bank"),
] + [(f"Filler story {i}", f"bank rates story number {i} " * (i % 7 + 1)) for i in range(300)]


def _articles() -> list[Article]:
    plain = [
        Article.create(source="/corpus/x.jsonl", key=str(i), title=t, body=b,
                       sections=["Business" if i % 2 else "World"])
        for i, (t, b) in enumerate(TEXTS)
    ]
    full = Article.create(
        source="/corpus/ria.csv", key="9", title="Театр Машкова", body="Премьера в декабре.",
        subtitle="Билеты в ноябре", author="Иван Петров", url="https://ria.ru/x-9.html",
        lang="ru", date=datetime(2023, 10, 20, 9, 20, tzinfo=UTC),
        sections=["Culture", "Society"], tags=["театр", "Москва"])
    return [full, *plain]


def _build(path: Path, writer_cls: type, codec: Any, fast: bool = False,
           articles: list[Article] | None = None) -> Any:
    ix = create_index(path)
    w = writer_cls(ix, codec=codec)
    for a in articles or _articles():
        if fast:
            w.add_article(a, a.dedup)
        else:
            w.add_document(**document_fields(a))
    w.commit()
    return ix


def _dump(ix: Any) -> dict[str, Any]:
    """Everything Whoosh's API shows of an index (positions decoded, so that two encodings
    of the same list compare equal)."""
    out: dict[str, Any] = {}
    with ix.reader() as r:
        for fieldname in sorted(r.indexed_field_names()):
            fmt = r.schema[fieldname].format
            for btext in r.lexicon(fieldname):
                ti = r.term_info(fieldname, btext)
                m = r.postings(fieldname, btext)
                postings = []
                while m.is_active():
                    value = m.value_as("positions") if fmt.supports("positions") else None
                    postings.append((m.id(), m.weight(), value))
                    m.next()
                out[f"{fieldname}:{btext!r}"] = (
                    ti.doc_frequency(), ti.weight(), ti.max_weight(), ti.min_id(), ti.max_id(),
                    r.doc_frequency(fieldname, btext), r.frequency(fieldname, btext), postings)
        out["stored"] = list(r.all_stored_fields())
        out["lengths"] = [(f, r.field_length(f), r.max_field_length(f),
                           [r.doc_field_length(d, f) for d in range(r.doc_count_all())])
                          for f in ("title", "body")]
        out["dates"] = list(r.column_reader("date"))
    return out


@pytest.fixture(scope="module")
def whoosh_w3(tmp_path_factory) -> dict[str, Any]:
    """What Whoosh itself stores: its SegmentWriter and its W3 codec."""
    return _dump(_build(tmp_path_factory.mktemp("w3") / "ix", SegmentWriter, W3Codec()))


@pytest.mark.parametrize(("writer", "fast"), [(SegmentWriter, False), (NewsSegmentWriter, False),
                                              (NewsSegmentWriter, True)],
                         ids=["whoosh-writer", "add_document", "add_article"])
def test_codec_round_trips_what_whoosh_stores(tmp_path: Path, whoosh_w3: dict[str, Any],
                                              writer: type, fast: bool) -> None:
    ours = _dump(_build(tmp_path / "ours", writer, make_codec(), fast))
    assert ours.keys() == whoosh_w3.keys()
    for key in whoosh_w3:
        assert ours[key] == whoosh_w3[key], key


def test_query_path_arrays_equal_whoosh_postings(tmp_path: Path) -> None:
    """The arrays the query path reads in place hold what Whoosh's matchers return."""
    ix = _build(tmp_path / "ours", NewsSegmentWriter, make_codec(), fast=True)
    with ix.reader() as r:
        mapped = mapped_postings(r)
        assert mapped is not None
        checked = 0
        for fieldname in ("title", "body", "section", "id"):
            fmt = r.schema[fieldname].format
            for btext in r.lexicon(fieldname):
                m = r.postings(fieldname, btext)
                ids, weights, plists = [], [], []
                while m.is_active():
                    ids.append(m.id())
                    weights.append(m.weight())
                    if fmt.supports("positions"):
                        plists.append(m.value_as("positions"))
                    m.next()
                got_ids, got_tfs = mapped.postings(fieldname, btext)
                assert got_ids.tolist() == ids
                assert (got_tfs.tolist() if got_tfs is not None else [1] * len(ids)) == weights
                if plists:
                    pids, starts, flat = mapped.positions(fieldname, btext)
                    assert pids.tolist() == ids
                    ends = [*starts[1:].tolist(), len(flat)]
                    assert [flat[a:b].tolist() for a, b in zip(starts, ends, strict=True)] \
                        == plists
                checked += 1
        assert mapped.postings("body", b"no-such-term") is None
        assert mapped.postings("no-such-field", b"bank") is None
    assert checked > 300


def test_long_posting_lists(tmp_path: Path) -> None:
    ix = _build(tmp_path / "ours", NewsSegmentWriter, make_codec())
    expected = [i for i, a in enumerate(_articles()) if "bank" in a.body.lower()]
    assert len(expected) > 2 * 128  # W3 needed three blocks for it
    with ix.reader() as r:
        assert list(r.postings("body", b"bank").all_ids()) == expected


def test_whoosh_searches_newsearch_segments(tmp_path: Path) -> None:
    """Whoosh's own searcher (parser, phrase matcher on the stored positions, scoring)."""
    ix = _build(tmp_path / "ours", NewsSegmentWriter, make_codec(), fast=True)
    with ix.searcher() as s:
        parser = qparser.QueryParser("body", ix.schema)
        phrase = [h["title"] for h in s.search(parser.parse('"bank of england"'), limit=None)]
        assert phrase == ["Bank of England holds rates"]
        assert len(s.search(parser.parse("rates"), limit=None)) == 301
        assert s.document_number(id=_articles()[3].id) == 3


def _wide_article(i: int, body: str) -> Article:
    return Article.create(source="/corpus/wide.jsonl", key=str(i), title=f"Wide {i}", body=body)


def test_wide_values_round_trip(tmp_path: Path) -> None:
    """Frequencies above 255 and positions above 65,535 take wider arrays, exactly."""
    long_body = " ".join(["alpha"] * 300 + ["filler"] * 70_000 + ["omega"])
    articles = [_wide_article(0, long_body), _wide_article(1, "alpha omega")]
    stock = _dump(_build(tmp_path / "w3", SegmentWriter, W3Codec(), articles=articles))
    ours = _dump(_build(tmp_path / "ours", NewsSegmentWriter, make_codec(), fast=True,
                        articles=articles))
    assert ours == stock
    alpha = ours["body:b'alpha'"]
    assert alpha[7][0][1] == 300
    assert ours["body:b'omega'"][7][0][2] == [70_300]


def test_hash_table_finds_every_term_and_nothing_else() -> None:
    storage = RamStorage()
    schema = make_schema()
    segment = NewsCodec().new_segment(storage, "T")
    fw = NewsFieldWriter(storage, segment)
    keys = sorted({f"t{i}".encode() for i in range(5000)} | {b"", b"\xc3\xa9t\xc3\xa9"})
    fw.start_field("tags", schema["tags"])
    for i, k in enumerate(keys):
        fw.add_term(k, [i], None)
    fw.close()
    mapped = segment_postings(storage, segment)
    assert [mapped.find("tags", k) for k in keys] == list(range(len(keys)))
    slots = {zlib.crc32(k) & mapped.fields["tags"].mask for k in keys}
    assert len(slots) < len(keys)  # collisions happened and were resolved
    assert mapped.find("tags", b"t5000") == -1 and mapped.find("body", b"t1") == -1
    assert list(mapped.terms_from("tags", b"t49")) == [k for k in keys if k >= b"t49"]
    reader = NewsTermsReader(mapped)
    assert ("tags", b"t42") in reader and ("tags", b"t42x") not in reader
    assert reader.doc_frequency("tags", b"t42") == 1
    with pytest.raises(KeyError):
        reader.frequency("tags", b"t42x")


def test_merges_and_deletions_keep_postings(tmp_path: Path) -> None:
    """Whoosh's merge (OPTIMIZE reads every posting back through the codec) and its
    deletions work on newsearch segments; a later CLEAR writes a fresh one."""
    ix = _build(tmp_path / "ours", NewsSegmentWriter, make_codec(), fast=True)
    w = NewsSegmentWriter(ix)
    for i in range(3):
        w.add_article(_wide_article(i, f"rates bank story {i}"), f"k{i}")
    w.commit()
    assert len(ix.reader().leaf_readers()) == 2
    w = NewsSegmentWriter(ix)
    w.delete_by_term("id", _articles()[4].id)
    w.commit(OPTIMIZE)
    with ix.reader() as r:
        assert r.is_atomic() and r.doc_count() == len(_articles()) + 3 - 1
        assert isinstance(r._terms, NewsTermsReader)
        ids = list(r.postings("body", b"bank").all_ids())
        before = sum("bank" in a.body.lower() for a in _articles())
        assert "bank" in _articles()[4].body
        assert len(ids) == len(set(ids)) == before - 1 + 3
        # A Cyrillic word's terms (its lemmas) survive the merge: one article has them.
        for term in doc_terms("Токаев"):
            assert len(list(r.postings("body", term.encode()).all_ids())) == 1, term
    w = NewsSegmentWriter(ix)
    w.add_article(_wide_article(9, "only one"), "k9")
    w.commit(CLEAR)
    with ix.reader() as r:
        assert r.doc_count() == 1 and list(r.postings("body", b"one").all_ids()) == [0]


def test_query_path_reads_whoosh_format_segments_too(tmp_path: Path) -> None:
    """A segment written by Whoosh's own writer and codec into a newsearch index is searched
    like the others (through Whoosh, decoded once)."""
    ix = _build(tmp_path / "mixed", NewsSegmentWriter, make_codec(), fast=True)
    w = SegmentWriter(ix, codec=W3Codec())
    extra = _wide_article(7, "The Bank of England again.")
    w.add_document(**document_fields(extra))
    w.commit()
    with ix.reader() as r:
        kinds = sorted(type(leaf._terms).__name__ for leaf, _off in r.leaf_readers())
    assert kinds == ["NewsTermsReader", "W3TermsReader"]
    with open_index(tmp_path / "mixed") as nix:
        res = nix.search('"bank of england"')
        assert sorted(h.title for h in res.hits) == ["Bank of England holds rates", "Wide 7"]
        assert nix.search("bank").total == 303


def test_empty_positions_arrays_are_views() -> None:
    """Reading a term allocates nothing but small views (the pages stay file cache)."""
    storage = RamStorage()
    schema = make_schema()
    segment = NewsCodec().new_segment(storage, "T")
    fw = NewsFieldWriter(storage, segment)
    fw.start_field("body", schema["body"])
    fw.add_term(b"a", [0, 5], [2, 1], [3, 9, 4])
    fw.close()
    ids, tfs = segment_postings(storage, segment).postings("body", b"a")
    assert ids.tolist() == [0, 5] and tfs.tolist() == [2, 1]
    assert not ids.flags.owndata and ids.dtype == np.dtype("<u4")


def test_prefix_range_is_every_term_with_the_prefix_up_to_the_limit() -> None:
    """The galloping search for a prefix's end gives exactly the sorted terms that start
    with it (families of 0, 1, a few and thousands of terms; a prefix past the last term),
    capped at ``limit``."""
    storage = RamStorage()
    schema = make_schema()
    segment = NewsCodec().new_segment(storage, "T")
    fw = NewsFieldWriter(storage, segment)
    keys = sorted({f"t{i}".encode() for i in range(3000)}
                  | {b"kiev", b"kiev~kieves", b"kiev~kievs", b"kieva", b"kievan", b"zz~zzz"})
    fw.start_field("tags", schema["tags"])
    for i, k in enumerate(keys):
        fw.add_term(k, [i], None)
    fw.close()
    field = segment_postings(storage, segment).fields["tags"]
    for prefix in [b"kiev~", b"kiev", b"kieva", b"t1", b"t29", b"t", b"t2999", b"zz~", b"zz~zzz",
                   b"zzz", b"a", b"kiev~kievs", b"kiev~x"]:
        every = [i for i, k in enumerate(keys) if k.startswith(prefix)]
        for limit in (1, 2, 3, 7, 100, 5000):
            lo, hi = field.prefix_range(prefix, limit)
            assert list(range(lo, hi)) == every[:limit], (prefix, limit)


@pytest.mark.parametrize("seed", range(5))
def test_position_offsets_are_the_frequencies_before(seed: int) -> None:
    """Where a posting's positions begin, for any set of postings asked for (in any order,
    repeated, the first one included), equals the running total of the frequencies."""
    from newsearch.backends.whoosh.codec import position_offsets

    rng = np.random.default_rng(seed)
    # Short lists take the running total, long ones the sums between wanted postings.
    tfs = rng.integers(1, 255, size=int(rng.integers(1, 3000)) * (1 + 20 * (seed % 2)))
    tfs = tfs.astype(np.uint8)
    every = np.concatenate(([0], np.cumsum(tfs, dtype=np.int64)[:-1]))
    for size in (1, 2, 10, 100):
        idx = rng.integers(0, len(tfs), size=size)
        if size == 10:
            idx[0] = 0
        assert position_offsets(tfs, idx).tolist() == every[idx].tolist()
    assert position_offsets(tfs, np.zeros(0, dtype=np.int64)).tolist() == []
