"""Small hostile files: none blocks a run, none costs more than linear time, none takes a
process past the memory bound.

* Blocking reads: a FIFO put in a file's place after the folder walk, a ``news.txt`` link to
  ``/proc/kmsg``: skipped as what they are, never waited on.
* Linear time: each reader is timed on an input of size N and 2N (best of several runs,
  interleaved, in CPU time of a fresh interpreter); 2N may take at most 3x as long. The
  inputs are the shapes that made a regular expression rescan from every position (unclosed
  quotes, tags, records, a long space run before a sign-off) or trafilatura slow (HTML over
  its caps).
* Memory: ``newsearch index`` (the CLI, its defaults) over a folder of hostile files as large
  as the issue's, its peak taken as the largest resident size of any of its processes
  (``RUSAGE_CHILDREN``), and every file skipped with its reason.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .reliability_support import PYTHON
from .test_reliability_input import MEASURE, RSS_BOUND_MB

# --- reads that would block ---------------------------------------------------------------------

SWAP_AFTER_WALK = r"""
import os, sys
import newsearch.cli as cli
import newsearch.runs as runs

real_walk = runs.walk
target = sys.argv[1]


def walk(*args, **kwargs):
    yield from real_walk(*args, **kwargs)
    os.unlink(target)  # the walk saw a regular file; now a FIFO stands there
    os.mkfifo(target)


runs.walk = walk
cli.main(sys.argv[2:], prog_name="newsearch")
"""


def run_cli(args: list[str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """A CLI run in its own session, killed with its workers if it outlasts ``timeout``."""
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         start_new_session=True)
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(p.pid, signal.SIGKILL)
        p.communicate()
        pytest.fail(f"still running after {timeout} s: a read blocked")
    return subprocess.CompletedProcess(args, p.returncode, out, err)


def test_a_fifo_swapped_in_after_the_walk_is_skipped_not_waited_on(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Quokka census\n\nRangers counted quokkas.\n")
    (corpus / "swapped.txt").write_text("Walrus count\n\nWalruses were counted.\n")
    out = run_cli([PYTHON, "-c", SWAP_AFTER_WALK, str(corpus / "swapped.txt"), "index",
                   str(corpus), "--index", str(tmp_path / "index"), "--json"])
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["documents"] == 1
    assert report["skipped"] == [{"path": str(corpus / "swapped.txt"),
                                  "reason": "not a regular file"}]


@pytest.mark.skipif(not os.path.exists("/proc/kmsg"), reason="no /proc/kmsg (not Linux)")
def test_a_link_to_proc_kmsg_is_skipped_not_waited_on(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Quokka census\n\nRangers counted quokkas.\n")
    (corpus / "news.txt").symlink_to("/proc/kmsg")
    out = run_cli([PYTHON, "-m", "newsearch.cli", "index", str(corpus), "--index",
                   str(tmp_path / "index"), "--json"])
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["documents"] == 1
    (skip,) = report["skipped"]
    assert skip["path"] == str(corpus / "news.txt")
    # Root may open it (it says it is empty, and nothing is read); others may not.
    assert skip["reason"] in ("empty file", "permission denied")


# --- linear time --------------------------------------------------------------------------------

REUTERS_HEAD = b'<REUTERS NEWID="1"><DATE>2-MAR-1987 10:00:00.00</DATE><TEXT>'


def sgm_record(text: bytes, topics: bytes = b"") -> bytes:
    return REUTERS_HEAD.replace(b"<TEXT>", topics + b"<TEXT>") + text + b"</TEXT></REUTERS>\n"


# name -> (file name, content of size ~n). Sizes are chosen so that N takes tens of
# milliseconds with linear readers; the regular expressions these inputs once defeated
# took seconds at a hundredth of that size.
SHAPES: dict[str, tuple[str, Callable[[int], bytes], int]] = {
    "json-unclosed-escapes": ("x.json", lambda n: b'"\\' * (n // 2), 4_000_000),
    "jsonl-unclosed-escapes": ("x.jsonl", lambda n: b'{"title": "t"}\n' + b'"\\' * (n // 2),
                               4_000_000),
    "sgm-unclosed-titles": ("x.sgm", lambda n: sgm_record(b"<TITLE>x" * (n // 8)), 2_000_000),
    "sgm-unclosed-labels": ("x.sgm", lambda n: sgm_record(
        b"<TITLE>t</TITLE><BODY>b</BODY>", b"<TOPICS>" + b"<D>x" * (n // 4) + b"</TOPICS>"),
        2_000_000),
    "sgm-unclosed-records": ("x.sgm", lambda n: b"<REUTERS>" * (n // 9), 300_000),
    "sgm-space-before-no-sign-off": ("x.sgm", lambda n: sgm_record(
        b"<TITLE>t</TITLE><BODY>a" + b" " * n + b"b</BODY>"), 2_000_000),
    "csv-unbalanced-quotes": ("x.csv", lambda n: b"title,body\n" + b'"x,y\n' * (n // 5),
                              300_000),
    "html-over-the-caps": ("x.html", lambda n: b"<html><body><p>" + b'<a href="/x">x</a> '
                           * (n // 19) + b"</p></body></html>", 2_000_000),
}
ONE_RUN_LIMIT_S = 30.0  # a read this slow is superlinear: fail rather than hang
ROUNDS = 7

# Timed in a fresh interpreter per shape: the test process's heap (everything pytest and the
# other tests left) made the same reads vary by a third between runs.
TIMER = r"""
import gc, json, sys, time
from newsearch.errors import SkippedInput
from newsearch.readers import SourceFile, read_source
from tests.test_reliability_hostile import ONE_RUN_LIMIT_S, ROUNDS, SHAPES

