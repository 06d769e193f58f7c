"""The article record: what every reader produces and every backend indexes.

readers/* ──▶ Article ──▶ analysis ──▶ index writer

An :class:`Article` is backend-neutral and already clean: text fields are NFC without
invisible characters (see :mod:`newsearch.textnorm`), the date is timezone-aware or None (never
guessed from file times) with a fixed UTC offset, the source's own when it gave one, else UTC
(the index files it by its UTC instant and keeps the offset for display), sections are
normalised display names. Build one with :meth:`Article.create`, which does that cleaning and
derives the stable id.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from .textnorm import clean_line, clean_text, unmix_scripts

__all__ = ["Article", "RecordSkip", "article_id", "dedup_key", "key_words", "normalise_section",
           "section_key", "section_keys"]

_SECTION_SUFFIX = re.compile(r"\s+news$", re.IGNORECASE)


def article_id(source: str, key: str) -> str:
    """Stable id from the source path and the record key within it (16 hex digits)."""
    return hashlib.blake2b(f"{source}\n{key}".encode(), digest_size=8).hexdigest()


# Punctuation → space, for keys that ignore it (the duplicate key, cluster sketches).
PUNCTUATION = str.maketrans({c: " " for c in "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~«»“”„‘’‚–—…·•"})
_PUNCT = PUNCTUATION


def key_words(text: str) -> list[str]:
    """The words duplicate keys and story sketches compare: case and punctuation dropped (a
    C-speed split, a third of the time of a regular expression)."""
    return text.casefold().translate(_PUNCT).split()


def dedup_key(title: str, body: str) -> str:
    """Key under which exact duplicates (same text up to case, spacing, punctuation) collide."""
    return _key_of(key_words(f"{title}\n{body}"))


def _key_of(words: list[str]) -> str:
    return hashlib.blake2b(" ".join(words).encode(), digest_size=12).hexdigest()


_URL_SCHEME = re.compile(r"^(https?|ftp)://", re.IGNORECASE)


def _web_url(url: str | None) -> str | None:
    """The article's address if it is a web address (``javascript:`` and friends are not)."""
    url = clean_line(url)
    return url if url and _URL_SCHEME.match(url) else None


def normalise_section(name: str) -> str:
    """``" World  News "`` → ``"World"``, ``"business"`` → ``"Business"``.

    Lower-case labels get a capital so that one source's ``world`` and another's ``World``
    are one section; any other capitalisation is the publisher's and is kept. A word typed
    in two scripts' look-alike letters is put into one (``"Сolumn"`` with a Cyrillic С).
    """
    name = unmix_scripts(clean_line(name))
    if name.lower() != "news":
        name = _SECTION_SUFFIX.sub("", name)
    name = name.strip(" -:|/>»·")
    if name.islower():
        name = name[0].upper() + name[1:]
    return name


_KEY_SPACE = re.compile(r"[\s_-]+")
# A section named with its code, as Reuters-21578 topics are: "Mergers/Acquisitions (ACQ)".
_CODED = re.compile(r"^.+\s\(([A-Z0-9][A-Z0-9-]{0,30})\)$")


def section_key(name: str) -> str:
    """What a section name is matched by: case, hyphens and spacing do not matter
    (``section:castor-oil`` finds "Castor Oil")."""
    return _KEY_SPACE.sub(" ", name.casefold()).strip()


def section_keys(name: str) -> list[str]:
    """Every key that finds a section: its name's, and its code's when the name ends with one
    in parentheses (``"Mergers/Acquisitions (ACQ)"`` is found by ``acq`` too)."""
    keys = [section_key(name)]
    m = _CODED.match(name)
    if m:
        keys.append(section_key(m.group(1)))
    return keys


def with_fixed_offset(dt: datetime) -> datetime:
    """An aware datetime in a plain fixed-offset zone (UTC itself for offset 0)."""
    offset = dt.utcoffset() or timedelta(0)
    return dt.astimezone(timezone(offset) if offset else UTC)


@dataclass(slots=True)
class Article:
    """One news article. ``sections`` may hold several values (Reuters TOPICS)."""

    id: str
    title: str
    body: str
    source: str
    key: str
    date: datetime | None = None
    sections: list[str] = field(default_factory=list)
    url: str | None = None
    author: str | None = None
    lang: str | None = None
    subtitle: str | None = None
    tags: list[str] = field(default_factory=list)

    @classmethod
    def create(
        cls,
        *,
        source: str,
        key: str,
        title: str | None,
        body: str | None,
        date: datetime | None = None,
        sections: list[str] | tuple[str, ...] | str | None = None,
        url: str | None = None,
        author: str | None = None,
        lang: str | None = None,
        subtitle: str | None = None,
        tags: list[str] | tuple[str, ...] | None = None,
    ) -> Article:
        """Clean every field and derive the id. Naive dates are taken as UTC; aware ones keep
        their UTC offset (as a fixed offset, whatever zone object they came with)."""
        if isinstance(sections, str):
            sections = [sections]
        secs: list[str] = []
        for s in sections or ():
            s = normalise_section(s)
            if s and s.casefold() not in {x.casefold() for x in secs}:
                secs.append(s)
        if date is not None:
            date = date.replace(tzinfo=UTC) if date.tzinfo is None else with_fixed_offset(date)
        tag_list: list[str] = []
        for t in tags or ():
            t = clean_line(t)
            if t and t not in tag_list:
                tag_list.append(t)
        return cls(
            id=article_id(source, key),
            title=clean_line(title),
            body=clean_text(body or ""),
            source=source,
            key=key,
            date=date,
            sections=secs,
            url=_web_url(url),
            author=clean_line(author) or None,
            lang=(clean_line(lang).lower() or None) if lang else None,
            subtitle=clean_line(subtitle) or None,
            tags=tag_list,
        )

    @property
    def dedup(self) -> str:
        return dedup_key(self.title, "\n".join(filter(None, [self.subtitle, self.body])))

    def dedup_and_words(self) -> tuple[str, list[str]]:
        """:attr:`dedup`, and the words a story sketch is made of (the body's, or a
        headline-only article's headline: :func:`newsearch.clusters.word_hashes`), from one
        pass over the text (the indexer needs both for every article it reads)."""
        title = key_words(self.title)
        body = key_words(self.body)
        words = title + key_words(self.subtitle) + body if self.subtitle else title + body
        return _key_of(words), body if self.body else title

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (``section`` is a list; ``date`` ISO 8601 with its UTC offset, or
        None)."""
        return {
            "id": self.id,
            "title": self.title,
            "subtitle": self.subtitle,
            "body": self.body,
            "date": self.date.isoformat() if self.date else None,
            "section": list(self.sections),
            "url": self.url,
            "author": self.author,
            "lang": self.lang,
            "tags": list(self.tags),
            "source": self.source,
        }


@dataclass(slots=True, frozen=True)
class RecordSkip:
    """A record inside a file that could not be turned into an article."""

    key: str
    reason: str


# Column value for articles without a date: below every real date, so "newest first" puts
# them last and date ranges never include them.
NO_DATE = -(2**62)



def epoch_to_datetime(value: int | None, utc_offset: int | None = None) -> datetime | None:
    """The date column's UTC seconds as an aware datetime, at ``utc_offset`` minutes east of
    UTC when the source gave one (the stored ``utc_offset``), else in UTC."""
    if value is None or value <= NO_DATE // 2:
        return None
    tz = timezone(timedelta(minutes=utc_offset)) if utc_offset else UTC
    return datetime.fromtimestamp(value, tz=tz)

