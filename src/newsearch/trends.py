"""Trends: how many articles match a query per day, week, month or year.

    query ─▶ the matching articles (as a search finds them, filters included)
          ─▶ their UTC days ─▶ period numbers ─▶ counts over one range of periods shared by
             every query, empty periods as zeros ─▶ TrendResults (JSON, CSV, a chart)

Period labels: ``YYYY-MM-DD``, ``YYYY-Www`` (ISO weeks, Monday first), ``YYYY-MM``, ``YYYY``.
The range runs from ``since`` (else the first matching article) to ``until`` (else the last
one). Undated articles have no period and are not counted.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np

from .errors import QueryError

__all__ = ["BY", "MAX_PERIODS", "TrendRequest", "TrendResults", "TrendSeries",
           "check_trend", "counts", "period_labels", "period_of", "trend_results"]

BY = ("day", "week", "month", "year")
# A chart or table longer than this is not what anyone meant (27 years by day).
MAX_PERIODS = 10_000
_EPOCH = date(1970, 1, 1)


def period_of(days: np.ndarray, by: str) -> np.ndarray:
    """Period numbers of UTC days since 1970-01-01: days, weeks since Monday 1969-12-29,
    months or years since 1970."""
    if by == "day":
        return days.astype(np.int64)
    if by == "week":
        return (days.astype(np.int64) + 3) // 7
    unit = "M" if by == "month" else "Y"
    return days.astype("datetime64[D]").astype(f"datetime64[{unit}]").astype(np.int64)


def period_labels(lo: int, hi: int, by: str) -> list[str]:
    """Labels of periods ``lo``..``hi`` (numbers as :func:`period_of` gives them)."""
    if by == "day":
        return [str(_EPOCH + timedelta(days=p)) for p in range(lo, hi + 1)]
    if by == "week":
        out = []
        for p in range(lo, hi + 1):
            year, week, _ = (_EPOCH + timedelta(days=7 * p - 3)).isocalendar()
            out.append(f"{year}-W{week:02d}")
        return out
    if by == "month":
        return [f"{1970 + p // 12:04d}-{p % 12 + 1:02d}" for p in range(lo, hi + 1)]
    return [f"{1970 + p:04d}" for p in range(lo, hi + 1)]


def counts(day_lists: list[np.ndarray], by: str, since_day: int | None,
           until_day: int | None) -> tuple[list[str], list[list[int]]]:
    """Labels of the shared range of periods, and each series' count per period.

    Raises ValueError when the range holds more than :data:`MAX_PERIODS` periods."""
    periods = [period_of(d, by) for d in day_lists]
    found = [p for p in periods if len(p)]
    lo = int(period_of(np.array([since_day]), by)[0]) if since_day is not None else \
        (min(int(p.min()) for p in found) if found else None)
    hi = int(period_of(np.array([until_day]), by)[0]) if until_day is not None else \
        (max(int(p.max()) for p in found) if found else None)
    if lo is None or hi is None or hi < lo:
        return [], [[] for _ in periods]
    if hi - lo + 1 > MAX_PERIODS:
        raise ValueError(f"{hi - lo + 1:,} periods by {by} are too many to list "
                         f"(at most {MAX_PERIODS:,}): count by a longer period")
    table = []
    for p in periods:
        p = p[(p >= lo) & (p <= hi)]
        table.append(np.bincount(p - lo, minlength=hi - lo + 1).tolist())
    return period_labels(lo, hi, by), table


@dataclass(frozen=True, slots=True)
class TrendRequest:
    """A trend's parameters checked as every backend checks them: the queries, the
    sections asked for, and the UTC day numbers of ``since`` and ``until`` (None: open)."""

    queries: list[str]
    by: str
    sections: tuple[str, ...]
    lo: int | None
    hi: int | None


def check_trend(queries: str | Sequence[str], by: str, sections: Sequence[str] | str | None,
                since: date | str | None, until: date | str | None) -> TrendRequest:
    """The parameters of ``trend()``, or a :class:`QueryError` naming the wrong one."""
    from .search import _as_date

    queries = [queries] if isinstance(queries, str) else list(queries)
    if not queries:
        raise QueryError("", "give at least one query")
    if by not in BY:
        raise QueryError(queries[0], f"by must be one of {', '.join(BY)}", parameter="by")
    if isinstance(sections, str):
        sections = [sections]
    since_d = _as_date(since, queries[0], "since", end=False)
    until_d = _as_date(until, queries[0], "until", end=True)
    if since_d and until_d and since_d > until_d:
        raise QueryError(queries[0], f"since {since_d} is after until {until_d}",
                         parameter="since")
    return TrendRequest(queries, by, tuple(x for x in (sections or ()) if x and x.strip()),
                        (since_d - _EPOCH).days if since_d else None,
                        (until_d - _EPOCH).days if until_d else None)


def trend_results(request: TrendRequest, day_lists: list[np.ndarray], totals: list[int],
                  took_ms: float) -> TrendResults:
    """The results of ``request`` from each query's matching articles' UTC days (dated
    ones) and totals (undated included)."""
    try:
        labels, table = counts(day_lists, request.by, request.lo, request.hi)
    except ValueError as exc:
        raise QueryError(request.queries[0], str(exc), parameter="by") from None
    series = [TrendSeries(q, list(zip(labels, row, strict=True)), total)
              for q, row, total in zip(request.queries, table, totals, strict=True)]
    return TrendResults(request.by, series, took_ms)


@dataclass(slots=True)
class TrendSeries:
    query: str
    periods: list[tuple[str, int]] = field(default_factory=list)
    total: int = 0  # matching articles, undated ones included

    def to_dict(self) -> dict[str, Any]:
        return {"query": self.query,
                "periods": [{"period": p, "count": c} for p, c in self.periods]}


@dataclass(slots=True)
class TrendResults:
    """Counts per period of each query, over one shared range of periods."""

    by: str
    series: list[TrendSeries] = field(default_factory=list)
    took_ms: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"by": self.by, "series": [s.to_dict() for s in self.series]}

    def to_csv(self) -> str:
        """``period,<query>,...`` and a row per period."""
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(["period", *(s.query for s in self.series)])
        labels = [p for p, _c in self.series[0].periods] if self.series else []
        for i, label in enumerate(labels):
            w.writerow([label, *(s.periods[i][1] for s in self.series)])
        return buf.getvalue()
