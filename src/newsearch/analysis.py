"""Analysis: the one chain that turns article text and query words into index terms.

    tokenise ─▶ lowercase ─▶ stem in the token's own language ─▶ transliterate (unidecode)
             ─▶ fold romanisation variants ─▶ term

* **Tokenise** with one compiled regex over the original (NFC) text; every token keeps its
  character offsets into that text, so highlights land on the original ``Машкова`` or
  ``Zürich``. Han/kana/Hangul characters are single tokens (no spaces between words there).
* **Stem** by script: Latin → English Snowball, Cyrillic → Russian Snowball (``ё`` read as
  ``е``), Greek, Arabic, Armenian → their Snowball stemmers, anything else unstemmed.
  Latin look-alike letters inside Cyrillic words (``cовет`` with a Latin ``c``) are mapped
  to Cyrillic first.
* **Names in Cyrillic.** Snowball strips ``-ов``/``-ев``/``-ы`` as noun endings, which ruins
  surnames and place names (``Токаев`` → ``тока``, ``Алматы`` → ``алмат``). A capitalised
  Cyrillic token is therefore indexed under two terms at the same position: its Snowball stem
  and its *name form* (only surname case endings removed). Queries in Cyrillic ask for both;
  Latin queries meet the name form.
* **Transliterate** with unidecode, then **fold** the spellings that differ between
  romanisation systems (see :func:`fold`): ``Tokayev/Tokaev/Токаев`` → ``tokaev``,
  ``Zelensky/Zelenskiy/Зеленский`` → ``zelensk``, ``Yeltsin/Ельцин`` → ``eltsin``.

Every word is indexed, stop words too, so a phrase means exactly that phrase
(``"bank of england"`` does not match "bank in England"). Queries leave stop words out of
plain word lists (:func:`query_terms`), where they would only cost time.

:class:`NewsAnalyzer` exposes the chain to Whoosh (its import path is part of the on-disk
index format: do not move it). The functions here are backend-neutral.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

import Stemmer
from unidecode import unidecode
from whoosh.analysis import Composable, Token

from .textnorm import CJK_CHAR, CJK_RANGES, CYRILLIC_CHAR

__all__ = [
    "ANALYZER_NAME",
    "NAME_VARIANTS",
    "NewsAnalyzer",
    "analyse",
    "doc_terms",
    "fold",
    "is_stop_word",
    "positions",
    "prefix_term",
    "query_terms",
    "token_pattern",
    "tokens",
]

ANALYZER_NAME = "news-v1"
MAX_TOKEN_CHARS = 64

_CJK = CJK_RANGES
# A word: letters/digits with inner apostrophes or dots ("Putin's", "U.S", "3.5", "O'Neill");
# or one CJK character.
_WORD = rf"[^\W{_CJK}]+"
TOKEN_RE = re.compile(rf"[{_CJK}]|{_WORD}(?:(?:['’.]|(?<=\d),(?=\d)){_WORD})*")
# The same tokens for text without CJK characters, about a third faster (no negated class).
_TOKEN_NO_CJK = re.compile(r"\w+(?:(?:['’.]|(?<=\d),(?=\d))\w+)*")
_HAS_CJK = CJK_CHAR


def token_pattern(text: str) -> re.Pattern[str]:
    """The tokenizer regex for ``text`` (identical tokens either way)."""
    return TOKEN_RE if _HAS_CJK.search(text) else _TOKEN_NO_CJK

# Function words left out of plain word lists in queries (kept in phrases, and always indexed).
# English: the usual function words, but not "us" (the United States in news) or "may".
STOP_WORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before
    being below between both but by can could did do does doing down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is it
    its itself just me more most my myself no nor not now of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по ее мне
    было вот от меня еще нет о об из ему ли если уже или ни быть был него до вас ведь там
    себя ей они тут где есть для мы их чем была сам без себе под будет тогда кто этот того
    этого какой ним этом тем чтобы нее были всех при тот эти нас про них эту этой""".split()
)

_VOWELS = "aeiou"

