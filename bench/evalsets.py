"""The evaluation suite's data: test collections with judgments, and known-item sets.

    Corpus     the documents every engine indexes: (id, title, body) for the peers; for
               newsearch either the original files (indexed as a user indexes them) or, for
               the test collections, a JSON Lines copy with the same id, title and body
    QuerySet   queries as a user types them (:func:`typed`) and judgments {qid: {doc: rel}};
               ``adhoc`` (graded or binary judgments, MAP / nDCG@10 / P@10) or
               ``known-item`` (one article per query, MRR / success@1 / success@10)

Test collections (``../shared/corpora``): TIME (``time/``, judgments by TEXT number from
``qrels_textno.tsv``) and Cranfield, ADI, NPL, CACM (``ir/*/docs.jsonl``, ``queries.tsv``,
``qrels.tsv``; Cranfield's codes as ``ir/README.md`` maps them, ``rel`` 0 judged
not relevant). NPL and TIME have no titles.

Known-item sets are generated from BBC, Reuters-21578 and RIA Novosti, whose articles are
read with newsearch's own readers and deduplicated as its indexer does (an exact copy is
indexed once, so every engine holds the same articles). For each corpus and seed, with
``random.Random(f"{corpus}/{kind}/{seed}")``:

    rare      an article with at least 50 words of text; 3, 4 or 5 of its words (the number
              drawn too) that are rare in the corpus: letters only, at least three, found in
              at least 2 and at most 1 % of the articles (a word of one article only would
              make the task trivial for any engine), in the order they first appear; no
              other article holds all of them
    headline  an article whose headline has at least two content words; the query is those
              words; no other headline has the same set of content words

Seed :data:`TUNING_SEED` is the set ranking changes are judged on; :data:`HELD_OUT_SEED`
draws other articles and is never tuned on (reported in its own rows).

A query "as a user types it" (:func:`typed`): the text lowercased, split into words
(letters and digits, inner dots kept: ``u.s``, ``3.5``), words of one character and the
stop words of :data:`STOP_WORDS` left out, everything else kept in order, repeats
included, joined by single spaces.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from .conftest import need_corpora
from .time_collection import load_time

__all__ = ["ADHOC", "HELD_OUT_SEED", "KNOWN_ITEM_CORPORA", "STOP_WORDS", "TUNING_SEED",
           "Corpus", "Doc", "QuerySet", "adhoc_corpus", "known_item_corpus", "typed"]

ADHOC = ("time", "cranfield", "adi", "npl", "cacm")
KNOWN_ITEM_CORPORA = ("bbc", "reuters", "ria")
TUNING_SEED = 1
HELD_OUT_SEED = 2
KNOWN_ITEMS_PER_SET = 100
RARE_MAX_SHARE = 0.01  # a rare word: in at most 1 % of the articles
RARE_MIN_TEXT_WORDS = 50

# Whoosh 2.7's default STOP_WORDS (the list ir/fts5_baseline.py drops) and the commonest
# Russian function words of two letters or more (RIA's headlines).
STOP_WORDS = frozenset(
    "a an and are as at be by can for from have if in is it may not of on or tbd that the "
    "this to us we when will with yet you your "
    "во не что он на как то все она так его но да ты же вы за бы по ее мне было вот от "
    "меня еще нет об из ему ли если уже или ни быть был него до вас там для мы их чем "
    "была без под будет кто этот при".split())
_WORD = re.compile(r"\w+(?:\.\w+)*")
_LETTERS = re.compile(r"[^\W\d_]{3,}")


@dataclass(frozen=True)
class Doc:
    id: str
    title: str
    body: str


@dataclass
class QuerySet:
    name: str  # the row label: "cranfield", "bbc rare", "bbc rare (held-out)"
    kind: str  # "adhoc" or "known-item"
    queries: dict[str, str]  # qid ─▶ query as typed
    qrels: dict[str, dict[str, int]]  # qid ─▶ {doc id: relevance}
    held_out: bool = False

    @property
    def judged(self) -> list[str]:
        """Queries with at least one relevant document (the ones averaged over)."""
        return [q for q, docs in self.qrels.items() if any(r >= 1 for r in docs.values())]


@dataclass
class Corpus:
    name: str
    docs: list[Doc]
    sets: list[QuerySet] = field(default_factory=list)
    # Files newsearch indexes as a user would (hits are then these documents' article ids);
    # None: a JSON Lines copy of ``docs`` (hits are mapped back by their record id).
    files: list[Path] | None = None


def typed(text: str) -> str:
    """The query as a user types it: lowercased content words, space-separated."""
    return " ".join(content_words(text))


def content_words(text: str) -> list[str]:
    return [w for w in _WORD.findall(text.lower())
            if len(w) > 1 and w not in STOP_WORDS and w.strip(".")]


# --- test collections with judgments ----------------------------------------------------------


def adhoc_corpus(name: str) -> Corpus:
    """TIME or one of ``ir/``'s collections, with its one query set."""
    root = need_corpora()
    if name == "time":
        c = load_time(root / "time")
        docs = [Doc(d.text_no, "", d.text) for d in c.documents]
        queries = {q: typed(t) for q, t in c.queries.items()}
        qrels = {q: dict(j) for q, j in c.qrels.items()}
    else:
        folder = root / "ir" / name
        docs = []
        with (folder / "docs.jsonl").open(encoding="utf-8") as f:
            for line in f:
                rec = json.loads(line)
                docs.append(Doc(rec["id"], rec.get("title", ""), rec["body"]))
        queries = {q: typed(t) for q, t in _tsv(folder / "queries.tsv")}
        qrels = {}
        for qid, _iter, doc, rel in _tsv(folder / "qrels.tsv"):
            qrels.setdefault(qid, {})[doc] = int(rel)
    qs = QuerySet(name, "adhoc", {q: t for q, t in queries.items() if q in qrels}, qrels)
    return Corpus(name, docs, [qs])


