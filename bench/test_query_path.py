"""The full query path on Reuters-21578, next to peers in the same run.

One timed unit per query, for every engine: parse the query string; apply the section and
date filters; rank the top 10; count every hit; section counts and a month histogram over
every hit; highlighted snippets for the 10 hits.

    newsearch            NewsIndex.search() on one open_index() object reused across queries
                         (as a server uses it), date histogram by month
    whoosh-defaults      stock Whoosh: StemmingAnalyzer, MultifieldParser, a new searcher per
                         query, FieldFacet + DateRangeFacet, default highlighter
    sqlite-fts5          stdlib sqlite3, FTS5 porter/unicode61: bm25(), snippet(), COUNT(*),
                         GROUP BY section (join table) and strftime('%Y-%m', date)
    tantivy              tantivy-py (Rust), en_stem; search(count=True), aggregate(),
                         SnippetGenerator (only when installed: pip install -e '.[bench]')

The code of the peers is in ``bench/peers.py``. Each query below is written out for every
engine in that engine's own syntax (no automatic converter), next to its filters, so the
translations can be checked by eye; ``test_totals_agree`` and the totals table written to
``bench/out/query_path_per_query.md`` catch a translation that finds much less.

Every engine indexes the same articles: the .sgm files parsed once with newsearch's reader,
exact duplicates dropped as newsearch's indexer drops them. Index builds are not timed.
Timings: WARMUP untimed rounds, then ROUNDS rounds over all queries (queries in a fixed
order inside each round), each query timed alone with time.perf_counter; p50/p95/mean are
over all (query, round) timings. first_pass_* are over each query's first run in the
session (the warm-up round in full mode): what a query costs before anything it touches has
been read or decoded by an earlier run of the same query.
"""

from __future__ import annotations

import statistics
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from newsearch import index_paths, open_index
from newsearch.article import Article
from newsearch.readers.reuters_topics import topic_section

from .conftest import OUT, QUICK, parsed, record, reuters_files
from .peers import ENGINES as PEERS
from .peers import Outcome

ROUNDS = 1 if QUICK else 5
WARMUP = 0 if QUICK else 1
ENGINE_NAMES = ["newsearch", "whoosh-defaults", "sqlite-fts5", "tantivy"]
D = date.fromisoformat
# The peers filter on exact section names: Reuters topics as the reader names them; newsearch
# is given the bare codes, which find the same sections.
T = topic_section

