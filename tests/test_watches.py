"""Saved-search alerts: a watch reports exactly the new articles its query finds, on both
backends (saved in the folder, or as documents in the cluster)."""

from __future__ import annotations

import json
import shutil
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsearch import QueryError, index_paths, open_index
from newsearch.cli import main
from newsearch.watches import WatchError, add_watch, check_watches, remove_watch, watches

from .opensearch_support import index_location


def _feed(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    path.write_text("\n".join(json.dumps({"id": i, "title": t, "body": b,
                                          "date": "2024-05-07T08:00:00Z", "section": s})
                              for i, t, b, s in [(*r, "Business") for r in rows]),
                    encoding="utf-8")
    return path


def _ids(index: str | Path, query: str) -> set[str]:
    with open_index(index) as ix:
        res = ix.search(query, per_page=100, all_versions=True)
        return {h.id for h in res.hits}


def test_watch_commands_and_alerts_after_an_index_run(tmp_path: Path, backend: str,
                                                      request: pytest.FixtureRequest) -> None:
    root = tmp_path / "feeds"
    root.mkdir()
    index = index_location(request, backend, tmp_path / "index", "watch")
    _feed(root / "old.jsonl", [("o1", "Copper prices climb", "Copper rose in London."),
                               ("o2", "Tin market quiet", "Tin was flat.")])
    index_paths([root], index, jobs=1)
    runner = CliRunner()
    ok = runner.invoke(main, ["watch", "add", "copper", "copper", "--index", str(index)],
                       catch_exceptions=False)
    assert ok.exit_code == 0
    runner.invoke(main, ["watch", "add", "zinc", "zinc OR nickel", "--index", str(index)],
                  catch_exceptions=False)
    listed = json.loads(runner.invoke(main, ["watch", "list", "--index", str(index), "--json"],
                                      catch_exceptions=False).output)
    assert [(w["name"], w["query"]) for w in listed["watches"]] == [
        ("copper", "copper"), ("zinc", "zinc OR nickel")]
    dup = runner.invoke(main, ["watch", "add", "copper", "tin", "--index", str(index)])
    assert dup.exit_code == 2 and "exists" in dup.output

    _feed(root / "new.jsonl", [("n1", "Copper miners strike", "A strike hit copper output."),
                               ("n2", "Nickel slides", "Nickel fell on supply."),
                               ("n3", "Gold steady", "Gold was unchanged.")])
    out = runner.invoke(main, ["index", str(root), "--index", str(index), "--json"],
                        catch_exceptions=False)
    alerts = {a["watch"]: a for a in json.loads(out.output)["alerts"]}
    # Exactly the new articles the same query finds, none of the old ones.
    new_ids = _ids(index, "copper OR nickel OR gold") - _ids(index, "climb OR tin")
    copper_new = _ids(index, "copper") & new_ids
    assert set(alerts["copper"]["ids"]) == copper_new and alerts["copper"]["count"] == 1
    assert set(alerts["zinc"]["ids"]) == _ids(index, "zinc OR nickel") & new_ids
    assert not set(alerts["copper"]["ids"]) & _ids(index, "climb")

    # watch check: since the last check (the watch's creation the first time), then nothing.
    first = json.loads(runner.invoke(main, ["watch", "check", "copper", "--index", str(index),
                                            "--json"], catch_exceptions=False).output)
    assert first["alerts"][0]["ids"] == alerts["copper"]["ids"]
    every = json.loads(runner.invoke(main, ["watch", "check", "--index", str(index), "--json"],
                                     catch_exceptions=False).output)
    assert [a["count"] for a in every["alerts"]] == [0, 1]  # zinc was not checked before
    again = json.loads(runner.invoke(main, ["watch", "check", "--index", str(index), "--json",
                                            "--since-last"], catch_exceptions=False).output)
    assert [a["count"] for a in again["alerts"]] == [0, 0]
    by_date = json.loads(runner.invoke(main, ["watch", "check", "copper", "--since", "2000",
                                              "--index", str(index), "--json"],
                                       catch_exceptions=False).output)
    assert by_date["alerts"][0]["count"] == 2  # indexed since 2000: both copper articles
    text = runner.invoke(main, ["index", str(root), "--index", str(index)],
                         catch_exceptions=False).output
    assert "watch copper" not in text  # nothing new: no alert lines
    assert runner.invoke(main, ["watch", "remove", "zinc", "--index", str(index)]).exit_code == 0
    assert [w.name for w in watches(index)] == ["copper"]
    gone = runner.invoke(main, ["watch", "remove", "zinc", "--index", str(index)])
    assert gone.exit_code == 2 and "no watch" in gone.output


def test_watch_errors(tmp_path: Path, backend: str,
                      request: pytest.FixtureRequest) -> None:
    root = tmp_path / "feeds"
    root.mkdir()
    index = index_location(request, backend, tmp_path / "index", "watcherr")
    _feed(root / "a.jsonl", [("a", "Copper", "Copper rose.")])
    index_paths([root], index, jobs=1)
    with pytest.raises(WatchError):
        add_watch(index, "bad name!", "copper")
    with pytest.raises(QueryError):
        add_watch(index, "q", '"')  # strict parsing: cannot be repaired silently
    with pytest.raises(WatchError):
        remove_watch(index, "none")
    with pytest.raises(WatchError):
        check_watches(index, ["none"])
    with pytest.raises(QueryError):
        check_watches(index, since="2024-13")


@pytest.mark.slow
def test_concurrent_changes_to_the_watches_are_all_kept(tmp_path: Path, backend: str,
                                                        request: pytest.FixtureRequest) -> None:
    """Writers take the watches' lock: watches added from many threads at once (each its
    own descriptor, as separate processes would have) are all saved, none overwritten by
    another's older copy, while a check moves the marks."""
    root = tmp_path / "feeds"
    root.mkdir()
    index = index_location(request, backend, tmp_path / "index", "watchconc")
    _feed(root / "a.jsonl", [("a1", "Copper prices climb", "Copper rose in London.")])
    index_paths([root], index, jobs=1)
    add_watch(index, "first", "copper")
    names = [f"w{i}" for i in range(12)]
    start = threading.Barrier(len(names) + 1)

    def add(name: str) -> None:
        start.wait()
        add_watch(index, name, "copper")

    def check() -> None:
        start.wait()
        for _ in range(5):
            check_watches(index)

    threads = [threading.Thread(target=add, args=(n,)) for n in names]
    threads.append(threading.Thread(target=check))
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(w.name for w in watches(index)) == sorted(["first", *names])


def test_reuters_watch_reports_exactly_the_new_folder(corpora: Path, tmp_path: Path,
                                                     backend: str,
                                                     request: pytest.FixtureRequest) -> None:
    files = sorted((corpora / "reuters21578").glob("reut2-*.sgm"))
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    for f in files[:18]:
        shutil.copy(f, old / f.name)
    for f in files[18:]:
        shutil.copy(f, new / f.name)
    index = index_location(request, backend, tmp_path / "index", "watchreuters")
    index_paths([old], index)
    add_watch(index, "cocoa", "cocoa")
    add_watch(index, "opec", '"opec" oil', sections=["crude"])
    report = index_paths([old, new], index)
    alerts = {a.watch: a for a in report.alerts}
    with open_index(index) as ix:
        for name, query, sections in (("cocoa", "cocoa", None),
                                      ("opec", '"opec" oil', ["crude"])):
            hits = ix.search(query, sections=sections, per_page=100, all_versions=True,
                             snippets=False)
            expected = set()
            for page in range(1, hits.pages + 1):
                res = ix.search(query, sections=sections, per_page=100, page=page,
                                all_versions=True, snippets=False)
                expected |= {h.id for h in res.hits if h.source.startswith(str(new))}
            assert expected, name
            assert set(alerts[name].ids) == expected, name
            assert alerts[name].count == len(expected)
