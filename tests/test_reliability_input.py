"""Input fuzzing: a folder of hostile files beside good ones. Every good article is indexed and
searchable; every bad file is skipped with a reason, or, where the format has records, its
good records are kept and the bad ones skipped with a reason; the run's memory stays bounded.
"""

from __future__ import annotations

import gzip
import json
import os
import random
import subprocess
import zlib
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsearch import open_index

from .reliability_support import PYTHON

# Peak resident memory of any one process of the run (the indexer or a worker): the README's
# memory budget ("Memory" under "Indexing"). A worker holds one file at a time, at most
# corpus.MAX_FILE_BYTES (64 MB) with its decoded text, a bounded part of its articles and a
# bounded segment, on top of the interpreter with Whoosh and the analysis tables (~100 MB).
RSS_BOUND_MB = 512
HUGE_LINE_MB = 50


def story(title: str, body: str) -> bytes:
    return f"{title}\n\n{body}\n".encode()


def jsonl(*records: object) -> bytes:
    return "\n".join(r if isinstance(r, str) else json.dumps(r) for r in records).encode() + b"\n"


def sgml(newid: int, title: str, closed: bool = True) -> str:
    rec = (f'<REUTERS NEWID="{newid}"><DATE>2-MAR-1987 10:00:00.00</DATE><TEXT><TITLE>{title}'
           f"</TITLE><BODY>{title} was reported.</BODY></TEXT>")
    return rec + ("</REUTERS>\n" if closed else "")


def gzip_bomb(megabytes: int) -> bytes:
    """``megabytes`` MB of zeros, gzipped (about a thousandth of that), built in pieces."""
    z = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(2**20)
    return b"".join(z.compress(zeros) for _ in range(megabytes)) + z.flush()


# What each good file holds: a word found nowhere else.
GOOD: dict[str, tuple[bytes, str]] = {
    "good/plain.txt": (story("Quokka census completed", "Rangers counted quokkas."), "quokka"),
    "good/feed.jsonl": (jsonl({"title": "Narwhal tusk study", "body": "Narwhals measured."}),
                        "narwhal"),
    "good/story.txt.gz": (gzip.compress(story("Capybara cafe opens", "With capybaras.")),
                          "capybara"),
    "good/wire.sgm": (sgml(1, "Pelican count rises").encode(), "pelican"),
}


@dataclass(frozen=True)
class Hostile:
    """A bad file, the reason its skip must give, and what of it must still be found."""

    name: str | bytes
    content: bytes | None  # None: made specially (links, FIFO, unreadable)
    reason: str  # a substring of the file-level or record-level skip reason
    kept: tuple[str, ...] = ()  # words of its good records (or text) that must be searchable


