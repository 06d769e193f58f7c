"""The query language: a query string becomes a backend-neutral tree.

    "tokayev -riots" title:almaty "peace talks"~3 econom* date:2022-01 (oil OR gas)
        │
        ▼  parse_query()  (lenient: repairs what it can and says so; strict raises QueryError)
    And([Word("tokayev"), Not(Word("riots")), Word("almaty", field="title"),
         Phrase(["peace", "talks"], slop=3), Prefix("econom"), DateRange(2022-01-01, 2022-01-31),
         Or([Word("oil"), Word("gas")])])

Syntax:
    words                 all required (AND is implicit), ranked
    a OR b, a AND b       boolean operators (upper case); OR binds looser than AND; in a
                          query of six or more words typed all in capitals they are words
    NOT a, -a, +a         exclusion; ``+`` marks a required word (the default anyway)
    "exact phrase"        words in this order
    "a b"~N               proximity: the words in any order, at most N other words among them
    field:value           title: body: section: author: tags: lang: (value may be a word,
                          a "phrase" or a (group))
    date:2022, date:2022-01, date:2022-01-15, date:[2022-01-01 TO 2022-01-31]
                          a year, month, day or inclusive range (``*`` for an open end)
    econom*               prefix
    almaty~, almaty~1     fuzzy (edit distance 1-2; automatic from the word's length)
    ( ... )               grouping

Nothing in the tree depends on an engine: :mod:`newsearch.plan` compiles it for each backend.
Words are kept as typed; the backend analyses them with the same chain as the articles.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date

from .errors import QueryError

__all__ = [
    "FIELDS",
    "MAX_QUERY_CHARS",
    "MAX_SLOP",
    "MAX_TERMS",
    "And",
    "DateRange",
    "FieldValue",
    "Fuzzy",
    "MatchAll",
    "Node",
    "Not",
    "Or",
    "ParsedQuery",
    "Phrase",
    "Prefix",
    "Word",
    "day_bound",
    "parse_query",
]

# Longer queries are cut (at a word boundary) before parsing: the parser and every backend
# pay per term. A pasted paragraph of 300 words (about 2,000 characters of English) is
# searched whole; prefix, fuzzy and place-name expansions stay bounded per query (plan.py).
MAX_QUERY_CHARS = 4_000
MAX_EDITS = 2  # fuzzy "word~N": more edits match nearly any word of the vocabulary
MAX_TERMS = 300
# "a b"~N: at most this many other words among them (wider windows stop meaning "near").
MAX_SLOP = 20
CAPS_SENTENCE_WORDS = 6
# Text fields a word may be aimed at, and exact-value fields.
TEXT_FIELDS = ("title", "body", "author")
KEYWORD_FIELDS = ("section", "tags", "lang")
FIELDS = (*TEXT_FIELDS, *KEYWORD_FIELDS, "date")
_FIELD_ALIASES = {"tag": "tags", "headline": "title", "text": "body", "category": "section",
                  "topic": "section", "language": "lang", "byline": "author"}


class Node:
    """Base of the query tree."""

    def words(self) -> list[str]:
        """Free-text words in this subtree that are not negated (for highlighting)."""
        return []


@dataclass(frozen=True)
class Word(Node):
    text: str
    field: str | None = None  # None: title, subtitle and body

    def words(self) -> list[str]:
        return [self.text] if self.field in (None, "title", "body") else []


@dataclass(frozen=True)
class Phrase(Node):
    texts: tuple[str, ...]
    field: str | None = None
    slop: int = 0

    def words(self) -> list[str]:
        return list(self.texts) if self.field in (None, "title", "body") else []


@dataclass(frozen=True)
class Prefix(Node):
    text: str
    field: str | None = None


@dataclass(frozen=True)
class Fuzzy(Node):
    text: str
    field: str | None = None
    maxdist: int | None = None  # None: 1 for words up to 5 letters, else 2


@dataclass(frozen=True)
class FieldValue(Node):
    """An exact value of a keyword field (``section:World``), matched case-insensitively."""

    field: str
    value: str


@dataclass(frozen=True)
class DateRange(Node):
    """Inclusive UTC day range; None for an open end."""

    start: date | None
    end: date | None


@dataclass(frozen=True)
class And(Node):
    children: tuple[Node, ...]

    def words(self) -> list[str]:
        return [w for c in self.children for w in c.words()]


@dataclass(frozen=True)
class Or(Node):
    children: tuple[Node, ...]

    def words(self) -> list[str]:
        return [w for c in self.children for w in c.words()]


@dataclass(frozen=True)
class Not(Node):
    child: Node


@dataclass(frozen=True)
class MatchAll(Node):
    pass


@dataclass
class ParsedQuery:
    """The tree, the text it was parsed from, and what the lenient parser had to repair."""

    node: Node
    text: str
    repairs: list[str] = field(default_factory=list)
    explicit: bool = False  # the user wrote AND or quoted a word: every word is meant

    @property
    def plain_words(self) -> list[str] | None:
        """The words when the query is nothing but implicitly AND-ed plain words (the case
        where a too-strict natural-language query may fall back to any-word ranking)."""
        if self.explicit:
            return None
        node = self.node
        kids = node.children if isinstance(node, And) else (node,)
        if all(isinstance(k, Word) and k.field is None for k in kids):
            return [k.text for k in kids]  # type: ignore[attr-defined]
        return None


# --- tokens ------------------------------------------------------------------------------------

_FIELD_NAMES = "|".join(sorted({*FIELDS, *_FIELD_ALIASES}, key=len, reverse=True))
_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<lparen>\()
  | (?P<rparen>\))
  | (?P<phrase>"(?P<ptext>[^"]*)("|$)(?:~(?P<pslop>\d{1,3}))?)
  | (?P<range>\[(?P<rtext>[^\]]*)(\]|$))
  | (?P<sign>[-+](?=(?i:"""
    + _FIELD_NAMES
    + r"""):))
  | (?P<field>(?P<fname>[A-Za-z]+):\s*)
  | (?P<word>[^\s()"\[\]]+)
    """,
    re.VERBOSE,
)


