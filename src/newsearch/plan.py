"""From the backend-neutral query tree to an executable plan, for either backend.

    query tree (query.py) ──compile──▶ plan: And / Or / Not over leaves
        Terms     a word's index terms in some fields (scored, BM25)
        Fuzzy     a fuzzy word's own term and look-alikes (scored with one frequency)
        Phrase    word sequence with slop (positions checked by Whoosh's phrase matcher)
        Days      a UTC day range (read from the date column, no postings)
        Sections  exact section names (case-insensitive)
        All/Nothing
    plan ──▶ backends/whoosh/evaluate.py: a boolean mask over the view's documents
         ──▶ backends/opensearch/dsl.py: query DSL

Words go through the same analysis as the articles: a query word is split with the article
tokenizer (``EAST-WEST`` becomes the phrase ``east west``, ``SIHANOUK,`` the word
``sihanouk``), stop words are left out of word lists, and each remaining token asks for all
its analysis alternatives. Prefix and fuzzy words expand to at most a fixed number of index
terms, so no query can make the engine enumerate the vocabulary.

Compiling asks the index only what :class:`IndexTerms` names (its languages, a cache of
families) and what the callables it is given answer (vocabulary, prefix expansion): this
module imports no engine.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, NamedTuple, Protocol

from .analysis import (
    MAX_TOKEN_CHARS,
    TOKEN_RE,
    is_family,
    is_stop_word,
    prefix_term,
    query_terms,
    word_terms,
)
from .query import And, DateRange, FieldValue, Fuzzy, MatchAll, Node, Not, Or, Phrase, Prefix, Word
from .snippets import SnippetQuery

__all__ = ["DEFAULT_FIELDS", "FIELD_BOOSTS", "CompiledQuery", "Leaf", "PFuzzy", "compile_query",
           "fuzzy_edits", "required_fuzzy", "scoring_leaves"]

# Field weights for BM25F: a word in the headline says more than one in the body.
FIELD_BOOSTS = {"title": 2.5, "subtitle": 1.5, "body": 1.0, "author": 1.0}
DEFAULT_FIELDS = ("title", "subtitle", "body")
PREFIX_MAX_TERMS = 200
FUZZY_MAX_TERMS = 50
# All prefix and fuzzy words of one query share this many expanded terms.
QUERY_MAX_EXPANSIONS = 500
FUZZY_BOOST = 0.5  # weight of a fuzzy word's look-alikes against the word itself
# A stem's family of cut-short capitalised words (kiev~kieves, kiev~kievs) is read from the
# index up to this many terms (most frequent first).
FAMILY_MAX_TERMS = 100
_EPOCH = date(1970, 1, 1)


# --- plan nodes -----------------------------------------------------------------------------


@dataclass(frozen=True)
class PTerms:
    """Documents holding any of ``terms`` in any of ``fields``. Each (field, term) scores on
    its own, unless ``spellings``: then the terms are forms of one word (a Cyrillic stem and
    name form, place-name variants) and score as one term per field, so that a rare form
    (*Rossi* for *России*) neither gets a rare word's weight nor adds to the common one."""

    fields: tuple[str, ...]
    terms: tuple[str, ...]
    boost: float = 1.0
    spellings: bool = False


@dataclass(frozen=True)
class PFuzzy:
    """A fuzzy word (``almaty~``): the word's own term and its look-alikes, closest and most
    frequent first. Every form scores with the document frequency of the commonest one, so
    a rare look-alike (*Amatil* for *Almaty*) never weighs more than the word asked for; the
    searcher ranks the articles holding the word itself first, then by the forms' order."""

    fields: tuple[str, ...]
    word: tuple[str, ...]  # the word's own terms (its spellings)
    forms: tuple[str, ...]  # the look-alikes
    distances: tuple[int, ...]  # edits from the word, per look-alike


