"""Snippets: the best few fragments of an article around the query's matches.

    body text ─▶ match spans (single terms; a phrase's run of tokens as one span):
                 at the token positions the index gives for the query's terms, or by
                 analysing the text's words when it gives none
              ─▶ char offsets (the tokenizer's matches, counted up to the last position)
              ─▶ candidate windows scored by distinct terms, then matches
              ─▶ up to 3 non-overlapping fragments, in text order
              ─▶ HTML-safe strings: text escaped, matches in <mark>...</mark>

The whole text is covered whatever its length, so a match near the end of a long article is
found. Highlights are cut from the original text, so ``Машкова`` and ``Zürich`` appear as
written even when the query said ``Mashkov`` or ``Zurich``.

With positions from the index (the Whoosh backend's
:meth:`~newsearch.backends.whoosh.view.View.doc_positions`) no word of the text is analysed:
a query for words the process has not seen before costs no stemming, and the tokens are only
counted up to the last match (in C for texts in ASCII, where every token is
one position). The word found at each position is checked against the term expected there;
if one differs (a token the index skipped), the text is analysed as without positions.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice

from .analysis import doc_cache, doc_terms, token_pattern
from .textnorm import CJK_CHAR

__all__ = ["DEFAULT_FRAGMENT_CHARS", "MAX_FRAGMENTS", "SnippetQuery", "lead", "snippets"]

DEFAULT_FRAGMENT_CHARS = 200
MAX_FRAGMENTS = 3
ELLIPSIS = "…"


@dataclass
class SnippetQuery:
    """What to mark: index terms of single words, and phrases as sequences of term sets."""

    terms: set[str] = field(default_factory=set)
    phrases: list[tuple[frozenset[str], ...]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.terms or self.phrases)


@dataclass(slots=True)
class _Span:
    start: int
    end: int
    key: str  # which term or phrase matched (distinct keys score higher)


def _spans(text: str, q: SnippetQuery, lang: str | None = None) -> list[_Span]:
    qterms = q.terms
    spans: list[_Span] = []
    if not q.phrases:
        # The common case: find which distinct words of the text match (C-level findall,
        # one dictionary lookup per distinct word), then locate only those words.
        cache = doc_cache(lang)
        found: dict[str, str] = {}
        for w in set(token_pattern(text).findall(text)):
            terms = cache.get(w)
            if terms is None:
                terms = doc_terms(w, lang)
            for t in terms:
                if t in qterms:
                    found[w] = t
                    break
        if not found:
            return spans
        if not any(CJK_CHAR.search(w) for w in found):
            alternatives = "|".join(map(re.escape, sorted(found, key=len, reverse=True)))
            for m in re.finditer(rf"(?<!\w)(?:{alternatives})(?!\w)", text):
                spans.append(_Span(m.start(), m.end(), found[m.group()]))
            return spans
    # Phrases need token positions. Keep only the tokens that carry a wanted term, indexed
    # by their position, and check each phrase's continuation by position.
    wanted = set(qterms)
    for seq in q.phrases:
        for options in seq:
            wanted |= options
    cache = doc_cache(lang)
    at: dict[int, tuple[tuple[str, ...], int, int]] = {}
    pos = 0
    for m in token_pattern(text).finditer(text):
        terms = cache.get(m.group())
        if terms is None:
            terms = doc_terms(m.group(), lang)
        if not terms:
            continue
        if terms[0] in wanted or (len(terms) > 1 and not wanted.isdisjoint(terms)):
            at[pos] = (terms, m.start(), m.end())
        pos += 1
    taken: set[int] = set()
    for seq in q.phrases:
        n = len(seq)
        first = seq[0]
        for i, (terms, start, _end) in at.items():
            if first.isdisjoint(terms):
                continue
            nxt = [at.get(i + k) for k in range(1, n)]
            if all(t is not None and not seq[k + 1].isdisjoint(t[0]) for k, t in enumerate(nxt)):
                spans.append(_Span(start, at[i + n - 1][2], "|".join(sorted(first))))
                taken.update(range(i, i + n))
    if qterms:
        for i, (terms, start, end) in at.items():
            if i not in taken:
                hit = next((t for t in terms if t in qterms), None)
                if hit is not None:
                    spans.append(_Span(start, end, hit))
    spans.sort(key=lambda s: s.start)
    return spans




def _spans_at(text: str, q: SnippetQuery, positions: Mapping[str, Sequence[int]],
              lang: str | None = None) -> list[_Span] | None:
    """Match spans from the token positions of the query's terms (None: they do not line
    up with the text's tokens; analyse it instead)."""
    expect: dict[int, frozenset[str] | str] = {}
    single: dict[int, str] = {}
    for t in q.terms:
        for p in positions.get(t, ()):
            single.setdefault(p, t)
    runs: list[tuple[int, int, str]] = []
    taken: set[int] = set()
    for seq in q.phrases:
        at = [set().union(*(positions.get(t, ()) for t in options)) for options in seq]
        n = len(seq)
        for p in sorted(at[0]):
            if all(p + k in at[k] for k in range(1, n)):
                runs.append((p, p + n - 1, "|".join(sorted(seq[0]))))
                taken.update(range(p, p + n))
                expect[p], expect[p + n - 1] = seq[0], seq[-1]
    for p, t in single.items():
        if p not in taken:
            expect[p] = t
    if not expect:
        return []
    found = _tokens_at(text, sorted(expect), lang)
    if found is None:
        return None
    cache = doc_cache(lang)
    for p, want in expect.items():
        w = found[p].group()
        terms = cache.get(w)
        if terms is None:
            terms = doc_terms(w, lang)
        if (want not in terms) if isinstance(want, str) else want.isdisjoint(terms):
            return None
    spans = [_Span(found[a].start(), found[b].end(), key) for a, b, key in runs]
    spans += [_Span(found[p].start(), found[p].end(), t) for p, t in single.items()
              if p not in taken]
    spans.sort(key=lambda s: s.start)
    return spans


