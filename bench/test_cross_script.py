"""Across scripts: recall of Latin names on Cyrillic news, precision of Cyrillic names on
English news. The names are in ``bench/cross_script_names.tsv`` (some kept aside as
held-out while the analysis was built).

    recall     RIA Novosti (1,405 rows): a Latin query (*Nabiullina*, *Beijing*); truth: the
               articles whose raw CSV text (title, standfirst, body) matches a regex of the
               Cyrillic forms, in any case (``Набиуллин(а|ой|у|ою)``); recall = found ∩
               truth / truth,
               over every hit of the query
    precision  Reuters-21578 + the large Reuters slice (English): a Cyrillic query (``Киев``);
               a top-10 hit counts when its title or body matches the Latin name
               (``Kiev|Kyiv``, case-insensitive); precision = counted / hits shown (a query
               with no hits has no precision and is listed, not averaged)

    python -m pytest bench/test_cross_script.py -q -p no:cacheprovider --benchmark-enable
    NEWSEARCH_EFFECTIVENESS_GATE=1 ...   # fail when either average is below 0.95

QUICK mode indexes two Reuters-21578 files for precision (RIA is small: always whole).
Figures go to ``bench/out/cross_script.json`` with per-name values.
"""

from __future__ import annotations

import csv
import json
import os
import re
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from .conftest import OUT, QUICK, need_corpora, record, reuters_files

NAMES = Path(__file__).with_name("cross_script_names.tsv")
GOAL = 0.95
GATE = os.environ.get("NEWSEARCH_EFFECTIVENESS_GATE") == "1"
TOP = 10


def names(table: str) -> list[tuple[str, str, bool]]:
    """(query, truth regex, held out) of one table."""
    rows = [line.split("\t") for line in NAMES.read_text("utf-8").splitlines()
            if line and not line.startswith("#")]
    header, body = rows[0], rows[1:]
    assert header == ["table", "query", "truth", "heldout"], header
    return [(q, truth, held == "yes") for t, q, truth, held in body if t == table]


def ria_rows() -> Iterator[dict[str, str]]:
    csv.field_size_limit(1 << 30)
    for path in sorted((need_corpora() / "cyrillic" / "ria_news").glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as f:
            yield from csv.DictReader(f)


@cache
def ria_index() -> Path:
    import newsearch

    path = Path(tempfile.mkdtemp(prefix="bench-xs-ria-")) / "index"
    newsearch.index_paths([need_corpora() / "cyrillic" / "ria_news"], path)
    return path


@cache
def english_index() -> Path:
    import newsearch

    corpora = need_corpora()
    sources: list[Path] = list(reuters_files())
    if not QUICK:
        sources.append(corpora / "large" / "reuters_financial_ding2014")
    path = Path(tempfile.mkdtemp(prefix="bench-xs-en-")) / "index"
    newsearch.index_paths(sources, path)
    return path


def all_hits(ix: Any, query: str) -> Iterator[Any]:
    page = 1
    while True:
        res = ix.search(query, per_page=100, page=page, facets=False, snippets=False)
        yield from res.hits
        if page >= res.pages:
            return
        page += 1


_RESULTS: dict[str, dict[str, Any]] = {"recall": {}, "precision": {}}


def _write_json() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "cross_script.json").write_text(json.dumps(_RESULTS, ensure_ascii=False, indent=1)
                                           + "\n", "utf-8")


def _average(table: str, held: bool | None) -> tuple[float, int]:
    vals = [r[table] for r in _RESULTS[table].values()
            if r.get(table) is not None and (held is None or r["heldout"] == held)]
    return (sum(vals) / len(vals) if vals else float("nan")), len(vals)


@pytest.mark.parametrize(("query", "truth", "held"), names("recall"),
                         ids=[q for q, _t, _h in names("recall")])
def test_recall_of_latin_names_on_cyrillic_news(query: str, truth: str, held: bool) -> None:
    import newsearch

    pattern = re.compile(truth, re.IGNORECASE)  # datelines are in capitals: ПЕКИН, 18 окт
    wanted = {row["url"] for row in ria_rows()
              if pattern.search("\n".join((row["title"], row["subtitle"], row["content"])))}
    assert wanted, f"{query}: the truth regex matches nothing in RIA"
    with newsearch.open_index(ria_index()) as ix:
        found = {h.url for h in all_hits(ix, query)}
    recall = len(found & wanted) / len(wanted)
    _RESULTS["recall"][query] = {"recall": round(recall, 4), "truth": len(wanted),
                                 "found": len(found & wanted), "hits": len(found),
                                 "heldout": held}
    _write_json()
    record("Cross-script recall: Latin names on RIA", query=query, held_out=held,
           articles=len(wanted), found=len(found & wanted), recall=f"{recall:.3f}")


@pytest.mark.parametrize(("query", "truth", "held"), names("precision"),
                         ids=[q for q, _t, _h in names("precision")])
def test_precision_of_cyrillic_names_on_english_news(query: str, truth: str,
                                                     held: bool) -> None:
    import newsearch

    pattern = re.compile(truth, re.IGNORECASE)
    with newsearch.open_index(english_index()) as ix:
        res = ix.search(query, per_page=TOP, facets=False, snippets=False)
        good = 0
        for h in res.hits:
            a = ix.get(h.id)
            good += bool(pattern.search(f"{a.title}\n{a.subtitle or ''}\n{a.body}"))
    precision = good / len(res.hits) if res.hits else None
    _RESULTS["precision"][query] = {"precision": None if precision is None else
                                    round(precision, 4), "total": res.total,
                                    "top": len(res.hits), "with_name": good, "heldout": held}
    _write_json()
    record("Cross-script precision: Cyrillic names on English news", query=query,
           held_out=held, hits=res.total, top=len(res.hits), with_name=good,
           precision="-" if precision is None else f"{precision:.3f}")


@pytest.mark.parametrize("table", ["recall", "precision"])
def test_averages(table: str) -> None:
    if not _RESULTS[table]:
        pytest.skip(f"no {table} rows ran")
    figures = {}
    for label, held in (("all", None), ("development", False), ("held-out", True)):
        avg, n = _average(table, held)
        figures[label] = avg
        record("Cross-script averages", measure=table, names=label, n=n,
               average=f"{avg:.3f}")
    _RESULTS.setdefault("averages", {})[table] = {k: round(v, 4) for k, v in figures.items()}
    _write_json()
    if GATE:
        assert figures["all"] >= GOAL, f"{table} {figures['all']:.3f} is below {GOAL}"
