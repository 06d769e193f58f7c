"""From a query plan to OpenSearch's query DSL, with newsearch's matching and BM25F.

    plan (newsearch.plan: PTerms, PPhrase, PDays, PSections, PExact, PAnd/POr/PNot,
          PAll/PNothing; terms already analysed)
      ├─▶ compile_plan()    which documents match: a non-scoring query (filter context)
      └─▶ scoring_leaves()  which words (terms over fields) add to the score
              ─▶ stats_body()   one request: document count, each leaf's document
                                frequency, the newest date (for recency)
              ─▶ scoring_clauses(): per leaf a ``function_score`` saturating the sum of
                                its fields' ``term`` clauses (a ``dis_max`` for the
                                spellings of one word), boost = field weight
    search_body(): bool { filter: [plan, filters], should: [scoring clauses] }
                   (+ tier_clauses: constant-score lifts above score_bound())

Matching and scoring are kept apart as in the Whoosh backend (a mask, then BM25 over the
leaves): the plan goes into ``filter`` context, where nothing scores, and each scoring leaf
is an optional ``should`` clause, so a document's score is exactly the sum over the leaves it
holds. Each node's meaning follows :class:`newsearch.backends.whoosh.evaluate.Evaluator`:

| node       | DSL                                                                          |
|------------|------------------------------------------------------------------------------|
| PTerms     | ``terms`` on each field, any of them                                         |
| PFuzzy     | ``terms`` on each field: the word's terms and its look-alikes                |
| PPhrase    | ``intervals`` ``all_of``, each word ``any_of`` its terms: slop 0 ordered,     |
|            | ``max_gaps`` 0 (``match_phrase`` when every word has one term); slop N        |
|            | unordered, ``max_gaps`` N (the words in any order, at most N others among    |
|            | them; a word asked for twice needs two positions, which ``span_near`` would  |
|            | not require)                                                                 |
| PDays      | ``range`` on the date, whole UTC days                                        |
| PSections  | ``terms`` on ``fold.section`` (section keys: case, spaces, hyphens and a    |
|            | trailing code as in *Mergers/Acquisitions (ACQ)* do not matter)              |
| PExact     | ``terms`` on ``fold.<field>`` (casefolded)                                   |
| PAnd       | ``bool`` ``filter`` + ``must_not`` (for its PNot children)                   |
| POr / PNot | ``bool`` ``should`` (one needed) / ``must_not``                              |
| PAll       | ``match_all``; PNothing (and no plan): ``match_none``                        |

The idf is newsearch's own (:func:`newsearch.ranking.idf`, from the live document count and
the term's document frequency, a word's spellings sharing one over all text fields), so
the cluster's per-shard term statistics never enter a score; see :mod:`.mapping` for the
similarity that applies it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ... import ranking
from ...analysis import TRUNCATED
from ...plan import (
    FIELD_BOOSTS,
    Leaf,
    PAll,
    PAnd,
    PDays,
    PExact,
    PFuzzy,
    PNot,
    PNothing,
    POr,
    PPhrase,
    PSections,
    PTerms,
    scoring_leaves,
)
from ...ranking import RECENCY_FLOOR, idf, qtf_weight
from .mapping import KEYWORD_FIELDS, STACK, TEXT_FIELDS, match_key, terms_field

__all__ = [
    "SORTS",
    "Leaf",
    "LeafStats",
    "compile_plan",
    "leaves_of",
    "scoring_clauses",
    "search_body",
    "stats_body",
    "stats_from_response",
]

DAY = 86_400
MATCH_NONE: dict[str, Any] = {"match_none": {}}
MATCH_ALL: dict[str, Any] = {"match_all": {}}
SORTS = ("relevance", "date", "recency")



# --- matching --------------------------------------------------------------------------------


def compile_plan(node: Any) -> dict[str, Any]:
    """The documents ``node`` matches, as a query that computes no score."""
    if node is None or isinstance(node, PNothing):
        return MATCH_NONE
    if isinstance(node, PAll):
        return MATCH_ALL
    if isinstance(node, PTerms):
        if not node.terms:
            return MATCH_NONE
        return _any([{"terms": {terms_field(f): list(node.terms)}} for f in node.fields])
    if isinstance(node, PPhrase):
        return _any([_phrase(f, node.terms, node.slop) for f in node.fields])
    if isinstance(node, PFuzzy):
        # Matching only: the word or any of its look-alikes (the Whoosh searcher then puts
        # the articles holding the word itself first, which this backend does not).
        terms = list(dict.fromkeys([*node.word, *node.forms]))
        return _any([{"terms": {terms_field(f): terms}} for f in node.fields]) if terms \
            else MATCH_NONE
    if isinstance(node, PDays):
        return _days(node.lo, node.hi)
    if isinstance(node, PSections):
        return _keyword("section", node.names)
    if isinstance(node, PExact):
        return _keyword(node.field, node.values)
    if isinstance(node, PAnd):
        pos = [compile_plan(c) for c in node.children if not isinstance(c, PNot)]
        neg = [compile_plan(c.child) for c in node.children if isinstance(c, PNot)]
        if not pos and not neg:
            return MATCH_ALL
        clause: dict[str, Any] = {}
        if pos:
            clause["filter"] = pos
        if neg:
            clause["must_not"] = neg
        return {"bool": clause}
    if isinstance(node, POr):
        return _any([compile_plan(c) for c in node.children])
    if isinstance(node, PNot):
        return {"bool": {"must_not": [compile_plan(node.child)]}}
    raise TypeError(f"unsupported plan node {type(node).__name__}")


def _any(queries: list[dict[str, Any]]) -> dict[str, Any]:
    queries = [q for q in queries if q is not MATCH_NONE]
    if not queries:
        return MATCH_NONE
    if len(queries) == 1:
        return queries[0]
    return {"bool": {"should": queries, "minimum_should_match": 1}}


def _phrase(field: str, words: Sequence[tuple[str, ...]], slop: int) -> dict[str, Any]:
    """Each word is the tuple of terms any of which may stand at its position."""
    name = terms_field(field)
    if len(words) == 1:
        return {"terms": {name: list(words[0])}}
    if slop == 0 and all(len(w) == 1 for w in words):
        return {"match_phrase": {name: {"query": " ".join(w[0] for w in words)}}}

    def word(alts: tuple[str, ...]) -> dict[str, Any]:
        rules = [{"match": {"query": t}} for t in alts]
        return rules[0] if len(rules) == 1 else {"any_of": {"intervals": rules}}

    # ("ordered": false, the older spelling, is deprecated and ignored in OpenSearch 3.)
    return {"intervals": {name: {"all_of": {
        "mode": "ordered" if slop == 0 else "unordered", "max_gaps": slop,
        "intervals": [word(w) for w in words]}}}}


def _days(lo: int | None, hi: int | None) -> dict[str, Any]:
    """Whole UTC days ``lo``..``hi`` (days since 1970-01-01), either end open."""
    if lo is None and hi is None:
        return {"exists": {"field": "date"}}
    bounds: dict[str, Any] = {"format": "epoch_second"}
    if lo is not None:
        bounds["gte"] = lo * DAY
    if hi is not None:
        bounds["lte"] = hi * DAY + DAY - 1
    return {"range": {"date": bounds}}


def _keyword(field: str, values: Sequence[str]) -> dict[str, Any]:
    if field not in KEYWORD_FIELDS:
        return MATCH_NONE
    keys = list(dict.fromkeys(match_key(field, v) for v in values if v.strip()))
    return {"terms": {f"fold.{field}": keys}} if keys else MATCH_NONE


# --- scoring ---------------------------------------------------------------------------------


def leaves_of(plan: Any) -> list[Leaf]:
    """The plan's scoring leaves, each once, with the fields it is asked in (as
    :func:`newsearch.ranking.bm25_scores` takes them)."""
    return scoring_leaves(plan)


# What a leaf's document frequency is made of: ("f", field, term) a term's in one field,
# ("s", terms) the documents holding any of a word's spellings in any text field.
DfKey = tuple[Any, ...]


def df_keys(leaf: Leaf) -> list[DfKey]:
    """The document frequencies :func:`leaf_df` needs for ``leaf``."""
    if not isinstance(leaf.term, str):
        return [("s", leaf.term)]
    return [("f", f, t) for f in leaf.fields for t in (leaf.df_of or (leaf.term,))]


def leaf_df(leaf: Leaf, df: dict[DfKey, int]) -> int:
    """A leaf's document frequency as :func:`newsearch.ranking.bm25_scores` takes it: a
    word's spellings counted once over all text fields, a fuzzy word's forms the largest of
    theirs, another term its largest over the fields asked."""
    return max((df[k] for k in df_keys(leaf)), default=0)


def _df_query(key: DfKey) -> dict[str, Any]:
    if key[0] == "f":
        return {"term": {terms_field(key[1]): key[2]}}
    return _any([{"terms": {terms_field(f): list(key[1])}} for f in TEXT_FIELDS])


@dataclass(frozen=True, slots=True)
class LeafStats:
    """What newsearch's BM25 needs from the index for one query."""

    documents: int
    df: tuple[int, ...]  # parallel to the leaves
    newest: int | None  # epoch seconds of the newest dated article