# Romanisation folds, applied in order to the transliterated lowercase term.
_FOLDS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"['`.]"), ""),                       # soft/hard signs, U.S → us
    (re.compile(r"(?<=...)sk(?:iy|yi|ii|yy|ij|y|i)$"), "sk"),  # Zelensky/-iy/-yy → zelensk
    (re.compile(r"(?<=..)(?:iy|yy|ij|ii|yi)$"), "i"),  # Dmitriy/Dmitrii → dmitri, -ый
    (re.compile(r"(?<=..)ey$"), "ei"),                # Sergey/Sergei
    (re.compile(r"(?<=[aeiou])ye"), "e"),             # Tokayev → tokaev, Dostoyevsky
    (re.compile(r"^ye(?=[^aeiouy])"), "e"),           # Yeltsin → eltsin, Yevgeny → evgeny
    (re.compile(r"y(?=[au])"), "i"),                  # ya/yu → ia/iu (я, ю): Tatyana, Yuri
    (re.compile(r"(?<=[^aeiouy])y$"), "i"),           # Almaty → almati (English stems say -i)
    (re.compile(r"(?<=.)iia$"), "ia"),                # -ия: Мария / Mariya → maria
]
_HAS_ALPHA = re.compile(r"[a-z]")


_FOLD_TRIGGERS = re.compile(r"[y'`.]|sk|i[ij]$|iia$")


def fold(term: str) -> str:
    """Fold romanisation variants of an ASCII lowercase term (no-op for digits-only terms)."""
    if not _HAS_ALPHA.search(term):
        return term.replace(",", "")
    if not _FOLD_TRIGGERS.search(term):
        return term  # most words: nothing any rule below could change
    for pattern, repl in _FOLDS:
        term = pattern.sub(repl, term)
    return term


# --- script detection and stemming -----------------------------------------------------------

# Look-alike letters, for words typed with the wrong keyboard layout half-way ("cовет").
_LATIN_TO_CYRILLIC = str.maketrans("aceopxykmt", "асеорхукмт")
_CYRILLIC_TO_LATIN = str.maketrans("асеорхукмт", "aceopxykmt")
_CYR = CYRILLIC_CHAR
_LAT = re.compile(r"[a-zA-Z\u00c0-\u024f]")
_GREEK = re.compile(r"[\u0370-\u03ff]")
_ARABIC = re.compile(r"[\u0600-\u06ff]")
_ARMENIAN = re.compile(r"[\u0530-\u058f]")

def _stemmer(lang: str) -> Any:
    # PyStemmer objects are not thread-safe: one per thread and language.
    local = _thread_stemmers()
    st = local.get(lang)
    if st is None:
        st = local[lang] = Stemmer.Stemmer(lang)
    return st


_tls = threading.local()


def _thread_stemmers() -> dict[str, Any]:
    d = getattr(_tls, "stemmers", None)
    if d is None:
        d = _tls.stemmers = {}
    return d


# Surname and place-name endings stripped by the Cyrillic name form.
_RU_NAME_SURNAME = re.compile(r"(?<=..)(ов|ев|ин|ын)(а|у|ым|ом|е|ы|ых|ыми)$")
_RU_NAME_ADJ = re.compile(
    r"(?<=..)(ск|цк)(ий|ый|ого|ому|им|ом|ая|ой|ую|ое|ие|ые|их|ых|ими|ыми|ым)$"
)


def _ru_name_form(word: str) -> str:
    m = _RU_NAME_ADJ.search(word)
    if m:
        return word[: m.start(2)]
    m = _RU_NAME_SURNAME.search(word)
    if m:
        return word[: m.start(2)]
    return word


def _script(word: str) -> str:
    if word.isascii():
        return "latin"
    cyr = len(_CYR.findall(word))
    if cyr:
        lat = len(_LAT.findall(word))
        return "cyrillic" if cyr >= lat else "latin"
    if _LAT.search(word):
        return "latin"
    if _GREEK.search(word):
        return "greek"
    if _ARABIC.search(word):
        return "arabic"
    if _ARMENIAN.search(word):
        return "armenian"
    return "other"


_STEM_LANG = {"latin": "english", "cyrillic": "russian", "greek": "greek", "arabic": "arabic",
              "armenian": "armenian"}


def _to_term(stemmed: str) -> str:
    t = unidecode(stemmed).lower() if not stemmed.isascii() else stemmed
    t = "".join(t.split())  # unidecode puts spaces between CJK syllables
    return fold(t)


