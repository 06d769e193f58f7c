"""Analysis: the one chain that turns article text and query words into index terms.

    tokenise ─▶ lowercase ─▶ Cyrillic: lemma (pymorphy3) │ Latin: stem in the article's
                             language (Snowball)         │ language ─▶ transliterate
             ─▶ fold romanisation variants ─▶ term

* **Tokenise** with one compiled regex over the original (NFC) text; every token keeps its
  character offsets into that text, so highlights land on the original ``Машкова`` or
  ``Zürich``. Han/kana/Hangul characters are single tokens (no spaces between words there).
* **Cyrillic words** are indexed by their dictionary form (:mod:`newsearch.morphology`):
  every case form meets the transliteration of the lemma (``Набиуллиной`` → ``nabiullin``,
  ``Казахстане`` → ``kazakhstan``), and a surname also by both genders' nominatives
  (``nabiullina``). ``ё`` is read as ``е``; Latin look-alike letters inside Cyrillic words
  (``cовет`` with a Latin ``c``) are mapped to Cyrillic first.
* **Latin words** are stemmed with the Snowball stemmer of the article's language
  (:mod:`newsearch.language`; English when undecided); Greek, Arabic and Armenian words with
  theirs; anything else is left unstemmed.
* **No false friends.** Words of two scripts meet only as whole words: no Cyrillic word is
  cut to a stem, and the stem of a capitalised Latin word that its stemmer cut short
  (*Kieves* → ``kiev``) is marked (``kiev~``), so ``Киев`` (``kiev``) finds neither
  *Kieves* nor *Ky*, ``Попов`` (``popov``) not *pop*, ``Иванов`` (``ivanov``) not *Ivan*.
  Latin queries ask for both forms, so English stemming works as before.
* **Transliterate** with unidecode, then **fold** the spellings that differ between
  romanisation systems (see :func:`fold`): ``Tokayev/Tokaev/Токаев`` → ``tokaev``,
  ``Zelensky/Zelenskiy/Зеленский`` → ``zelensk``, ``Yeltsin/Ельцин`` → ``eltsin``.
* **Place names** in other languages and scripts (*Beijing / Пекин*, *Germany / Германия*)
  are added at query time from data (:mod:`newsearch.exonyms`).

Every word is indexed, stop words too, so a phrase means exactly that phrase
(``"bank of england"`` does not match "bank in England"). Queries leave stop words out of
plain word lists (:func:`query_terms`), where they would only cost time.

:class:`~newsearch.backends.whoosh.analyzer.NewsAnalyzer` exposes the chain to Whoosh. The
functions here are backend-neutral and import no engine.
"""

from __future__ import annotations

import re
import threading
from collections import defaultdict
from collections.abc import Iterator
from functools import lru_cache
from itertools import repeat
from typing import Any

import Stemmer
from unidecode import unidecode

from .language import LATIN_STEMMERS
from .morphology import MORPH_LANGS, is_known, lemma_forms
from .textnorm import CJK_CHAR, CJK_RANGES, CYRILLIC_CHAR

__all__ = [
    "ANALYSIS_VERSION",
    "ANALYZER_NAME",
    "TRUNCATED",
    "TermNumbers",
    "analyse",
    "doc_cache",
    "doc_terms",
    "fold",
    "is_family",
    "is_stop_word",
    "latin_stemmer",
    "name_key",
    "positions",
    "prefix_term",
    "query_terms",
    "token_pattern",
    "tokens",
    "word_terms",
]

