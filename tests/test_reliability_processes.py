"""Processes, the writer lock and failures of the index folder.

Killing only the main process of ``newsearch index`` (``kill PID``, ``kill -9 PID``, the
out-of-memory killer) leaves no worker behind holding the lock: the next run, with the CLI's
defaults, succeeds. A lock whose recorded holder is gone is taken over with a notice; one
whose holder lives is respected. A worker killed mid-run, a disk that cannot take more, and
an index folder that cannot be written or read each end in one sentence and exit code 2
(no traceback), with the index as its last commit left it and nothing partial taking space.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from newsearch.backends.whoosh.storage import WRITER_LOCK

from .reliability_support import (
    PYTHON,
    IndexRun,
    cli,
    committed_manifest,
    ids_by_source,
    leftovers,
    manifest_ids,
    stats_documents,
    survivors,
    synthetic_corpus,
)

FILES, PER_FILE, BATCH = 96, 12, 100  # 1,152 articles in small commits (the held runs)


def children(pid: int) -> list[int]:
    """Processes whose parent is ``pid``."""
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] not in ("Z", "X"):
                out.append(int(entry))
    return out


def error_lines(run: IndexRun) -> list[str]:
    """What the CLI itself wrote on stderr (the test runner adds commit-* lines)."""
    return [ln for ln in run.stderr().splitlines() if not ln.startswith("commit-")]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    synthetic_corpus(tmp_path / "corpus", FILES, PER_FILE)
    return tmp_path / "corpus"


@pytest.fixture
def held(corpus: Path, tmp_path: Path) -> Iterator[tuple[IndexRun, Path, Path]]:
    """A run (two workers) that stops after its first commit, lock held, until released."""
    index, release = tmp_path / "index", tmp_path / "release"
    run = IndexRun.start([corpus], index, batch=BATCH, jobs=2,
                         env={"RELIABILITY_HOLD": str(release)})
    try:
        assert run.wait_for(lambda r: r.commits, timeout=120), run.stderr()
        assert len(children(run.proc.pid)) == 2
        yield run, index, release
    finally:
        release.touch()
        run.kill()  # the whole group, whatever the test left alive


def assert_whole(index: Path) -> int:
    """The index opens, holds exactly what its manifest lists, nothing left over."""
    documents = stats_documents(index)
    _gen, manifest = committed_manifest(index)
    assert ids_by_source(index) == manifest_ids(manifest)
    assert leftovers(index) == []
    return documents


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["kill", "kill-9"])
def test_killing_only_the_main_process_leaves_no_worker_and_no_lock(
        held: tuple[IndexRun, Path, Path], corpus: Path, sig: int) -> None:
    run, index, _release = held
    os.kill(run.proc.pid, sig)  # the main process alone, not its process group
    run.proc.wait(timeout=30)
    assert survivors(run.proc.pid) == [], "a worker outlived the main process"
    out = cli("index", str(corpus), "--index", str(index), "--json")  # the CLI's defaults
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["documents"] == FILES * PER_FILE
    assert assert_whole(index) == FILES * PER_FILE


def test_a_worker_killed_mid_run_ends_it_with_one_sentence(
        held: tuple[IndexRun, Path, Path], corpus: Path) -> None:
    run, index, release = held
    os.kill(children(run.proc.pid)[0], signal.SIGKILL)
    release.touch()
    run.proc.wait(timeout=120)
    run._collect()
    lines = error_lines(run)
    assert run.proc.returncode == 2, run.stderr()
    assert len(lines) == 1 and "Traceback" not in run.stderr(), lines
    assert "an indexing worker process was killed by SIGKILL" in lines[0]
    assert "keeps everything committed before" in lines[0]
    assert survivors(run.proc.pid) == []
    committed = assert_whole(index)
    assert committed >= run.commits[0].documents
    out = cli("index", str(corpus), "--index", str(index), "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["documents"] == FILES * PER_FILE


# --- the writer lock ----------------------------------------------------------------------------

HOLDER = r"""
import fcntl, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)
fcntl.flock(fd, fcntl.LOCK_EX)
record = sys.argv[2] if sys.argv[2] != "self" else "%d %s %s\n" % (
    os.getpid(), open("/proc/self/stat").read().rsplit(")", 1)[1].split()[19], sys.argv[3])
os.ftruncate(fd, 0)
os.write(fd, record.encode())
print("holding", flush=True)
time.sleep(600)
"""


def hold_lock(index: Path, record: str) -> subprocess.Popen[str]:
    """Another process holding the index's writer lock, the lock file saying ``record``."""
    p = subprocess.Popen([PYTHON, "-c", HOLDER, str(index / WRITER_LOCK), record,
                          socket.gethostname()], stdout=subprocess.PIPE, text=True)
    assert p.stdout is not None and p.stdout.readline().strip() == "holding"
    return p


@pytest.fixture
def index(corpus: Path, tmp_path: Path) -> Path:
    index = tmp_path / "index"
    out = cli("index", str(corpus), "--index", str(index), "--quiet")
    assert out.returncode == 0, out.stderr
    return index


def test_a_lock_whose_holder_is_gone_is_taken_over_with_a_notice(index: Path, corpus: Path) -> None:
    gone = subprocess.Popen([PYTHON, "-c", "pass"])
    gone.wait()
    # The lock is still held (by a process that inherited it), but its holder has ended.
    orphan = hold_lock(index, f"{gone.pid} 1 {socket.gethostname()}\n")
    try:
        out = cli("index", str(corpus), "--index", str(index), "--json")
        assert out.returncode == 0, out.stderr
        assert f"took over the writer lock of {index}: its holder (process {gone.pid}) is gone" \
            in out.stderr
        assert json.loads(out.stdout)["notices"]
        assert orphan.poll() is None  # nobody was killed
        again = cli("index", str(corpus), "--index", str(index), "--json")
        assert again.returncode == 0 and "took over" not in again.stderr
    finally:
        orphan.kill()
        orphan.wait()