# label (the newsearch query and its filters), kind, then per engine (query text, filters).
# newsearch sections are matched case-insensitively; the peers get the exact stored names
# (Reuters TOPICS, capitalised by newsearch's reader). Whoosh phrase slop counts positions
# (1 = adjacent, in order); newsearch's "~N" allows N other words among them in any order,
# as FTS5 NEAR(..., N) does; tantivy "~N" is its slop. tantivy has no term prefix syntax: a regex on
# the stems, plus the prefix's terms for the snippet generator. FTS5 has no date syntax in
# MATCH (date: becomes SQL on the side table) and no implicit AND after a parenthesis.
QUERIES: list[dict[str, Any]] = [
    # plain words (1-3), all required
    {"label": "oil prices", "kind": "words",
     "newsearch": ("oil prices", {}), "whoosh-defaults": ("oil prices", {}),
     "sqlite-fts5": ("oil prices", {}), "tantivy": ("oil prices", {})},
    {"label": "opec", "kind": "words",
     "newsearch": ("opec", {}), "whoosh-defaults": ("opec", {}),
     "sqlite-fts5": ("opec", {}), "tantivy": ("opec", {})},
    {"label": "bundesbank", "kind": "words",
     "newsearch": ("bundesbank", {}), "whoosh-defaults": ("bundesbank", {}),
     "sqlite-fts5": ("bundesbank", {}), "tantivy": ("bundesbank", {})},
    {"label": "trade deficit japan", "kind": "words",
     "newsearch": ("trade deficit japan", {}), "whoosh-defaults": ("trade deficit japan", {}),
     "sqlite-fts5": ("trade deficit japan", {}), "tantivy": ("trade deficit japan", {})},
    {"label": "wheat exports", "kind": "words",
     "newsearch": ("wheat exports", {}), "whoosh-defaults": ("wheat exports", {}),
     "sqlite-fts5": ("wheat exports", {}), "tantivy": ("wheat exports", {})},
    {"label": "coffee brazil", "kind": "words",
     "newsearch": ("coffee brazil", {}), "whoosh-defaults": ("coffee brazil", {}),
     "sqlite-fts5": ("coffee brazil", {}), "tantivy": ("coffee brazil", {})},
    {"label": "dollar yen", "kind": "words",
     "newsearch": ("dollar yen", {}), "whoosh-defaults": ("dollar yen", {}),
     "sqlite-fts5": ("dollar yen", {}), "tantivy": ("dollar yen", {})},
    {"label": "merger", "kind": "words",
     "newsearch": ("merger", {}), "whoosh-defaults": ("merger", {}),
     "sqlite-fts5": ("merger", {}), "tantivy": ("merger", {})},
    {"label": "takeover bid", "kind": "words",
     "newsearch": ("takeover bid", {}), "whoosh-defaults": ("takeover bid", {}),
     "sqlite-fts5": ("takeover bid", {}), "tantivy": ("takeover bid", {})},
    {"label": "earnings per share", "kind": "words",
     "newsearch": ("earnings per share", {}), "whoosh-defaults": ("earnings per share", {}),
     "sqlite-fts5": ("earnings per share", {}), "tantivy": ("earnings per share", {})},
    {"label": "stock split", "kind": "words",
     "newsearch": ("stock split", {}), "whoosh-defaults": ("stock split", {}),
     "sqlite-fts5": ("stock split", {}), "tantivy": ("stock split", {})},
    {"label": "interest rates", "kind": "words",
     "newsearch": ("interest rates", {}), "whoosh-defaults": ("interest rates", {}),
     "sqlite-fts5": ("interest rates", {}), "tantivy": ("interest rates", {})},
    # quoted phrases
    {"label": '"bank of england"', "kind": "phrase",
     "newsearch": ('"bank of england"', {}), "whoosh-defaults": ('"bank of england"', {}),
     "sqlite-fts5": ('"bank of england"', {}), "tantivy": ('"bank of england"', {})},
    {"label": '"trade deficit"', "kind": "phrase",
     "newsearch": ('"trade deficit"', {}), "whoosh-defaults": ('"trade deficit"', {}),
     "sqlite-fts5": ('"trade deficit"', {}), "tantivy": ('"trade deficit"', {})},
    {"label": '"net loss"', "kind": "phrase",
     "newsearch": ('"net loss"', {}), "whoosh-defaults": ('"net loss"', {}),
     "sqlite-fts5": ('"net loss"', {}), "tantivy": ('"net loss"', {})},
    {"label": '"money supply"', "kind": "phrase",
     "newsearch": ('"money supply"', {}), "whoosh-defaults": ('"money supply"', {}),
     "sqlite-fts5": ('"money supply"', {}), "tantivy": ('"money supply"', {})},
    {"label": '"federal reserve"', "kind": "phrase",
     "newsearch": ('"federal reserve"', {}), "whoosh-defaults": ('"federal reserve"', {}),
     "sqlite-fts5": ('"federal reserve"', {}), "tantivy": ('"federal reserve"', {})},
    # proximity
    {"label": '"opec output"~5', "kind": "near",
     "newsearch": ('"opec output"~5', {}), "whoosh-defaults": ('"opec output"~6', {}),
     "sqlite-fts5": ("NEAR(opec output, 5)", {}), "tantivy": ('"opec output"~5', {})},
    {"label": '"japan tariffs"~5', "kind": "near",
     "newsearch": ('"japan tariffs"~5', {}), "whoosh-defaults": ('"japan tariffs"~6', {}),
     "sqlite-fts5": ("NEAR(japan tariffs, 5)", {}), "tantivy": ('"japan tariffs"~5', {})},
    # fields
    {"label": "title:opec", "kind": "field",
     "newsearch": ("title:opec", {}), "whoosh-defaults": ("title:opec", {}),
     "sqlite-fts5": ("title:opec", {}), "tantivy": ("title:opec", {})},
    {"label": "title:(wheat OR grain)", "kind": "field",
     "newsearch": ("title:(wheat OR grain)", {}),
     "whoosh-defaults": ("title:(wheat OR grain)", {}),
     "sqlite-fts5": ("title:(wheat OR grain)", {}), "tantivy": ("title:(wheat OR grain)", {})},
    {"label": "title:takeover bid", "kind": "field",
     "newsearch": ("title:takeover bid", {}), "whoosh-defaults": ("title:takeover bid", {}),
     "sqlite-fts5": ("title:takeover bid", {}), "tantivy": ("title:takeover bid", {})},
    # OR / NOT
    {"label": "coffee OR cocoa", "kind": "boolean",
     "newsearch": ("coffee OR cocoa", {}), "whoosh-defaults": ("coffee OR cocoa", {}),
     "sqlite-fts5": ("coffee OR cocoa", {}), "tantivy": ("coffee OR cocoa", {})},
    {"label": "oil NOT opec", "kind": "boolean",
     "newsearch": ("oil NOT opec", {}), "whoosh-defaults": ("oil NOT opec", {}),
     "sqlite-fts5": ("oil NOT opec", {}), "tantivy": ("oil NOT opec", {})},
    {"label": "merger -bank", "kind": "boolean",
     "newsearch": ("merger -bank", {}), "whoosh-defaults": ("merger NOT bank", {}),
     "sqlite-fts5": ("merger NOT bank", {}), "tantivy": ("merger -bank", {})},
    {"label": "(iran OR iraq) gulf shipping", "kind": "boolean",
     "newsearch": ("(iran OR iraq) gulf shipping", {}),
     "whoosh-defaults": ("(iran OR iraq) gulf shipping", {}),
     "sqlite-fts5": ("(iran OR iraq) AND gulf AND shipping", {}),
     "tantivy": ("(iran OR iraq) gulf shipping", {})},
    # prefixes
    {"label": "econom*", "kind": "prefix",
     "newsearch": ("econom*", {}), "whoosh-defaults": ("econom*", {}),
     "sqlite-fts5": ("econom*", {}),
     "tantivy": ("(title:/econom.*/ OR body:/econom.*/)", {"highlight_prefixes": ["econom"]})},
    {"label": "petrol* prices", "kind": "prefix",
     "newsearch": ("petrol* prices", {}), "whoosh-defaults": ("petrol* prices", {}),
     "sqlite-fts5": ("petrol* prices", {}),
     "tantivy": ("(title:/petrol.*/ OR body:/petrol.*/) prices",
                 {"highlight_prefixes": ["petrol"]})},
    # section filters (TOPICS)
    {"label": "prices [crude]", "kind": "section",
     "newsearch": ("prices", {"sections": ["crude"]}),
     "whoosh-defaults": ("prices", {"sections": [T("crude")]}),
     "sqlite-fts5": ("prices", {"sections": [T("crude")]}),
     "tantivy": ("prices", {"sections": [T("crude")]})},
    {"label": "exports [wheat, grain]", "kind": "section",
     "newsearch": ("exports", {"sections": ["wheat", "grain"]}),
     "whoosh-defaults": ("exports", {"sections": [T("wheat"), T("grain")]}),
     "sqlite-fts5": ("exports", {"sections": [T("wheat"), T("grain")]}),
     "tantivy": ("exports", {"sections": [T("wheat"), T("grain")]})},
    {"label": "profit [earn]", "kind": "section",
     "newsearch": ("profit", {"sections": ["earn"]}),
     "whoosh-defaults": ("profit", {"sections": [T("earn")]}),
     "sqlite-fts5": ("profit", {"sections": [T("earn")]}),
     "tantivy": ("profit", {"sections": [T("earn")]})},
    {"label": "rates [interest, money-fx]", "kind": "section",
     "newsearch": ("rates", {"sections": ["interest", "money-fx"]}),
     "whoosh-defaults": ("rates", {"sections": [T("interest"), T("money-fx")]}),
     "sqlite-fts5": ("rates", {"sections": [T("interest"), T("money-fx")]}),
     "tantivy": ("rates", {"sections": [T("interest"), T("money-fx")]})},
    # date ranges (since/until, inclusive days)
    {"label": "oil [1987-03-01..1987-03-31]", "kind": "dates",
     "newsearch": ("oil", {"since": D("1987-03-01"), "until": D("1987-03-31")}),
     "whoosh-defaults": ("oil", {"since": D("1987-03-01"), "until": D("1987-03-31")}),
     "sqlite-fts5": ("oil", {"since": D("1987-03-01"), "until": D("1987-03-31")}),
     "tantivy": ("oil", {"since": D("1987-03-01"), "until": D("1987-03-31")})},
    {"label": "dollar [1987-04-01..]", "kind": "dates",
     "newsearch": ("dollar", {"since": D("1987-04-01")}),
     "whoosh-defaults": ("dollar", {"since": D("1987-04-01")}),
     "sqlite-fts5": ("dollar", {"since": D("1987-04-01")}),
     "tantivy": ("dollar", {"since": D("1987-04-01")})},
    {"label": '"trade deficit" [..1987-03-15]', "kind": "dates",
     "newsearch": ('"trade deficit"', {"until": D("1987-03-15")}),
     "whoosh-defaults": ('"trade deficit"', {"until": D("1987-03-15")}),
     "sqlite-fts5": ('"trade deficit"', {"until": D("1987-03-15")}),
     "tantivy": ('"trade deficit"', {"until": D("1987-03-15")})},
    # date: inside the query
    {"label": "opec date:1987-03", "kind": "date-in-query",
     "newsearch": ("opec date:1987-03", {}),
     "whoosh-defaults": ("opec date:1987-03", {}),
     "sqlite-fts5": ("opec", {"since": D("1987-03-01"), "until": D("1987-03-31")}),
     "tantivy": ("opec ts:[541555200 TO 544233600}", {})},
    {"label": "yen date:[1987-04-01 TO 1987-04-15]", "kind": "date-in-query",
     "newsearch": ("yen date:[1987-04-01 TO 1987-04-15]", {}),
     "whoosh-defaults": ("yen date:[19870401 TO 19870415]", {}),
     "sqlite-fts5": ("yen", {"since": D("1987-04-01"), "until": D("1987-04-15")}),
     "tantivy": ("yen ts:[544233600 TO 545529600}", {})},
    # section and dates together
    {"label": "tokyo stock exchange [money-fx, 1987-04-01..]", "kind": "section+dates",
     "newsearch": ("tokyo stock exchange", {"sections": ["money-fx"], "since": D("1987-04-01")}),
     "whoosh-defaults": ("tokyo stock exchange",
                         {"sections": ["Money-fx"], "since": D("1987-04-01")}),
     "sqlite-fts5": ("tokyo stock exchange", {"sections": ["Money-fx"], "since": D("1987-04-01")}),
     "tantivy": ("tokyo stock exchange", {"sections": ["Money-fx"], "since": D("1987-04-01")})},
]
TABLE = f"Query path on Reuters-21578 ({len(QUERIES)} queries)"