def stats_body(leaves: Sequence[Leaf] = (), keys: Sequence[DfKey] | None = None
               ) -> dict[str, Any]:
    """One ``_search`` request for the document count, the document frequencies the leaves
    need (or the ``keys`` given; bucket ``i`` for the ``i``-th) and the newest date."""
    if keys is None:
        keys = list(dict.fromkeys(k for leaf in leaves for k in df_keys(leaf)))
    aggs: dict[str, Any] = {"newest": {"max": {"field": "date"}}}
    if keys:
        aggs["df"] = {"filters": {"filters": {str(i): _df_query(k)
                                              for i, k in enumerate(keys)}}}
    return {"size": 0, "track_total_hits": True, "query": MATCH_ALL, "aggs": aggs}


def stats_from_response(resp: dict[str, Any], leaves: Sequence[Leaf]) -> LeafStats:
    buckets = resp.get("aggregations", {}).get("df", {}).get("buckets", {})
    newest = resp.get("aggregations", {}).get("newest", {}).get("value")
    keys = list(dict.fromkeys(k for leaf in leaves for k in df_keys(leaf)))
    df = {k: int(buckets[str(i)]["doc_count"]) for i, k in enumerate(keys)}
    return LeafStats(
        documents=int(resp["hits"]["total"]["value"]),
        df=tuple(leaf_df(leaf, df) for leaf in leaves),
        # The max aggregation reports epoch milliseconds.
        newest=int(newest) // 1000 if newest is not None else None,
    )


