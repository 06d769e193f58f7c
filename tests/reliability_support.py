"""Helpers for the reliability tests (test_reliability_*.py): index runs in subprocesses that
can be killed, the processes they leave, and what an index holds.

The runner is ``newsearch index`` itself (``newsearch.cli.main``) with test hooks: an
optional batch size (the CLI has no flag for it; the library's ``batch_articles``; without
one the run commits as users' runs do, by count and time), a line on stderr
around every commit (``commit-start DOCUMENTS`` / ``commit-end GENERATION DOCUMENTS``, the
documents being the index's size once the commit is done) followed, for runs that others
must overlap, by a wait until a file exists (``RELIABILITY_HOLD=PATH``) and a pause
(``RELIABILITY_PAUSE=SECONDS``), all with the writer lock held; and an optional
self-inflicted SIGKILL of the whole process group at a named point (``RELIABILITY_DIE_AT=
POINT:N`` dies at the N-th time the point is reached in that process):

    index-created   Whoosh's generation 0 exists, the newsearch.json marker not yet
    manifest-saved  a commit's manifest is on disk, its table of contents not yet
    toc-written     a table of contents was written (generation 0 counts), old files remain
    before-prune    a commit is complete, the previous manifest not yet removed
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from click.testing import CliRunner

from newsearch.backends.whoosh.storage import MARKER, open_whoosh_index
from newsearch.cli import main
from newsearch.clusters import Clusters
from newsearch.manifest import Manifest
from newsearch.watches import WATCHES_FILE

PYTHON = sys.executable

RUNNER = r"""
import functools, os, signal, sys, time
import newsearch.backend as backend
import newsearch.cli as cli
import newsearch.backends.whoosh.indexer as indexer
import newsearch.backends.whoosh.storage as storage
from newsearch.manifest import Manifest
from newsearch.watches import WATCHES_FILE
from whoosh import index as whoosh_index

if sys.argv[1] != "default":
    # The command's own backend selection, with smaller batches (more commits to kill in).
    cli.index_paths = functools.partial(backend.index_paths, batch_articles=int(sys.argv[1]))

die_point, _, die_at = os.environ.get("RELIABILITY_DIE_AT", "").partition(":")
calls = {}


def maybe_die(point):
    calls[point] = calls.get(point, 0) + 1
    if point == die_point and calls[point] == int(die_at):
        os.killpg(os.getpgid(0), signal.SIGKILL)


def hook(owner, name, point, after):
    real = getattr(owner, name)

    def wrapped(*args, **kwargs):
        if not after:
            maybe_die(point)
        result = real(*args, **kwargs)
        if after:
            maybe_die(point)
        return result

    setattr(owner, name, wrapped)


hook(Manifest, "save", "manifest-saved", after=True)
hook(whoosh_index.TOC, "write", "toc-written", after=True)
hook(indexer, "_prune_manifests", "before-prune", after=False)
hook(storage, "_create_whoosh_index", "index-created", after=True)

commit = indexer._FolderRun.commit


def traced(self, segments):
    docs = sum(len(st.ids) for st in self.manifest.files.values())  # once committed
    print("commit-start", docs, file=sys.stderr, flush=True)
    commit(self, segments)
    print("commit-end", self.ix.latest_generation(), docs, file=sys.stderr, flush=True)
    while hold and not os.path.exists(hold):
        time.sleep(0.02)
    time.sleep(pause)


pause = float(os.environ.get("RELIABILITY_PAUSE", "0"))
hold = os.environ.get("RELIABILITY_HOLD")
indexer._FolderRun.commit = traced
cli.main(sys.argv[2:], prog_name="newsearch")
"""


@dataclass
class Commit:
    generation: int
    documents: int


@dataclass
class IndexRun:
    """``newsearch index`` in its own session (process group), its output read as it comes."""

    proc: subprocess.Popen[str]
    commits: list[Commit] = field(default_factory=list)
    starts: list[int] = field(default_factory=list)  # documents of each commit begun
    lines: list[str] = field(default_factory=list)
    out: list[str] = field(default_factory=list)
    _cond: threading.Condition = field(default_factory=threading.Condition)
    _readers: list[threading.Thread] = field(default_factory=list)

    @classmethod
    def start(cls, paths: Iterable[str | Path], index: Path, *, batch: int | None,
              jobs: int | None = None, env: dict[str, str] | None = None) -> IndexRun:
        """``batch`` None: the CLI's own commits (every BATCH_ARTICLES or COMMIT_SECONDS)."""
        args = [PYTHON, "-c", RUNNER, str(batch or "default"), "index", *map(str, paths),
                "--index", str(index), "--json"]
        if jobs:
            args += ["--jobs", str(jobs)]
        proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True, env={**os.environ, **(env or {})})
        run = cls(proc)
        run._readers = [threading.Thread(target=run._read_stderr, daemon=True),
                        threading.Thread(target=run._read_stdout, daemon=True)]
        for t in run._readers:
            t.start()
        return run

    def _read_stdout(self) -> None:
        assert self.proc.stdout is not None
        self.out.extend(self.proc.stdout)

    def _read_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            with self._cond:
                self.lines.append(line)
                parts = line.split()
                if parts[:1] == ["commit-start"]:
                    self.starts.append(int(parts[1]))
                elif parts[:1] == ["commit-end"]:
                    self.commits.append(Commit(int(parts[1]), int(parts[2])))
                self._cond.notify_all()
        with self._cond:
            self._cond.notify_all()

    def wait_for(self, predicate, timeout: float) -> bool:
        """Wait until ``predicate(self)`` holds; False on timeout or when the run ended."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not predicate(self):
                left = deadline - time.monotonic()
                if left <= 0 or self.proc.poll() is not None:
                    return predicate(self)
                self._cond.wait(min(left, 0.05))
        return True

    def in_commit(self) -> bool:
        with self._cond:
            return len(self.starts) > len(self.commits)

    def kill(self) -> None:
        """SIGKILL the whole process group (the indexer and its workers), then collect."""
        if self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        self._collect()

    def _collect(self) -> None:
        for t in self._readers:
            t.join(timeout=30)

    def finish(self, timeout: float = 600) -> dict:
        """Wait for a run to end by itself; its JSON report (asserts exit code 0)."""
        self.proc.wait(timeout=timeout)
        self._collect()
        assert self.proc.returncode == 0, self.stderr()
        return json.loads("".join(self.out))

    def stderr(self) -> str:
        with self._cond:
            return "".join(self.lines)


def group_members(pgid: int) -> list[int]:
    """Processes (not zombies) in process group ``pgid``, read from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()  # after "pid (comm)": state ppid pgrp ...
        if int(fields[2]) == pgid and fields[0] not in ("Z", "X"):
            members.append(int(entry))
    return members


