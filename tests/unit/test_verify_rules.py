"""Pure rules of verification: check names, tolerances, number comparison,
overall status, report formats, sub-range cutting."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ferry.connectors.base import KeyRange
from ferry.engines.checks import CheckResult, overall_status, parse_names
from ferry.engines.checks.common import close_enough
from ferry.engines.checks.sqlcheck import tolerance
from ferry.engines.chunks import ranges_between
from ferry.errors import InputError
from ferry.report.reconciliation import report_format


def test_check_names_are_validated_and_ordered():
    assert parse_names("sample, counts", ["counts"]) == ["counts", "sample"]
    assert parse_names(None, ["counts", "checksum"]) == ["counts", "checksum"]
    with pytest.raises(InputError, match="bogus"):
        parse_names("counts,bogus", [])


def test_tolerance_accepts_fractions_and_percentages():
    assert tolerance("10%") == pytest.approx(0.1)
    assert tolerance(0.25) == 0.25
    with pytest.raises(InputError):
        tolerance("ten")


def test_close_enough_is_exact_for_decimals_and_relative_for_floats():
    assert close_enough(Decimal("1.50"), 1.5 * 1, 0) is True
    assert close_enough(Decimal("10"), Decimal("10.0000001"), 0) is False
    assert close_enough(1.0, 1.0 + 1e-12, 1e-9) is True
    assert close_enough(1.0, 1.0 + 1e-6, 1e-9) is False
    assert close_enough(None, 0, 0.5) is False


def test_overall_status():
    mk = lambda s: CheckResult("t", "x", s, "", "")   # noqa: E731
    assert overall_status([mk("pass"), mk("pass")]) == "pass"
    assert overall_status([mk("pass"), mk("review")]) == "review"
    assert overall_status([mk("review"), mk("fail")]) == "fail"


def test_report_format_by_extension():
    assert [report_format(p) for p in ("a.md", "b.HTML", "c.json")] == ["md", "html", "json"]
    with pytest.raises(InputError):
        report_format("d.pdf")


def test_sub_ranges_cover_the_parent_range():
    parts = ranges_between(KeyRange((10,), (50,)), [(20,), (30,)])
    assert parts == [KeyRange((10,), (20,)), KeyRange((20,), (30,)), KeyRange((30,), (50,))]
    assert ranges_between(KeyRange(), []) == [KeyRange()]


def test_timestamptz_keys_normalise_alike_on_every_engine():
    """PostgreSQL reads a timestamptz key with its zone, MySQL holds it as UTC without, SQLite as text with +00:00."""
    import datetime as dt

    from ferry.engines.bisect import normalize_key

    aware = dt.datetime(2022, 1, 25, 13, 14, 38, 375093, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    naive_utc = dt.datetime(2022, 1, 25, 12, 14, 38, 375093)
    assert normalize_key((aware, 7)) == normalize_key((naive_utc, 7)) == normalize_key(
        ("2022-01-25 12:14:38.375093+00:00", 7)) == ("2022-01-25 12:14:38.375093", 7)
    assert normalize_key(("2022-01-25 12:14:38", "text")) == ("2022-01-25 12:14:38", "text")


def test_literals_of_an_aware_datetime_follow_each_engine():
    import datetime as dt
    from types import SimpleNamespace

    from ferry.connectors.mysql_dialect import MySQLDialect
    from ferry.connectors.pg_dialect import PostgresDialect
    from ferry.connectors.sqlite import SQLiteDialect
    from ferry.engines.checks.common import close_enough, literal

    value = dt.datetime(2022, 1, 25, 13, 0, tzinfo=dt.timezone(dt.timedelta(hours=1)))
    # literal() reads only the connector's dialect
    conn = {d.name: SimpleNamespace(dialect=d) for d in (PostgresDialect(), MySQLDialect(), SQLiteDialect())}
    assert literal(conn["postgresql"], value) == "'2022-01-25 13:00:00+01:00'"
    assert literal(conn["mysql"], value) == "'2022-01-25 12:00:00'"
    assert literal(conn["sqlite"], value) == "'2022-01-25 12:00:00+00:00'"
    assert close_enough("toto", "toto", 0) and not close_enough("toto", 1, 0)
