"""corpus.walk and corpus.load: which files a run sees, and their bytes within bounds."""

from __future__ import annotations

import gzip
import itertools
import os
import tracemalloc
from pathlib import Path

import pytest

import newsearch.corpus
from newsearch.corpus import CorpusFile, load, walk
from newsearch.errors import SkippedInput
from newsearch.readers import read_source


def make(root: Path, *names: str) -> None:
    for name in names:
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(f"Headline of {name}\n\nBody.\n")


def files(root: Path, found) -> list[str]:
    return [Path(f.path).relative_to(root).as_posix() for f in found if isinstance(f, CorpusFile)]


def skips(found) -> dict[str, str]:
    return {Path(s.path).name: s.reason for s in found if isinstance(s, SkippedInput)}


def one(path: Path) -> CorpusFile:
    (found,) = walk([path])
    assert isinstance(found, CorpusFile), found
    return found


# --- walk --------------------------------------------------------------------------------------


def test_walk_order_is_stable_and_independent_of_creation_order(tmp_path):
    make(tmp_path, "z.txt", "b/sub/3.txt", "b/2.txt", "a/1.txt", "a/0.txt")
    expected = ["z.txt", "a/0.txt", "a/1.txt", "b/2.txt", "b/sub/3.txt"]
    assert files(tmp_path, walk([tmp_path])) == expected
    assert files(tmp_path, walk([tmp_path])) == expected


def test_walk_records_absolute_path_and_size(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_bytes(b"12345")
    monkeypatch.chdir(tmp_path)
    found = one(Path("a.txt"))
    assert (found.path, found.size) == (str(tmp_path / "a.txt"), 5)


def test_walk_skips_hidden_files_and_folders(tmp_path):
    make(tmp_path, "shown.txt", ".hidden.txt", ".git/config.txt", "a/.DS_Store", "a/shown.txt")
    assert files(tmp_path, walk([tmp_path])) == ["shown.txt", "a/shown.txt"]


def test_folder_hint_is_the_parent_folder_only_below_the_root(tmp_path):
    make(tmp_path, "top.txt", "business/001.txt", "business/2005/002.txt")
    hints = {Path(f.path).name: f.folder for f in walk([tmp_path])}
    assert hints == {"top.txt": None, "001.txt": "business", "002.txt": "2005"}


def test_folder_hint_is_relative_to_the_folder_walked(tmp_path):
    make(tmp_path, "business/001.txt", "business/2005/002.txt")
    hints = {Path(f.path).name: f.folder for f in walk([tmp_path / "business"])}
    assert hints == {"001.txt": None, "002.txt": "2005"}


def test_a_file_given_directly_has_no_folder_hint(tmp_path):
    make(tmp_path, "business/001.txt")
    assert one(tmp_path / "business" / "001.txt").folder is None


def test_a_file_reached_twice_is_listed_once(tmp_path):
    make(tmp_path, "a/1.txt")
    assert files(tmp_path, walk([tmp_path, tmp_path / "a", tmp_path / "a" / "1.txt"])) == [
        "a/1.txt"
    ]


def test_symlink_loop_is_skipped_and_the_walk_ends(tmp_path):
    make(tmp_path, "a/1.txt")
    (tmp_path / "a" / "loop").symlink_to(tmp_path)
    found = list(itertools.islice(walk([tmp_path]), 50))  # a walk that loops would fill this
    assert files(tmp_path, found) == ["a/1.txt"]
    assert list(skips(found)) == ["loop"]


def test_self_referencing_symlink_is_a_symlink_loop(tmp_path):
    (tmp_path / "self").symlink_to(tmp_path / "self")
    assert skips(walk([tmp_path])) == {"self": "symbolic link loop"}


def test_broken_symlink_is_skipped(tmp_path):
    (tmp_path / "gone.txt").symlink_to(tmp_path / "missing.txt")
    assert skips(walk([tmp_path])) == {"gone.txt": "broken symbolic link"}


def test_missing_path_is_skipped(tmp_path):
    assert skips(walk([tmp_path / "missing"])) == {"missing": "no such file or folder"}


# --- load --------------------------------------------------------------------------------------


def test_load_reads_a_file_with_its_folder_hint(tmp_path):
    make(tmp_path, "sport/199.txt")
    (found,) = walk([tmp_path])
    src = load(found)
    assert (src.name, src.folder, src.data) == (
        "199.txt",
        "sport",
        b"Headline of sport/199.txt\n\nBody.\n",
    )


def test_load_of_an_unreadable_file_is_skipped(tmp_path):
    path = tmp_path / "secret.txt"
    path.write_text("Headline\n\nBody.\n")
    path.chmod(0)
    try:
        if os.access(path, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop reading")
        with pytest.raises(SkippedInput) as exc:
            load(one(path))
        assert exc.value.reason == "permission denied"
    finally:
        path.chmod(0o644)


def test_load_decompresses_gzip_and_uses_the_inner_name(tmp_path):
    path = tmp_path / "feed.json.gz"
    path.write_bytes(gzip.compress(b'[{"title": "A", "body": "a"}]'))
    src = load(one(path))
    assert (src.name, src.data, src.path) == (
        "feed.json",
        b'[{"title": "A", "body": "a"}]',
        str(path),
    )
    assert [a.title for a in read_source(src)] == ["A"]


def test_load_truncated_gzip_is_skipped(tmp_path):
    path = tmp_path / "story.txt.gz"
    path.write_bytes(gzip.compress(b"Headline\n\n" + b"A long body. " * 1000)[:60])
    with pytest.raises(SkippedInput) as exc:
        load(one(path))
    assert exc.value.reason == "truncated gzip file"


def test_load_corrupt_gzip_is_skipped(tmp_path):
    path = tmp_path / "story.txt.gz"
    path.write_bytes(b"\x1f\x8b" + b"not really deflate data" * 4)
    with pytest.raises(SkippedInput) as exc:
        load(one(path))
    assert exc.value.reason.startswith("corrupt gzip file")


def test_load_gzip_bomb_is_skipped_without_inflating_it(tmp_path, monkeypatch):
    monkeypatch.setattr(newsearch.corpus, "MAX_FILE_BYTES", 64 * 1024)
    path = tmp_path / "bomb.txt.gz"
    member = gzip.compress(b"\0" * 2**20)
    path.write_bytes(member * 64)  # 64 MiB once inflated, about 64 KiB on disk
    tracemalloc.start()
    try:
        with pytest.raises(SkippedInput) as exc:
            load(one(path))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert exc.value.reason.startswith("gzip expands beyond")
    assert peak < 8 * 2**20


def test_load_file_over_the_size_bound_is_skipped(tmp_path, monkeypatch):
    monkeypatch.setattr(newsearch.corpus, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 1001)
    with pytest.raises(SkippedInput) as exc:
        load(one(path))
    assert exc.value.reason.startswith("file larger than")


def test_load_file_at_the_size_bound_is_read(tmp_path, monkeypatch):
    monkeypatch.setattr(newsearch.corpus, "MAX_FILE_BYTES", 1000)
    path = tmp_path / "big.txt"
    path.write_bytes(b"x" * 1000)
    assert len(load(one(path)).data) == 1000


def test_load_tar_gz_archive_is_skipped(tmp_path):
    path = tmp_path / "corpus.tgz"
    path.write_bytes(gzip.compress(b"ustar archive"))
    with pytest.raises(SkippedInput) as exc:
        load(one(path))
    assert exc.value.reason == "tar archives are not supported"