# Known shortcomings that are reported as warnings instead of failures. Each entry must still
# occur: once fixed, the run fails until the entry is removed.
KNOWN_GAPS: dict[tuple[str, str], str] = {}


# --- corpora and engines (built once per session, not timed) -----------------------------------




class NewsearchEngine:
    """newsearch as a server runs it: one open index, ``search`` per request, but without
    the caches that answer a repeated query from memory.

    The rounds repeat the same queries, so a cache keyed by the query would time a lookup,
    not the query path: ``results_cache=0`` turns off the cache of whole result pages.
    What is derived from the index itself (document arrays, decoded posting and position
    lists, section and date masks) stays cached, as on a server; the first-pass columns
    show its cold cost.
    """

    name = "newsearch"
    mark = "<mark>"

    def __init__(self, files: list[Path], path: Path) -> None:
        index_paths(files, path)
        self.ix = open_index(path, results_cache=0)

    def run(self, text: str, filters: dict[str, Any]) -> Any:
        return self.ix.search(text, date_granularity="month", **filters)

    def memoised(self) -> int:
        """Answers held in the query-keyed caches (must stay 0 for honest timings)."""
        return sum(len(getattr(getattr(self.ix, name, None), "items", ()))
                   for name in ("_results",))

    @staticmethod
    def outcome(res: Any) -> Outcome:
        return Outcome(
            total=res.total,
            hits=[(h.title, " … ".join(h.snippets)) for h in res.hits],
            sections={f.value: f.count for f in res.facets["section"]},
            months={f.value: f.count for f in res.facets["date"]},
            fallback=res.fallback is not None,
        )

    def close(self) -> None:
        self.ix.close()