name, make, n = SHAPES[sys.argv[1]]
inputs = [make(n), make(2 * n)]
best = [float("inf"), float("inf")]
gc.disable()
for _ in range(ROUNDS):
    for i, data in enumerate(inputs):  # alternating, so that a busy machine slows both alike
        src = SourceFile("/corpus/" + name, name, data)
        t = time.process_time()  # this process's CPU time: other processes do not count
        try:
            for _item in read_source(src):
                pass
        except SkippedInput:
            pass
        took = time.process_time() - t
        if took > ONE_RUN_LIMIT_S:
            sys.exit("one read of %d bytes took %.0f s" % (len(data), took))
        best[i] = min(best[i], took)
print(json.dumps(best))
"""


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_reading_twice_the_input_takes_at_most_three_times_as_long(shape: str) -> None:
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run([PYTHON, "-c", TIMER, shape], capture_output=True, text=True,
                         cwd=root, timeout=ROUNDS * 3 * ONE_RUN_LIMIT_S)
    assert out.returncode == 0, out.stderr
    t_n, t_2n = json.loads(out.stdout)
    n = SHAPES[shape][2]
    print(f"\n{shape}: N={n:,} bytes {t_n * 1000:.1f} ms, 2N {t_2n * 1000:.1f} ms "
          f"({t_2n / t_n:.2f}x)")
    assert t_2n <= 3 * t_n


# --- memory -------------------------------------------------------------------------------------

MB = 2**20


def _repeat(fh, unit: bytes, count: int) -> None:
    step = 100_000
    for start in range(0, count, step):
        fh.write(unit * min(step, count - start))


def write_hostile(folder: Path, tiny_records: int) -> dict[str, str]:
    """The issue's memory cases at its sizes; returns file name -> expected skip reason."""
    folder.mkdir()
    (folder / "one-string.json").write_bytes(b'{"title": "t", "body": "' + b"a" * (50 * MB)
                                             + b'"}')
    with open(folder / "malformed.jsonl", "wb") as fh:
        _repeat(fh, b"x\n", 30_000_000)
    with open(folder / "records.sgm", "wb") as fh:
        _repeat(fh, b"<REUTERS>", 6_000_000)
    with open(folder / "rows.csv", "wb") as fh:
        fh.write(b"title,body\n")
        _repeat(fh, b"a,b,c\n", 2_000_000)
    para = b"<p>The harbour master logged another cargo ship today.</p>\n"
    with open(folder / "paragraphs.html", "wb") as fh:
        fh.write(b"<html><body>")
        _repeat(fh, para, 60 * MB // len(para))
    with open(folder / "lines.txt", "wb") as fh:
        fh.write(b"Harbour log\n\n")
        _repeat(fh, b"ship in\n", 7_500_000)
    with open(folder / "tiny.jsonl", "w", encoding="utf-8") as fh:
        for i in range(tiny_records):
            fh.write(f'{{"title":"Note {i}","body":"Harbour note number {i}."}}\n')
    return {
        "one-string.json": "body longer than",
        "malformed.jsonl": "invalid JSON",
        "records.sgm": "no closing </REUTERS> tag",
        "rows.csv": "3 fields where the header has 2",
        "paragraphs.html": "HTML page larger than",
        "lines.txt": "longer than one article can be",
    }


TINY_RECORDS = 150_000


def test_hostile_files_stay_within_the_memory_bound(tmp_path: Path) -> None:
    expected = write_hostile(tmp_path / "hostile", TINY_RECORDS)
    out = subprocess.run([PYTHON, "-c", MEASURE, PYTHON, "-m", "newsearch.cli", "index",
                          str(tmp_path / "hostile"), "--index", str(tmp_path / "index"), "--json"],
                         capture_output=True, timeout=1200)
    stderr = out.stderr.decode("utf-8", "replace")
    code, peak_kb, report_text = out.stdout.decode("utf-8", "replace").split("\n", 2)
    assert code == "0", stderr
    report = json.loads(report_text)
    peak_mb = int(peak_kb) / 1024
    print(f"\npeak RSS of the run over {len(expected) + 1} hostile files: {peak_mb:.0f} MB; "
          f"report {len(report_text) / 1024:.0f} KB, {report['skipped_total']:,} skips")
    assert peak_mb < RSS_BOUND_MB
    assert report["documents"] == TINY_RECORDS
    for name, reason in expected.items():
        path = str(tmp_path / "hostile" / name)
        assert any(s["path"] == path and reason in s["reason"] for s in report["skipped"]), name
    # Millions of bad records: the listed skips are capped, the total counts them.
    assert len(report["skipped"]) <= 1_000
    assert report["skipped_total"] >= 30_000
    assert len(report_text) < 1 * MB


# What the main process keeps per article across a run: a file's ids and dedup keys (16 + 24
# bytes packed) and the index's dedup keys (24 bytes), with a margin for the buffers' growth
# room. Before they were compact: 186 bytes (lists of strings, a key → owner dict).
HELD_BYTES_PER_ARTICLE = 80


def test_the_main_process_holds_a_few_bytes_per_article(tmp_path: Path) -> None:
    import tracemalloc

    from newsearch.backends.whoosh.indexer import _FolderRun
    from newsearch.backends.whoosh.storage import open_whoosh_index
    from newsearch.manifest import Manifest
    from newsearch.runs import IndexReport

    records = 40_000
    (tmp_path / "in").mkdir()
    with open(tmp_path / "in" / "tiny.jsonl", "w", encoding="utf-8") as fh:
        for i in range(records):
            fh.write(f'{{"title":"Note {i}","body":"Harbour note number {i}."}}\n')
    index = tmp_path / "index"
    out = run_cli([PYTHON, "-m", "newsearch.cli", "index", str(tmp_path / "in"), "--index",
                   str(index), "--json"], timeout=600)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["added"] == records
    ix = open_whoosh_index(index)

    def held() -> int:
        """Bytes traced for the manifest and the run's key sets, as the next run holds
        them."""
        tracemalloc.start()
        try:
            manifest = Manifest.load(index, ix.latest_generation())
            assert manifest is not None
            run = _FolderRun(ix, index, manifest, IndexReport(), 1)
            size = tracemalloc.get_traced_memory()[0]
            assert len(run.keys) == records
            return size
        finally:
            tracemalloc.stop()

    held()  # the first time also imports what the load needs
    per_article = held() / records
    print(f"\nthe manifest and key sets of {records:,} articles: {per_article:.0f} bytes each")
    assert per_article < HELD_BYTES_PER_ARTICLE
