"""A damaged index: a truncated, empty or missing segment file (``MAIN_*.seg``) or table of
contents (``_MAIN_N.toc``), or a lost ``newsearch.json`` marker. newsearch says the index is
damaged and how to rebuild it (exit code 2, no traceback) from `stats`, `search`, `index`
and the library's ``open_index``; and the rebuild it names works."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsearch import IndexDamaged, index_paths, open_index
from newsearch.backends.whoosh.storage import MARKER
from newsearch.cli import main

from .conftest import SAMPLE


def first(index: Path, pattern: str) -> Path:
    return sorted(index.glob(pattern))[0]


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


DAMAGE: dict[str, Callable[[Path], None]] = {
    "truncated segment": lambda ix: truncate(first(ix, "MAIN_*.seg")),
    "empty segment": lambda ix: first(ix, "MAIN_*.seg").write_bytes(b""),
    "missing segment": lambda ix: first(ix, "MAIN_*.seg").unlink(),
    "truncated toc": lambda ix: truncate(first(ix, "_MAIN_*.toc")),
    "empty toc": lambda ix: first(ix, "_MAIN_*.toc").write_bytes(b""),
    "missing toc": lambda ix: first(ix, "_MAIN_*.toc").unlink(),
    "missing marker": lambda ix: (ix / MARKER).unlink(),
    "garbled marker": lambda ix: (ix / MARKER).write_bytes(b"\x00{not json"),
}


def run(*args: str) -> tuple[int, str]:
    res = CliRunner().invoke(main, list(args), catch_exceptions=False)
    return res.exit_code, res.output


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    index = tmp_path_factory.mktemp("built") / "index"
    report = index_paths([SAMPLE], index, jobs=1, batch_articles=5)  # several segments
    return index, report.documents


@pytest.fixture(params=sorted(DAMAGE))
def damaged(request: pytest.FixtureRequest, built: tuple[Path, int],
            tmp_path: Path) -> Path:
    index = tmp_path / "index"
    shutil.copytree(built[0], index)
    DAMAGE[request.param](index)
    return index


def says_damaged(code: int, output: str, index: Path) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    assert f"the index at {index} is damaged" in output
    assert f"newsearch index --rebuild --index {index}" in output


@pytest.mark.parametrize("command", [["stats"], ["search", "oil"], ["show", "0123456789abcdef"],
                                     ["index", str(SAMPLE)]])
def test_the_cli_says_damaged_and_how_to_rebuild(damaged: Path, command: list[str]) -> None:
    says_damaged(*run(*command, "--index", str(damaged)), damaged)


def test_open_index_raises_index_damaged(damaged: Path) -> None:
    with pytest.raises(IndexDamaged, match="--rebuild"):
        open_index(damaged)


def test_the_rebuild_it_names_works(damaged: Path, built: tuple[Path, int]) -> None:
    code, output = run("index", "--rebuild", "--index", str(damaged), str(SAMPLE), "--quiet")
    assert code == 0, output
    code, output = run("stats", "--index", str(damaged), "--json")
    assert code == 0 and json.loads(output)["documents"] == built[1]
    with open_index(damaged) as ix:
        assert ix.search("Almaty").total > 0
