"""The layout of the package: the two backends in their folders, and what an index written
before the layout meets now.

``data/index-before-layout/`` was written by newsearch as it was before ``backends/`` (schema
version 5; three headline-first articles: Tokayev in Almaty in English and in Russian, coffee
in Brazil). Whoosh pickled its schema and codec into it under the old module paths
(``newsearch.schema.NewsText``, ``newsearch.analysis.NewsAnalyzer``,
``newsearch.codec.NewsCodec``). Schema 6 (story clusters) refuses it with the ``--rebuild``
sentence; Whoosh alone still unpickles it, to the moved classes.
"""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from whoosh import index as whoosh_index

import newsearch
from newsearch import index_paths, open_index
from newsearch.backends.whoosh import analyzer
from newsearch.backends.whoosh import codec as whoosh_codec
from newsearch.backends.whoosh import schema as whoosh_schema
from newsearch.cli import main
from newsearch.errors import IndexVersionError

BEFORE_LAYOUT = Path(__file__).parent / "data" / "index-before-layout"


def _old_index(tmp_path: Path) -> Path:
    folder = tmp_path / "index"
    shutil.copytree(BEFORE_LAYOUT, folder)
    return folder


def _sources(folder: Path) -> Path:
    """The articles the old index holds, as the headline-first files it was built from."""
    world = folder / "corp" / "world"
    world.mkdir(parents=True)
    with whoosh_index.open_dir(str(BEFORE_LAYOUT)).searcher() as s:
        for n, fields in enumerate(sorted(s.all_stored_fields(), key=lambda f: f["source"])):
            (world / f"{n + 1:03d}.txt").write_text(f"{fields['title']}\n\n{fields['body']}\n",
                                                   encoding="utf-8")
    return folder / "corp"


def test_the_old_index_unpickles_to_the_moved_classes() -> None:
    # Whoosh itself (no newsearch version check) reads the schema, codec and stored fields
    # pickled under the old paths.
    ix = whoosh_index.open_dir(str(BEFORE_LAYOUT))
    assert type(ix.schema["title"]) is whoosh_schema.NewsText
    assert type(ix.schema["id"]) is whoosh_schema.ExactID
    assert type(ix.schema["date"]) is whoosh_schema.DateColumn
    assert type(ix.schema["body"].analyzer) is analyzer.NewsAnalyzer
    with ix.searcher() as s:
        assert s.doc_count() == 3
        assert type(s.reader().segment().codec()) is whoosh_codec.NewsCodec


def test_an_index_written_before_the_layout_asks_for_a_rebuild(tmp_path: Path) -> None:
    # Schema 6 (story clusters, index times) cannot read a schema-5 index: one sentence
    # naming the fix, exit 2, nothing changed in the folder.
    folder = _old_index(tmp_path)
    before = sorted(p.name for p in folder.iterdir())
    with pytest.raises(IndexVersionError, match="schema version 5, this newsearch needs 6"):
        open_index(folder)
    result = CliRunner().invoke(main, ["search", "Almaty", "--index", str(folder)])
    assert result.exit_code == 2
    assert result.output.count("\n") == 1
    assert result.output.startswith(f"newsearch: the index at {folder} has schema version 5")
    assert "newsearch index --rebuild" in result.output
    assert "Traceback" not in result.output
    assert sorted(p.name for p in folder.iterdir()) == before


def test_an_index_written_before_the_layout_is_rebuilt_and_searched(tmp_path: Path) -> None:
    folder = _old_index(tmp_path)
    corp = _sources(tmp_path)
    result = CliRunner().invoke(main, ["index", str(corp), "--rebuild", "--index", str(folder),
                                       "--jobs", "1"])
    assert result.exit_code == 0, result.output
    with open_index(folder) as ix:
        latin = ix.search("Almaty")
        cyrillic = ix.search("Алматы")
        assert latin.total == 2
        assert {h.id for h in latin.hits} == {h.id for h in cyrillic.hits}
        assert {h.title for h in latin.hits} == {"Tokayev speaks in Almaty",
                                                  "Токаев выступил в Алматы"}
        assert ix.stats().documents == 3
        assert ix.search("coffee brazil").hits[0].title == "Coffee prices rise in Brazil"
    # and it takes new articles as any index does
    more = tmp_path / "more" / "business"
    more.mkdir(parents=True)
    (more / "001.txt").write_text("Wheat exports grow\n\nKazakhstan's wheat exports to China "
                                  "grew, officials in Almaty said.\n", encoding="utf-8")
    report = index_paths([str(tmp_path / "more")], index=folder)
    assert (report.added, report.documents) == (1, 4)
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