def leaf_weights(leaves: Sequence[Leaf], stats: LeafStats) -> list[float]:
    """Each leaf's weight (plan boost × query-term weight × idf); 0 for a leaf the index
    does not hold."""
    n_docs = max(1, stats.documents)
    return [float(leaf.boost * qtf_weight(leaf.qtf) * idf(n_docs, df)) if df else 0.0
            for leaf, df in zip(leaves, stats.df, strict=True)]


# One saturation per word over its fields together (newsearch.ranking's BM25F): the
# similarity gives each field's weighted, length-normalised count, a word's fields sum in a
# bool, and this saturates the sum.
# k1 is a parameter read at each search (as the Whoosh side reads ranking.K1), so ranking
# experiments that set it apply to the cluster too.
_SATURATE = "double x = _score; return params.w * x * (params.k1 + 1.0) / (x + params.k1);"


def scoring_clauses(leaves: Sequence[Leaf], stats: LeafStats) -> list[dict[str, Any]]:
    """One optional clause per leaf found in the index, scoring as newsearch's BM25F."""
    out: list[dict[str, Any]] = []
    for leaf, weight in zip(leaves, leaf_weights(leaves, stats), strict=True):
        if not weight:
            continue
        per_field = [_field_clause(terms_field(f), leaf.term, FIELD_BOOSTS.get(f, 1.0))
                     for f in leaf.fields]
        inner = per_field[0] if len(per_field) == 1 else {"bool": {"should": per_field}}
        out.append({"function_score": {
            "query": inner, "boost_mode": "replace",
            "script_score": {"script": {"source": _SATURATE,
                                        "params": {"w": weight, "k1": float(ranking.K1)}}}}})
    return out


def score_bound(leaves: Sequence[Leaf], stats: LeafStats) -> float:
    """More than any document's BM25F score for these leaves (each word's saturated part
    stays below ``weight · (k1 + 1)``): the gap between two tiers."""
    return sum(leaf_weights(leaves, stats)) * (float(ranking.K1) + 1.0) + 1.0