def is_stop_word(word: str) -> bool:
    lw = word.lower().replace("’", "'")
    return lw in STOP_WORDS or lw.replace("ё", "е") in STOP_WORDS


def analyse(word: str) -> tuple[str, ...]:
    """Index terms for one surface token: ``()`` for junk (too long, nothing left after
    transliteration), one term, or two (a capitalised Cyrillic word: Snowball stem and name
    form). Uncached; see :func:`doc_terms`.
    """
    lw = word.lower().replace("’", "'")
    if "." in lw and not lw[:1].isdigit():
        lw = lw.replace(".", "")  # U.S → us, e.g → eg
    if len(lw) > MAX_TOKEN_CHARS:
        return ()
    script = _script(lw)
    if script == "cyrillic":
        lw = lw.replace("ё", "е")
        if not lw.isalpha() or _LAT.search(lw):
            lw = lw.translate(_LATIN_TO_CYRILLIC)
    elif script == "latin" and _CYR.search(lw):
        lw = lw.translate(_CYRILLIC_TO_LATIN)
    lang = _STEM_LANG.get(script)
    stem = _stemmer(lang).stemWord(lw) if lang and not lw.isdigit() else lw
    term = _to_term(stem)
    if not term:
        return ()
    if script == "cyrillic" and word[:1].isupper():
        name = _to_term(_ru_name_form(lw))
        if name and name != term:
            return (term, name)
    return (term,)


# Caches: surface token → terms. Bounded by clearing (vocabularies are Zipfian, so the cache
# refills with the frequent words at once).
_CACHE_MAX = 400_000
_doc_cache: dict[str, tuple[str, ...]] = {}


def doc_terms(word: str) -> tuple[str, ...]:
    """Cached :func:`analyse`."""
    terms = _doc_cache.get(word)
    if terms is None:
        if len(_doc_cache) > _CACHE_MAX:
            _doc_cache.clear()
        terms = _doc_cache[word] = analyse(word)
    return terms


def tokens(text: str) -> Iterator[tuple[tuple[str, ...], int, int, int]]:
    """``(terms, position, start, end)`` for every token that yields terms."""
    pos = 0
    cache = _doc_cache
    for m in token_pattern(text).finditer(text):
        w = m.group()
        terms = cache.get(w)
        if terms is None:
            terms = doc_terms(w)
        if terms:
            yield terms, pos, m.start(), m.end()
            pos += 1


def positions(text: str) -> tuple[dict[str, list[int]], int]:
    """Term → positions for a whole text, and its length in positions (the indexing fast
    path: no Token objects)."""
    out: defaultdict[str, list[int]] = defaultdict(list)
    pos = 0
    cache = _doc_cache
    for w in token_pattern(text).findall(text):
        terms = cache.get(w)
        if terms is None:
            terms = doc_terms(w)
        if len(terms) == 1:
            out[terms[0]].append(pos)
        elif terms:
            for t in terms:
                out[t].append(pos)
        else:
            continue
        pos += 1
    return out, pos


# Place names whose forms differ beyond what folding can bridge: Ukrainian and Russian forms
# (news wrote the Russian-derived form until about 2019-2022 and the Ukrainian one since),
# and the English names of places that Russian-language news writes in Cyrillic. A query for
# any spelling asks for all of them, Cyrillic case forms included (see _variant_table).
NAME_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("Kyiv", "Kiev", "Київ", "Киев"),
    ("Kharkiv", "Kharkov", "Харків", "Харьков"),
    ("Odesa", "Odessa", "Одеса", "Одесса"),
    ("Lviv", "Lvov", "Львів", "Львов"),
    ("Mykolaiv", "Nikolaev", "Миколаїв", "Николаев"),
    ("Zaporizhzhia", "Zaporizhia", "Zaporozhye", "Запоріжжя", "Запорожье"),
    ("Luhansk", "Lugansk", "Луганськ", "Луганск"),
    ("Chernihiv", "Chernigov", "Чернігів", "Чернигов"),
    ("Vinnytsia", "Vinnitsa", "Вінниця", "Винница"),
    ("Dnipro", "Dnepr", "Дніпро", "Днепр"),
    ("Rivne", "Rovno", "Рівне"),  # not "Ровно": its stem is the adverb "ровно"
    ("Moscow", "Moskva", "Москва"),
    # Short Snowball stems ("росс", "кита") are shared with other words (Ross, кит), so
    # these list their case forms; "России" folds to "rossi" and so also reaches *Rossi*.
    ("Russia", "Rossiya", "Россия", "России", "Россию", "Россией"),
    ("Kremlin", "Кремль"),
    ("Petersburg", "Peterburg", "Петербург"),
    ("Saint", "Sankt", "Санкт"),
    ("Washington", "Вашингтон"),
    ("China", "Китай", "Китая", "Китаю", "Китаем", "Китае"),
    ("Europe", "Европа"),
    ("Belarus", "Byelorussia", "Беларусь", "Белоруссия"),
)