ANALYZER_NAME = "news-v1"
# Bump when the terms this module makes change: an index built with other terms is rebuilt
# (the cluster's mapping records it; the Whoosh schema version counts it too).
ANALYSIS_VERSION = 5
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
    (re.compile(r"(?<=...)oy$"), "oi"),               # Tolstoy/Толстой
    (re.compile(r"(?<=[aeiou])ye"), "e"),             # Tokayev → tokaev, Dostoyevsky
    (re.compile(r"^ye(?=[^aeiouy])"), "e"),           # Yeltsin → eltsin, Yevgeny → evgeny
    (re.compile(r"^tch"), "ch"),                      # Tchaikovsky (French-style ч) → ch
    (re.compile(r"y(?=[au])"), "i"),                  # ya/yu → ia/iu (я, ю): Tatyana, Yuri
    (re.compile(r"(?<=[^aeiouy])y$"), "i"),           # Almaty → almati (English stems say -i)
    (re.compile(r"(?<=.)iia$"), "ia"),                # -ия: Мария / Mariya → maria
]
_HAS_ALPHA = re.compile(r"[a-z]")


_FOLD_TRIGGERS = re.compile(r"[y'`.]|sk|i[ij]$|iia$|^tch")


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
_UKRAINIAN_LETTERS = re.compile(r"[іїєґ]")

# Joins the stem of a capitalised Latin word that its stemmer cut short to the whole word
# (Kieves → kiev~kieves, Peking → peke~peking): a name's truncated stem never stands for a
# whole word of another script. A query term ending in it ("kiev~") stands for every term
# of that family (see :func:`word_terms`).
TRUNCATED = "~"
DEFAULT_STEMMER = "english"


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


_OTHER_STEMMERS = {"greek": "greek", "arabic": "arabic", "armenian": "armenian"}


def latin_stemmer(lang: str | None) -> str:
    """The Snowball stemmer for Latin-script words of an article in ``lang`` (English for
    undecided articles, for languages without a Snowball stemmer, and for Latin words
    inside Cyrillic text: names and brands, mostly English)."""
    return LATIN_STEMMERS.get(lang or "", DEFAULT_STEMMER)


def morph_lang(lang: str | None, word: str) -> str:
    """The pymorphy3 dictionary for a Cyrillic word of an article in ``lang``."""
    if lang in MORPH_LANGS:
        return lang
    return "uk" if _UKRAINIAN_LETTERS.search(word) else "ru"


def _to_term(stemmed: str) -> str:
    t = unidecode(stemmed).lower() if not stemmed.isascii() else stemmed
    t = "".join(t.split())  # unidecode puts spaces between CJK syllables
    return fold(t)


def is_stop_word(word: str) -> bool:
    lw = word.lower().replace("’", "'")
    return lw in STOP_WORDS or lw.replace("ё", "е") in STOP_WORDS


_POSSESSIVE = re.compile(r"'s?$")


def _normalise(word: str) -> tuple[str, str] | None:
    """(lowercase form, script) of a surface token; None for junk (too long)."""
    lw = word.lower().replace("’", "'")
    if "." in lw and not lw[:1].isdigit():
        lw = lw.replace(".", "")  # U.S → us, e.g → eg
    if len(lw) > MAX_TOKEN_CHARS:
        return None
    script = _script(lw)
    if script == "cyrillic":
        lw = lw.replace("ё", "е")
        if not lw.isalpha() or _LAT.search(lw):
            lw = lw.translate(_LATIN_TO_CYRILLIC)
    elif script == "latin" and _CYR.search(lw):
        lw = lw.translate(_CYRILLIC_TO_LATIN)
    return lw, script


def _latin_term(lw: str, stemmer: str, capitalised: bool) -> str:
    if lw.isdigit():
        return _to_term(lw)
    term = _to_term(_stemmer(stemmer).stemWord(lw))
    if capitalised and term:
        whole = _to_term(_POSSESSIVE.sub("", lw))
        if whole != term:
            return f"{term}{TRUNCATED}{whole}"
    return term


def _cyrillic_terms(lw: str, lang: str, capitalised: bool) -> tuple[str, ...]:
    if not lw.isalpha():
        return (_to_term(lw),)
    forms = lemma_forms(lw, lang, capitalised)
    if capitalised and not is_known(lw, lang):
        # A name the dictionary does not know: its lemma is a guess (Дерипаска → дерипаск),
        # so the word as written is indexed too, which its Latin spelling then meets.
        forms = (*forms, lw)
    return tuple(dict.fromkeys(t for t in map(_to_term, forms) if t))