@dataclass
class _Tok:
    kind: str
    text: str
    pos: int
    slop: int | None = None
    closed: bool = True


def _tokenise(text: str, repairs: list[str]) -> list[_Tok]:
    toks: list[_Tok] = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind in (None, "ws"):
            continue
        if m.group("phrase") is not None:
            closed = m.group(0).rstrip("0123456789~").endswith('"') and len(m.group(0)) > 1
            if not closed:
                repairs.append("closed an unbalanced quote")
            slop = int(m.group("pslop")) if m.group("pslop") else None
            toks.append(_Tok("phrase", m.group("ptext"), m.start(), slop, closed))
        elif m.group("range") is not None:
            if not m.group(0).endswith("]"):
                repairs.append("closed an unbalanced bracket")
            toks.append(_Tok("range", m.group("rtext"), m.start()))
        elif kind == "sign":  # "-section:crude": the sign alone, as before a phrase or group
            toks.append(_Tok("word", m.group(0), m.start()))
        elif kind == "field":
            toks.append(_Tok("field", m.group("fname").lower(), m.start()))
        else:
            toks.append(_Tok(kind, m.group(0), m.start()))
    return toks


# --- parser ------------------------------------------------------------------------------------

_OPERATORS = {"AND", "OR", "NOT"}


