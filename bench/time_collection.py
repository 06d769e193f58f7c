"""The TIME test collection (1963): 423 articles, 83 queries, binary judgments, a stop list.

    time/TIME.ALL           ─▶ documents  (TEXT number, issue date, page, text)
    time/queries.tsv        ─▶ queries    (id ─▶ text exactly as in TIME.QUE)
    time/qrels_textno.tsv   ─▶ qrels      (query id ─▶ {TEXT number: 1})
    time/TIME.STP           ─▶ stop_words (upper case, as the collection writes everything)

See ``../shared/corpora/README.md`` ("time/") for the format and its quirks: eight irregular
headers, ``*STOP`` at the end, judgments keyed by TEXT number only in ``qrels_textno.tsv``
(``TIME.REL`` counts positions, not TEXT numbers). The loader checks the counts the README
gives, so a damaged copy fails loudly instead of scoring quietly lower.

The suite (:mod:`bench.evalsets`) turns each query into the words a user would type.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path

__all__ = ["DOCUMENTS", "JUDGMENTS", "QUERIES", "Document", "TimeCollection", "load_time"]

DOCUMENTS = 423
QUERIES = 83
JUDGMENTS = 324

# "*TEXT 017 01/04/63 PAGE 020"; also "*TEXT 431 08/30 63 PAGE 026" and padded variants.
_HEADER = re.compile(
    r"^\*TEXT\s+(\d{3})\s+(\d{2})[/ ](\d{2})[/ ](\d{2})\s+PAGE\s+(\d{3})\s*$", re.M)
_HEADER_LINE = re.compile(r"^\*TEXT\b.*$", re.M)
_STOP_LINE = re.compile(r"^\*STOP\s*$", re.M)


@dataclass(frozen=True)
class Document:
    text_no: str  # "017": zero-padded, as in the header and in qrels_textno.tsv
    issue: date
    page: int
    text: str  # whitespace collapsed to single spaces (the file alternates lines and blanks)


@dataclass(frozen=True)
class TimeCollection:
    documents: tuple[Document, ...]  # in file order
    queries: dict[str, str]  # query id ("1" ... "83") ─▶ text
    qrels: dict[str, dict[str, int]]  # query id ─▶ {text_no: 1}
    stop_words: frozenset[str]


def load_time(folder: Path) -> TimeCollection:
    """Read the collection in ``folder`` (``.../corpora/time``) and check its counts."""
    docs = _documents((folder / "TIME.ALL").read_text("ascii"))
    queries = _queries((folder / "queries.tsv").read_text("ascii"))
    qrels, pairs = _qrels((folder / "qrels_textno.tsv").read_text("ascii"))
    stop_words = frozenset(w.strip().upper() for w in
                           (folder / "TIME.STP").read_text("ascii").split() if w.strip())
    known = {d.text_no for d in docs}
    unknown = {t for judged in qrels.values() for t in judged} - known
    counts = (len(docs), len(queries), pairs)
    if counts != (DOCUMENTS, QUERIES, JUDGMENTS) or unknown or set(qrels) - set(queries):
        raise ValueError(f"{folder}: expected {DOCUMENTS} documents, {QUERIES} queries and "
                         f"{JUDGMENTS} judgments, found {counts}; judged but missing: "
                         f"{sorted(unknown)}")
    return TimeCollection(tuple(docs), queries, qrels, stop_words)


def _documents(raw: str) -> list[Document]:
    stop = _STOP_LINE.search(raw)
    raw = raw[: stop.start()] if stop else raw
    headers = list(_HEADER_LINE.finditer(raw))
    docs: list[Document] = []
    for i, h in enumerate(headers):
        m = _HEADER.match(h.group())
        if m is None:
            raise ValueError(f"TIME.ALL: unreadable header {h.group()!r}")
        text_no, month, day, year, page = m.groups()
        end = headers[i + 1].start() if i + 1 < len(headers) else len(raw)
        text = " ".join(raw[h.end():end].split())
        docs.append(Document(text_no, date(1900 + int(year), int(month), int(day)), int(page),
                             text))
    return docs


def _queries(raw: str) -> dict[str, str]:
    lines = raw.splitlines()
    if not lines or lines[0].split("\t") != ["query_id", "text"]:
        raise ValueError("queries.tsv: expected the header query_id<TAB>text")
    out: dict[str, str] = {}
    for line in lines[1:]:
        if line.strip():
            qid, text = line.split("\t", 1)  # the text may hold quotes, never a tab
            out[qid.strip()] = text
    return out


def _qrels(raw: str) -> tuple[dict[str, dict[str, int]], int]:
    lines = raw.splitlines()
    header = lines[0].split("\t") if lines else []
    if "query_id" not in header or "text_no" not in header:
        raise ValueError("qrels_textno.tsv: expected query_id and text_no columns")
    qcol, tcol = header.index("query_id"), header.index("text_no")
    out: dict[str, dict[str, int]] = {}
    pairs = 0
    for line in lines[1:]:
        if line.strip():
            cells = line.split("\t")
            out.setdefault(cells[qcol].strip(), {})[cells[tcol].strip()] = 1
            pairs += 1
    return out, pairs
