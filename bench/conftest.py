"""Shared setup for the benchmarks: corpora, quick mode, and a results table.

Run all benchmarks:       .venv/bin/python -m pytest bench/ --benchmark-enable
Quick smoke run (CI):     NEWSEARCH_BENCH_QUICK=1 .venv/bin/python -m pytest bench/

Each benchmark records a row with :func:`record`; the rows are printed as a Markdown table at
the end of the run (and written to ``bench/out/results.md``) so ``bench/README.md`` can quote
them with the command that produced them; each row is also appended to
``bench/out/rows.jsonl`` as it is measured.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPORA = ROOT.parent / "shared" / "corpora"
QUICK = os.environ.get("NEWSEARCH_BENCH_QUICK") == "1"
OUT = ROOT / "bench" / "out"

_ROWS: list[dict[str, Any]] = []


def reuters_files() -> list[Path]:
    """The 22 Reuters-21578 .sgm files (2 in quick mode)."""
    files = sorted((need_corpora() / "reuters21578").glob("reut2-*.sgm"))
    return files[:2] if QUICK else files


def parsed(files: list[Path]) -> Iterator[Any]:
    """The articles of ``files`` as newsearch's readers produce them."""
    from newsearch.article import Article
    from newsearch.corpus import load, walk
    from newsearch.readers import read_source

    for f in walk([str(p) for p in files]):
        for item in read_source(load(f)):
            if isinstance(item, Article):
                yield item


def need_corpora() -> Path:
    if not CORPORA.is_dir():
        if os.environ.get("NEWSEARCH_REQUIRE_SHARED") == "1":
            pytest.fail(f"{CORPORA} is missing and NEWSEARCH_REQUIRE_SHARED=1")
        pytest.skip("../shared/corpora not present")
    return CORPORA


def record(table: str, **row: Any) -> None:
    _ROWS.append({"table": table, **row})
    # Also at once, one JSON object a line: a long run stopped midway (the 1M scale size)
    # keeps the rows it measured.
    OUT.mkdir(parents=True, exist_ok=True)
    name = "rows-quick.jsonl" if QUICK else "rows.jsonl"
    with (OUT / name).open("a", encoding="utf-8") as f:
        f.write(json.dumps({"table": table, **row}, default=str) + "\n")


def _markdown() -> str:
    out: list[str] = []
    for table in dict.fromkeys(r["table"] for r in _ROWS):
        rows = [r for r in _ROWS if r["table"] == table]
        cols = list(dict.fromkeys(c for r in rows for c in r if c != "table"))
        out.append(f"### {table}\n")
        out.append("| " + " | ".join(cols) + " |")
        out.append("|" + "---|" * len(cols))
        for r in rows:
            out.append("| " + " | ".join(str(r.get(c, "")) for c in cols) + " |")
        out.append("")
    return "\n".join(out)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _ROWS:
        return
    text = _markdown()
    terminalreporter.write_sep("=", "newsearch benchmark results" + (" (QUICK)" if QUICK else ""))
    terminalreporter.write_line(text)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / ("results-quick.md" if QUICK else "results.md")).write_text(text, "utf-8")


# --- child processes and their memory -------------------------------------------------------

MEMORY_FIELDS = {"Rss:": "rss_kb", "Private_Clean:": "uss_clean_kb",
                 "Private_Dirty:": "uss_dirty_kb", "Anonymous:": "anon_kb"}


def _smaps_rollup(pid: int) -> dict[str, int] | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as fh:
            text = fh.read()
    except OSError:
        return None
    out: dict[str, int] = {}
    for line in text.splitlines():
        parts = line.split()
        if parts and parts[0] in MEMORY_FIELDS:
            out[MEMORY_FIELDS[parts[0]]] = int(parts[1])
    return out


def run_child(args: list[str], *, every: float | None = 0.02, cwd: Path | None = None
              ) -> tuple[dict[str, Any], dict[str, int]]:
    """Run a benchmark child (``python`` + ``args``); its last stdout line is JSON.

    Returns that JSON and the child's peak memory in kB, sampled from
    ``/proc/PID/smaps_rollup`` every ``every`` seconds: ``rss_kb`` (resident, including
    file pages mapped from the index, which the kernel can drop), ``uss_kb``
    (Private_Clean + Private_Dirty: what the process alone maps; a file page that no other
    process maps counts here too) and ``anon_kb`` (anonymous memory: the process's own heap
    and arrays, never file cache). The child reports its own ``VmHWM`` as ``peak_rss_kb``
    when it wants the kernel's exact peak. ``every=None`` samples nothing (peaks stay 0):
    reading smaps_rollup 50 times a second costs a fifth of a core, which an index build's
    workers would otherwise have.
    """
    import subprocess
    import sys
    import threading
    import time

    proc = subprocess.Popen([sys.executable, *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd=cwd or ROOT)
    peaks = {"rss_kb": 0, "uss_kb": 0, "anon_kb": 0}

    def sample() -> None:
        while proc.poll() is None:
            m = _smaps_rollup(proc.pid)
            if m:
                peaks["rss_kb"] = max(peaks["rss_kb"], m.get("rss_kb", 0))
                peaks["uss_kb"] = max(peaks["uss_kb"],
                                      m.get("uss_clean_kb", 0) + m.get("uss_dirty_kb", 0))
                peaks["anon_kb"] = max(peaks["anon_kb"], m.get("anon_kb", 0))
            time.sleep(every)

    sampler = threading.Thread(target=sample, daemon=True)
    if every is not None:
        sampler.start()
    out, err = proc.communicate()
    if every is not None:
        sampler.join()
    if proc.returncode:
        raise RuntimeError(f"benchmark child {args[:2]} failed ({proc.returncode}):\n{err[-3000:]}")
    import json

    return json.loads(out.strip().splitlines()[-1]), peaks


def percentile(values: list[float], p: int) -> float:
    """The p-th percentile (nearest rank on the sorted values)."""
    values = sorted(values)
    return values[min(len(values) - 1, round(p / 100 * (len(values) - 1)))]


def tree_bytes(path: Path) -> int:
    """Bytes on disk of a file or of every file under a folder."""
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
