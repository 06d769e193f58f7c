"""Peer engines for the query-path benchmark: index once, then the whole path per query.

    Article list ─▶ build (untimed) ─▶ engine.run(query text, filters) ─▶ Outcome

Every ``run`` does the same work as ``NewsIndex.search``: parse the query string, apply the
section and date filters, rank the top 10, count every hit, count sections and months over
every hit, and cut highlighted snippets for the 10 hits. It returns an :class:`Outcome` whose
lists and dicts are fully materialised, so nothing is left to do lazily after the timer stops.

    WhooshDefaults   stock Whoosh 2.7.4 used the way its documentation shows: StemmingAnalyzer,
                     MultifieldParser (AND), a new searcher per query, FieldFacet and
                     DateRangeFacet, ``hit.highlights("body", top=3)`` (default highlighter:
                     up to 3 fragments of about 200 characters)
    Fts5             stdlib sqlite3: an fts5 table (porter unicode61) for title and body, a
                     ``meta`` table for dates and an (article, section) table; bm25() and
                     snippet() (one fragment of up to 40 tokens); COUNT(*) and GROUP BY
    Tantivy          tantivy-py: en_stem title/body, a raw fast ``section`` field, the date
                     as an i64 fast field (epoch seconds); search(count=True), one aggregate()
                     call for the section terms and the month ranges, SnippetGenerator
                     (one fragment of up to 200 characters)

Filters are ``{"sections": [exact names], "since": date, "until": date}`` (inclusive UTC
days); tantivy also takes ``"highlight_prefixes"`` (see ``Tantivy.run``). A hit whose body
has no highlight falls back to its highlighted title, then to the start of its text (as
newsearch does), so every hit carries a snippet.

``Fts5.open(path)`` and ``Tantivy.open(path)`` open an index built earlier, so a benchmark
can search it from a fresh process (bench/test_cold_queries.py).
"""

from __future__ import annotations

import sqlite3
from calendar import timegm
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from newsearch.article import Article

__all__ = ["ENGINES", "MONTHS", "Fts5", "Outcome", "Tantivy", "WhooshDefaults"]

