"""Queries never asked before: the cold query path on Reuters-21578 beside SQLite FTS5 and
tantivy, and the size of each engine's index (Reuters-21578 and every real article).

A real archive's query stream is mostly words that no earlier query asked for. The
query-path benchmark (bench/test_query_path.py) repeats its queries, so after its first
round everything they touch is read and decoded; here every timed query is new to the
process:

    build each engine's index (untimed) ─▶ per engine, a fresh process:
        open the index as a server does
        ─▶ warm-up: the query-path benchmark's 38 queries once each (other words: files
           opened, per-segment arrays built, code paths run once)
        ─▶ cold: COLD_QUERIES once each, in order, each timed alone
        ─▶ warm: COLD_QUERIES again, WARM_ROUNDS times
    (PROCESSES such processes per engine, the engines taking turns)

No word of a cold query occurs in another cold query or in the warm-up, and no section
filter is shared (``test_cold_words_are_new``). Each query does the query-path benchmark's
work: filters, the top 10 by relevance, the total, section counts and a month histogram over
every hit, snippets for the 10 hits; newsearch runs with ``results_cache=0``. Each query is
timed by the wall clock and by the process's CPU time (``*_cpu``: what the engine itself
spent, which other load on the shared machine barely moves). The searching process's memory
is sampled from /proc (``bench/conftest.py``, ``run_child``).

Index sizes are bytes on disk of the same articles with their text stored: newsearch's
index folder, FTS5's database file (the fts5 table keeps the text, plus the date and section
tables the queries use), tantivy's folder (title and body stored).

Run alone: ``scripts/bench.sh bench/test_cold_queries.py``; the child is
``python -m bench.test_cold_queries ENGINE INDEX`` (from the repository root).
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from .conftest import QUICK, ROOT, parsed, percentile, record, reuters_files, run_child, tree_bytes

WARM_ROUNDS = 1 if QUICK else 3
PROCESSES = 1 if QUICK else 3  # fresh processes per engine (each runs every cold query once)
ENGINE_NAMES = ["newsearch", "sqlite-fts5", "tantivy"]
D = date.fromisoformat
TABLE = "Cold queries on Reuters-21578 (distinct words, each once, fresh process)"
SIZE_TABLE = "Index size, text stored (MB)"

# (label, kind, then per engine (query text, filters)), as in bench/test_query_path.py.
# Peers get the stored section names (capitalised) and FTS5 the date filters as SQL;
# tantivy gets prefixes as regexes and date: as a range on its epoch-seconds field.
COLD_QUERIES: list[dict[str, Any]] = [
    {"label": label, "kind": kind,
     "newsearch": (q, f), "sqlite-fts5": (fq, ff), "tantivy": (tq, tf)}
    for label, kind, (q, f), (fq, ff), (tq, tf) in [
        ("steel", "words", ("steel", {}), ("steel", {}), ("steel", {})),
        ("copper mine", "words", ("copper mine", {}), ("copper mine", {}), ("copper mine", {})),
        ("sugar quota", "words", ("sugar quota", {}), ("sugar quota", {}), ("sugar quota", {})),
        ("tin council", "words", ("tin council", {}), ("tin council", {}), ("tin council", {})),
        ("soybean crop", "words", ("soybean crop", {}), ("soybean crop", {}),
         ("soybean crop", {})),
        ("airline", "words", ("airline", {}), ("airline", {}), ("airline", {})),
        ("rubber", "words", ("rubber", {}), ("rubber", {}), ("rubber", {})),
        ("semiconductor", "words", ("semiconductor", {}), ("semiconductor", {}),
         ("semiconductor", {})),
        ("pipeline", "words", ("pipeline", {}), ("pipeline", {}), ("pipeline", {})),
        ("textile imports", "words", ("textile imports", {}), ("textile imports", {}),
         ("textile imports", {})),
        ("insurance premium", "words", ("insurance premium", {}), ("insurance premium", {}),
         ("insurance premium", {})),
        ("brewery", "words", ("brewery", {}), ("brewery", {}), ("brewery", {})),
        ("unemployment", "words", ("unemployment", {}), ("unemployment", {}),
         ("unemployment", {})),
        ("budget surplus", "words", ("budget surplus", {}), ("budget surplus", {}),
         ("budget surplus", {})),
        ('"gross national product"', "phrase", ('"gross national product"', {}),
         ('"gross national product"', {}), ('"gross national product"', {})),
        ('"current account"', "phrase", ('"current account"', {}), ('"current account"', {}),
         ('"current account"', {})),
        ('"prime minister"', "phrase", ('"prime minister"', {}), ('"prime minister"', {}),
         ('"prime minister"', {})),
        ('"treasury bills"', "phrase", ('"treasury bills"', {}), ('"treasury bills"', {}),
         ('"treasury bills"', {})),
        ('"west germany"', "phrase", ('"west germany"', {}), ('"west germany"', {}),
         ('"west germany"', {})),
        ('"natural gas"', "phrase", ('"natural gas"', {}), ('"natural gas"', {}),
         ('"natural gas"', {})),
        ('"common market"', "phrase", ('"common market"', {}), ('"common market"', {}),
         ('"common market"', {})),
        ('"coal miners"~5', "near", ('"coal miners"~5', {}), ("NEAR(coal miners, 5)", {}),
         ('"coal miners"~5', {})),
        ('"zinc smelter"~5', "near", ('"zinc smelter"~5', {}), ("NEAR(zinc smelter, 5)", {}),
         ('"zinc smelter"~5', {})),
        ("title:dividend", "field", ("title:dividend", {}), ("title:dividend", {}),
         ("title:dividend", {})),
        ("title:(tea OR coconut)", "field", ("title:(tea OR coconut)", {}),
         ("title:(tea OR coconut)", {}), ("title:(tea OR coconut)", {})),
        ("title:strike union", "field", ("title:strike union", {}), ("title:strike union", {}),
         ("title:strike union", {})),
        ("gold OR silver", "boolean", ("gold OR silver", {}), ("gold OR silver", {}),
         ("gold OR silver", {})),
        ("refinery NOT fire", "boolean", ("refinery NOT fire", {}), ("refinery NOT fire", {}),
         ("refinery NOT fire", {})),
        ("acquire -hostile", "boolean", ("acquire -hostile", {}), ("acquire NOT hostile", {}),
         ("acquire -hostile", {})),
        ("(corn OR sorghum) drought", "boolean", ("(corn OR sorghum) drought", {}),
         ("(corn OR sorghum) AND drought", {}), ("(corn OR sorghum) drought", {})),
        ("invest*", "prefix", ("invest*", {}), ("invest*", {}),
         ("(title:/invest.*/ OR body:/invest.*/)", {"highlight_prefixes": ["invest"]})),
        ("telecom* regulators", "prefix", ("telecom* regulators", {}),
         ("telecom* regulators", {}),
         ("(title:/telecom.*/ OR body:/telecom.*/) regulators",
          {"highlight_prefixes": ["telecom"]})),
        ("purchase [acq]", "section", ("purchase", {"sections": ["acq"]}),
         ("purchase", {"sections": ["Acq"]}), ("purchase", {"sections": ["Acq"]})),
        ("weather [corn, soybean]", "section", ("weather", {"sections": ["corn", "soybean"]}),
         ("weather", {"sections": ["Corn", "Soybean"]}),
         ("weather", {"sections": ["Corn", "Soybean"]})),
        ("forecast [gnp]", "section", ("forecast", {"sections": ["gnp"]}),
         ("forecast", {"sections": ["Gnp"]}), ("forecast", {"sections": ["Gnp"]})),
        ("vessels [ship]", "section", ("vessels", {"sections": ["ship"]}),
         ("vessels", {"sections": ["Ship"]}), ("vessels", {"sections": ["Ship"]})),
        ("embargo [1987-03-01..1987-03-31]", "dates",
         ("embargo", {"since": D("1987-03-01"), "until": D("1987-03-31")}),
         ("embargo", {"since": D("1987-03-01"), "until": D("1987-03-31")}),
         ("embargo", {"since": D("1987-03-01"), "until": D("1987-03-31")})),
        ("inflation [1987-03-16..]", "dates", ("inflation", {"since": D("1987-03-16")}),
         ("inflation", {"since": D("1987-03-16")}), ("inflation", {"since": D("1987-03-16")})),
        ('"balance of payments" [..1987-03-20]', "dates",
         ('"balance of payments"', {"until": D("1987-03-20")}),
         ('"balance of payments"', {"until": D("1987-03-20")}),
         ('"balance of payments"', {"until": D("1987-03-20")})),
        ("consumer date:1987-04", "date-in-query", ("consumer date:1987-04", {}),
         ("consumer", {"since": D("1987-04-01"), "until": D("1987-04-30")}),
         ("consumer ts:[544233600 TO 546825600}", {})),
        ("tax date:[1987-03-01 TO 1987-03-10]", "date-in-query",
         ("tax date:[1987-03-01 TO 1987-03-10]", {}),
         ("tax", {"since": D("1987-03-01"), "until": D("1987-03-10")}),
         ("tax ts:[541555200 TO 542419200}", {})),
        ("reagan retaliation [trade, 1987-04-01..]", "section+dates",
         ("reagan retaliation", {"sections": ["trade"], "since": D("1987-04-01")}),
         ("reagan retaliation", {"sections": ["Trade"], "since": D("1987-04-01")}),
         ("reagan retaliation", {"sections": ["Trade"], "since": D("1987-04-01")})),
    ]
]


# --- the child: one engine, one fresh process ----------------------------------------------------


class _Newsearch:
    name = "newsearch"

    def __init__(self, path: Path) -> None:
        from newsearch import open_index

        self.ix = open_index(path, results_cache=0)

    def run(self, text: str, filters: dict[str, Any]) -> Any:
        return self.ix.search(text, date_granularity="month", **filters)


def _open_engine(name: str, path: Path) -> Any:
    from .peers import ENGINES

    return _Newsearch(path) if name == "newsearch" else ENGINES[name].open(path)


def _total(res: Any) -> int:
    return int(res.total)


def child(name: str, path: Path) -> dict[str, Any]:
    """Warm-up, cold pass, warm rounds (see the module docstring); times in ms, wall clock
    and the process's CPU time (the latter barely moves with other load on the machine)."""
    from .test_query_path import QUERIES

    engine = _open_engine(name, path)
    for q in QUERIES:
        text, filters = q[name] if name in q else q["newsearch"]
        engine.run(text, filters)
    out: dict[str, Any] = {"cold": [], "warm": [], "cold_cpu": [], "warm_cpu": [], "totals": {}}
    for r in range(1 + WARM_ROUNDS):
        kind = "cold" if r == 0 else "warm"
        for q in COLD_QUERIES:
            text, filters = q[name]
            cpu, t = time.process_time(), time.perf_counter()
            res = engine.run(text, filters)
            out[kind].append((time.perf_counter() - t) * 1000)
            out[kind + "_cpu"].append((time.process_time() - cpu) * 1000)
            out["totals"][q["label"]] = _total(res)
    with open("/proc/self/status", encoding="ascii") as fh:
        out["peak_rss_kb"] = int(fh.read().split("VmHWM:")[1].split()[0])
    return out


