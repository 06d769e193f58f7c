"""Morphology of Cyrillic words: dictionary forms and the forms of names that pair with their
Latin spellings, from pymorphy3 with its Russian and Ukrainian dictionaries.

    word ─▶ pymorphy3 parses ─▶ a capitalised word: its name reading first (Surn, Geox ...)
         ─▶ lemma (Набиуллиной → набиуллин, Казахстане → казахстан, Навального → навальный)
         ─▶ a surname: both genders' nominatives (набиуллин, набиуллина)

Every case form of a word shares its lemma, so each one meets the transliteration of the
lemma (*Kazakhstan*, *Navalny*), and no Cyrillic word is ever cut down to a stem that
could be an unrelated Latin word (Snowball made ``Попов`` ``поп`` and ``Киев`` ``ки``).

A capitalised word is read as a name when the dictionary has a name reading for it:
``Иванов`` is the surname, not the genitive plural of *Иван*; ``Песков`` the surname, not
*песок*. A capitalised word with no name reading that has the shape of a Russian surname
(``Токаев``, which the dictionary reads as the plural of *токай*) also gets the surname's
forms, made by rule. Results are cached by the callers (news vocabularies are Zipfian).
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = ["MORPH_LANGS", "is_common_word", "is_known", "lemma_forms", "name_forms"]

# Languages with a pymorphy3 dictionary; any other Cyrillic text is read as Russian.
MORPH_LANGS = ("ru", "uk")
NAME_TAGS = frozenset({"Surn", "Name", "Patr", "Geox", "Orgn", "Trad"})

_lock = threading.Lock()
_analyzers: dict[str, Any] = {}


def _analyzer(lang: str) -> Any:
    a = _analyzers.get(lang)
    if a is None:
        with _lock:
            a = _analyzers.get(lang)
            if a is None:
                import pymorphy3

                a = _analyzers[lang] = pymorphy3.MorphAnalyzer(lang=lang)
    return a


# A surname's masculine nominative from any of its case forms, both genders.
_SURNAME_NOUN = re.compile(r"(?<=..)(ов|ев|ин|ын)(а|у|ым|ом|е|ой|ою|ы|ых|ыми)?$")
_SURNAME_ADJ = re.compile(
    r"(?<=..)(ск|цк)(ий|ый|ого|ому|им|ом|ая|ой|ую|ое|ие|ые|их|ых|ими|ыми|ым)$")


def name_forms(masc: str) -> tuple[str, ...]:
    """The masculine and feminine nominative of a surname given in the masculine:
    ``набиуллин`` → (набиуллин, набиуллина), ``навальный`` → (навальный, навальная),
    ``толстой`` → (толстой, толстая). Other words: just themselves."""
    if re.search(r"(ов|ев|ин|ын)$", masc):
        return (masc, masc + "а")
    m = re.search(r"(ый|ий|ой)$", masc)
    if m and len(masc) > 4:
        return (masc, masc[: m.start()] + "ая")
    return (masc,)


def _surname_by_rule(word: str) -> str | None:
    m = _SURNAME_ADJ.search(word)
    if m:
        return word[: m.start(2)] + "ий"
    m = _SURNAME_NOUN.search(word)
    if m:
        return word[: m.end(1)]
    return None


def lemma_forms(word: str, lang: str = "ru", capitalised: bool = False) -> tuple[str, ...]:
    """Dictionary forms of a lowercase Cyrillic word (``ё`` read as ``е``): its lemma, and
    for a surname both genders' nominatives. ``capitalised`` prefers name readings."""
    parses = _analyzer(lang if lang in MORPH_LANGS else "ru").parse(word)
    if not parses:
        return (word,)
    best = parses[0]
    if capitalised:
        for p in parses:
            if NAME_TAGS & p.tag.grammemes:
                best = p
                break
    lemma = best.normal_form.replace("ё", "е")
    grammemes = best.tag.grammemes
    if "Surn" in grammemes:
        return name_forms(lemma)
    forms: tuple[str, ...] = (lemma,)
    if capitalised and best.tag.POS == "ADJF" and not grammemes & NAME_TAGS:
        forms = name_forms(lemma)  # an adjective-shaped surname's feminine (Навальной)
    if capitalised and not grammemes & {"Geox", "Orgn", "Name", "Patr"}:
        surname = _surname_by_rule(word)
        if surname:
            forms += tuple(f for f in name_forms(surname) if f != lemma)
    elif capitalised and "Name" in grammemes and not is_known(word, lang):
        surname = _surname_by_rule(word)  # a guessed first name ending like a surname
        if surname:
            forms += tuple(f for f in name_forms(surname) if f != lemma)
    return forms


def is_known(word: str, lang: str = "ru") -> bool:
    """Is this lowercase word in the dictionary (its lemma not a guess)?"""
    return bool(_analyzer(lang if lang in MORPH_LANGS else "ru").word_is_known(word))


def is_common_word(word: str, lang: str = "ru") -> bool:
    """Is this name also an ordinary word under the same lemma, so that searching for it
    would find that word (``Ровно``, "exactly"; ``Верный``, "faithful"; ``Орёл``, "eagle";
    not ``Львов``, whose ordinary reading is the plural of *лев*)? Used to keep such
    spellings out of place-name variants. The Ukrainian dictionary marks no place names:
    there, a known word read first as anything but a noun (``вірний``) counts as common."""
    lw = word.lower().replace("ё", "е")
    parses = _analyzer(lang if lang in MORPH_LANGS else "ru").parse(lw)
    if not parses or not is_known(lw, lang):
        return False
    if lang == "uk":
        return parses[0].tag.POS != "NOUN"
    names = [p for p in parses if NAME_TAGS & p.tag.grammemes]
    lemma = (names or parses)[0].normal_form
    return any(p.normal_form == lemma and not NAME_TAGS & p.tag.grammemes
               and type(p.methods_stack[0][0]).__name__ == "DictionaryAnalyzer"
               for p in parses)