def hostile_files() -> list[Hostile]:
    rng = random.Random(6)
    full = gzip.compress(story("Okapi sighting", "An okapi was seen. " * 2000))
    return [
        # Mostly UTF-8 with stray invalid bytes: decoded (the strays as cp1252), text kept.
        Hostile("invalid-utf8.txt", b"Axolotl rescue\n\nThe axolotl \xff\xfe was rescued "
                b"from the canal \xc3\x28 by volunteers \xe2\x28\xa1.\n", "", ("axolotl",)),
        # UTF-16 without a byte-order mark: recognised from its NUL pattern, text kept.
        Hostile("utf16-no-bom.txt", "Walrus migration\n\nWalruses swam north.\n".encode(
            "utf-16-le"), "", ("walrus",)),
        Hostile("nul-bytes.txt", b"Pangolin\x00story\x00\x00 with NULs\x00\n" * 200,
                "binary content"),
        Hostile("huge-line.txt", b"lorem ipsum dolor " * (HUGE_LINE_MB * 2**20 // 18),
                "longer than"),
        Hostile("truncated.txt.gz", full[: len(full) // 2], "truncated gzip file"),
        Hostile("not-really.txt.gz", b"\x1f\x8b" + rng.randbytes(4000), "gzip"),
        Hostile("bomb.txt.gz", gzip_bomb(100), "gzip expands beyond"),  # 100 MB from ~100 KB
        Hostile("nested.json", b"[" * 100_000 + b"]" * 100_000, "nested deeper"),
        Hostile("nested-line.jsonl", jsonl({"title": "Ibis flock", "body": "Ibises."},
                                           "[" * 50_000 + "]" * 50_000,
                                           {"title": "Jackal den", "body": "Jackals."}),
                "nested deeper", ("ibis", "jackal")),
        Hostile("lone-surrogate.jsonl", jsonl('{"title": "Gecko \\ud800 note", "body": "x"}',
                                              {"title": "Heron nest", "body": "Herons."}),
                "", ("gecko", "heron")),
        Hostile("unbalanced.csv", b'title,body\nOcelot seen,fine\n"Broken,open quote\n'
                b"Marmot seen,fine\n", "unbalanced quotes", ("ocelot", "marmot")),
        Hostile("nul.csv", b"title,body\nGood row,fine\nBad\x00row,x\n", "binary content"),
        Hostile("unclosed.sgm", (sgml(2, "Ibex one") + sgml(3, "Ibex two")
                                 + sgml(4, "Tapir lost", closed=False)).encode(),
                "no closing", ("ibex",)),
        Hostile("scalar.json", b"42", "no article records"),
        Hostile("deep.html", b"<html><body>" + b"<div>" * 100_000 + b"deep" + b"</div>" * 100_000
                + b"</body></html>", "no article text"),
        Hostile("empty.txt", b"", "empty file"),
        Hostile("junk.bin", rng.randbytes(100_000), "binary content"),
        Hostile("junk.txt", rng.randbytes(100_000), "binary content"),
        # A file name that is not UTF-8: indexed, its source shown with \xNN.
        Hostile(b"latin1-name-\xe9t\xe9.txt", story("Lemur leaps", "A lemur leapt."), "",
                ("lemur",)),
        Hostile("loop", None, "already walked"),  # loop/up -> ..
        Hostile("self-link", None, "symbolic link loop"),  # self-link -> self-link
        Hostile("dangling", None, "broken symbolic link"),
        Hostile("fifo", None, "not a regular file"),
        Hostile("unreadable.txt", None, "permission denied"),
    ]


@dataclass
class Run:
    folder: Path
    index: Path
    report: dict
    peak_mb: float
    hostile: list[Hostile]


def build(root: Path) -> list[Hostile]:
    for rel, (content, _word) in GOOD.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(content)
    bad = root / "bad"
    bad.mkdir()
    files = hostile_files()
    for h in files:
        if h.content is not None:
            name = h.name if isinstance(h.name, str) else os.fsdecode(h.name)
            (bad / name).write_bytes(h.content)
    (bad / "loop").mkdir()
    (bad / "loop" / "up").symlink_to("..")
    (bad / "self-link").symlink_to("self-link")
    (bad / "dangling").symlink_to("nowhere")
    os.mkfifo(bad / "fifo")
    (bad / "unreadable.txt").write_bytes(story("Secret", "Nobody may read this."))
    (bad / "unreadable.txt").chmod(0)
    return files


MEASURE = r"""
import resource, subprocess, sys
out = subprocess.run(sys.argv[1:], capture_output=True)
sys.stderr.buffer.write(out.stderr)
print(out.returncode)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, flush=True)  # KB, largest
sys.stdout.buffer.write(out.stdout)
"""


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("hostile")
    hostile = build(folder)
    index = folder.parent / (folder.name + "-index")
    # `newsearch index` under a parent that reports the peak RSS of its descendants.
    out = subprocess.run([PYTHON, "-c", MEASURE, PYTHON, "-m", "newsearch.cli", "index",
                          str(folder), "--index", str(index), "--json", "--jobs", "2"],
                         capture_output=True, timeout=600)
    stderr = out.stderr.decode("utf-8", "replace")
    assert out.returncode == 0, stderr
    code, peak_kb, report = out.stdout.decode("utf-8", "replace").split("\n", 2)
    assert code == "0", stderr
    assert "Traceback" not in stderr
    return Run(folder, index, json.loads(report), int(peak_kb) / 1024, hostile)


def skips_for(run: Run, h: Hostile) -> list[dict]:
    name = h.name if isinstance(h.name, str) else os.fsdecode(h.name)
    path = str(run.folder / "bad" / name)
    return [s for s in run.report["skipped"] if s["path"] == path or s["path"].startswith(
        path + os.sep)]


@pytest.mark.parametrize("rel", sorted(GOOD))
def test_every_good_file_is_indexed_and_searchable(run: Run, rel: str) -> None:
    word = GOOD[rel][1]
    with open_index(run.index) as ix:
        hits = ix.search(word).hits
    assert [h.source for h in hits] == [str(run.folder / rel)]


@pytest.mark.parametrize("case", hostile_files(), ids=lambda h: h.name if isinstance(
    h.name, str) else h.name.decode("ascii", "backslashreplace"))
def test_every_bad_file_is_skipped_with_a_reason(run: Run, case: Hostile) -> None:
    if case.name == "unreadable.txt" and os.geteuid() == 0:
        pytest.skip("running as root: chmod 000 does not stop root from reading the file")
    skips = skips_for(run, case)
    if case.reason:
        assert skips, f"no skip reported for {case.name!r}"
        assert any(case.reason in s["reason"] for s in skips), skips
    else:
        assert skips == []
    with open_index(run.index) as ix:
        for word in case.kept:
            hits = ix.search(word).hits
            assert hits, f"{word!r} from {case.name!r} is not searchable"
            assert all("/bad/" in h.source for h in hits)


def test_nothing_but_the_good_articles_is_indexed(run: Run) -> None:
    kept = len(GOOD) + sum(len(h.kept) for h in hostile_files())
    kept += 1 if os.geteuid() == 0 else 0  # root reads unreadable.txt anyway
    kept += 1  # the two Ibex records of unclosed.sgm share the word "ibex"
    assert run.report["documents"] == kept


def test_a_non_utf8_file_name_is_recorded_printably(run: Run) -> None:
    with open_index(run.index) as ix:
        (hit,) = ix.search("lemur").hits
    assert hit.source.endswith("latin1-name-\\xe9t\\xe9.txt")
    json.dumps(hit.source).encode("utf-8")  # usable in JSON output


def test_memory_stays_bounded(run: Run) -> None:
    print(f"\npeak RSS of the index run over the hostile folder: {run.peak_mb:.0f} MB "
          f"({len(run.hostile)} hostile files)")
    assert run.peak_mb < RSS_BOUND_MB