class _Parser:
    def __init__(self, toks: list[_Tok], text: str, strict: bool, repairs: list[str]) -> None:
        self.toks = toks
        self.i = 0
        self.text = text
        self.strict = strict
        self.repairs = repairs
        self.depth = 0
        self.terms = 0
        self.over = False
        self.explicit = False
        # A long question typed in capitals ("... IN AFRICA AND ASIA OR LATIN AMERICA") uses
        # AND/OR/NOT as words, not operators.
        words = [t for t in toks if t.kind == "word"]
        self.caps_sentence = (len(words) >= CAPS_SENTENCE_WORDS
                              and not any(c.islower() for c in text))

    def peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def repair(self, message: str, tok: _Tok | None) -> None:
        if self.strict:
            raise QueryError(self.text, message, tok.pos if tok else len(self.text))
        self.repairs.append(message)

    def is_op(self, tok: _Tok | None, op: str) -> bool:
        return (tok is not None and tok.kind == "word" and tok.text == op
                and not self.caps_sentence)

    def parse(self) -> Node:
        node = self.or_expr()
        while self.peek() is not None:  # a stray ")" ends or_expr early: skip it and go on
            tok = self.take()
            self.repair("ignored an unmatched closing parenthesis", tok)
            rest = self.or_expr()
            node = _and([node, rest])
        return node

    def or_expr(self) -> Node:
        parts = [self.and_expr()]
        if isinstance(parts[0], _Empty) and self.is_op(self.peek(), "OR"):
            self.repair("ignored a dangling OR", self.peek())
        while self.is_op(self.peek(), "OR"):
            op = self.take()
            nxt = self.and_expr()
            if isinstance(nxt, _Empty):
                self.repair("ignored a dangling OR", op)
                continue
            parts.append(nxt)
        parts = [p for p in parts if not isinstance(p, _Empty)]
        if not parts:
            return _Empty()
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_expr(self) -> Node:
        parts: list[Node] = []
        while True:
            tok = self.peek()
            if tok is None or tok.kind == "rparen" or self.is_op(tok, "OR"):
                break
            if self.is_op(tok, "AND"):
                self.take()
                if not parts or self._at_end_of_group():
                    self.repair("ignored a dangling AND", tok)
                else:
                    self.explicit = True
                continue
            node = self.unary()
            if not isinstance(node, _Empty):
                parts.append(node)
        if not parts:
            return _Empty()
        return _and(parts)

    def _at_end_of_group(self) -> bool:
        tok = self.peek()
        return tok is None or tok.kind == "rparen" or self.is_op(tok, "OR")

    def unary(self) -> Node:
        tok = self.peek()
        assert tok is not None
        if self.is_op(tok, "NOT") or (tok.kind == "word" and tok.text.startswith("-")
                                      and len(tok.text) > 1):
            if self.is_op(tok, "NOT"):
                self.take()
                if self._at_end_of_group():
                    self.repair("ignored a dangling NOT", tok)
                    return _Empty()
                inner = self.unary()
            else:
                self.take()
                inner = self.word_like(_Tok("word", tok.text[1:], tok.pos + 1))
            return _Empty() if isinstance(inner, _Empty) else Not(inner)
        if tok.kind == "word" and tok.text in ("-", "+"):
            # -"a phrase", -(a group), -title:word
            self.take()
            nxt = self.peek()
            if nxt is None or nxt.kind == "rparen":
                return _Empty()
            inner = self.primary()
            if isinstance(inner, _Empty) or tok.text == "+":
                return inner
            return Not(inner)
        if tok.kind == "word" and tok.text.startswith("+") and len(tok.text) > 1:
            self.take()
            return self.word_like(_Tok("word", tok.text[1:], tok.pos + 1))
        return self.primary()

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind == "lparen":
            return self.group(tok)
        if tok.kind == "field":
            return self.field(tok)
        if tok.kind == "phrase":
            return self.phrase(tok, None)
        if tok.kind == "range":
            self.repair("ignored a [range] without a date: field", tok)
            return _Empty()
        return self.word_like(tok)

    def group(self, open_tok: _Tok, fieldname: str | None = None) -> Node:
        self.depth += 1
        if self.depth > 32:
            raise QueryError(self.text, "parentheses nested too deeply", open_tok.pos)
        node = self.or_expr()
        self.depth -= 1
        nxt = self.peek()
        if nxt is not None and nxt.kind == "rparen":
            self.take()
        else:
            self.repair("closed an unbalanced parenthesis", open_tok)
        if fieldname:
            node = _with_field(node, fieldname)
        return node

    def field(self, tok: _Tok) -> Node:
        name = _FIELD_ALIASES.get(tok.text, tok.text)
        nxt = self.peek()
        if name not in FIELDS:
            # "10:30" or "note: something" - not a field: read the prefix as a word, and say
            # so, since "places:japan" looks like a filter to whoever typed it.
            self.repairs.append(f"{tok.text}: is not a field (fields: {', '.join(FIELDS)}); "
                                f"searched for the word {tok.text}")
            return self.word_like(_Tok("word", tok.text, tok.pos))
        if nxt is None:
            self.repair(f"ignored an empty {name}: prefix", tok)
            return _Empty()
        if name == "date":
            return self.date(self.take())
        val = self.take()
        if val.kind == "lparen":
            return self.group(val, name)
        if val.kind == "phrase":
            if name in KEYWORD_FIELDS:
                return FieldValue(name, val.text.strip())
            return self.phrase(val, name)
        if val.kind != "word":
            self.repair(f"ignored an empty {name}: prefix", tok)
            self.i -= 1
            return _Empty()
        if name in KEYWORD_FIELDS:
            return FieldValue(name, val.text)
        return self.word_like(val, name)

    def phrase(self, tok: _Tok, fieldname: str | None) -> Node:
        words = tuple(w for w in re.split(r"\s+", tok.text.strip()) if w)
        if not words:
            self.repair("ignored an empty phrase", tok)
            return _Empty()
        if not self.count(len(words), tok):
            return _Empty()
        if len(words) == 1:
            self.explicit = True
            return Word(words[0], fieldname)
        slop = tok.slop or 0
        if slop > MAX_SLOP:
            self.repair(f"allowed at most {MAX_SLOP} words between the words of a phrase", tok)
            slop = MAX_SLOP
        return Phrase(words, fieldname, slop)

    def word_like(self, tok: _Tok, fieldname: str | None = None) -> Node:
        text = tok.text
        m = re.fullmatch(r"(.+?)~(\d)?", text)
        if m and not text.startswith("~"):
            if not self.count(1, tok):
                return _Empty()
            word = m.group(1).strip("*")
            edits = int(m.group(2)) if m.group(2) else None
            if edits is not None and edits > MAX_EDITS:
                self.repair(f"allowed at most {MAX_EDITS} edits in a fuzzy word", tok)
                edits = MAX_EDITS
            return Fuzzy(word, fieldname, edits) if word else _Empty()
        if text.endswith("*") and text.strip("*"):
            if not self.count(1, tok):
                return _Empty()
            stem = text.rstrip("*")
            if "*" in stem or "?" in stem:
                self.repair("only trailing * wildcards are supported", tok)
                stem = stem.replace("*", "").replace("?", "")
            return Prefix(stem, fieldname) if len(stem) >= 2 else Word(stem, fieldname)
        text = text.strip("*?~")
        if not text or (text in _OPERATORS and not self.caps_sentence):
            if text:
                self.repair(f"ignored a dangling {text}", tok)
            return _Empty()
        if not self.count(1, tok):
            return _Empty()
        return Word(text, fieldname)

    def date(self, tok: _Tok) -> Node:
        if tok.kind == "range":
            parts = re.split(r"\s+TO\s+", tok.text.strip(), flags=re.I)
            if len(parts) != 2:
                raise QueryError(self.text, "a date range needs the form [FROM TO UNTIL]", tok.pos)
            start = _day(parts[0], tok, self.text, end=False)
            end = _day(parts[1], tok, self.text, end=True)
            if start and end and start > end:
                self.repair("swapped a date range written latest first", tok)
                start = _day(parts[1], tok, self.text, end=False)
                end = _day(parts[0], tok, self.text, end=True)
            return DateRange(start, end)
        if tok.kind in ("word", "phrase"):
            return DateRange(_day(tok.text, tok, self.text, end=False),
                             _day(tok.text, tok, self.text, end=True))
        raise QueryError(self.text, "date: needs a date such as 2022-01 or [2022-01-01 TO *]",
                         tok.pos)

    def count(self, n: int, tok: _Tok) -> bool:
        """Count terms; past MAX_TERMS the rest of the query is dropped (strict: an error)."""
        self.terms += n
        if self.terms > MAX_TERMS:
            if self.strict:
                raise QueryError(self.text, f"more than {MAX_TERMS} search terms", tok.pos)
            if not self.over:
                self.repairs.append(f"used only the first {MAX_TERMS} search terms")
            self.over = True
            return False
        return True


