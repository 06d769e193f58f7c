"""Retrieval effectiveness on the TIME collection (423 articles, 83 queries), next to peers.

    newsearch         index_paths() on a JSON Lines copy (id = TEXT number, body, issue date;
                      no title), then ix.search(query) with each query's text exactly as
                      given (upper case, punctuation and all), page after page of 100 until
                      the ranking ends or holds every judged article
    sqlite-fts5       stdlib sqlite3, FTS5 with tokenize='porter unicode61', bm25() ranking
    whoosh-defaults   stock Whoosh: StemmingAnalyzer on a TEXT body field, BM25F defaults,
                      QueryParser with OrGroup

The peers get each query as its content words ORed (any-word), TIME.STP stop words removed
(:func:`bench.time_collection.content_words`), and rank every document matching a word.
MAP and nDCG@10 come from ir-measures (pytrec_eval) on ``qrels_textno.tsv``, averaged over
all 83 queries (a query with no hits counts as 0). Each run is scored by rank, so the
evaluated order is exactly the engine's (trec_eval would re-break tied scores by doc id).

The issue's reference figures (FTS5 0.6925 / 0.7470, Whoosh 0.6753 / 0.7351) are reproduced
to the fourth decimal when query words are split at every non-letter: that drops ``U.S`` and
``U.N`` (``U``, ``S``, ``N`` are on TIME.STP) from 12 queries and the numbers (``14 NATIONS``,
``MAY 22``) from 5. Keeping them, as here, is what the engines' own tokenizers do with the
articles, and scores higher for both peers.

    python -m pytest bench/test_effectiveness.py -q -p no:cacheprovider
    NEWSEARCH_EFFECTIVENESS_GATE=1 python -m pytest bench/test_effectiveness.py   # quality floor

QUICK mode runs the same 83 queries (the whole file takes a few seconds). Figures also go to
``bench/out/effectiveness.json`` with per-query values.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from .conftest import OUT, QUICK, need_corpora, record
from .time_collection import TimeCollection, content_words, load_time

TABLE = "Effectiveness on TIME (83 queries)"
MEASURES = ("AP", "nDCG@10")
GATE = os.environ.get("NEWSEARCH_EFFECTIVENESS_GATE") == "1"
PER_PAGE = 100  # newsearch's MAX_PER_PAGE

Run = dict[str, dict[str, float]]  # query id ─▶ {text_no: score}


@cache
def collection() -> TimeCollection:
    return load_time(need_corpora() / "time")


def by_rank(text_nos: Iterable[str]) -> dict[str, float]:
    """Scores that keep the engine's order: the first of n hits gets n, the last 1."""
    ranked = list(dict.fromkeys(text_nos))
    return {t: float(len(ranked) - i) for i, t in enumerate(ranked)}


# --- engines -----------------------------------------------------------------------------------


def run_newsearch(c: TimeCollection, tmp: Path) -> tuple[Run, dict[str, Any]]:
    import newsearch

    source = tmp / "time.jsonl"
    with source.open("w", encoding="utf-8") as f:
        for d in c.documents:
            f.write(json.dumps({"id": d.text_no, "body": d.text,
                                "date": d.issue.isoformat()}) + "\n")
    report = newsearch.index_paths([source], tmp / "index", jobs=1)
    assert report.documents == len(c.documents) and not report.skipped, report.to_dict()
    run: Run = {}
    fallbacks: list[str] = []
    empty: list[str] = []
    with newsearch.open_index(tmp / "index") as ix:
        key_of: dict[str, str] = {}  # newsearch article id ─▶ the record's "id" (TEXT number)
        for qid, text in c.queries.items():
            judged = set(c.qrels.get(qid, ()))
            ranking: list[str] = []
            page = 1
            while True:
                res = ix.search(text, per_page=PER_PAGE, page=page, facets=False)
                for h in res.hits:
                    if h.id not in key_of:
                        key_of[h.id] = ix.get(h.id).key
                    ranking.append(key_of[h.id])
                # Ranks after the last relevant article change neither AP nor nDCG@10, and
                # every hit costs a snippet: stop paging once all judged articles are in.
                if (not res.hits or page * PER_PAGE >= res.total
                        or judged <= set(ranking)):
                    break
                page += 1
            if res.fallback:
                fallbacks.append(qid)
            if res.total == 0:
                empty.append(qid)
            run[qid] = by_rank(ranking)
    return run, {"any_word_fallback": fallbacks, "no_hits": empty}


def run_fts5(c: TimeCollection, tmp: Path) -> tuple[Run, dict[str, Any]]:
    con = sqlite3.connect(tmp / "fts5.db")
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(text_no UNINDEXED, body, "
                "tokenize='porter unicode61')")
    con.executemany("INSERT INTO docs VALUES (?, ?)", ((d.text_no, d.text) for d in c.documents))
    con.commit()
    run: Run = {}
    for qid, text in c.queries.items():
        # Each word quoted: FTS5 reads "U.S" as the phrase "u s", as it indexed the articles.
        words = ['"' + w.replace('"', '""') + '"' for w in content_words(text, c.stop_words)]
        rows = con.execute("SELECT text_no FROM docs WHERE docs MATCH ? ORDER BY bm25(docs), rowid",
                           (" OR ".join(words),)).fetchall() if words else []
        run[qid] = by_rank(r[0] for r in rows)
    con.close()
    return run, {"sqlite": sqlite3.sqlite_version}