def _tsv(path: Path) -> Iterator[list[str]]:
    lines = path.read_text("utf-8").split("\n")
    for line in lines[1:]:
        if line.strip():
            # Split on the first tabs only: a query may hold anything but a tab.
            yield line.split("\t")


# --- known-item sets --------------------------------------------------------------------------


def _sources(name: str) -> list[Path]:
    root = need_corpora()
    if name == "bbc":
        return [root / "bbc"]
    if name == "reuters":
        return sorted((root / "reuters21578").glob("reut2-*.sgm"))
    if name == "ria":
        return [root / "cyrillic" / "ria_news"]
    raise ValueError(name)


@cache
def _articles(name: str) -> tuple[Doc, ...]:
    """The corpus as newsearch reads it, each exact duplicate once (first copy kept)."""
    from newsearch.article import Article
    from newsearch.corpus import CorpusFile, load, walk
    from newsearch.errors import SkippedInput
    from newsearch.readers import read_source

    seen: set[str] = set()
    docs: list[Doc] = []
    for f in walk(list(_sources(name))):
        if not isinstance(f, CorpusFile):
            continue
        try:
            items = list(read_source(load(f)))
        except SkippedInput:
            continue  # README.TXT and the like: newsearch skips them too
        for a in items:
            if isinstance(a, Article) and a.dedup not in seen:
                seen.add(a.dedup)
                body = "\n".join(filter(None, [a.subtitle, a.body]))
                docs.append(Doc(a.id, a.title, body))
    return tuple(docs)


def known_item_corpus(name: str, per_set: int = KNOWN_ITEMS_PER_SET) -> Corpus:
    """BBC, Reuters-21578 or RIA with its four known-item sets (rare / headline, tuning and
    held-out seeds)."""
    docs = list(_articles(name))
    words = [set(_LETTERS.findall(f"{d.title}\n{d.body}".lower())) for d in docs]
    df = Counter(w for ws in words for w in ws)
    corpus = Corpus(name, docs, files=_sources(name))
    for seed in (TUNING_SEED, HELD_OUT_SEED):
        held = seed == HELD_OUT_SEED
        suffix = " (held-out)" if held else ""
        # The held-out seed never draws an article the tuning seed drew.
        taken = {d for s in corpus.sets for judged in s.qrels.values() for d in judged}
        corpus.sets.append(_rare_set(name, docs, words, df, seed, per_set, taken,
                                     f"{name} rare{suffix}", held))
        corpus.sets.append(_headline_set(name, docs, seed, per_set, taken,
                                         f"{name} headline{suffix}", held))
    return corpus


def _rare_set(name: str, docs: list[Doc], words: list[set[str]], df: Counter[str], seed: int,
              n: int, taken: set[str], label: str, held: bool) -> QuerySet:
    rng = random.Random(f"{name}/rare/{seed}")
    most = max(2, int(RARE_MAX_SHARE * len(docs)))
    order = list(range(len(docs)))
    rng.shuffle(order)
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for i in order:
        d = docs[i]
        if len(queries) == n:
            break
        if d.id in taken or len(_WORD.findall(d.body)) < RARE_MIN_TEXT_WORDS:
            continue
        rare = sorted(w for w in words[i] if 2 <= df[w] <= most and w not in STOP_WORDS)
        if len(rare) < 3:
            continue
        chosen = rng.sample(rare, min(len(rare), rng.choice((3, 4, 5))))
        if sum(1 for ws in words if ws.issuperset(chosen)) > 1:
            continue  # another article has every word: not one known item
        text = f"{d.title}\n{d.body}".lower()
        chosen.sort(key=lambda w: _first(text, w))
        qid = f"{len(queries) + 1}"
        queries[qid] = " ".join(chosen)
        qrels[qid] = {d.id: 1}
    return QuerySet(label, "known-item", queries, qrels, held)


def _headline_set(name: str, docs: list[Doc], seed: int, n: int, taken: set[str], label: str,
                  held: bool) -> QuerySet:
    rng = random.Random(f"{name}/headline/{seed}")
    heads = [content_words(d.title) for d in docs]
    same = Counter(frozenset(h) for h in heads)
    order = list(range(len(docs)))
    rng.shuffle(order)
    queries: dict[str, str] = {}
    qrels: dict[str, dict[str, int]] = {}
    for i in order:
        if len(queries) == n:
            break
        d, head = docs[i], heads[i]
        if d.id in taken or len(set(head)) < 2 or same[frozenset(head)] > 1:
            continue
        qid = f"{len(queries) + 1}"
        queries[qid] = " ".join(head)
        qrels[qid] = {d.id: 1}
    return QuerySet(label, "known-item", queries, qrels, held)


def _first(text: str, word: str) -> int:
    m = re.search(rf"(?<!\w){re.escape(word)}(?!\w)", text)
    return m.start() if m else len(text)
