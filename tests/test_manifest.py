"""The manifest's compact parts: a packed column of ids or keys, the set of dedup keys, and
a manifest written and read back (packed columns, and lists as older manifests hold them)."""

from __future__ import annotations

import json
from pathlib import Path

from newsearch.manifest import Column, FileState, KeySet, Manifest


def test_a_column_packs_values_of_one_width_and_keeps_any_others() -> None:
    col = Column(["ab12", "cd34"])
    col.append("ef56")
    assert list(col) == ["ab12", "cd34", "ef56"] and len(col) == 3
    assert col.array().tolist() == [b"ab12", b"cd34", b"ef56"]
    col.append("")  # another width (an index without dedup keys): kept, as a list
    col.append("ключ")
    assert list(col) == ["ab12", "cd34", "ef56", "", "ключ"]
    assert not Column() and list(Column()) == []


def test_a_packed_column_is_smaller_than_a_list_of_its_strings() -> None:
    import sys

    values = [f"{i:016x}" for i in range(10_000)]
    col = Column(values)
    # A list costs 8 + 65 bytes a 16-character string; the buffer 16, and its growth room.
    assert sys.getsizeof(col._data) < 20 * len(values)
    assert list(col) == values


def test_the_key_set_adds_discards_and_compacts() -> None:
    keys = KeySet([Column(["k1", "k2"]).array(), Column(["k3"]).array()])
    assert "k1" in keys and "k3" in keys and "k4" not in keys
    b4 = b"k4"
    keys.add(b4, keys.in_base([b4])[0])
    assert "k4" in keys and len(keys) == 4
    keys.discard_all(Column(["k1", "k4"]))
    assert "k1" not in keys and "k4" not in keys and "k2" in keys and len(keys) == 2
    keys.compact(force=True)
    assert "k1" not in keys and "k2" in keys and "k3" in keys and len(keys) == 2
    many = Column([f"{i:04d}" for i in range(5_000)])
    big = KeySet([many.array()])
    big.discard_all(Column([f"{i:04d}" for i in range(0, 5_000, 2)]))  # one pass, not a set
    assert "0001" in big and "0002" not in big and len(big) == 2_500


def test_a_manifest_is_written_packed_and_read_back(tmp_path: Path) -> None:
    ids = [f"{i:016x}" for i in range(3)]
    m = Manifest({"a.jsonl": FileState("1:2", Column(ids), Column(["k" * 24] * 3),
                                       Column(["d" * 24])),
                  "b.txt": FileState("3:4", skip="empty file"),
                  "c.csv": FileState("5:6", Column(["x"]), Column([""]))})
    m.save(tmp_path, 7)
    raw = json.loads((tmp_path / Manifest.filename(7)).read_text())
    assert raw["files"]["a.jsonl"][1] == {"width": 16, "packed": "".join(ids)}
    back = Manifest.load(tmp_path, 7)
    assert back is not None
    assert back.files == m.files
    assert list(back.files["c.csv"].keys) == [""]


def test_a_manifest_of_lists_still_reads(tmp_path: Path) -> None:
    (tmp_path / Manifest.filename(3)).write_text(json.dumps(
        {"generation": 3, "files": {"a.txt": ["1:2", ["i1"], ["k1"], [], None]}}))
    back = Manifest.load(tmp_path, 3)
    assert back is not None
    st = back.files["a.txt"]
    assert list(st.ids) == ["i1"] and list(st.keys) == ["k1"] and not st.dups
    assert "k1" in back.key_set()


def test_a_damaged_manifest_is_not_read(tmp_path: Path) -> None:
    (tmp_path / Manifest.filename(4)).write_text(json.dumps(
        {"generation": 4, "files": {"a.txt": ["1:2", {"width": 5, "packed": "abc"}, [], []]}}))
    assert Manifest.load(tmp_path, 4) is None  # the index's stored fields are read instead