def run_whoosh(c: TimeCollection, tmp: Path) -> tuple[Run, dict[str, Any]]:
    import whoosh
    from whoosh import fields, index, qparser
    from whoosh.analysis import StemmingAnalyzer

    schema = fields.Schema(text_no=fields.ID(stored=True, unique=True),
                           body=fields.TEXT(analyzer=StemmingAnalyzer()))
    path = tmp / "whoosh"
    path.mkdir()
    ix = index.create_in(str(path), schema)
    w = ix.writer()
    for d in c.documents:
        w.add_document(text_no=d.text_no, body=d.text)
    w.commit()
    parser = qparser.QueryParser("body", ix.schema, group=qparser.OrGroup)
    run: Run = {}
    with ix.searcher() as s:  # BM25F(B=0.75, K1=1.2)
        for qid, text in c.queries.items():
            # Lower case, so no word is read as an operator (AND/OR/NOT are stop words anyway).
            q = parser.parse(" ".join(content_words(text, c.stop_words)).lower())
            run[qid] = by_rank(h["text_no"] for h in s.search(q, limit=None))
    return run, {"whoosh": whoosh.versionstring()}


ENGINES: dict[str, Callable[[TimeCollection, Path], tuple[Run, dict[str, Any]]]] = {
    "newsearch": run_newsearch,
    "sqlite-fts5": run_fts5,
    "whoosh-defaults": run_whoosh,
}


# --- measuring ---------------------------------------------------------------------------------


def evaluate(run: Run, qrels: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Mean AP and nDCG@10 over every judged query (0 where the run has no hits) and the
    per-query values."""
    import ir_measures

    measures = [ir_measures.parse_measure(m) for m in MEASURES]
    per_query: dict[str, dict[str, float]] = {q: dict.fromkeys(MEASURES, 0.0) for q in qrels}
    answered = {q: docs for q, docs in run.items() if docs and q in qrels}
    for m in ir_measures.iter_calc(measures, qrels, answered):
        per_query[m.query_id][str(m.measure)] = m.value
    n = len(per_query)
    return {
        "MAP": sum(v["AP"] for v in per_query.values()) / n,
        "nDCG_10": sum(v["nDCG@10"] for v in per_query.values()) / n,
        "queries": n,
        "answered": len(answered),
        "per_query": per_query,
    }


@cache
def measure(engine: str) -> dict[str, Any]:
    """Run one engine over all queries (once per session) and evaluate it."""
    c = collection()
    with tempfile.TemporaryDirectory(prefix=f"bench-eff-{engine}-") as tmp:
        run, info = ENGINES[engine](c, Path(tmp))
    return {**evaluate(run, c.qrels), **info}


_MEASURED: dict[str, dict[str, Any]] = {}


def _write_json() -> None:
    import ir_measures

    OUT.mkdir(parents=True, exist_ok=True)
    data = {
        "collection": "TIME (qrels_textno.tsv)",
        "documents": len(collection().documents),
        "measures": {"MAP": "AP", "nDCG_10": "nDCG@10"},
        "ir_measures": ir_measures.__version__,
        "quick": QUICK,
        "engines": _MEASURED,
    }
    (OUT / "effectiveness.json").write_text(json.dumps(data, indent=1, sort_keys=False) + "\n",
                                            "utf-8")


@pytest.mark.parametrize("engine", list(ENGINES))
def test_effectiveness(engine: str) -> None:
    pytest.importorskip("ir_measures")
    result = measure(engine)
    _MEASURED[engine] = {k: round(v, 4) if isinstance(v, float) else v
                         for k, v in result.items() if k != "per_query"}
    _MEASURED[engine]["per_query"] = {
        q: {m: round(v, 4) for m, v in vals.items()} for q, vals in result["per_query"].items()}
    _write_json()
    record(TABLE, engine=engine, MAP=f"{result['MAP']:.4f}",
           nDCG_10=f"{result['nDCG_10']:.4f}", queries=result["queries"])
    # A broken pipeline (ids not mapped back, an empty index) scores near 0, not near 0.6.
    assert result["MAP"] > 0.3, f"{engine}: MAP {result['MAP']:.4f}; is the run mapped right?"


def test_newsearch_is_ahead_of_peers() -> None:
    if not GATE:
        pytest.skip("quality floor not enforced: set NEWSEARCH_EFFECTIVENESS_GATE=1 to require "
                    "newsearch >= the best peer on MAP and nDCG@10")
    pytest.importorskip("ir_measures")
    ours = measure("newsearch")
    peers = {e: measure(e) for e in ENGINES if e != "newsearch"}
    for key in ("MAP", "nDCG_10"):
        best = max(peers, key=lambda e: peers[e][key])
        assert ours[key] >= peers[best][key], (
            f"newsearch {key} {ours[key]:.4f} is below {best}'s {peers[best][key]:.4f}")