def _tokens_at(text: str, wanted: list[int],
               lang: str | None = None) -> dict[int, re.Match[str]] | None:
    """The tokenizer's match at each of the ``wanted`` positions (ascending)."""
    it = token_pattern(text).finditer(text)
    out: dict[int, re.Match[str]] = {}
    if text.isascii():
        # Every ASCII token yields a term, so positions are token counts: skip in C.
        prev = -1
        for p in wanted:
            m = next(islice(it, p - prev - 1, None), None)
            if m is None:
                return None
            out[p] = m
            prev = p
        return out
    cache = doc_cache(lang)
    pos = 0
    k = 0
    for m in it:
        w = m.group()
        terms = cache.get(w)
        if terms is None:
            terms = doc_terms(w, lang)
        if not terms:
            continue
        if pos == wanted[k]:
            out[pos] = m
            k += 1
            if k == len(wanted):
                return out
        pos += 1
    return None


def _snap_start(text: str, pos: int) -> int:
    """Move a fragment start back to the beginning of a word (or a sentence nearby)."""
    if pos <= 0:
        return 0
    sentence = max(text.rfind(". ", max(0, pos - 40), pos), text.rfind("\n", max(0, pos - 40), pos))
    if sentence != -1:
        return sentence + 1 if text[sentence] == "\n" else sentence + 2
    space = text.rfind(" ", max(0, pos - 20), pos)
    if space != -1:
        return space + 1
    return 0 if pos <= 20 else pos  # inside the text's first word: start with it, not mid-word


def _snap_end(text: str, pos: int) -> int:
    """Move a fragment end on to the end of a word, or of the text when little is left."""
    if len(text) - pos <= 20:
        return len(text)
    space = text.find(" ", pos, pos + 20)
    return space if space != -1 else pos


def _windows(spans: Sequence[_Span], width: int) -> list[tuple[int, int, int]]:
    """(score, first span index, last span index) for a window starting at each span."""
    out = []
    j = 0
    n = len(spans)
    for i in range(n):
        if j < i:
            j = i
        while j + 1 < n and spans[j + 1].end - spans[i].start <= width:
            j += 1
        keys = {s.key for s in spans[i : j + 1]}
        out.append((len(keys) * 100 + (j - i + 1), i, j))
    return out


def _fragment(text: str, spans: Sequence[_Span], start: int, end: int) -> str:
    parts = [ELLIPSIS if start > 0 else ""]
    pos = start
    # Most news text has nothing to escape: then its pieces are taken as they are.
    escape = _plain if _HTML_SPECIAL.search(text, start, end) is None else _escape
    for s in spans:
        if s.start < pos:
            continue
        parts.append(escape(text[pos : s.start]))
        parts.append(f"<mark>{escape(text[s.start : s.end])}</mark>")
        pos = s.end
    parts.append(escape(text[pos:end]))
    if end < len(text):
        parts.append(ELLIPSIS)
    return "".join(parts).replace("\n\n", " ").replace("\n", " ")


_HTML_SPECIAL = re.compile(r"[&<>]")


def _plain(piece: str) -> str:
    return piece


def _escape(piece: str) -> str:
    return html.escape(piece, quote=False)


def lead(text: str, chars: int = DEFAULT_FRAGMENT_CHARS) -> str:
    """The opening of a text as an HTML-safe snippet (when nothing in it matched)."""
    end = _snap_end(text, chars) if len(text) > chars else len(text)
    return _fragment(text, [], 0, end)


def snippets(text: str, query: SnippetQuery, *, top: int = MAX_FRAGMENTS,
             chars: int = DEFAULT_FRAGMENT_CHARS, lang: str | None = None,
             positions: Mapping[str, Sequence[int]] | None = None) -> list[str]:
    """Up to ``top`` HTML-safe fragments of ``text`` (an article in ``lang``, analysed as
    it was indexed) around the matches of ``query``.

    ``positions``: where the index says each of the query's terms occurs in ``text``
    (token positions), when it knows; the words are then not analysed."""
    if not text:
        return []
    spans = _spans_at(text, query, positions, lang) if query and positions is not None else None
    if spans is None:
        spans = _spans(text, query, lang) if query else []
    if not spans:
        return [lead(text, chars)]
    chosen: list[tuple[int, int]] = []
    for _score, i, j in sorted(_windows(spans, chars), key=lambda w: (-w[0], w[1])):
        lo, hi = spans[i].start, spans[j].end
        if any(lo < b and a < hi for a, b in chosen):
            continue
        pad = max(0, chars - (hi - lo))
        # A third of the slack before the matches, unless the text ends first: then all of it.
        start = _snap_start(text, max(0, min(lo - pad // 3, len(text) - chars)))
        end = _snap_end(text, min(len(text), hi + max(0, pad - (lo - start))))
        if any(start < b and a < end for a, b in chosen):
            # Its padding runs into a fragment already chosen: give up the shared stretch,
            # and the match too when too little is left ("…Viacom…" alone says nothing).
            for a, b in chosen:
                if b <= lo and b > start:
                    nxt = text.find(" ", b, lo)
                    start = nxt + 1 if nxt != -1 else lo
                if a >= hi and a < end:
                    prv = text.rfind(" ", hi, a)
                    end = prv if prv != -1 else hi
            if end - start < chars // 2:
                continue
        chosen.append((start, end))
        if len(chosen) == top:
            break
    chosen.sort()
    return [_fragment(text, [s for s in spans if a <= s.start and s.end <= b], a, b)
            for a, b in chosen]
