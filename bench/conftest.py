"""Shared setup for the benchmarks: corpora, quick mode, and a results table.

Run all benchmarks:       .venv/bin/python -m pytest bench/ --benchmark-enable
Quick smoke run (CI):     NEWSEARCH_BENCH_QUICK=1 .venv/bin/python -m pytest bench/

Each benchmark records a row with :func:`record`; the rows are printed as a Markdown table at
the end of the run (and written to ``bench/out/results.md``) so ``bench/README.md`` can quote
them with the command that produced them.
"""

from __future__ import annotations

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


def _markdown() -> str:
    out: list[str] = []
    for table in dict.fromkeys(r["table"] for r in _ROWS):
        rows = [r for r in _ROWS if r["table"] == table]
        cols = [c for c in rows[0] if c != "table"]
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