# --- the benchmark -------------------------------------------------------------------------------


def _ms(v: float) -> str:
    return f"{v:.1f}"


def _mb(n: float) -> str:
    return f"{n / 1e6:.1f}"


@pytest.fixture(scope="module")
def reuters_indexes(tmp_path_factory) -> dict[str, Path]:
    """Each engine's index of Reuters-21578 (newsearch's reader, exact duplicates dropped)."""
    from newsearch import index_paths

    from .peers import ENGINES

    files = reuters_files()
    seen: set[str] = set()
    articles = []
    for a in parsed(files):
        if a.dedup not in seen:
            seen.add(a.dedup)
            articles.append(a)
    base = tmp_path_factory.mktemp("cold")
    out: dict[str, Path] = {}
    for name in ENGINE_NAMES:
        if name == "tantivy" and not _has_tantivy():
            continue
        path = base / name / ("index.db" if name == "sqlite-fts5" else "index")
        if name == "newsearch":
            index_paths(files, path)
        else:
            ENGINES[name](articles, path).close()
        out[name] = path
    return out


def _has_tantivy() -> bool:
    try:
        import tantivy  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def cold_runs(reuters_indexes) -> dict[str, dict[str, Any]]:
    """PROCESSES fresh processes per engine, the engines taking turns (each round in a
    rotated order), so that a busy spell on the machine does not fall on one engine."""
    names = [n for n in ENGINE_NAMES if n in reuters_indexes]
    runs: dict[str, dict[str, Any]] = {n: {} for n in names}
    for r in range(PROCESSES):
        for name in names[r % len(names):] + names[:r % len(names)]:
            data, peaks = run_child(["-m", "bench.test_cold_queries", name,
                                     str(reuters_indexes[name])])
            got = runs[name]
            for key in ("cold", "warm", "cold_cpu", "warm_cpu"):
                got.setdefault(key, []).extend(data[key])
            got["totals"] = data["totals"]
            for key, value in [("peak_rss_kb", data["peak_rss_kb"]), *peaks.items()]:
                got[key] = max(got.get(key, 0), value)
    return runs


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_cold_queries(reuters_indexes, cold_runs, engine: str) -> None:
    if engine not in reuters_indexes:
        pytest.skip("tantivy is not installed (pip install -e '.[bench]')")
    got = cold_runs[engine]
    row: dict[str, Any] = {"engine": engine}
    for key in ("cold", "warm", "cold_cpu", "warm_cpu"):
        row[f"{key}_p50_ms"] = _ms(statistics.median(got[key]))
        row[f"{key}_p95_ms"] = _ms(percentile(got[key], 95))
    row.update({
        "index_MB": _mb(tree_bytes(reuters_indexes[engine])),
        "search_peak_rss_MB": f"{got['peak_rss_kb'] / 1024:.0f}",
        "search_peak_uss_MB": f"{got['uss_kb'] / 1024:.0f}",
        "search_peak_anon_MB": f"{got['anon_kb'] / 1024:.0f}",
        "queries": f"{len(COLD_QUERIES)} x {PROCESSES}",
    })
    record(TABLE, **row)
    record(SIZE_TABLE, collection="Reuters-21578", engine=engine, MB=row["index_MB"])
    assert len(got["cold"]) == len(COLD_QUERIES) * PROCESSES