@pytest.fixture(scope="session")
def corpus() -> tuple[list[Path], list[Article]]:
    files = reuters_files()
    seen: set[str] = set()
    articles = []
    for a in parsed(files):  # newsearch indexes an exact duplicate once: so do the peers
        if a.dedup not in seen:
            seen.add(a.dedup)
            articles.append(a)
    return files, articles


@pytest.fixture(scope="session")
def engine_factory(corpus, tmp_path_factory) -> Iterator[Callable[[str], Any]]:
    files, articles = corpus
    built: dict[str, Any] = {}

    def get(name: str) -> Any:
        if name not in built:
            path = tmp_path_factory.mktemp(f"query-{name}") / "index"
            if name == "newsearch":
                built[name] = NewsearchEngine(files, path)
            else:
                built[name] = PEERS[name](articles, path)
        return built[name]

    yield get
    for engine in built.values():
        engine.close()


# --- measuring -----------------------------------------------------------------------------------


@dataclass
class QueryRun:
    first: float = 0.0  # the query's first run in the session (warm-up or not)
    seconds: list[float] = field(default_factory=list)  # the timed rounds
    outcome: Outcome | None = None


def run_all_queries(engine: Any, rounds: int, warmup: int) -> dict[str, QueryRun]:
    runs = {q["label"]: QueryRun() for q in QUERIES}
    to_outcome = getattr(engine, "outcome", None)
    for r in range(warmup + rounds):
        for q in QUERIES:
            text, filters = q[engine.name]
            t = time.perf_counter()
            res = engine.run(text, filters)
            dt = time.perf_counter() - t
            qr = runs[q["label"]]
            if r == 0:
                qr.first = dt
            if r >= warmup:
                qr.seconds.append(dt)
            qr.outcome = to_outcome(res) if to_outcome else res
    return runs


