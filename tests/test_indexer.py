"""Index runs on small literal corpora: incremental updates, duplicates, bad input, crashes."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from newsearch import index_paths, index_stats
from newsearch.backends.whoosh.storage import MARKER, WriteLock, open_whoosh_index
from newsearch.errors import IndexDamaged, IndexLocked, IndexNotFound, IndexVersionError
from newsearch.manifest import Manifest


def story(title: str, body: str) -> str:
    return f"{title}\n\n{body}\n"


def write(path: Path, text: str | bytes, mtime_bump: int = 0) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    if mtime_bump:
        st = path.stat()
        os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + mtime_bump * 10**9))
    return path


def ids_in(index: Path) -> set[str]:
    ix = open_whoosh_index(index)
    with ix.searcher() as s:
        return {d["id"] for d in s.all_stored_fields()}


def titles_in(index: Path) -> list[str]:
    ix = open_whoosh_index(index)
    with ix.searcher() as s:
        return sorted(d.get("title", "") for d in s.all_stored_fields())


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    write(root / "world" / "a.txt", story("Almaty rebuilds", "Work began in Almaty on Monday."))
    write(root / "world" / "b.txt", story("Talks in Zürich", "Officials met in Zürich."))
    write(root / "business" / "c.txt", story("Rates held", "The central bank held rates."))
    write(root / "feed.jsonl", "\n".join(json.dumps(r) for r in [
        {"id": "1", "title": "Port strike ends", "body": "Dockers went back to work."},
        {"id": "2", "title": "Heatwave", "body": "Records fell across Europe.",
         "date": "2023-07-18T16:00:00Z", "category": "World"},
    ]))
    return root


def test_first_run_indexes_everything(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    report = index_paths([corpus], index, jobs=1)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (5, 0, 0, 0)
    assert report.documents == 5 and report.skipped == []
    stats = index_stats(index)
    assert stats.documents == 5
    assert stats.sections == {"World": 3, "Business": 1}
    assert (stats.date_min, stats.date_max, stats.undated) == ("2023-07-18", "2023-07-18", 4)


def test_rerun_on_unchanged_folder_reads_nothing(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    index_paths([corpus], index, jobs=1)
    report = index_paths([corpus], index, jobs=1)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (0, 0, 0, 5)
    assert report.files_read == 0
    assert report.documents == 5


def test_rerun_adds_new_replaces_changed_and_removes_deleted(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    index_paths([corpus], index, jobs=1)
    before = ids_in(index)
    write(corpus / "world" / "a.txt", story("Almaty rebuilds city hall", "Cranes arrived."),
          mtime_bump=5)
    write(corpus / "world" / "new.txt", story("New story", "Fresh text."))
    (corpus / "business" / "c.txt").unlink()
    report = index_paths([corpus], index, jobs=1)
    assert (report.added, report.updated, report.deleted, report.unchanged) == (1, 1, 1, 3)
    assert report.documents == 5
    assert "Almaty rebuilds city hall" in titles_in(index)
    assert "Rates held" not in titles_in(index)
    assert len(ids_in(index) & before) == 4  # the changed article keeps its id


def test_removing_one_record_of_a_multi_record_file(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    index_paths([corpus], index, jobs=1)
    kept = {"id": "1", "title": "Port strike ends", "body": "Dockers went back to work."}
    write(corpus / "feed.jsonl", json.dumps(kept), mtime_bump=5)
    report = index_paths([corpus], index, jobs=1)
    assert (report.updated, report.deleted, report.documents) == (1, 1, 4)


def test_only_files_under_the_given_folders_count_as_deleted(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    other = tmp_path / "other"
    write(other / "x.txt", story("Other story", "Elsewhere."))
    index_paths([corpus, other], index, jobs=1)
    report = index_paths([corpus], index, jobs=1)
    assert report.deleted == 0 and report.documents == 6


def test_exact_duplicates_are_indexed_once_and_counted(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    original = corpus / "world" / "a.txt"
    write(corpus / "zz" / "copy.txt", original.read_text("utf-8").upper())  # case differs
    report = index_paths([corpus], index, jobs=1)
    assert report.duplicates == 1 and report.documents == 5


def test_copy_is_indexed_when_the_original_disappears(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    write(corpus / "zz" / "copy.txt", (corpus / "world" / "a.txt").read_text("utf-8"))
    index_paths([corpus], index, jobs=1)
    (corpus / "world" / "a.txt").unlink()
    report = index_paths([corpus], index, jobs=1)
    assert report.documents == 5
    assert "Almaty rebuilds" in titles_in(index)


def test_same_story_twice_in_one_file_keeps_both_sections(tmp_path: Path) -> None:
    root = tmp_path / "c"
    rows = ["id,title,content,topic",
            "7,Театр покажет премьеру,Текст новости о театре.,culture",
            "8,Другая новость,Другой текст.,economy",
            "7,Театр покажет премьеру,Текст новости о театре.,society"]
    write(root / "ria.csv", "\n".join(rows) + "\n")
    report = index_paths([root], tmp_path / "ix", jobs=1)
    assert report.documents == 2 and report.duplicates == 1
    stats = index_stats(tmp_path / "ix")
    assert stats.sections == {"Culture": 1, "Economy": 1, "Society": 1}


def test_bad_files_are_skipped_with_reasons_and_good_ones_indexed(corpus: Path,
                                                                 tmp_path: Path) -> None:
    write(corpus / "empty.txt", "")
    write(corpus / "binary.txt", b"\x00\x01\x02\x03" * 100)
    good_gz = gzip.compress(story("Gzipped story", "Inside a gzip.").encode())
    write(corpus / "ok.txt.gz", good_gz)
    write(corpus / "cut.txt.gz", good_gz[: len(good_gz) // 2])
    write(corpus / "bad.json", "{not json")
    report = index_paths([corpus], tmp_path / "ix", jobs=1)
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons == {
        "empty.txt": "empty file",
        "binary.txt": "binary content",
        "cut.txt.gz": "truncated gzip file",
        "bad.json": reasons["bad.json"],
    }
    assert reasons["bad.json"].startswith("invalid JSON")
    assert report.documents == 6


def test_unchanged_skipped_files_are_reported_once_then_as_skipped_before(
        corpus: Path, tmp_path: Path) -> None:
    write(corpus / "README.TXT", "About this corpus\n\nIt holds five stories.\n")
    write(corpus / "empty.txt", "")
    index = tmp_path / "ix"
    first = index_paths([corpus], index, jobs=1)
    assert sorted(Path(s.path).name for s in first.skipped) == ["README.TXT", "empty.txt"]
    assert first.skipped_before == []

    again = index_paths([corpus], index, jobs=1)
    assert again.skipped == [] and again.files_read == 0
    assert {Path(s.path).name: s.reason for s in again.skipped_before} == {
        "README.TXT": "documentation file, not an article", "empty.txt": "empty file"}
    assert "0 skipped, 2 skipped before (unchanged)" in again.summary()
    assert again.to_dict()["skipped_before"][0].keys() == {"path", "reason"}

    # A changed file is read again: still bad, a new skip; now good, an article.
    write(corpus / "empty.txt", story("No longer empty", "It has a body now."), mtime_bump=5)
    write(corpus / "README.TXT", "About this corpus, revised\n", mtime_bump=5)
    third = index_paths([corpus], index, jobs=1)
    assert [Path(s.path).name for s in third.skipped] == ["README.TXT"]
    assert third.skipped_before == [] and third.added == 1
    assert "No longer empty" in titles_in(index)


def test_report_counts_the_articles_each_format_gave(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    report = index_paths([corpus], index, jobs=1)
    assert report.formats == {"headline": 3, "jsonl": 2}
    assert report.to_dict()["formats"] == {"headline": 3, "jsonl": 2}
    assert report.summary().endswith("; by format: headline 3, jsonl 2")
    write(corpus / "world" / "b.txt", story("Talks in Zurich", "Officials met again."),
          mtime_bump=5)
    assert index_paths([corpus], index, jobs=1).formats == {"headline": 1}
    assert index_paths([corpus], index, jobs=1).formats == {}


def test_a_failing_run_keeps_the_batches_it_committed(corpus: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import newsearch.runs as runs

    for i in range(30):
        write(corpus / "many" / f"{i:03}.txt", story(f"Story {i}", f"Body number {i}."))
    real_decide = runs._Run.decide
    calls = {"n": 0}

    def failing_decide(self, meta, freed):
        calls["n"] += 1
        if calls["n"] == 20:
            raise RuntimeError("simulated crash")
        return real_decide(self, meta, freed)

    monkeypatch.setattr(runs, "_CHUNK_FILES", 1)
    monkeypatch.setattr(runs._Run, "decide", failing_decide)
    index = tmp_path / "ix"
    with pytest.raises(RuntimeError):
        index_paths([corpus], index, jobs=1, batch_articles=4)
    committed = index_stats(index).documents
    assert 0 < committed < 35 and committed % 4 == 0
    monkeypatch.setattr(runs._Run, "decide", real_decide)
    report = index_paths([corpus], index, jobs=1)
    assert report.documents == 35
    assert report.unchanged == committed


def test_rebuild_starts_afresh(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    other = tmp_path / "other"
    write(other / "x.txt", story("Other story", "Elsewhere."))
    index_paths([corpus, other], index, jobs=1)
    report = index_paths([corpus], index, jobs=1, rebuild=True)
    assert report.added == 5 and report.documents == 5
    assert "Other story" not in titles_in(index)


def test_lost_manifest_is_rebuilt_from_the_index_without_duplicating(corpus: Path,
                                                                     tmp_path: Path) -> None:
    index = tmp_path / "ix"
    index_paths([corpus], index, jobs=1)
    for p in index.glob("newsearch-manifest-*.json"):
        p.unlink()
    report = index_paths([corpus], index, jobs=1)
    assert report.documents == 5
    assert report.updated == 5  # every file was read again, its articles replaced
    assert Manifest.load(index, open_whoosh_index(index).latest_generation()) is not None


def test_two_processes_give_the_same_index_as_one(corpus: Path, tmp_path: Path) -> None:
    for i in range(40):
        write(corpus / "many" / f"{i:03}.txt", story(f"Story {i}", f"Body number {i}."))
    one = index_paths([corpus], tmp_path / "one", jobs=1)
    two = index_paths([corpus], tmp_path / "two", jobs=2, batch_articles=10)
    assert one.documents == two.documents == 45
    assert ids_in(tmp_path / "one") == ids_in(tmp_path / "two")


def test_a_second_writer_is_refused_or_waits(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    index_paths([corpus], index, jobs=1)
    with WriteLock(index), pytest.raises(IndexLocked):
        index_paths([corpus], index, jobs=1)
    report = index_paths([corpus], index, jobs=1, wait=1.0)  # free again
    assert report.documents == 5


def test_missing_index_and_foreign_folder_are_reported(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound):
        index_stats(tmp_path / "nothing-here")
    foreign = tmp_path / "foreign"
    write(foreign / "notes.txt", "hello")
    with pytest.raises(IndexNotFound, match="not a newsearch index"):
        index_stats(foreign)
    with pytest.raises(IndexNotFound, match="not a newsearch index"):
        index_paths([tmp_path / "nothing-here"], foreign, jobs=1)


def test_schema_version_is_checked_on_open(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    index_paths([corpus], index, jobs=1)
    marker = json.loads((index / MARKER).read_text())
    marker["schema_version"] = 0
    (index / MARKER).write_text(json.dumps(marker))
    with pytest.raises(IndexVersionError, match="--rebuild"):
        index_stats(index)
    assert index_paths([corpus], index, jobs=1, rebuild=True).documents == 5


def test_damaged_segment_is_reported_with_the_fix(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "ix"
    index_paths([corpus], index, jobs=1)
    seg = next(index.glob("MAIN_*.seg"))
    seg.write_bytes(seg.read_bytes()[:100])
    with pytest.raises(IndexDamaged, match="rebuild"):
        index_stats(index)


# --- commits, parts and merges (issue 10) -------------------------------------------------------


def test_a_commit_comes_after_batch_articles_or_commit_seconds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import newsearch.runs as runs
    from newsearch.backends.whoosh.indexer import _FolderRun
    from newsearch.backends.whoosh.storage import create_index

    clock = [1000.0]
    monkeypatch.setattr(runs.time, "monotonic", lambda: clock[0])
    run = _FolderRun(create_index(tmp_path / "ix"), tmp_path / "ix", Manifest(),
                     runs.IndexReport(), batch_articles=100)
    clock[0] += 2 * runs.COMMIT_SECONDS
    assert not run.should_commit()  # nothing pending
    run.pending = 1
    run.last_commit = clock[0]
    waits = []
    for _ in range(8):  # each commit waits twice as long as the one before, up to a limit
        start = clock[0]
        while not run.should_commit():
            clock[0] += 0.25
        waits.append(clock[0] - start)
        run.commits += 1
        run.last_commit = clock[0]
    five = runs.COMMIT_SECONDS
    assert waits == [five, 2 * five, 4 * five, 8 * five] + [runs.MAX_COMMIT_SECONDS] * 4
    run.pending = 100
    assert run.should_commit()  # BATCH_ARTICLES articles, whenever
    run.clear = True  # a rebuild commits once, at its end
    clock[0] += 3600
    assert not run.should_commit()


def records_file(path: Path, count: int, tag: str = "") -> Path:
    rows = [json.dumps({"id": f"{tag}{i}", "title": f"Harbour note {tag}{i}",
                        "body": f"Cargo number {i} was logged at the harbour."})
            for i in range(count)]
    return write(path, "\n".join(rows) + "\n")


@pytest.mark.parametrize("jobs", [1, 2])
def test_a_file_of_many_records_travels_in_parts(tmp_path: Path, jobs: int) -> None:
    from newsearch.runs import PART_ARTICLES

    count = 2 * PART_ARTICLES + 500
    records_file(tmp_path / "c" / "feed.jsonl", count)
    index = tmp_path / "ix"
    report = index_paths([tmp_path / "c"], index, jobs=jobs, batch_articles=PART_ARTICLES // 2)
    assert (report.added, report.documents, report.files_read) == (count, count, 1)
    assert len(ids_in(index)) == count
    again = index_paths([tmp_path / "c"], index, jobs=jobs)  # recorded once complete
    assert (again.unchanged, again.files_read) == (count, 0)


def test_a_file_that_fails_part_way_keeps_its_parts_and_is_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import newsearch.runs as runs
    from newsearch.runs import PART_ARTICLES

    count = 2 * PART_ARTICLES + 500
    records_file(tmp_path / "c" / "feed.jsonl", count)
    real = runs.read_source

    def failing(src, *args):
        for n, item in enumerate(real(src, *args)):
            if n == PART_ARTICLES + 100:
                raise RuntimeError("disk read error")
            yield item

    monkeypatch.setattr(runs, "read_source", failing)
    index = tmp_path / "ix"
    report = index_paths([tmp_path / "c"], index, jobs=1)
    assert report.documents == PART_ARTICLES + 100  # the parts read before the failure
    assert [s.reason for s in report.skipped] == ["reader error: RuntimeError: disk read error"]
    monkeypatch.setattr(runs, "read_source", real)
    again = index_paths([tmp_path / "c"], index, jobs=1)
    assert (again.updated, again.added, again.documents) == (PART_ARTICLES + 100,
                                                             count - PART_ARTICLES - 100, count)


def test_record_skips_are_listed_up_to_a_bound_and_all_counted(tmp_path: Path) -> None:
    from newsearch.runs import MAX_RECORD_SKIPS, MAX_RECORD_SKIPS_LISTED

    write(tmp_path / "c" / "bad.jsonl", "{broken\n" * (MAX_RECORD_SKIPS + 50)
          + json.dumps({"title": "Late story", "body": "Never read."}) + "\n")
    records_file(tmp_path / "c" / "good.jsonl", 3)
    report = index_paths([tmp_path / "c"], tmp_path / "ix", jobs=1)
    assert report.documents == 3  # reading stopped at the bound
    assert report.skipped_total == MAX_RECORD_SKIPS + 1
    assert len(report.skipped) == MAX_RECORD_SKIPS_LISTED + 1
    assert "the rest of the file was not read" in report.skipped[-1].reason
    assert report.to_dict()["skipped_total"] == MAX_RECORD_SKIPS + 1


def test_a_rebuild_writes_its_segments_to_disk_as_it_goes(tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    import newsearch.backends.whoosh.indexer as indexer
    import newsearch.backends.whoosh.segments as segments
    from newsearch.backends.whoosh.merge import merge_segments as real_merge

    for i in range(6):
        records_file(tmp_path / "c" / f"feed-{i}.jsonl", 50, tag=f"{i}-")
    index = tmp_path / "ix"
    index_paths([tmp_path / "c"], index, jobs=1)
    one_file = 50 * len("Harbour note 0-00Cargo number 00 was logged at the harbour.")
    monkeypatch.setattr(segments, "SEGMENT_CHARS", one_file)
    merged: list[int] = []

    def merge_segments(storage: Any, schema: Any, indexname: str, group: list[Any]) -> Any:
        merged.append(len(group))
        return real_merge(storage, schema, indexname, group)

    monkeypatch.setattr(indexer, "merge_segments", merge_segments)
    report = index_paths([tmp_path / "c"], index, jobs=1, rebuild=True)
    assert report.documents == 300
    # One commit; the worker wrote several segments, which the run's end merged into one.
    assert merged and merged[0] >= 5
    assert len(open_whoosh_index(index)._segments()) == 1
