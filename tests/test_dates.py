"""readers.dates: tolerant date parsing; every result is aware, in the offset the source gave
(else UTC), or None (never invented)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from newsearch.readers.dates import (
    parse_date,
    parse_reuters_date,
    parse_us_header_date,
    tz_for_url,
)

MOSCOW = timezone(timedelta(hours=3))
RIA_URL = "https://ria.ru/20231020/ekonomika-1904431907.html"


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


# --- Reuters-21578 <DATE> ----------------------------------------------------------------------

REUTERS_DATES = [
    ("26-FEB-1987 15:01:01.79", utc(1987, 2, 26, 15, 1, 1)),
    (" 3-MAR-1987 09:18:04.45", utc(1987, 3, 3, 9, 18, 4)),  # leading space
    ("  5-MAR-1987 09:18:04.45", utc(1987, 3, 5, 9, 18, 4)),  # two leading spaces
    ("26-FEB-1987  15:01:01.79", utc(1987, 2, 26, 15, 1, 1)),  # double space before the time
    # Trailing junk: the reader strips control references first, leaving "RM".
    ("27-MAR-1987 00:02:59.13RM", utc(1987, 3, 27, 0, 2, 59)),
    ("27-MAR-1987 00:02:59.13&#5;&#5;&#5;RM", utc(1987, 3, 27, 0, 2, 59)),
    (" 7-APR-1987 16:22:00.0", utc(1987, 4, 7, 16, 22)),  # one fractional digit
    (" 9-APR-1987 13:32:06.7", utc(1987, 4, 9, 13, 32, 6)),
    ("9-APR-1987 00:00:00.00    # date added by S Finch as guesswork ", utc(1987, 4, 9)),
    ("31-MAR-1987 605:12:19.12", utc(1987, 3, 31)),  # hour 605 (NEWID 17192): the day is kept
]


@pytest.mark.parametrize("raw, expected", REUTERS_DATES)
def test_parse_reuters_date_reads_every_irregular_form(raw, expected):
    parsed = parse_reuters_date(raw)
    assert parsed == expected
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "garbage",
        "31-FEB-1987 10:00:00.00",
        "26-XYZ-1987 10:00:00.00",
        "26-FEB-0087 10:00:00.00",
    ],
    ids=["empty", "garbage", "no-such-day", "no-such-month", "year-out-of-range"],
)
def test_parse_reuters_date_of_nonsense_is_none(raw):
    assert parse_reuters_date(raw) is None


# --- Reuters/Ding "-- " header ----------------------------------------------------------------

US_HEADER_DATES = [
    ("Mon Oct 23, 2006 6:42pm EDT", utc(2006, 10, 23, 22, 42)),
    ("Tue Dec 5, 2006 6:42pm EST", utc(2006, 12, 5, 23, 42)),
    # A late-evening US story lands on the next day in UTC.
    ("Sat Oct 21, 2006 8:11pm EDT", utc(2006, 10, 22, 0, 11)),
    ("Fri Dec 1, 2006 12:05am EST", utc(2006, 12, 1, 5, 5)),  # 12am is just after midnight
    ("Fri Dec 1, 2006 12:05pm EST", utc(2006, 12, 1, 17, 5)),  # 12pm is just after noon
    ("Fri Dec 1, 2006 11:59am EST", utc(2006, 12, 1, 16, 59)),
]


@pytest.mark.parametrize("raw, expected", US_HEADER_DATES)
def test_parse_us_header_date_reads_the_us_zone_and_keeps_it(raw, expected):
    parsed = parse_us_header_date(raw)
    assert parsed == expected  # the same instant
    assert parsed.utcoffset() == timedelta(hours=-4 if raw.endswith("EDT") else -5)
    assert parsed.strftime("%a %b %-d") == raw[:len(parsed.strftime("%a %b %-d"))]


def test_parse_us_header_date_of_garbage_is_none():
    assert parse_us_header_date("By Jack Kim") is None


# --- tz_for_url --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        RIA_URL,
        "https://www.ria.ru/x",
        "http://ria.ru:8080/x",
        "https://realty.ria.ru/20231020/x.html",
        "https://radiosputnik.ru/20231203/gaz-1913425608.html",  # also in RIA's feed
    ],
)
def test_tz_for_url_knows_ria_is_moscow_time(url):
    assert tz_for_url(url) == MOSCOW


@pytest.mark.parametrize(
    "url", [None, "", "https://notria.ru/x", "https://ria.ru.example.com/x", "ria.ru/no-scheme"]
)
def test_tz_for_url_of_other_urls_is_utc(url):
    assert tz_for_url(url) == UTC


# --- parse_date --------------------------------------------------------------------------------

PARSE_DATE = [
    # (value, tz the reader passes, expected instant, UTC offset kept in hours)
    ("16:25 20.10.2023", tz_for_url(RIA_URL), utc(2023, 10, 20, 13, 25), 3),  # RIA, Moscow time
    ("00:10 01.01.2024", tz_for_url(RIA_URL), utc(2023, 12, 31, 21, 10), 3),
    ("16:25 20.10.2023", UTC, utc(2023, 10, 20, 16, 25), 0),
    ("2023-10-20T16:25:00Z", UTC, utc(2023, 10, 20, 16, 25), 0),
    ("2023-10-20T16:25:00.250Z", UTC, datetime(2023, 10, 20, 16, 25, 0, 250000, tzinfo=UTC), 0),
    ("2023-10-20T16:25:00+03:00", UTC, utc(2023, 10, 20, 13, 25), 3),
    ("2023-10-20T16:25:00-05:00", UTC, utc(2023, 10, 20, 21, 25), -5),
    ("2023-10-20T16:25:00+0300", UTC, utc(2023, 10, 20, 13, 25), 3),
    ("2023-10-20 16:25", UTC, utc(2023, 10, 20, 16, 25), 0),
    ("2023-10-20T16:25:00", MOSCOW, utc(2023, 10, 20, 13, 25), 3),  # naive: read in tz
    ("2023-10-20T16:25:00Z", MOSCOW, utc(2023, 10, 20, 16, 25), 0),  # explicit zone wins
    ("2023-10-20", UTC, utc(2023, 10, 20), 0),
    ("Fri, 20 Oct 2023 16:25:00 +0300", UTC, utc(2023, 10, 20, 13, 25), 3),  # RFC 2822
    ("Fri, 20 Oct 2023 16:25:00 GMT", UTC, utc(2023, 10, 20, 16, 25), 0),
    ("20231020", UTC, utc(2023, 10, 20), 0),
    ("20.10.2023", UTC, utc(2023, 10, 20), 0),
    ("October 20, 2023", UTC, utc(2023, 10, 20), 0),
    ("October 20, 2023", MOSCOW, utc(2023, 10, 19, 21), 3),  # naive: read in tz
    ("20 October 2023", MOSCOW, utc(2023, 10, 19, 21), 3),
    (1697808300, UTC, utc(2023, 10, 20, 13, 25), 0),  # epoch seconds
    (1697808300000, UTC, utc(2023, 10, 20, 13, 25), 0),  # epoch milliseconds
    ("1697808300", UTC, utc(2023, 10, 20, 13, 25), 0),
    ("1697808300000", UTC, utc(2023, 10, 20, 13, 25), 0),
    (1697808300.5, UTC, datetime(2023, 10, 20, 13, 25, 0, 500000, tzinfo=UTC), 0),
    (datetime(2023, 10, 20, 16, 25), MOSCOW, utc(2023, 10, 20, 13, 25), 3),
]


@pytest.mark.parametrize("value, tz, expected, hours", PARSE_DATE)
def test_parse_date_reads_common_feed_formats_and_keeps_the_offset(value, tz, expected, hours):
    parsed = parse_date(value, tz=tz)
    assert parsed == expected
    assert parsed.utcoffset() == timedelta(hours=hours)


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "   ",
        "garbage",
        "not a date at all 123",
        "2023-13-01",
        "20231345",
        "32.10.2023",
        "0999-01-01",
        "1799-12-31T00:00:00Z",
        "2201-01-01T00:00:00Z",
        "Fri, 20 Oct 2999 16:25:00 GMT",
        1e20,
        float("nan"),
        True,
    ],
)
def test_parse_date_of_garbage_or_out_of_range_years_is_none(value):
    assert parse_date(value) is None