def _variant_table() -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    for group in NAME_VARIANTS:
        terms: list[str] = []
        for name in group:
            *stems, last = analyse(name)
            terms.append(last)  # the name form of a Cyrillic spelling
            # Case forms ("Одессе") share the Snowball stem, unless the name form covers them
            # already (-ов/-ев/-ин names: "Киеве" → "киев") or the stem is too short to be
            # the name's own ("Киев" → "ки", "Россия" → "росс" as in Ross).
            if not _RU_NAME_BASE.search(name.lower()):
                terms += [t for t in stems if len(t) >= 5]
        group_terms = tuple(dict.fromkeys(terms))
        for term in group_terms:
            table[term] = group_terms
    return table


_RU_NAME_BASE = re.compile(r"(ов|ев|ин|ын)$")
_VARIANTS = _variant_table()


@lru_cache(maxsize=20_000)
def query_terms(word: str) -> tuple[str, ...]:
    """Alternatives to search for one query word (any of them may match).

    A Cyrillic word asks for its Snowball stem and its name form whatever its case, since
    users type names in lower case too; a place in :data:`NAME_VARIANTS` asks for all its
    forms. A stop word asks for nothing.
    """
    if is_stop_word(word):
        return ()
    terms = analyse(word.lower())
    if _CYR.search(word):
        terms = tuple(dict.fromkeys(terms + analyse(word[:1].upper() + word[1:].lower())))
    for term in terms:
        if term in _VARIANTS:
            return tuple(dict.fromkeys(terms + _VARIANTS[term]))
    return terms


def prefix_term(prefix: str) -> str:
    """A prefix (``econom*``) in term space: lowercased, transliterated, folded at the
    start only, not stemmed (a stem of a prefix means nothing)."""
    p = prefix.lower().replace("ё", "е")
    p = "".join(unidecode(p).lower().split()) if not p.isascii() else p
    p = p.replace("'", "").replace("’", "")
    p = re.sub(r"(?<=[aeiou])ye", "e", p)
    p = re.sub(r"^ye(?=[^aeiouy])", "e", p)
    return re.sub(r"y(?=[au])", "i", p)


class NewsAnalyzer(Composable):
    """Whoosh adaptor for the chain above (pickled into the schema: keep this path).

    In ``index`` mode a capitalised Cyrillic token yields two tokens at one position; in
    query mode only the first term is given (newsearch builds its queries itself from
    :func:`query_terms`).
    """

    def __init__(self, name: str = ANALYZER_NAME) -> None:
        self.name = name

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NewsAnalyzer) and other.name == self.name

    def __hash__(self) -> int:
        return hash(self.name)

    def __call__(self, value: str, positions: bool = False, chars: bool = False,
                 keeporiginal: bool = False, removestops: bool = True, start_pos: int = 0,
                 start_char: int = 0, tokenize: bool = True, mode: str = "",
                 **kwargs: Any) -> Iterator[Token]:
        t = Token(positions, chars, removestops=removestops, mode=mode, **kwargs)
        index_mode = mode != "query"
        for terms, pos, start, end in tokens(value):
            for term in terms if index_mode else terms[:1]:
                t.text = term
                t.boost = 1.0
                t.stopped = False
                if keeporiginal:
                    t.original = value[start:end]
                if positions:
                    t.pos = start_pos + pos
                if chars:
                    t.startchar = start_char + start
                    t.endchar = start_char + end
                yield t