def analyse(word: str, lang: str | None = None) -> tuple[str, ...]:
    """Index terms for one surface token of an article in ``lang`` (ISO 639-1, None when
    unknown): ``()`` for junk (too long, nothing left after transliteration), else the
    terms at the token's position. A Cyrillic word gives its lemma (and a surname both
    genders' nominatives), transliterated; a Latin word its Snowball stem in the article's
    language, joined to the whole word (``kiev~kieves``) when the word is capitalised and
    the stem cut it short. Uncached; see :func:`doc_terms`.
    """
    norm = _normalise(word)
    if norm is None:
        return ()
    lw, script = norm
    capitalised = word[:1].isupper()
    if script == "cyrillic":
        return _cyrillic_terms(lw, morph_lang(lang, lw), capitalised)
    if script == "latin":
        term = _latin_term(lw, latin_stemmer(lang), capitalised)
        return (term,) if term else ()
    other = _OTHER_STEMMERS.get(script)
    term = _to_term(_stemmer(other).stemWord(lw) if other and not lw.isdigit() else lw)
    return (term,) if term else ()


# Caches per article language: surface token → terms. Bounded by clearing (vocabularies are
# Zipfian, so a cache refills with the frequent words at once).
_CACHE_MAX = 400_000
_doc_caches: dict[str | None, dict[str, tuple[str, ...]]] = {}


def doc_cache(lang: str | None) -> dict[str, tuple[str, ...]]:
    """The term cache for articles in ``lang`` (read it directly on hot paths; fill it
    through :func:`doc_terms`)."""
    cache = _doc_caches.get(lang)
    if cache is None:
        cache = _doc_caches.setdefault(lang, {})
    return cache


def doc_terms(word: str, lang: str | None = None) -> tuple[str, ...]:
    """Cached :func:`analyse`."""
    cache = doc_cache(lang)
    terms = cache.get(word)
    if terms is None:
        if len(cache) > _CACHE_MAX:
            cache.clear()
        terms = cache[word] = analyse(word, lang)
    return terms


def tokens(text: str, lang: str | None = None) -> Iterator[tuple[tuple[str, ...], int, int, int]]:
    """``(terms, position, start, end)`` for every token that yields terms."""
    pos = 0
    cache = doc_cache(lang)
    for m in token_pattern(text).finditer(text):
        w = m.group()
        terms = cache.get(w)
        if terms is None:
            terms = doc_terms(w, lang)
        if terms:
            yield terms, pos, m.start(), m.end()
            pos += 1


def positions(text: str, lang: str | None = None) -> tuple[dict[str, list[int]], int]:
    """Term → positions for a whole text in ``lang``, and its length in positions (the
    indexing fast path: no Token objects)."""
    out: defaultdict[str, list[int]] = defaultdict(list)
    pos = 0
    cache = doc_cache(lang)
    for w in token_pattern(text).findall(text):
        terms = cache.get(w)
        if terms is None:
            terms = doc_terms(w, lang)
        if len(terms) == 1:
            out[terms[0]].append(pos)
        elif terms:
            for t in terms:
                out[t].append(pos)
        else:
            continue
        pos += 1
    return out, pos