@dataclass(frozen=True)
class PPhrase:
    """Documents holding the words in sequence (``slop`` 0) or near each other; each word
    is the tuple of terms any of which may stand at its position."""

    fields: tuple[str, ...]
    terms: tuple[tuple[str, ...], ...]
    slop: int = 0


@dataclass(frozen=True)
class PDays:
    lo: int | None
    hi: int | None


@dataclass(frozen=True)
class PSections:
    names: tuple[str, ...]


@dataclass(frozen=True)
class PExact:
    """Exact keyword terms (tags, lang): match only, no score."""

    field: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class PAnd:
    children: tuple[Any, ...]
    # How often each child was asked for ("budget budget cuts": the word weighs twice);
    # empty when every child came once.
    repeats: tuple[int, ...] = ()


@dataclass(frozen=True)
class POr:
    children: tuple[Any, ...]
    repeats: tuple[int, ...] = ()


@dataclass(frozen=True)
class PNot:
    child: Any


@dataclass(frozen=True)
class PAll:
    pass


@dataclass(frozen=True)
class PNothing:
    pass


@dataclass
class CompiledQuery:
    plan: Any
    highlight: SnippetQuery = field(default_factory=SnippetQuery)
    dropped: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return self.plan is None or isinstance(self.plan, PNothing)


# --- compiling -------------------------------------------------------------------------------


class IndexTerms(Protocol):
    """What compiling asks of an index generation: the languages its articles are in (for
    the stemmers of query words) and a cache of word families per generation."""

    @property
    def languages(self) -> frozenset[str]: ...

    @property
    def families(self) -> dict[tuple[Any, ...], tuple[str, ...]]: ...


