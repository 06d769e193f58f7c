"""The layout of the package: the two backends in their folders, and indexes written before
the layout still open.

``data/index-before-layout/`` was written by newsearch as it was before ``backends/`` (schema
version 5; three headline-first articles: Tokayev in Almaty in English and in Russian, coffee
in Brazil). Whoosh pickled its schema and codec into it under the old module paths
(``newsearch.schema.NewsText``, ``newsearch.analysis.NewsAnalyzer``,
``newsearch.codec.NewsCodec``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import newsearch
from newsearch import index_paths, open_index

BEFORE_LAYOUT = Path(__file__).parent / "data" / "index-before-layout"


def _old_index(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    shutil.copytree(BEFORE_LAYOUT, folder)
    return folder


def test_an_index_written_before_the_layout_is_searched(tmp_path: Path) -> None:
    folder = _old_index(tmp_path)
    with open_index(folder) as ix:
        latin = ix.search("Almaty")
        cyrillic = ix.search("Алматы")
        assert latin.total == 2
        assert {h.id for h in latin.hits} == {h.id for h in cyrillic.hits}
        assert {h.title for h in latin.hits} == {"Tokayev speaks in Almaty",
                                                  "Токаев выступил в Алматы"}
        assert ix.get(latin.hits[0].id).body
        assert ix.stats().documents == 3
        assert ix.search("coffee brazil").hits[0].title == "Coffee prices rise in Brazil"


def test_an_index_written_before_the_layout_takes_new_articles(tmp_path: Path) -> None:
    folder = _old_index(tmp_path)
    more = tmp_path / "more" / "business"
    more.mkdir(parents=True)
    (more / "001.txt").write_text("Wheat exports grow\n\nKazakhstan's wheat exports to China "
                                  "grew, officials in Almaty said.\n", encoding="utf-8")
    report = index_paths([str(tmp_path / "more")], index=folder)
    assert (report.added, report.documents) == (1, 4)
    # The old segment (old class paths) and the new one are read together.
    with open_index(folder) as ix:
        assert ix.search("Almaty").total == 3
        assert ix.search("wheat").total == 2


def test_the_old_pickled_paths_are_the_moved_classes() -> None:
    from newsearch import analysis, codec, schema
    from newsearch.backends.whoosh import analyzer
    from newsearch.backends.whoosh import codec as whoosh_codec
    from newsearch.backends.whoosh import schema as whoosh_schema

    assert analysis.NewsAnalyzer is analyzer.NewsAnalyzer
    assert codec.NewsCodec is whoosh_codec.NewsCodec
    for name in ("NewsText", "ExactID", "DateColumn"):
        assert getattr(schema, name) is getattr(whoosh_schema, name)
    assert newsearch.NewsIndex.__module__ == "newsearch.backends.whoosh.index"
