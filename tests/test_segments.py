"""NewsSegmentWriter writes what Whoosh's own SegmentWriter writes, only faster."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from whoosh.writing import SegmentWriter

from newsearch.article import Article
from newsearch.schema import document_fields
from newsearch.segments import NewsSegmentWriter, make_codec
from newsearch.storage import create_index

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


def _build(path: Path, writer_cls: type, fast: bool = False) -> Any:
    ix = create_index(path)
    w = writer_cls(ix, codec=make_codec())
    for a in _articles():
        if fast:
            w.add_article(a, a.dedup)
        else:
            w.add_document(**document_fields(a))
    w.commit()
    return ix


def _dump(ix: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    with ix.reader() as r:
        for fieldname in sorted(r.indexed_field_names()):
            for btext in r.lexicon(fieldname):
                ti = r.term_info(fieldname, btext)
                m = r.postings(fieldname, btext)
                postings = []
                while m.is_active():
                    postings.append((m.id(), m.weight(), m.value()))
                    m.next()
                out[f"{fieldname}:{btext!r}"] = (
                    ti.doc_frequency(), ti.weight(), ti.min_length(), ti.max_length(),
                    ti.max_weight(), postings,
                    ti.extent(),  # where the postings start and how long they are
                )
        out["stored"] = list(r.all_stored_fields())
        out["lengths"] = [(f, r.field_length(f), r.max_field_length(f))
                          for f in ("title", "body")]
        out["dates"] = list(r.column_reader("date"))
    return out


@pytest.mark.parametrize("fast", [False, True], ids=["add_document", "add_article"])
def test_news_writer_output_equals_whoosh_writer_output(tmp_path: Path, fast: bool) -> None:
    stock = _dump(_build(tmp_path / "stock", SegmentWriter))
    ours = _dump(_build(tmp_path / "ours", NewsSegmentWriter, fast))
    assert ours.keys() == stock.keys()
    for key in stock:
        assert ours[key] == stock[key], key


def test_long_posting_lists_span_several_blocks(tmp_path: Path) -> None:
    ix = _build(tmp_path / "ours", NewsSegmentWriter)
    expected = [i for i, a in enumerate(_articles()) if "bank" in a.body.lower()]
    assert len(expected) > 2 * 128  # so the list needs three blocks
    with ix.reader() as r:
        assert list(r.postings("body", b"bank").all_ids()) == expected
