"""Date parsing shared by the readers: tolerant, timezone-aware, never invented.

Every function returns an aware datetime or None: in the UTC offset the source gave (``-05:00``,
``EDT``), else in the publisher's known zone (ria.ru: Moscow), else UTC. The offset is kept so
that an article can be shown at its own local time; every comparison, filter and index value
uses the instant, i.e. UTC. A string that only partly makes sense
(a valid day with an impossible time, as in Reuters' ``31-MAR-1987 605:12:19.12``) keeps the
part that does.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime

__all__ = ["parse_date", "parse_reuters_date", "parse_us_header_date", "tz_for_url"]

MONTHS = {
    m: i
    for i, m in enumerate(
        ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1
    )
}
MONTHS.update({"sept": 9, "june": 6, "july": 7, "march": 3, "april": 4})
for _full, _n in [("january", 1), ("february", 2), ("august", 8), ("september", 9),
                  ("october", 10), ("november", 11), ("december", 12)]:
    MONTHS[_full] = _n

# North American and European zone abbreviations that news datelines use.
ZONES = {
    "UTC": 0, "GMT": 0, "Z": 0, "UT": 0,
    "EST": -5, "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7,
    "BST": 1, "CET": 1, "CEST": 2, "EET": 2, "EEST": 3, "MSK": 3,
}

# Publishers whose feeds give local times without a zone. ria.ru and its sister site
# radiosputnik.ru (whose stories appear in RIA's feeds) show Moscow time (UTC+3 all year
# since 2014).
PUBLISHER_UTC_OFFSET = {"ria.ru": 3, "radiosputnik.ru": 3}

_MIN_YEAR, _MAX_YEAR = 1800, 2200


def tz_for_url(url: str | None) -> timezone:
    if url:
        m = re.match(r"^[a-z]+://([^/:]+)", url, re.I)
        if m:
            host = m.group(1).lower()
            for domain, hours in PUBLISHER_UTC_OFFSET.items():
                if host == domain or host.endswith("." + domain):
                    return timezone(timedelta(hours=hours))
    return UTC


def _make(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0,
          tz: timezone = UTC) -> datetime | None:
    if not (_MIN_YEAR <= y <= _MAX_YEAR):
        return None
    try:
        day = datetime(y, mo, d, tzinfo=tz)
    except ValueError:
        return None
    try:
        return datetime(y, mo, d, h, mi, s, tzinfo=tz)
    except ValueError:
        return day  # impossible time of day: keep the day


# A date field longer than this is not a date; only its start is looked at.
_MAX_DATE_CHARS = 200
_REUTERS = re.compile(
    r"(\d{1,2})-([A-Za-z]{3})-(\d{4})(?:\s+(\d{1,3}):(\d{1,2}):(\d{1,2}))?"
)


def parse_reuters_date(text: str) -> datetime | None:
    """``26-FEB-1987 15:01:01.79`` (with Reuters-21578's leading spaces and trailing junk)."""
    m = _REUTERS.search((text or "")[:_MAX_DATE_CHARS])
    if not m:
        return None
    d, mon, y, h, mi, s = m.groups()
    month = MONTHS.get(mon.lower())
    if not month:
        return None
    return _make(int(y), month, int(d), int(h or 0), int(mi or 0), int(s or 0))


_US_HEADER = re.compile(
    r"(?:[A-Za-z]{3},?\s+)?([A-Za-z]{3,9})\.?\s+(\d{1,2}),?\s+(\d{4})"
    r"(?:\s+(\d{1,2}):(\d{2})\s*([ap]\.?m\.?)?)?(?:\s+([A-Z]{1,4}))?",
    re.I,
)


def parse_us_header_date(text: str, *, tz: timezone = UTC) -> datetime | None:
    """``Mon Oct 23, 2006 6:42pm EDT`` → 2006-10-23 18:42-04:00; without a known zone, ``tz``."""
    m = _US_HEADER.search(text or "")
    if not m:
        return None
    mon, d, y, h, mi, ampm, zone = m.groups()
    month = MONTHS.get(mon.lower())
    if not month:
        return None
    hour = int(h or 0)
    if ampm:
        ampm = ampm.lower().replace(".", "")
        if ampm == "pm" and hour < 12:
            hour += 12
        elif ampm == "am" and hour == 12:
            hour = 0
    offset = ZONES.get((zone or "").upper())
    zone_tz = tz if offset is None else timezone(timedelta(hours=offset))
    return _make(int(y), month, int(d), hour, int(mi or 0), 0, zone_tz)


_ISO = re.compile(
    r"^\d{4}-\d{2}(-\d{2})?([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)
_DMY = re.compile(r"(\d{1,2})[./](\d{1,2})[./](\d{4})(?:[ ,T]+(\d{1,2}):(\d{2})(?::(\d{2}))?)?")
_HM_DMY = re.compile(r"^(\d{1,2}):(\d{2})\s+(\d{1,2})\.(\d{1,2})\.(\d{4})$")
_YMD_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_TEXT_MONTH = re.compile(r"(\d{1,2})\s+([A-Za-z]{3,9})\.?,?\s+(\d{4})")


def parse_date(value: object, *, tz: timezone = UTC) -> datetime | None:
    """Best effort for the date fields of CSV/JSON/HTML metadata.

    Accepts ISO 8601, RFC 2822, ``DD.MM.YYYY [HH:MM]``, ``HH:MM DD.MM.YYYY``,
    ``Mon D, YYYY``, ``D Month YYYY``, ``YYYYMMDD`` and Unix timestamps. Naive values are
    read in ``tz`` (UTC unless the publisher's zone is known).
    """
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return _aware(value, tz)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _from_epoch(float(value))
    text = str(value)[:_MAX_DATE_CHARS].strip()
    if not text:
        return None
    if re.fullmatch(r"\d{9,13}(\.\d+)?", text):
        return _from_epoch(float(text))
    if _ISO.match(text):
        try:
            dt = datetime.fromisoformat(text.replace(" ", "T", 1) if " " in text[:11] else text)
        except ValueError:
            dt = None
        if dt is not None and _MIN_YEAR <= dt.year <= _MAX_YEAR:
            return _aware(dt, tz)
    m = _HM_DMY.match(text)
    if m:
        h, mi, d, mo, y = map(int, m.groups())
        return _make(y, mo, d, h, mi, 0, tz)
    m = _YMD_COMPACT.match(text)
    if m:
        y, mo, d = map(int, m.groups())
        return _make(y, mo, d, tz=tz)
    m = _DMY.search(text)
    if m:
        gd, gmo, gy, gh, gmi, gs = m.groups()
        return _make(int(gy), int(gmo), int(gd), int(gh or 0), int(gmi or 0), int(gs or 0), tz)
    try:
        dt = parsedate_to_datetime(text)
        if dt is not None and _MIN_YEAR <= dt.year <= _MAX_YEAR:
            return _aware(dt, tz)
    except (TypeError, ValueError, IndexError):
        pass
    us = parse_us_header_date(text, tz=tz)
    if us is not None:
        return us
    m = _TEXT_MONTH.search(text)
    if m:
        td, mon, ty = m.groups()
        month = MONTHS.get(mon.lower())
        if month:
            return _make(int(ty), month, int(td), tz=tz)
    return None


def _aware(dt: datetime, tz: timezone) -> datetime:
    """A naive ``dt`` is read in ``tz``; an aware one keeps its offset."""
    return dt.replace(tzinfo=tz) if dt.tzinfo is None else dt


def _from_epoch(ts: float) -> datetime | None:
    if ts > 1e11:  # milliseconds
        ts /= 1000.0
    try:
        dt = datetime.fromtimestamp(ts, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None
    return dt if _MIN_YEAR <= dt.year <= _MAX_YEAR else None