class TermNumbers:
    """Index terms numbered as they first appear, and texts read as those numbers: the
    indexing fast path of :func:`positions`, for a writer that gathers a segment's postings
    as arrays.

    A text becomes its tokens' term numbers and positions in order (a token with several
    terms gives each at its position; one with none takes no position), which grouped by
    term are exactly :func:`positions`. Each distinct word is analysed once per instance:
    later texts map their words to numbers in one C-level pass and, when every word is
    known and has one term (nearly always), need no Python per word. Bounded by the
    vocabulary of what one instance reads (a writer keeps one per segment).
    """

    _UNSEEN = -1  # what a word not read yet maps to; others with no or several terms: < -1

    def __init__(self) -> None:
        self.terms: list[str] = []
        self._numbers: dict[str, int] = {}
        # Per article language: word -> the number of its one term, or -2 - k for the k-th
        # entry of _several (the numbers of a word with no term or several).
        self._words: dict[str | None, dict[str, int]] = {}
        self._several: list[tuple[int, ...]] = []

    def number(self, term: str) -> int:
        n = self._numbers.get(term)
        if n is None:
            n = self._numbers[term] = len(self.terms)
            self.terms.append(term)
        return n

    def read(self, text: str, lang: str | None = None) -> tuple[list[int], list[int] | None]:
        """``text``'s term numbers in token order and their positions (None when they are
        simply 0, 1, 2 ...: every token one term)."""
        words = token_pattern(text).findall(text)
        known = self._words.get(lang)
        if known is None:
            known = self._words[lang] = {}
        numbers = list(map(known.get, words, repeat(self._UNSEEN)))
        if not numbers or min(numbers) >= 0:
            return numbers, None
        return self._read_slowly(words, numbers, known, lang)

    def _read_slowly(self, words: list[str], numbers: list[int], known: dict[str, int],
                     lang: str | None) -> tuple[list[int], list[int] | None]:
        several: dict[int, tuple[int, ...]] = {}  # token index -> its terms, when not one
        for i in [i for i, n in enumerate(numbers) if n < 0]:
            n = numbers[i]
            if n == self._UNSEEN:
                w = words[i]
                n = known.get(w, self._UNSEEN)  # read earlier in this text
                if n == self._UNSEEN:
                    terms = doc_terms(w, lang)
                    if len(terms) == 1:
                        n = self.number(terms[0])
                    else:
                        n = -2 - len(self._several)
                        self._several.append(tuple(map(self.number, terms)))
                    known[w] = n
                if n >= 0:
                    numbers[i] = n
                    continue
            several[i] = self._several[-2 - n]
        if not several:
            return numbers, None
        # Runs of one-term tokens between the others, copied whole.
        out: list[int] = []
        at: list[int] = []
        done = pos = 0
        for i, tids in several.items():
            out += numbers[done:i]
            at += range(pos, pos + i - done)
            pos += i - done
            if tids:
                out += tids
                at += [pos] * len(tids)
                pos += 1
            done = i + 1
        out += numbers[done:]
        at += range(pos, pos + len(numbers) - done)
        return out, at


# --- query side --------------------------------------------------------------------------------


def _stemmers_for(langs: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted({DEFAULT_STEMMER, *(latin_stemmer(lang) for lang in langs)}))