def survivors(pgid: int, timeout: float = 10.0) -> list[int]:
    """Members of the group still running after ``timeout`` seconds (SIGKILL is not instant)."""
    deadline = time.monotonic() + timeout
    while True:
        left = group_members(pgid)
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """``newsearch ARGS`` in a fresh interpreter."""
    return subprocess.run([PYTHON, "-m", "newsearch.cli", *args], capture_output=True, text=True,
                          timeout=timeout)


def stats_documents(index: Path) -> int:
    """``newsearch stats --json`` (in this process): the article count; asserts exit code 0."""
    res = CliRunner().invoke(main, ["stats", "--index", str(index), "--json"],
                             catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return json.loads(res.output)["documents"]


def ids_by_source(index: Path) -> dict[str, set[str]]:
    """Article ids in the index, grouped by source file."""
    out: dict[str, set[str]] = {}
    ix = open_whoosh_index(index)
    with ix.searcher() as s:
        r = s.reader()
        for docnum in r.all_doc_ids():
            f = r.stored_fields(docnum)
            out.setdefault(f["source"], set()).add(f["id"])
    return out


def committed_manifest(index: Path) -> tuple[int, Manifest]:
    """The latest generation on disk and the manifest written for it."""
    gen = open_whoosh_index(index).latest_generation()
    manifest = Manifest.load(index, gen)
    assert manifest is not None, f"no manifest for committed generation {gen}"
    return gen, manifest


def manifest_ids(manifest: Manifest) -> dict[str, set[str]]:
    return {path: set(st.ids) for path, st in manifest.files.items() if st.ids}


def leftovers(index: Path) -> list[str]:
    """Files in an index folder that its committed generation does not account for."""
    ix = open_whoosh_index(index)
    gen = ix.latest_generation()
    segments = {s.segment_id() for s in ix._segments()}
    expected_dirs = {"MAIN.tmp"}
    odd = []
    for p in sorted(index.iterdir()):
        name = p.name
        if name in (MARKER, "MAIN_WRITELOCK", "NEWSEARCH_WRITER.lock", f"_MAIN_{gen}.toc",
                    Manifest.filename(gen), Clusters.filename(gen), WATCHES_FILE):
            continue
        if name.startswith("MAIN_") and name.split(".", 1)[0] in segments:
            continue
        if name in expected_dirs and p.is_dir():
            odd += [f"{name}/{q.name}" for q in p.iterdir()]
            continue
        odd.append(name)
    return odd


def synthetic_corpus(root: Path, files: int, per_file: int, *, word: str = "harbour",
                     every: int = 3, tag: str = "") -> int:
    """``files`` JSON Lines files of ``per_file`` distinct short articles; every ``every``-th
    mentions ``word``. Returns how many do."""
    root.mkdir(parents=True, exist_ok=True)
    with_word = 0
    n = 0
    for f in range(files):
        lines = []
        for _ in range(per_file):
            n += 1
            mention = n % every == 0
            with_word += mention
            body = (f"Dispatch {tag}{n} from the quay. Cargo volumes number {n * 7919 % 10007} "
                    f"were logged {'at the ' + word if mention else 'inland'} on day {n % 28}.")
            day = f"2023-{n % 12 + 1:02d}-{n % 28 + 1:02d}"
            lines.append(json.dumps({"id": f"{tag}{n}", "title": f"Shipping note {tag}{n}",
                                     "body": body, "date": day,
                                     "section": ["Ports", "Trade", "Weather"][n % 3]}))
        (root / f"feed-{f:03d}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return with_word
