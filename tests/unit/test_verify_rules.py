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
