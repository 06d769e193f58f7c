"""Trends: counts per period agree with searches restricted to each period, on both backends
(the folder and the OpenSearch cluster: one ``date_histogram`` per query there)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from newsearch import QueryError, index_paths, open_index
from newsearch.cli import main
from newsearch.trends import counts, period_labels, period_of

from .opensearch_support import BACKENDS, index_location


def _day(s: str) -> int:
    return int((np.datetime64(s) - np.datetime64("1970-01-01")).astype(int))


@pytest.mark.parametrize(("day", "by", "label"), [
    ("1987-03-02", "day", "1987-03-02"),
    ("1987-03-02", "week", "1987-W10"),  # a Monday
    ("1987-03-01", "week", "1987-W09"),  # the Sunday before
    ("2021-01-03", "week", "2020-W53"),  # ISO year differs from the calendar year
    ("1987-12-31", "month", "1987-12"),
    ("1969-12-31", "month", "1969-12"),
    ("1987-12-31", "year", "1987"),
])
def test_period_labels(day: str, by: str, label: str) -> None:
    p = int(period_of(np.array([_day(day)]), by)[0])
    assert period_labels(p, p, by) == [label]


def test_counts_share_one_range_with_zeros() -> None:
    a = np.array([_day("1987-01-05"), _day("1987-03-09"), _day("1987-03-10")])
    b = np.array([_day("1987-05-01")])
    labels, table = counts([a, b], "month", None, None)
    assert labels == ["1987-01", "1987-02", "1987-03", "1987-04", "1987-05"]
    assert table == [[1, 0, 2, 0, 0], [0, 0, 0, 0, 1]]
    labels, table = counts([a], "month", _day("1986-12-01"), _day("1987-02-28"))
    assert labels == ["1986-12", "1987-01", "1987-02"] and table == [[0, 1, 0]]
    with pytest.raises(ValueError, match="too many"):
        counts([a], "day", _day("1900-01-01"), _day("1999-01-01"))


@pytest.fixture(scope="module", params=BACKENDS)
def small(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    root = tmp_path_factory.mktemp("trend")
    rows = [("a", "Oil rises", "Oil prices rose.", "2023-01-10T10:00:00Z", "Business"),
            ("b", "Oil falls", "Oil prices fell.", "2023-03-02T10:00:00Z", "Business"),
            ("c", "Gas and oil", "Gas followed oil.", "2023-03-20T10:00:00Z", "World"),
            ("d", "Undated oil", "Oil without a date.", None, "World")]
    (root / "f.jsonl").write_text("\n".join(json.dumps(
        {"id": i, "title": t, "body": b, "date": d, "section": s}) for i, t, b, d, s in rows),
        encoding="utf-8")
    index = index_location(request, request.param, root / "index", "trend")
    index_paths([root / "f.jsonl"], index, jobs=1)
    return index


def test_trend_library_and_cli_shapes(small: str) -> None:
    with open_index(small) as ix:
        t = ix.trend(["oil", "gas"])
        assert t.to_dict() == {"by": "month", "series": [
            {"query": "oil", "periods": [{"period": "2023-01", "count": 1},
                                         {"period": "2023-02", "count": 0},
                                         {"period": "2023-03", "count": 2}]},
            {"query": "gas", "periods": [{"period": "2023-01", "count": 0},
                                         {"period": "2023-02", "count": 0},
                                         {"period": "2023-03", "count": 1}]}]}
        assert t.series[0].total == 4  # the undated one matches, but has no period
        world = ix.trend("oil", sections=["world"], by="year")
        assert world.to_dict()["series"][0]["periods"] == [{"period": "2023", "count": 1}]
        with pytest.raises(QueryError):
            ix.trend("oil", by="fortnight")
    runner = CliRunner()
    out = runner.invoke(main, ["trend", "oil", "gas", "--index", str(small), "--csv"],
                        catch_exceptions=False).output
    assert list(csv.reader(io.StringIO(out))) == [
        ["period", "oil", "gas"], ["2023-01", "1", "0"], ["2023-02", "0", "0"],
        ["2023-03", "2", "1"]]
    out = runner.invoke(main, ["trend", "oil", "--index", str(small), "--json", "--by", "year"],
                        catch_exceptions=False).output
    assert json.loads(out) == {"by": "year", "series": [
        {"query": "oil", "periods": [{"period": "2023", "count": 3}]}]}
    text = runner.invoke(main, ["trend", "oil", "--index", str(small)],
                         catch_exceptions=False).output
    assert "2023-02 0" in text and "2023-03 2 " in text and "#" in text
    bad = runner.invoke(main, ["trend", "oil", "--index", str(small), "--since", "2023-13"])
    assert bad.exit_code == 2 and "--since" in bad.output


@pytest.mark.slow
def test_reuters_cocoa_by_month_equals_monthly_searches(corpora: Path, tmp_path: Path,
                                                        backend: str,
                                                        request: pytest.FixtureRequest) -> None:
    index = index_location(request, backend, tmp_path / "index", "cocoa")
    index_paths(sorted((corpora / "reuters21578").glob("reut2-*.sgm")), index)
    runner = CliRunner()
    out = runner.invoke(main, ["trend", "cocoa", "--by", "month", "--index", str(index),
                               "--json"], catch_exceptions=False).output
    periods = json.loads(out)["series"][0]["periods"]
    assert len(periods) >= 3 and sum(p["count"] for p in periods) > 50
    for p in periods:
        month = p["period"]
        found = runner.invoke(main, ["search", "cocoa", "--since", month, "--until", month,
                                     "--index", str(index), "--json"],
                              catch_exceptions=False).output
        assert json.loads(found)["total"] == p["count"], month


def test_articles_before_1970_are_counted(tmp_path: Path, backend: str,
                                         request: pytest.FixtureRequest) -> None:
    """Day numbers before 1970 are negative; only the undated ones stay out of a trend."""
    index = index_location(request, backend, tmp_path / "index", "before1970")
    rows = [("a", "1965-07-01T10:00:00Z"), ("b", "1969-12-31T10:00:00Z"),
            ("c", "1970-01-02T10:00:00Z"), ("d", None)]
    (tmp_path / "f.jsonl").write_text("\n".join(json.dumps(
        {"id": i, "title": f"Copper report {i}", "body": f"Copper output, part {i}.",
         "date": d}) for i, d in rows), encoding="utf-8")
    index_paths([tmp_path / "f.jsonl"], index, jobs=1)
    with open_index(index) as ix:
        t = ix.trend("copper", by="year")
    assert t.series[0].total == 4
    assert t.series[0].periods == [("1965", 1), ("1966", 0), ("1967", 0), ("1968", 0),
                                   ("1969", 1), ("1970", 1)]