def test_cold_ratio_to_fts5(cold_runs) -> None:
    """newsearch against FTS5 in this run (the issue's goals: cold p50 at most 1.5x FTS5's,
    p95 below FTS5's; index at most 1.5x FTS5's). Reported, not asserted: timings gate
    nothing (bench/README.md)."""
    if not {"newsearch", "sqlite-fts5"} <= cold_runs.keys():
        pytest.skip("newsearch and FTS5 did not both run")
    ours, fts = cold_runs["newsearch"], cold_runs["sqlite-fts5"]
    for key in ("cold", "warm", "cold_cpu", "warm_cpu"):
        p50 = statistics.median(ours[key]) / statistics.median(fts[key])
        p95 = percentile(ours[key], 95) / percentile(fts[key], 95)
        record("newsearch / FTS5 (same run)", measure=f"{key} p50", ratio=f"{p50:.2f}x")
        record("newsearch / FTS5 (same run)", measure=f"{key} p95", ratio=f"{p95:.2f}x")


def test_cold_totals_agree(cold_runs) -> None:
    """Plain-word queries find about as many articles in every engine (within 2x of FTS5),
    so no engine is fast because its translation asks for less."""
    if "sqlite-fts5" not in cold_runs:
        pytest.skip("FTS5 did not run")
    ref = cold_runs["sqlite-fts5"]["totals"]
    far = []
    for q in COLD_QUERIES:
        if q["kind"] != "words":
            continue
        for engine, got in cold_runs.items():
            n, m = got["totals"][q["label"]], ref[q["label"]]
            if not (m <= 2 * n and n <= 2 * m):
                far.append(f"{q['label']!r}: {engine} {n} vs sqlite-fts5 {m}")
    assert not far, "\n".join(far)