def test_a_lock_whose_holder_lives_is_respected(index: Path, corpus: Path) -> None:
    holder = hold_lock(index, "self")
    try:
        out = cli("index", str(corpus), "--index", str(index), "--quiet")
        assert out.returncode == 3
        assert f"the index is locked by another writer ({index}, process {holder.pid})" \
            in out.stderr
    finally:
        holder.kill()
        holder.wait()


def test_the_lock_file_names_its_holder(held: tuple[IndexRun, Path, Path]) -> None:
    run, index, _release = held
    pid, started, host = (index / WRITER_LOCK).read_text().split()
    assert (int(pid), host) == (run.proc.pid, socket.gethostname())
    assert started == Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19]


# --- a disk that cannot take more, folders that cannot be written or read -----------------------


def index_more(index: Path, more: Path, preexec=None, prefix: list[str] | None = None
               ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*(prefix or []), PYTHON, "-m", "newsearch.cli", "index", str(more),
                           "--index", str(index)], capture_output=True, text=True, timeout=300,
                          preexec_fn=preexec)


def says_cannot(out: subprocess.CompletedProcess[str], what: str) -> None:
    assert out.returncode == 2, out.stderr
    assert "Traceback" not in out.stderr and out.stderr.count("\n") == 1, out.stderr
    assert what in out.stderr


def test_a_write_that_fails_part_way_keeps_the_last_commit(index: Path, tmp_path: Path) -> None:
    """Files may not grow past 256 KB (RLIMIT_FSIZE): writing a segment fails with EFBIG in
    a worker, as a full disk fails with ENOSPC."""
    before = stats_documents(index)
    more = tmp_path / "more"
    synthetic_corpus(more, 40, 60, tag="m")

    def small_files() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (256 * 1024, 256 * 1024))

    out = index_more(index, more, preexec=small_files)
    says_cannot(out, f"cannot write the index at {index}: file too large; it keeps everything "
                     "committed before")
    assert assert_whole(index) == before


def _unshare_works() -> bool:
    if not shutil.which("unshare"):
        return False
    return subprocess.run(["unshare", "-rm", "true"], capture_output=True).returncode == 0


FULL_DISK = r"""
set -e
mount -t tmpfs -o size=$3 tmpfs "$1"
"$PYTHON" -m newsearch.cli index "$2/first" --index "$1/index" --quiet
set +e
"$PYTHON" -m newsearch.cli index "$2/more" --index "$1/index" 2> "$2/err"
echo "code $?"
"$PYTHON" -c "
import json, sys
from pathlib import Path
from newsearch import index_stats
from tests.reliability_support import leftovers
print(json.dumps({'documents': index_stats(sys.argv[1]).documents,
                  'leftovers': leftovers(Path(sys.argv[1]))}))" "$1/index"
"""


@pytest.mark.skipif(not _unshare_works(), reason="needs a mount namespace (unshare -rm)")
def test_a_full_disk_ends_the_run_with_one_sentence_and_keeps_the_index(tmp_path: Path) -> None:
    """A real full disk: a 2 MB tmpfs in a private mount namespace."""
    mount = tmp_path / "disk"
    mount.mkdir()
    synthetic_corpus(tmp_path / "first", 4, 10, tag="f")
    synthetic_corpus(tmp_path / "more", 60, 100, tag="m")
    root = Path(__file__).resolve().parents[1]
    out = subprocess.run(["unshare", "-rm", "sh", "-c", FULL_DISK, "sh", str(mount),
                          str(tmp_path), "2m"], capture_output=True, text=True, timeout=600,
                         cwd=root, env={**os.environ, "PYTHON": PYTHON, "PYTHONPATH": str(root)})
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[0] == "code 2", out.stdout
    err = (tmp_path / "err").read_text()
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert "no space left on device; it keeps everything committed before" in err
    state = json.loads(lines[1])
    assert state == {"documents": 40, "leftovers": []}


def without_root_override() -> list[str]:
    """A command prefix under which file permissions hold, even for root."""
    if os.geteuid() != 0:
        return []
    if not shutil.which("setpriv"):
        pytest.skip("running as root without setpriv: permissions cannot be tested")
    caps = "-dac_override,-dac_read_search"
    return ["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}", "--"]


def test_an_index_folder_that_cannot_be_written(index: Path, tmp_path: Path) -> None:
    before = stats_documents(index)
    more = tmp_path / "more"
    synthetic_corpus(more, 4, 10, tag="m")
    index.chmod(0o555)
    try:
        out = index_more(index, more, prefix=without_root_override())
    finally:
        index.chmod(0o755)
    says_cannot(out, f"cannot write the index at {index}: permission denied")
    assert assert_whole(index) == before


@pytest.mark.parametrize("command", [["stats"], ["search", "harbour"], ["index", "."]])
def test_an_index_folder_that_cannot_be_read(index: Path, command: list[str]) -> None:
    prefix = without_root_override()
    index.chmod(0o000)
    try:
        out = subprocess.run([*prefix, PYTHON, "-m", "newsearch.cli", *command, "--index",
                              str(index)], capture_output=True, text=True, timeout=120,
                             cwd=index.parent)
    finally:
        index.chmod(0o755)
    says_cannot(out, f"cannot read the index at {index}: permission denied")