@dataclass(frozen=True)
class _Empty(Node):
    """Placeholder for something the lenient parser dropped."""


def _and(parts: list[Node]) -> Node:
    # Flat: "a) b) c) ..." (each stray parenthesis repaired) must not nest one And per
    # parenthesis, or a long query nests deeper than Python's recursion allows.
    flat: list[Node] = []
    for p in parts:
        if isinstance(p, And):
            flat.extend(p.children)
        elif not isinstance(p, _Empty):
            flat.append(p)
    if not flat:
        return _Empty()
    return flat[0] if len(flat) == 1 else And(tuple(flat))


def _with_field(node: Node, fieldname: str) -> Node:
    """``title:(a OR "b c")``: aim every word in the group at the field."""
    if isinstance(node, Word):
        return FieldValue(fieldname, node.text) if fieldname in KEYWORD_FIELDS \
            else Word(node.text, fieldname)
    if isinstance(node, Phrase):
        return Phrase(node.texts, fieldname, node.slop)
    if isinstance(node, Prefix):
        return Prefix(node.text, fieldname)
    if isinstance(node, Fuzzy):
        return Fuzzy(node.text, fieldname, node.maxdist)
    if isinstance(node, And):
        return And(tuple(_with_field(c, fieldname) for c in node.children))
    if isinstance(node, Or):
        return Or(tuple(_with_field(c, fieldname) for c in node.children))
    if isinstance(node, Not):
        return Not(_with_field(node.child, fieldname))
    return node