def percentile(values: list[float], p: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[p - 1] if len(values) > 1 \
        else values[0]


def problems(engine: Any, runs: dict[str, QueryRun]) -> list[str]:
    """What is wrong with the outcomes: no hits, empty facets, a missing snippet."""
    out: list[str] = []
    empty = 0
    for q in QUERIES:
        o = runs[q["label"]].outcome
        assert o is not None
        where = f"{engine.name} {q['label']!r}"
        if o.total == 0:
            empty += 1
            if not QUICK:  # two files of the collection miss some months and topics
                out.append(f"{where}: no hits")
            continue
        if len(o.hits) != min(10, o.total):
            out.append(f"{where}: {len(o.hits)} hits returned of {o.total}")
        if not o.sections:
            out.append(f"{where}: empty section facet")
        if sum(o.months.values()) != o.total:  # every Reuters article is dated
            out.append(f"{where}: month histogram counts {sum(o.months.values())} "
                       f"of {o.total} hits")
        if any(not snip.strip() for _title, snip in o.hits):
            out.append(f"{where}: a hit without a snippet")
        marked = any(engine.mark in snip for _title, snip in o.hits)
        gap = KNOWN_GAPS.get((engine.name, q["label"]))
        if gap and marked:
            out.append(f"{where}: highlights now; remove it from KNOWN_GAPS")
        elif gap:
            warnings.warn(f"{where}: no snippet highlights anything ({gap})", stacklevel=2)
        elif not marked:
            out.append(f"{where}: no snippet highlights anything")
    if empty > len(QUERIES) // 2:
        out.append(f"{engine.name}: {empty} of {len(QUERIES)} queries found nothing")
    return out


_RUNS: dict[str, dict[str, QueryRun]] = {}


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


@pytest.fixture(scope="module")
def per_query() -> Iterator[dict[str, dict[str, QueryRun]]]:
    """Collects every engine's runs; at the end writes the per-query tables."""
    yield _RUNS
    if not _RUNS:
        return
    engines = [e for e in ENGINE_NAMES if e in _RUNS]
    lines = [f"### Per-query p50 (ms), full query path{' (QUICK)' if QUICK else ''}", "",
             "| query | kind | " + " | ".join(engines) + " |",
             "|---|---|" + "---|" * len(engines)]
    totals = ["### Total hits per engine (a factor > 2 apart is flagged: check the "
              "translation)", "", "| query | " + " | ".join(engines) + " | flag |",
              "|---|" + "---|" * (len(engines) + 1)]
    for q in QUERIES:
        label = q["label"]
        p50 = {e: _ms(statistics.median(_RUNS[e][label].seconds)) for e in engines}
        record(f"Per-query p50 ms ({len(QUERIES)} queries)", query=label, kind=q["kind"],
               **p50)
        lines.append(f"| {label} | {q['kind']} | " + " | ".join(p50.values()) + " |")
        n = {e: _RUNS[e][label].outcome.total for e in engines}  # type: ignore[union-attr]
        flag = "" if min(n.values()) * 2 >= max(n.values()) else "⚠"
        record("Total hits per engine", query=label, **{e: str(v) for e, v in n.items()},
               flag=flag)
        totals.append(f"| {label} | " + " | ".join(map(str, n.values())) + f" | {flag} |")
    OUT.mkdir(parents=True, exist_ok=True)
    name = "query_path_per_query-quick.md" if QUICK else "query_path_per_query.md"
    (OUT / name).write_text("\n".join([*lines, "", *totals, ""]), "utf-8")


@pytest.mark.parametrize("engine_name", ENGINE_NAMES)
def test_query_path(benchmark, engine_factory, per_query, engine_name: str) -> None:
    if engine_name == "tantivy":
        pytest.importorskip("tantivy")
    engine = engine_factory(engine_name)
    runs: dict[str, QueryRun] = {}

    def run() -> None:
        runs.update(run_all_queries(engine, ROUNDS, WARMUP))

    benchmark.pedantic(run, rounds=1, iterations=1)
    per_query[engine_name] = runs
    timings = [s for qr in runs.values() for s in qr.seconds]
    p50, p95, mean = percentile(timings, 50), percentile(timings, 95), statistics.fmean(timings)
    benchmark.extra_info.update(p50_ms=p50 * 1000, p95_ms=p95 * 1000, mean_ms=mean * 1000,
                                queries=len(QUERIES), rounds=ROUNDS)
    firsts = [qr.first for qr in runs.values()]
    record(TABLE, engine=engine_name, p50_ms=_ms(p50), p95_ms=_ms(p95), mean_ms=_ms(mean),
           max_ms=_ms(max(timings)), first_pass_p50_ms=_ms(percentile(firsts, 50)),
           first_pass_p95_ms=_ms(percentile(firsts, 95)), queries=len(QUERIES), rounds=ROUNDS)
    found = problems(engine, runs)
    if hasattr(engine, "memoised"):
        assert engine.memoised() == 0, f"{engine_name} kept query answers in a cache"
    assert not found, "\n".join(found)


def test_totals_agree(per_query) -> None:
    """Plain-word queries find about as many articles everywhere (within a factor of 2 of
    stock Whoosh), so no engine is fast because its translation asks for less."""
    if "whoosh-defaults" not in per_query:
        pytest.skip("stock Whoosh did not run")
    far = []
    for q in QUERIES:
        if q["kind"] != "words":
            continue
        ref = per_query["whoosh-defaults"][q["label"]].outcome.total  # type: ignore[union-attr]
        for engine, runs in per_query.items():
            outcome = runs[q["label"]].outcome
            if outcome.fallback:  # type: ignore[union-attr]
                continue  # any-word on purpose (the result says so): not comparable
            n = outcome.total  # type: ignore[union-attr]
            if not (ref <= 2 * n and n <= 2 * ref):
                far.append(f"{q['label']!r}: {engine} {n} vs whoosh-defaults {ref}")
    assert not far, "\n".join(far)