# --- the rule of the layout ----------------------------------------------------------------

PACKAGE = Path(newsearch.__file__).parent
ENGINES = ("whoosh", "opensearchpy")
# Modules outside backends/ allowed to import a backend, and why.
ALLOWED = {
    "backend.py": "choosing the backend is its job (imported lazily)",
    "__init__.py": "the public API exports NewsIndex, the embedded backend's index",
    "schema.py": "old import path of pickled field classes (indexes on disk name it)",
    "codec.py": "old import path of the pickled codec (indexes on disk name it)",
}
# Functions allowed to import a backend lazily: analysis.__getattr__ answers the analyzer's
# old pickled path.
ALLOWED_FUNCTIONS = {("analysis.py", "__getattr__")}


def _imports(tree: ast.AST, module: str) -> list[tuple[str, str, int]]:
    """(imported module, enclosing function, line) for every import in a module's tree;
    relative imports resolved against ``module`` (``newsearch.web.api``)."""
    found = []

    def visit(node: ast.AST, func: str) -> None:
        for child in ast.iter_child_nodes(node):
            inner = child.name if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef) \
                else func
            if isinstance(child, ast.Import):
                found.extend((a.name, func, child.lineno) for a in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = module.split(".")[: -child.level]
                    name = ".".join(base + ([child.module] if child.module else []))
                else:
                    name = child.module or ""
                found.append((name, func, child.lineno))
                # "from . import backends" names the package in the alias
                found.extend((f"{name}.{a.name}", func, child.lineno) for a in child.names)
            visit(child, inner)

    visit(tree, "")
    return found


def _violations(root: Path) -> list[str]:
    out: dict[str, str] = {}
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        if rel.parts[0] == "backends":
            continue
        parts = ["newsearch", *rel.with_suffix("").parts]
        module = ".".join(parts)  # __init__ keeps its name: its relative level counts it
        for name, func, line in _imports(ast.parse(path.read_text(encoding="utf-8")), module):
            engine = name.split(".")[0] in ENGINES
            backend = name == "newsearch.backends" or name.startswith("newsearch.backends.")
            if not (engine or backend):
                continue
            if str(rel) in ALLOWED or (str(rel), func) in ALLOWED_FUNCTIONS:
                continue
            out.setdefault(f"{rel}:{line}", name)  # one line, one finding
    return [f"{at} imports {name}" for at, name in out.items()]


def test_the_stages_outside_backends_import_no_engine() -> None:
    assert _violations(PACKAGE) == []


def test_the_layout_rule_catches_an_engine_import(tmp_path: Path) -> None:
    (tmp_path / "web").mkdir()
    (tmp_path / "backends").mkdir()
    (tmp_path / "query.py").write_text("import whoosh.qparser\n")
    (tmp_path / "web" / "api.py").write_text("def f():\n    from ..backends.whoosh import view\n")
    (tmp_path / "snippets.py").write_text("from opensearchpy import OpenSearch\n")
    (tmp_path / "backends" / "x.py").write_text("import whoosh\n")  # their own business
    found = _violations(tmp_path)
    assert found == ["query.py:1 imports whoosh.qparser",
                     "snippets.py:1 imports opensearchpy",
                     "web/api.py:2 imports newsearch.backends.whoosh"]


def test_neither_backend_imports_the_other() -> None:
    other = {"whoosh": ("opensearchpy", "newsearch.backends.opensearch"),
             "opensearch": ("whoosh", "newsearch.backends.whoosh")}
    found = []
    for backend, foreign in other.items():
        for path in sorted((PACKAGE / "backends" / backend).rglob("*.py")):
            rel = path.relative_to(PACKAGE)
            module = ".".join(["newsearch", *rel.with_suffix("").parts])
            for name, _func, line in _imports(ast.parse(path.read_text(encoding="utf-8")),
                                              module):
                if any(name == f or name.startswith(f + ".") for f in foreign):
                    found.append(f"{rel}:{line} imports {name}")
    assert found == []