_DAY = re.compile(r"^(\d{4})(?:-(\d{1,2})(?:-(\d{1,2}))?)?$")
_SURROGATE = re.compile("[\ud800-\udfff]")


# How a date may be written, wherever one is asked for (the query's date:, --since/--until,
# the API's since/until, the search page's From/To): the end of day_bound's error sentence.
DATE_FORMS = "use YYYY-MM-DD, YYYY-MM for a month or YYYY for a year"


def day_bound(text: str, *, end: bool) -> date | None:
    """``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD`` as its first day (or last, with ``end``);
    ``*`` or nothing is an open end (None). Raises ValueError for anything else."""
    text = text.strip()
    if text in ("*", ""):
        return None
    m = _DAY.match(text)
    if not m:
        raise ValueError(f"“{text}” is not a valid date: {DATE_FORMS}")
    y, mo, d = int(m.group(1)), m.group(2), m.group(3)
    try:
        if d:
            return date(y, int(mo), int(d))
        if mo:
            month = int(mo)
            return date(y, month, calendar.monthrange(y, month)[1] if end else 1)
        return date(y, 12, 31) if end else date(y, 1, 1)
    except ValueError:
        raise ValueError(f"“{text}” is not a valid date: {DATE_FORMS}") from None


def _day(text: str, tok: _Tok, query: str, *, end: bool) -> date | None:
    try:
        return day_bound(text, end=end)
    except ValueError as exc:
        raise QueryError(query, str(exc), tok.pos) from None


def parse_query(text: str, *, strict: bool = False) -> ParsedQuery:
    """Parse ``text``. Lenient mode (the default) repairs unbalanced quotes, brackets and
    dangling operators and lists what it did in ``repairs``; strict mode raises
    :class:`~newsearch.errors.QueryError` for them. Either mode raises for what cannot be
    repaired (no searchable content, a malformed date, too many terms).
    """
    repairs: list[str] = []
    original = text
    if len(text) > MAX_QUERY_CHARS:
        cut = text.rfind(" ", 0, MAX_QUERY_CHARS)
        text = text[: cut if cut > MAX_QUERY_CHARS // 2 else MAX_QUERY_CHARS]
        if strict:
            raise QueryError(original, f"query longer than {MAX_QUERY_CHARS:,} characters")
        repairs.append(f"cut the query to its first {len(text):,} characters")
    text = text.replace("\x00", " ")
    # A lone surrogate is how Python hands over an undecodable byte of a command-line
    # argument; no index term can contain one.
    text = _SURROGATE.sub("\ufffd", text)
    parser = _Parser(_tokenise(text, repairs), text, strict, repairs)
    if strict and repairs:
        raise QueryError(text, repairs[0])
    node = parser.parse()
    if isinstance(node, _Empty):
        raise QueryError(original, "the query has nothing to search for")
    if isinstance(node, Not):
        node = And((MatchAll(), node))  # "-riots": everything except
    elif isinstance(node, And) and all(isinstance(c, Not) for c in node.children):
        node = And((MatchAll(), *node.children))
    return ParsedQuery(node, text, repairs, parser.explicit)