_WORD = re.compile(r"[A-Za-z]+")
_SYNTAX = {"OR", "AND", "NOT", "NEAR", "title", "date", "TO", "body", "ts"}


def _words(text: str) -> set[str]:
    from newsearch.analysis import is_stop_word, query_terms

    text = re.sub(r"date:\S+|date:\[[^\]]*\]", " ", text)
    out: set[str] = set()
    for w in _WORD.findall(text):
        if w in _SYNTAX or is_stop_word(w):
            continue
        out.update(query_terms(w))
    return out


def test_cold_words_are_new() -> None:
    """Every cold query asks for index terms that no other cold query and no warm-up query
    asks for, and filters on sections the warm-up does not filter on."""
    from .test_query_path import QUERIES

    warm_terms = set().union(*(_words(q["newsearch"][0]) for q in QUERIES))
    warm_sections = {s for q in QUERIES for s in q["newsearch"][1].get("sections", ())}
    seen: dict[str, str] = {}
    for q in COLD_QUERIES:
        text, filters = q["newsearch"]
        for term in _words(text):
            assert term not in warm_terms, f"{q['label']!r}: {term!r} is in the warm-up"
            assert term not in seen, f"{q['label']!r}: {term!r} is also in {seen[term]!r}"
            seen[term] = q["label"]
        for s in filters.get("sections", ()):
            assert s not in warm_sections, f"{q['label']!r}: section {s!r} is in the warm-up"


# --- index size on every real article ------------------------------------------------------------


@pytest.fixture(scope="module")
def all_articles() -> Iterator[list[Any]]:
    from .test_scale import real_articles

    articles = real_articles()
    yield articles[:2_000] if QUICK else articles


@pytest.mark.parametrize("engine", ENGINE_NAMES)
def test_index_size_all_corpora(all_articles, tmp_path: Path, engine: str) -> None:
    from newsearch import index_paths

    from .peers import ENGINES
    from .test_scale import write_jsonl

    if engine == "tantivy" and not _has_tantivy():
        pytest.skip("tantivy is not installed")
    if engine == "newsearch":
        corpus = tmp_path / "corpus"
        write_jsonl(corpus, iter(all_articles))
        path = tmp_path / "index"
        index_paths([corpus], path)
    else:
        path = tmp_path / ("index.db" if engine == "sqlite-fts5" else "index")
        ENGINES[engine](all_articles, path).close()
    size = tree_bytes(path)
    record(SIZE_TABLE, collection=f"all real articles ({len(all_articles):,})", engine=engine,
           MB=_mb(size))
    assert size > 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    print(json.dumps(child(sys.argv[1], Path(sys.argv[2]))))