class _Compiler:
    def __init__(self, view: IndexTerms, vocabulary: Callable[[], Any],
                 expand_prefix: Callable[[Sequence[str], str, int], list[str]],
                 keep_common: bool = False) -> None:
        self.view = view
        self.keep_common = keep_common
        self.vocabulary = vocabulary
        self.expand_prefix = expand_prefix
        self.highlight = SnippetQuery()
        self.dropped: list[str] = []
        self.notices: list[str] = []
        self.budget = QUERY_MAX_EXPANSIONS
        self.seen: dict[tuple[Node, bool], Any] = {}
        self.langs = view.languages

    @staticmethod
    def fields(name: str | None) -> tuple[str, ...]:
        return DEFAULT_FIELDS if name is None else (name,)

    def compile(self, node: Node, negated: bool = False) -> Any:
        # The same subquery twice ("said~2 said~2", a pasted list) is compiled once.
        key = (node, negated)
        if key not in self.seen:
            self.seen[key] = self._compile(node, negated)
        return self.seen[key]

    def expand(self, terms: tuple[str, ...], fields: tuple[str, ...]) -> tuple[str, ...]:
        """``terms`` with each family (``kiev~``) replaced by its members in the index."""
        if not any(is_family(t) for t in terms):
            return terms
        out: list[str] = []
        cache = self.view.families
        for t in terms:
            if not is_family(t):
                out.append(t)
                continue
            key = (fields, t)
            members = cache.get(key)
            if members is None:
                members = cache[key] = tuple(self.expand_prefix(fields, t, FAMILY_MAX_TERMS))
            out += members
        return tuple(dict.fromkeys(out))

    def take_budget(self, wanted: int) -> int:
        granted = min(wanted, self.budget)
        self.budget -= granted
        if granted < wanted and not self.notices:
            self.notices.append(f"expanded prefix and fuzzy words to at most "
                                f"{QUERY_MAX_EXPANSIONS} index terms in all")
        return granted

    def _compile(self, node: Node, negated: bool) -> Any:
        if isinstance(node, Word):
            return self.word(node.text, node.field, negated)
        if isinstance(node, Phrase):
            return self.phrase(list(node.texts), node.field, node.slop, negated)
        if isinstance(node, Prefix):
            fields = self.fields(node.field)
            limit = self.take_budget(PREFIX_MAX_TERMS)
            terms = self.expand_prefix(fields, prefix_term(node.text), limit) if limit else []
            self.budget += limit - len(terms)
            if not terms:
                return PNothing()
            if not negated:
                self.highlight.terms.update(terms)
            return PTerms(fields, tuple(terms))
        if isinstance(node, Fuzzy):
            return self.fuzzy(node, negated)
        if isinstance(node, FieldValue):
            if node.field == "section":
                return PSections((node.value,))
            return PExact(node.field, (node.value,))  # tags, lang: any case (see Evaluator)
        if isinstance(node, DateRange):
            lo = (node.start - _EPOCH).days if node.start else None
            hi = (node.end - _EPOCH).days if node.end else None
            return PDays(lo, hi)
        if isinstance(node, (And, Or)):
            parts = Counter(p for p in (self.compile(c, negated) for c in node.children)
                            if p is not None)
            if not parts:
                return None
            repeats = tuple(parts.values()) if max(parts.values()) > 1 else ()
            if len(parts) == 1 and not repeats:
                return next(iter(parts))
            return (PAnd if isinstance(node, And) else POr)(tuple(parts), repeats)
        if isinstance(node, Not):
            inner = self.compile(node.child, not negated)
            return None if inner is None else PNot(inner)
        if isinstance(node, MatchAll):
            return PAll()
        raise TypeError(f"unsupported query node {type(node).__name__}")

    def word(self, text: str, field_name: str | None, negated: bool) -> Any:
        tokens = TOKEN_RE.findall(text)
        if len(tokens) > 1:  # "EAST-WEST", "co-operation": the tokens as a phrase
            return self.phrase(tokens, field_name, 0, negated)
        if not tokens:
            self.dropped.append(text)
            return None
        if len(tokens[0]) > MAX_TOKEN_CHARS:
            self.notices.append(f"ignored a word longer than {MAX_TOKEN_CHARS} characters")
            return None
        if is_stop_word(tokens[0]) and not self.keep_common:
            self.dropped.append(text)
            return None
        terms = word_terms(tokens[0], self.langs) if self.keep_common else \
            query_terms(tokens[0], self.langs)
        terms = self.expand(terms, self.fields(field_name))
        if not terms:
            self.dropped.append(text)
            return None
        if not negated and field_name in (None, "title", "body"):
            self.highlight.terms.update(terms)
        return PTerms(self.fields(field_name), terms, spellings=len(terms) > 1)

    def phrase(self, words: list[str], field_name: str | None, slop: int, negated: bool) -> Any:
        tokens = [t for w in words for t in TOKEN_RE.findall(w)]
        # A phrase word may stand as any of its terms (its stem in each language of the
        # index, whole or cut short; a Cyrillic word's lemma), but no other place name.
        fields = self.fields(field_name)
        pairs = [(w, self.expand(ts, fields)) for w in tokens
                 if (ts := word_terms(w, self.langs))]
        seq = [ts for _w, ts in pairs]
        if not seq:
            self.dropped.append(" ".join(words))
            return None
        if len(seq) == 1:
            return self.word(tokens[0], field_name, negated)
        if not negated and field_name in (None, "title", "body"):
            if slop:  # words apart: mark each of them (not the common ones)
                self.highlight.terms.update(t for w, ts in pairs if not is_stop_word(w)
                                            for t in ts)
            else:
                self.highlight.phrases.append(tuple(frozenset(ts) for ts in seq))
        return PPhrase(fields, tuple(seq), slop)

    def fuzzy(self, node: Fuzzy, negated: bool) -> Any:
        tokens = TOKEN_RE.findall(node.text)
        fields = self.fields(node.field)
        base = self.expand(word_terms(tokens[0], self.langs), fields) if tokens else ()
        if not base:
            self.dropped.append(node.text)
            return None
        allowed = fuzzy_edits(tokens[0])
        maxdist = allowed if node.maxdist is None else min(node.maxdist, allowed)
        if node.maxdist is not None and node.maxdist > allowed:
            self.notices.append(f"{node.text}~: at most {allowed} edit"
                                f"{'' if allowed == 1 else 's'} for a word of "
                                f"{len(tokens[0])} letters")
        limit = self.take_budget(FUZZY_MAX_TERMS) if maxdist else 0
        near = [(t, d) for t, d in self.vocabulary().near(base[0], maxdist, limit)
                if t not in base] if limit else []
        self.budget += limit - len(near)
        if not negated:
            self.highlight.terms.update([*base, *(t for t, _d in near)])
        if not near:
            return PTerms(fields, base, spellings=len(base) > 1)
        return PFuzzy(fields, base, tuple(t for t, _d in near), tuple(d for _t, d in near))