# Reuters-21578 runs from February to October 1987. Engines that histogram with explicit
# buckets (Whoosh's DateRangeFacet, tantivy's range aggregation: its date_histogram has no
# calendar months) get one bucket per month of 1987; FTS5 and newsearch bucket any date.
MONTHS = [(datetime(1987, m, 1), datetime(1987 + m // 12, m % 12 + 1, 1)) for m in range(1, 13)]
LEAD_CHARS = 200


@dataclass
class Outcome:
    """What one query returned: enough to check that the whole path was done."""

    total: int
    hits: list[tuple[str, str]] = field(default_factory=list)  # (title, snippet)
    sections: dict[str, int] = field(default_factory=dict)
    months: dict[str, int] = field(default_factory=dict)
    # newsearch ORs the words of a 3+ word query that finds fewer than ten articles (and
    # says so); its total is then not comparable with an AND elsewhere.
    fallback: bool = False


def _naive_utc(d: datetime | None) -> datetime | None:
    return d.replace(tzinfo=None) if d else None


def _epoch(d: datetime) -> int:
    """Seconds since 1970 (aware datetimes are converted to UTC, naive ones taken as UTC)."""
    return timegm(d.utctimetuple())


def _day_bounds(filters: dict[str, Any]) -> tuple[datetime | None, datetime | None]:
    """[since 00:00, the day after until 00:00) as naive UTC datetimes."""
    since, until = filters.get("since"), filters.get("until")
    lo = datetime(since.year, since.month, since.day) if since else None
    hi = datetime(until.year, until.month, until.day) + timedelta(days=1) if until else None
    return lo, hi


# --- stock Whoosh --------------------------------------------------------------------------------


class WhooshDefaults:
    name = "whoosh-defaults"
    mark = "<b class="

    def __init__(self, articles: Iterable[Article], path: Path) -> None:
        from whoosh import fields, index, qparser, sorting
        from whoosh.analysis import StemmingAnalyzer
        from whoosh.support.relativedelta import relativedelta

        schema = fields.Schema(
            id=fields.ID(stored=True, unique=True),
            title=fields.TEXT(stored=True, analyzer=StemmingAnalyzer()),
            body=fields.TEXT(stored=True, analyzer=StemmingAnalyzer()),
            section=fields.KEYWORD(stored=True, commas=True),
            date=fields.DATETIME(stored=True, sortable=True),
        )
        path.mkdir(parents=True, exist_ok=True)
        self.ix = index.create_in(str(path), schema)
        # Two processes merge into one segment at commit (no multisegment): the build is not
        # timed, the searched index is the same as a one-process build.
        w = self.ix.writer(procs=2, limitmb=256)
        for a in articles:
            w.add_document(id=a.id, title=a.title, body=a.body, section=",".join(a.sections),
                           date=_naive_utc(a.date))
        w.commit()
        self.parser = qparser.MultifieldParser(["title", "body"], schema)
        self._sorting = sorting
        self._gap = relativedelta(months=1)

    def run(self, text: str, filters: dict[str, Any]) -> Outcome:
        from whoosh import query as wq

        sorting = self._sorting
        q = self.parser.parse(text)
        parts: list[wq.Query] = []
        if filters.get("sections"):
            parts.append(wq.Or([wq.Term("section", s) for s in filters["sections"]]))
        lo, hi = _day_bounds(filters)
        if lo or hi:
            parts.append(wq.DateRange("date", lo, hi, endexcl=True))
        flt = None if not parts else parts[0] if len(parts) == 1 else wq.And(parts)
        groupedby = {
            "section": sorting.FieldFacet("section", allow_overlap=True, maptype=sorting.Count),
            "month": sorting.DateRangeFacet("date", MONTHS[0][0], MONTHS[-1][1], self._gap,
                                            maptype=sorting.Count),
        }
        with self.ix.searcher() as s:  # stock usage: a new searcher per query
            # With groupedby, Whoosh scores and sorts every hit (UnlimitedCollector): limit=10
            # does not bound the collection, only r[:10] takes the page.
            r = s.search(q, limit=10, filter=flt, groupedby=groupedby)
            hits = []
            for hit in r[:10]:
                snip = (hit.highlights("body", top=3) or hit.highlights("title")
                        or (hit.get("body") or hit.get("title") or "")[:LEAD_CHARS])
                hits.append((hit.get("title", ""), snip))
            return Outcome(
                total=len(r),  # the collector's docset: filtered, no second pass
                hits=hits,
                sections={k: v for k, v in r.groups("section").items() if k is not None},
                months={k[0].strftime("%Y-%m"): v for k, v in r.groups("month").items()
                        if isinstance(k, tuple) and v},
            )

    def close(self) -> None:
        self.ix.close()


# --- SQLite FTS5 ---------------------------------------------------------------------------------


class Fts5:
    name = "sqlite-fts5"
    mark = "<b>"

    def __init__(self, articles: Iterable[Article], path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        con = self.con = sqlite3.connect(path)
        con.executescript("""
            CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize='porter unicode61');
            CREATE TABLE meta(id INTEGER PRIMARY KEY, date TEXT);  -- 'YYYY-MM-DD HH:MM:SS' UTC
            CREATE TABLE article_section(section TEXT NOT NULL, id INTEGER NOT NULL,
                                         PRIMARY KEY (section, id)) WITHOUT ROWID;
        """)
        docs, meta, secs = [], [], []
        for i, a in enumerate(articles, 1):
            docs.append((i, a.title, a.body))
            meta.append((i, a.date.strftime("%Y-%m-%d %H:%M:%S") if a.date else None))
            secs.extend((s, i) for s in dict.fromkeys(a.sections))
        con.executemany("INSERT INTO docs(rowid, title, body) VALUES (?, ?, ?)", docs)
        con.executemany("INSERT INTO meta VALUES (?, ?)", meta)
        con.executemany("INSERT INTO article_section VALUES (?, ?)", secs)
        con.executescript("""
            CREATE INDEX article_section_id ON article_section(id);
            CREATE INDEX meta_date ON meta(date);
            INSERT INTO docs(docs) VALUES ('optimize');
            ANALYZE;
        """)
        con.commit()

    @classmethod
    def open(cls, path: Path) -> Fts5:
        """The database at ``path``, built earlier by ``Fts5(articles, path)``."""
        self = cls.__new__(cls)
        self.con = sqlite3.connect(path)
        return self

    def run(self, text: str, filters: dict[str, Any]) -> Outcome:
        where = ["docs MATCH ?"]
        args: list[Any] = [text]
        if filters.get("sections"):
            marks = ",".join("?" * len(filters["sections"]))
            # The unary + keeps SQLite from handing the IN list to FTS5 as rowid=? lookups
            # (one MATCH per listed article: 100-600 ms for a big topic); the MATCH drives.
            where.append(f"+docs.rowid IN (SELECT id FROM article_section "
                         f"WHERE section IN ({marks}))")
            args.extend(filters["sections"])
        lo, hi = _day_bounds(filters)
        if lo:
            where.append("m.date >= ?")
            args.append(lo.strftime("%Y-%m-%d %H:%M:%S"))
        if hi:
            where.append("m.date < ?")
            args.append(hi.strftime("%Y-%m-%d %H:%M:%S"))
        frm = "docs JOIN meta m ON m.id = docs.rowid"
        cond = " AND ".join(where)
        con = self.con
        top = con.execute(
            f"SELECT docs.title, snippet(docs, -1, '<b>', '</b>', '…', 40), docs.body "
            f"FROM {frm} WHERE {cond} ORDER BY bm25(docs) LIMIT 10", args).fetchall()
        total = con.execute(f"SELECT count(*) FROM {frm} WHERE {cond}", args).fetchone()[0]
        sections = dict(con.execute(
            f"SELECT s.section, count(*) FROM {frm} JOIN article_section s ON s.id = docs.rowid "
            f"WHERE {cond} GROUP BY s.section", args).fetchall())
        months = dict(con.execute(
            f"SELECT strftime('%Y-%m', m.date), count(*) FROM {frm} WHERE {cond} "
            f"GROUP BY 1", args).fetchall())
        months.pop(None, None)
        hits = [(title, snip if "<b>" in snip else (body or title)[:LEAD_CHARS])
                for title, snip, body in top]
        return Outcome(total=total, hits=hits, sections=sections, months=months)

    def close(self) -> None:
        self.con.close()


# --- tantivy -------------------------------------------------------------------------------------


class Tantivy:
    name = "tantivy"
    mark = "<b>"

    def __init__(self, articles: Iterable[Article], path: Path) -> None:
        import tantivy

        sb = tantivy.SchemaBuilder()
        sb.add_text_field("title", stored=True, tokenizer_name="en_stem")
        sb.add_text_field("body", stored=True, tokenizer_name="en_stem")
        sb.add_text_field("section", stored=True, tokenizer_name="raw", fast=True)
        sb.add_integer_field("ts", stored=True, indexed=True, fast=True)
        path.mkdir(parents=True, exist_ok=True)
        ix = tantivy.Index(sb.build(), path=str(path))
        w = ix.writer()
        for a in articles:
            doc = tantivy.Document(title=a.title, body=a.body, section=list(a.sections))
            if a.date:
                doc.add_integer("ts", _epoch(a.date))
            w.add_document(doc)
        w.commit()
        w.wait_merging_threads()
        self._setup(ix)

    @classmethod
    def open(cls, path: Path) -> Tantivy:
        """The index in ``path``, built earlier by ``Tantivy(articles, path)``."""
        import tantivy

        self = cls.__new__(cls)
        self._setup(tantivy.Index.open(str(path)))
        return self

    def _setup(self, ix: Any) -> None:
        import tantivy

        self.t = tantivy
        self.ix = ix
        self.schema = ix.schema
        self.ix.reload()
        self.searcher = self.ix.searcher()  # reused, like newsearch's per-thread searcher
        # tantivy-py has aggregations: the section facet is a terms aggregation over the raw
        # fast field, the month histogram a range aggregation (one range per month).
        self.aggs = {
            "section": {"terms": {"field": "section", "size": 10_000}},
            "month": {"range": {"field": "ts", "ranges": [
                {"key": start.strftime("%Y-%m"), "from": _epoch(start), "to": _epoch(end)}
                for start, end in MONTHS]}},
        }

    def run(self, text: str, filters: dict[str, Any]) -> Outcome:
        t = self.t
        q = self.ix.parse_query(text, ["title", "body"], conjunction_by_default=True,
                                allow_regexes=True)
        must = [(t.Occur.Must, q)]
        if filters.get("sections"):
            sec = t.Query.boolean_query([(t.Occur.Should, t.Query.term_query(
                self.schema, "section", s)) for s in filters["sections"]])
            must.append((t.Occur.Must, t.Query.const_score_query(sec, 0.0)))
        lo, hi = _day_bounds(filters)
        if lo or hi:
            rng = t.Query.range_query(self.schema, "ts", t.FieldType.Integer,
                                      _epoch(lo) if lo else None, _epoch(hi) if hi else None,
                                      include_upper=hi is None)
            must.append((t.Occur.Must, t.Query.const_score_query(rng, 0.0)))
        if len(must) > 1:
            q = t.Query.boolean_query(must)
        s = self.searcher
        res = s.search(q, 10, count=True)
        agg = s.aggregate(q, self.aggs)
        hl = q
        if filters.get("highlight_prefixes"):
            # The snippet generator highlights terms, and a regex query has none: highlight
            # the prefix's terms (up to 200 most frequent per field, as newsearch expands).
            terms = [(f, term) for f in ("title", "body") for p in filters["highlight_prefixes"]
                     for term, _df in s.terms_with_prefix(f, p, limit=200)]
            hl = t.Query.boolean_query([(t.Occur.Must, q), (t.Occur.Should, t.Query.boolean_query(
                [(t.Occur.Should, t.Query.term_query(self.schema, f, term))
                 for f, term in terms]))])
        body_snips = t.SnippetGenerator.create(s, hl, self.schema, "body")
        body_snips.set_max_num_chars(LEAD_CHARS)
        title_snips = None
        hits = []
        for _score, addr in res.hits:
            doc = s.doc(addr)
            title = doc.get_first("title") or ""
            snip = body_snips.snippet_from_doc(doc).to_html()
            if "<b>" not in snip:
                if title_snips is None:
                    title_snips = t.SnippetGenerator.create(s, hl, self.schema, "title")
                snip = title_snips.snippet_from_doc(doc).to_html()
            if "<b>" not in snip:
                snip = (doc.get_first("body") or title)[:LEAD_CHARS]
            hits.append((title, snip))
        return Outcome(
            total=res.count,
            hits=hits,
            sections={b["key"]: b["doc_count"] for b in agg["section"]["buckets"]},
            months={b["key"]: b["doc_count"] for b in agg["month"]["buckets"]
                    if b["doc_count"]},
        )

    def close(self) -> None:
        pass


ENGINES = {e.name: e for e in (WhooshDefaults, Fts5, Tantivy)}