def _field_clause(name: str, term: str | tuple[str, ...], weight: float) -> dict[str, Any]:
    """A term's (or a word's spellings') weighted, length-normalised count in one field."""
    if isinstance(term, str):
        return {"term": {name: {"value": term, "boost": weight}}}
    # As newsearch.ranking merges a word's spellings: the counts of a stem and its
    # cut-short words (kiev, kiev~kieves) add up, as one term; of the families, the one
    # with the most occurrences scores (same field, same length, so the highest score).
    families: dict[str, list[str]] = {}
    for t in term:
        families.setdefault(t.split(TRUNCATED, 1)[0], []).append(t)
    clauses = [_family(name, ts, weight) for ts in families.values()]
    return clauses[0] if len(clauses) == 1 else \
        {"dis_max": {"tie_breaker": 0.0, "queries": clauses}}


def _family(name: str, terms: list[str], weight: float) -> dict[str, Any]:
    if len(terms) == 1:
        return {"term": {name: {"value": terms[0], "boost": weight}}}
    # Terms stacked at one position make the field's analyser build Lucene's SynonymQuery,
    # which scores them as one term with the sum of their frequencies.
    return {"match": {name: {"query": STACK.join(terms), "boost": weight}}}


def tier_clauses(tiers: Sequence[tuple[Any, int]], gap: float) -> list[dict[str, Any]]:
    """Constant-score clauses lifting the hits of each tier condition
    (:func:`newsearch.tiers.tier_conditions`) by its levels × ``gap``."""
    out = []
    for condition, levels in tiers:
        query = compile_plan(condition)
        if query is not MATCH_NONE:
            out.append({"constant_score": {"filter": query, "boost": levels * gap}})
    return out


def search_body(plan: Any, *, leaves: Sequence[Leaf] = (), stats: LeafStats | None = None,
                filters: Sequence[Any] = (), sort: str = "relevance", size: int = 10,
                offset: int = 0, half_life_days: float = 30.0,
                aggs: dict[str, Any] | None = None,
                tiers: Sequence[tuple[Any, int]] = (), tier_gap: float = 0.0
                ) -> dict[str, Any]:
    """The ``_search`` body for one page of ``plan``'s hits.

    ``filters`` are more plan nodes every hit must match (section and date options);
    ``stats`` (from :func:`stats_body`) is needed for scores; ``sort`` is ``relevance``,
    ``date`` (newest first, undated last) or ``recency`` (relevance × a decay with
    ``half_life_days`` from the newest article, never below ``RECENCY_FLOOR``). Equal keys
    are ordered by article id. ``tiers`` (conditions and their levels, see
    :mod:`newsearch.tiers`) add levels × ``tier_gap`` to the scores of relevance and recency
    (a gap above any score: :func:`score_bound`), so a hit's tier is ``score // tier_gap``.
    """
    if sort not in SORTS:
        raise ValueError(f"sort must be one of {', '.join(SORTS)}")
    should = scoring_clauses(leaves, stats) if stats is not None and leaves else []
    query: dict[str, Any] = {"bool": {"filter": [compile_plan(plan),
                                                 *[compile_plan(f) for f in filters]]}}
    if should:
        query["bool"]["should"] = should
    body: dict[str, Any] = {"size": size, "from": offset, "track_total_hits": True}
    if sort == "recency" and stats is not None and stats.newest is not None:
        query = {"function_score": {
            "query": query,
            "functions": [
                {"weight": RECENCY_FLOOR},
                {"filter": {"exists": {"field": "date"}}, "weight": 1.0 - RECENCY_FLOOR,
                 "exp": {"date": {"origin": str(stats.newest),
                                  "scale": f"{max(1, round(half_life_days * DAY))}s",
                                  "decay": 0.5}}},
            ],
            "score_mode": "sum", "boost_mode": "multiply"}}
    elif sort == "recency":
        # Nothing dated in the index: every article gets the floor.
        query = {"function_score": {"query": query, "functions": [{"weight": RECENCY_FLOOR}],
                                    "boost_mode": "multiply"}}
    lifts = tier_clauses(tiers, tier_gap) if sort != "date" and tier_gap > 0 else []
    if lifts:
        # Added after the recency decay: a tier stays above the next whatever the dates.
        query = {"bool": {"must": [query], "should": lifts}}
    body["query"] = query
    if sort == "date":
        body["sort"] = [{"date": {"order": "desc", "missing": "_last"}}, {"id": "asc"}]
        body["track_scores"] = True
    else:
        body["sort"] = [{"_score": "desc"}, {"id": "asc"}]
    if aggs:
        body["aggs"] = aggs
    return body