def fuzzy_edits(word: str) -> int:
    """The edits a word of this length deserves (as Elasticsearch's ``fuzziness: AUTO``):
    none up to 2 letters, 1 up to 5, else 2. More turn a short word into any other."""
    n = len(word)
    return 0 if n <= 2 else 1 if n <= 5 else 2


def compile_query(node: Node, view: IndexTerms, vocabulary: Callable[[], Any],
                  expand_prefix: Callable[[Sequence[str], str, int], list[str]]
                  ) -> CompiledQuery:
    """The plan for ``node``. Common words are left out of word lists, unless nothing else
    is left: *the who* or *to be or not to be* are then searched as typed."""
    comp = _Compiler(view, vocabulary, expand_prefix)
    plan = comp.compile(node)
    if plan is None and comp.dropped:
        comp = _Compiler(view, vocabulary, expand_prefix, keep_common=True)
        plan = comp.compile(node)
    return CompiledQuery(plan, comp.highlight, comp.dropped, comp.notices)



class Leaf(NamedTuple):
    """One term that adds to a document's score, over the fields it was asked in. ``term``
    is a tuple for the spellings of one word (scored as one term); ``qtf`` is how often the
    query asks for it."""

    fields: tuple[str, ...]
    term: str | tuple[str, ...]
    boost: float
    qtf: int = 1
    # Terms whose largest document frequency this one scores with (a fuzzy word's forms).
    df_of: tuple[str, ...] = ()


def scoring_leaves(node: Any, qtf: int = 1) -> list[Leaf]:
    """The scoring terms of a plan, each once, with its query-term frequency (a word typed
    twice, or two words with one stem, count twice)."""
    counts: Counter[Leaf] = Counter()
    _leaves(node, qtf, counts)
    return [leaf._replace(qtf=n) for leaf, n in counts.items()]


def _leaves(node: Any, qtf: int, out: Counter[Leaf]) -> None:
    if isinstance(node, PTerms) and node.spellings:
        out[Leaf(node.fields, node.terms, node.boost)] += qtf
    elif isinstance(node, PTerms):
        for t in node.terms:
            out[Leaf(node.fields, t, node.boost)] += qtf
    elif isinstance(node, PFuzzy):
        every = (*node.word, *node.forms)
        word = node.word if len(node.word) > 1 else node.word[0]
        out[Leaf(node.fields, word, 1.0, df_of=every)] += qtf
        for t in node.forms:
            out[Leaf(node.fields, t, FUZZY_BOOST, df_of=every)] += qtf
    elif isinstance(node, PPhrase):
        for ts in dict.fromkeys(node.terms):
            out[Leaf(node.fields, ts if len(ts) > 1 else ts[0], 1.0)] += qtf
    elif isinstance(node, (PAnd, POr)):
        repeats = node.repeats or (1,) * len(node.children)
        for c, n in zip(node.children, repeats, strict=True):
            _leaves(c, qtf * n, out)


def required_fuzzy(node: Any) -> list[PFuzzy]:
    """The fuzzy words every hit must hold (the query itself, or a part of its top AND)."""
    if isinstance(node, PFuzzy):
        return [node]
    if isinstance(node, PAnd):
        return [c for c in node.children if isinstance(c, PFuzzy)]
    return []


