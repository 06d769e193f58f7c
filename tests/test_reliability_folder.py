"""The index folder belongs to the user: newsearch deletes only files it wrote (by their exact
names), refuses a folder holding anything else unless told (``--allow-other-files``), never
takes a folder it cannot tell it wrote for a damaged index of its own, and never reads its
own files as input. Every case runs the CLI as users do, with decoy files beside the index.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsearch import open_index
from newsearch.backends.whoosh.storage import MARKER, WRITER_LOCK
from newsearch.cli import main
from newsearch.manifest import Manifest

from .conftest import SAMPLE
from .reliability_support import PYTHON, cli


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


DECOYS = {
    "README-index.txt": "What this folder is for.\n",
    "my-notes/todo.txt": "Check the index weekly.\n",
    "backup/old-index.tar": "not really a tar\n",
    "MAIN_notes.txt": "Whoosh's own cleanup takes any MAIN_<letters>.<ext> for a segment file\n",
    "_MAIN_draft.txt": "Whoosh's index creation deletes every _MAIN_* file\n",
}


def add_decoys(folder: Path) -> dict[str, str]:
    for rel, text in DECOYS.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return DECOYS


def decoys_intact(folder: Path) -> bool:
    return all((folder / rel).is_file() and (folder / rel).read_text() == text
               for rel, text in DECOYS.items())


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    index = tmp_path_factory.mktemp("built") / "index"
    code, out = run("index", str(SAMPLE), "--index", str(index), "--json", "--jobs", "1")
    assert code == 0, out
    return index, json.loads(out)["documents"]


@pytest.fixture
def index(built: tuple[Path, int], tmp_path: Path) -> Path:
    copy = tmp_path / "index"
    shutil.copytree(built[0], copy)
    return copy


def truncate_a_segment(index: Path) -> None:
    seg = sorted(index.glob("MAIN_*.seg"))[0]
    seg.write_bytes(seg.read_bytes()[:100])


def old_schema(index: Path) -> None:
    marker = json.loads((index / MARKER).read_text())
    marker["schema_version"] = 0
    (index / MARKER).write_text(json.dumps(marker))


@pytest.mark.parametrize("damage", [truncate_a_segment, old_schema],
                         ids=["damaged", "older-schema"])
def test_the_rebuild_the_error_advises_keeps_every_other_file(index: Path, built: tuple[Path, int],
                                                              damage) -> None:
    add_decoys(index)
    damage(index)
    code, out = run("stats", "--index", str(index))
    assert code == 2 and f"newsearch index --rebuild --index {index}" in out
    code, out = run("index", "--rebuild", "--index", str(index), str(SAMPLE), "--json")
    assert code == 0, out
    assert json.loads(out)["documents"] == built[1]
    assert decoys_intact(index)
    code, out = run("stats", "--index", str(index), "--json")
    assert code == 0 and json.loads(out)["documents"] == built[1]


def test_a_corpus_kept_inside_the_index_folder_survives_a_rebuild(index: Path,
                                                                  built: tuple[Path, int]) -> None:
    corpus = index / "corpus"
    shutil.copytree(SAMPLE, corpus)
    before = sorted(p.relative_to(corpus) for p in corpus.rglob("*"))
    truncate_a_segment(index)
    code, out = run("index", "--rebuild", "--index", str(index), str(corpus), "--json")
    assert code == 0, out
    assert sorted(p.relative_to(corpus) for p in corpus.rglob("*")) == before
    assert json.loads(out)["documents"] == built[1]


def test_a_lost_marker_beside_other_files_is_refused_then_rebuilt_only_when_told(
        index: Path, built: tuple[Path, int]) -> None:
    add_decoys(index)
    (index / MARKER).unlink()
    for command in (["index", str(SAMPLE)], ["index", "--rebuild", str(SAMPLE)]):
        code, out = run(*command, "--index", str(index))
        assert code == 2 and "Traceback" not in out
        assert "not a newsearch index" in out and "--allow-other-files" in out
        assert "README-index.txt" in out or "MAIN_notes.txt" in out or "_MAIN_draft" in out
    assert decoys_intact(index)
    code, out = run("index", "--rebuild", "--allow-other-files", "--index", str(index),
                    str(SAMPLE), "--json")
    assert code == 0, out
    assert json.loads(out)["documents"] == built[1]
    assert decoys_intact(index)


@pytest.mark.parametrize("decoy", [True, False], ids=["with-decoys", "manifest-alone"])
def test_a_stray_manifest_does_not_make_a_folder_an_index(tmp_path: Path, decoy: bool) -> None:
    folder = tmp_path / "folder"
    folder.mkdir()
    stray = folder / Manifest.filename(1)
    stray.write_text('{"generation": 1, "files": {}}')
    if decoy:
        add_decoys(folder)
    for command in (["index", str(SAMPLE)], ["index", "--rebuild", str(SAMPLE)],
                    ["index", "--rebuild", "--allow-other-files", str(SAMPLE)], ["stats"],
                    ["search", "oil"]):
        code, out = run(*command, "--index", str(folder))
        assert code == 2, (command, out)
        assert "not a newsearch index" in out and "damaged" not in out, (command, out)
    assert stray.read_text() == '{"generation": 1, "files": {}}'
    assert not decoy or decoys_intact(folder)
    assert not (folder / WRITER_LOCK).exists()


def test_another_programs_whoosh_index_is_left_alone(tmp_path: Path) -> None:
    from whoosh import fields, index

    folder = tmp_path / "whoosh"
    folder.mkdir()
    ix = index.create_in(str(folder), fields.Schema(text=fields.TEXT))  # indexname MAIN too
    w = ix.writer()
    w.add_document(text="their data")
    w.commit()
    files = sorted(p.name for p in folder.iterdir())
    for command in (["index", str(SAMPLE)], ["index", "--rebuild", "--allow-other-files",
                                             str(SAMPLE)]):
        code, out = run(*command, "--index", str(folder))
        assert code == 2 and "not a newsearch index" in out, out
    assert sorted(p.name for p in folder.iterdir()) == files


def test_files_beside_an_index_survive_its_commits(index: Path) -> None:
    add_decoys(index)
    extra = index.parent / "more"
    extra.mkdir()
    (extra / "story.txt").write_text("Quokka census\n\nRangers counted quokkas.\n")
    code, out = run("index", str(SAMPLE), str(extra), "--index", str(index), "--json")
    assert code == 0, out
    assert json.loads(out)["added"] == 1  # a new generation was committed and cleaned up
    assert decoys_intact(index)


def test_an_empty_folder_with_a_gitkeep_becomes_an_index(tmp_path: Path) -> None:
    folder = tmp_path / "index"
    folder.mkdir()
    (folder / ".gitkeep").write_text("")
    code, out = run("index", str(SAMPLE), "--index", str(folder), "--quiet", "--jobs", "1")
    assert code == 0, out
    assert (folder / ".gitkeep").exists()


def test_a_new_index_beside_other_files_needs_the_flag(tmp_path: Path) -> None:
    folder = tmp_path / "shared-folder"
    folder.mkdir()
    add_decoys(folder)
    code, out = run("index", str(SAMPLE), "--index", str(folder))
    assert code == 2 and "--allow-other-files" in out
    assert sorted(p.name for p in folder.iterdir()) == sorted({r.split("/")[0] for r in DECOYS})
    code, out = run("index", str(SAMPLE), "--index", str(folder), "--allow-other-files",
                    "--quiet", "--jobs", "1")
    assert code == 0, out
    code, out = run("index", str(SAMPLE), "--index", str(folder), "--json")  # an index now
    assert code == 0 and json.loads(out)["unchanged"] > 0, out
    assert decoys_intact(folder)


# --- the --index path itself --------------------------------------------------------------------


def test_an_index_path_that_is_a_file_is_one_sentence_and_exit_2(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# notes\n")
    for command in (["index", str(SAMPLE)], ["stats"], ["search", "oil"]):
        out = cli(*command, "--index", str(readme))
        assert out.returncode == 2, out.stderr
        assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1, out.stderr
        assert "is a file, not an index folder" in out.stderr
    assert readme.read_text() == "# notes\n"


def test_a_refused_folder_is_left_exactly_as_it_was(tmp_path: Path) -> None:
    folder = tmp_path / "foreign"
    folder.mkdir()
    (folder / "notes.txt").write_text("mine")
    out = cli("index", str(SAMPLE), "--index", str(folder))
    assert out.returncode == 2 and "notes.txt" in out.stderr
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]  # no writer lock left behind


# --- what the walk reads ------------------------------------------------------------------------


def test_indexing_the_folder_that_holds_the_index_never_reads_the_index(tmp_path: Path) -> None:
    work = tmp_path / "work"
    shutil.copytree(SAMPLE, work)  # the repository's layout: corpus files and ./index
    (work / "index").mkdir()
    (work / "index" / ".gitkeep").write_text("")
    env = {**os.environ}
    env.pop("NEWSEARCH_INDEX", None)

    def index_here(*extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([PYTHON, "-m", "newsearch.cli", "index", ".", "--json", *extra],
                              cwd=work, capture_output=True, text=True, env=env, timeout=300)

    first = index_here()
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout)["skipped"] == []
    second = index_here("--strict")  # the index's own files are there now
    assert second.returncode == 0, second.stdout
    report = json.loads(second.stdout)
    assert report["skipped"] == [] and report["added"] == 0
    assert report["unchanged"] == report["documents"] == json.loads(first.stdout)["documents"]


def test_two_names_that_print_alike_are_both_indexed(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    raw = os.fsencode(corpus) + b"/bad-\xff\xfe.txt"  # bytes that are not UTF-8
    literal = corpus / "bad-\\xff\\xfe.txt"  # backslashes, as the raw name is shown
    with open(raw, "wb") as fh:
        fh.write(b"Walrus count\n\nWalruses were counted.\n")
    literal.write_text("Narwhal count\n\nNarwhals were counted.\n")
    index = tmp_path / "index"
    code, out = run("index", str(corpus), "--index", str(index), "--json", "--jobs", "1")
    assert code == 0, out
    report = json.loads(out)
    assert report["documents"] == 2 and report["skipped"] == []
    with open_index(index) as ix:
        sources = {ix.search("walrus").hits[0].source, ix.search("narwhal").hits[0].source}
    assert len(sources) == 2
    code, out = run("index", str(corpus), "--index", str(index), "--json", "--jobs", "1")
    assert json.loads(out)["unchanged"] == 2  # and both are recognised on the next run


def test_every_file_newsearch_s_codec_writes_is_one_of_its_own_names(tmp_path: Path) -> None:
    """A name the codec writes but OWN_NAMES lacks would make every index 'foreign'."""
    from newsearch.backends.whoosh.codec import DICT_EXT, POSITIONS_EXT, POSTS_EXT
    from newsearch.backends.whoosh.storage import is_own_entry

    for ext in (DICT_EXT, POSTS_EXT, POSITIONS_EXT, ".seg", "._stored.col"):
        f = tmp_path / f"MAIN_{'a1' * 8}{ext}"
        f.write_bytes(b"")
        assert is_own_entry(f), f.name


def test_the_saved_searches_survive_the_rebuild_of_an_older_index(index: Path,
                                                                   built: tuple[Path, int]) -> None:
    """Cluster files and saved searches are the index's own names; a rebuild that clears an
    unusable index's files keeps the saved searches (the user's, not derived data)."""
    from newsearch.backends.whoosh.storage import is_own_entry

    code, out = run("watch", "add", "oil", "oil", "--index", str(index))
    assert code == 0, out
    assert all(is_own_entry(p) for p in index.iterdir()), sorted(p.name for p in index.iterdir())
    assert list(index.glob("newsearch-clusters-*.pkl")) and (index / "newsearch-watches.json")
    # What killed runs leave: a cluster file of a generation never committed, temporary files.
    leftovers = [index / "newsearch-clusters-99.pkl", index / "newsearch-clusters-99.pkl.tmp",
                 index / "newsearch-watches.json.k3_x9q.tmp"]
    for p in leftovers:
        p.write_bytes(b"")
        assert is_own_entry(p), p.name
    old_schema(index)
    code, out = run("index", "--rebuild", "--index", str(index), str(SAMPLE), "--json")
    assert code == 0, out
    assert not any(p.exists() for p in leftovers)
    code, out = run("watch", "list", "--index", str(index), "--json")
    assert code == 0 and "oil" in out