@lru_cache(maxsize=20_000)
def word_terms(word: str, langs: frozenset[str] = frozenset(),
               families: bool = True) -> tuple[str, ...]:
    """Every term an article word spelled as ``word`` can carry in an index holding
    articles in ``langs``: a Latin word's stem in each of their languages and, with
    ``families``, the stem's family of capitalised words it was cut from (``kiev~``, to be
    expanded against the index: *Kieves*, *Kievs*), else just the capitalised word itself
    (``peke~peking``); a Cyrillic word's lemma and name forms, read as a name (and, typed
    in lower case, also as an ordinary word: users type names in lower case too), in
    Russian and, where the index holds Ukrainian articles or the word is Ukrainian, in
    Ukrainian."""
    norm = _normalise(word)
    if norm is None:
        return ()
    lw, script = norm
    out: list[str] = []
    if script == "latin":
        for stemmer in _stemmers_for(langs):
            term = _latin_term(lw, stemmer, False)
            if not term:
                continue
            if lw.isdigit():
                out.append(term)
            elif families:
                # The stem and its family; and the whole word, which a Cyrillic lemma
                # transliterates to where the stemmer cuts the name (Юкос: iukos, not iuko).
                out += [term, term + TRUNCATED, _to_term(_POSSESSIVE.sub("", lw))]
            else:  # the whole word only: Beijing is "bei~beijing", never the stem "bei"
                out.append(_latin_term(lw, stemmer, True))
    elif script == "cyrillic":
        # Typed with a capital: a name; in lower case: a name or an ordinary word.
        readings = (True,) if word[:1].isupper() else (True, False)
        morphs = {morph_lang(None, lw)} | ({"uk"} if "uk" in langs else set())
        for m in sorted(morphs):
            for capitalised in readings:
                out += _cyrillic_terms(lw, m, capitalised)
        if lw.isalpha() and not is_known(lw, morph_lang(None, lw)):
            # A name the dictionary does not know: its lemma is a guess (Дерипаска → дерипаск),
            # so the word as typed is asked for too.
            out.append(_to_term(lw))
        # The same whole words where Latin articles have them capitalised and cut short by
        # their stemmer (Юкос → iukos meets Yukos, indexed as iuko~iukos).
        out += [cut for t in out if t.isalpha() for stemmer in _stemmers_for(langs)
                if TRUNCATED in (cut := _latin_term(t, stemmer, True))]
    else:
        out += analyse(lw)
    return tuple(dict.fromkeys(out))


def is_family(term: str) -> bool:
    """Does this query term stand for a family of cut-short capitalised words (``kiev~``)?"""
    return term.endswith(TRUNCATED)


def name_key(word: str) -> str:
    """A spelling of a place name as one comparable key: lowercase, transliterated, folded,
    unstemmed, no possessive (``Beijing's`` → ``beijing``, ``Пекин`` → ``pekin``)."""
    lw = word.lower().replace("’", "'").replace("ё", "е")
    return _to_term(_POSSESSIVE.sub("", lw)) if lw.isascii() else _to_term(lw)


@lru_cache(maxsize=20_000)
def query_terms(word: str, langs: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Alternatives to search for one query word (any of them may match): its
    :func:`word_terms`, and for a place name the terms of all its names in other languages
    and scripts (:mod:`newsearch.exonyms`). A stop word asks for nothing."""
    if is_stop_word(word):
        return ()
    terms = word_terms(word, langs)
    if not terms:
        return terms
    norm = _normalise(word)
    assert norm is not None
    # A Latin word is looked up as written; a Cyrillic one also by its lemmas (Германии).
    keys = [name_key(norm[0])] if norm[1] == "latin" else [name_key(norm[0]), *terms]
    from .exonyms import variants  # exonyms builds its keys with this module

    extra: list[str] = []
    for key in keys:
        for spelling in variants(key, langs):
            # Other names of a place as whole words only: Kiev, not every Kiev~ (Kieves).
            extra += word_terms(spelling, langs, families=False)
    return tuple(dict.fromkeys(terms + tuple(extra))) if extra else terms


def prefix_term(prefix: str) -> str:
    """A prefix (``econom*``) in term space: lowercased, transliterated, folded at the
    start only, not stemmed (a stem of a prefix means nothing)."""
    p = prefix.lower().replace("ё", "е")
    p = "".join(unidecode(p).lower().split()) if not p.isascii() else p
    p = p.replace("'", "").replace("’", "")
    p = re.sub(r"(?<=[aeiou])ye", "e", p)
    p = re.sub(r"^ye(?=[^aeiouy])", "e", p)
    return re.sub(r"y(?=[au])", "i", p)


def __getattr__(name: str) -> Any:
    # Indexes written before the backends/ layout pickled their schema's analyzer as
    # newsearch.analysis.NewsAnalyzer: unpickling asks this module for it. Imported lazily so
    # that this module stays free of any engine.
    if name == "NewsAnalyzer":
        from .backends.whoosh.analyzer import NewsAnalyzer

        return NewsAnalyzer
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
