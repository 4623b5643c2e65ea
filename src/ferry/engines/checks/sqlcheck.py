"""``sql``: checks written in the plan.

``must_return_zero: SELECT ...`` runs on one side (``on: target`` by default)
and passes when it returns no row or one number equal to 0 (several rows count
as their number). ``query`` (or ``source_query`` / ``target_query`` when the
dialects differ) runs on both sides; the results must have the same rows, and
numbers may differ by the relative ``tolerance`` (``0.1`` or ``"10%"``).
"""

from __future__ import annotations

from decimal import Decimal

from ferry.engines.checks import CheckResult, verdict
from ferry.engines.checks.common import close_enough, numeric
from ferry.errors import FerryError, InputError

SHOWN = 3


def tolerance(value) -> float:
    """``0.1`` from ``0.1``, ``"0.1"`` or ``"10%"``.

    Raises:
        InputError: not a number.
    """
    text = str(value).strip()
    try:
        return float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise InputError(f"sql check tolerance {value!r} is not a number or a percentage",
                         "write e.g. tolerance: 0.1 or tolerance: '10%'") from None


def run_sql_checks(source, target, checks) -> list[CheckResult]:
    """One result per plan SQL check (``plan.checks.sql``)."""
    return [_one(source, target, c) for c in checks]


def _one(source, target, check) -> CheckResult:
    try:
        if check.must_return_zero:
            return _zero(source if check.on == "source" else target, check)
        if check.query or (check.source_query and check.target_query):
            return _both(source, target, check)
    except FerryError as exc:
        return CheckResult("*", f"sql:{check.name}", "fail", _criteria(check), "error", exc.message)
    raise InputError(f"sql check {check.name!r} has no query",
                     "give must_return_zero, or query (or source_query and target_query)")


def _criteria(check) -> str:
    if check.must_return_zero:
        return f"returns 0 on the {check.on}"
    tol = tolerance(check.tolerance)
    return "equal on both sides" + (f" within {tol:.0%}" if tol else "")


def _zero(conn, check) -> CheckResult:
    rows = conn.query(check.must_return_zero)
    value = 0 if not rows else numeric(rows[0][0]) if len(rows) == 1 and len(rows[0]) == 1 else len(rows)
    ok = isinstance(value, (int, float, Decimal)) and value == 0
    return CheckResult("*", f"sql:{check.name}", verdict(ok), _criteria(check), str(value),
                       side=check.on, value=value if isinstance(value, (int, float)) else None)


def _both(source, target, check) -> CheckResult:
    a = source.query(check.source_query or check.query)
    b = target.query(check.target_query or check.query)
    tol = tolerance(check.tolerance)
    diffs = [f"row count {len(a)} != {len(b)}"] if len(a) != len(b) else []
    for i, (ra, rb) in enumerate(zip(a, b)):
        for j, (x, y) in enumerate(zip(ra, rb)):
            if not _cell_equal(x, y, tol):
                diffs.append(f"row {i + 1} column {j + 1}: {x!r} != {y!r}")
    measured = "equal" if not diffs else f"{len(diffs)} differences"
    value = _single(a) if len(a) == 1 and len(a[0]) == 1 else None
    return CheckResult("*", f"sql:{check.name}", verdict(not diffs), _criteria(check), measured,
                       "; ".join(diffs[:SHOWN]), side="both", value=value)


def _cell_equal(x, y, tol: float) -> bool:
    x, y = numeric(x), numeric(y)
    if isinstance(x, (int, float, Decimal)) and isinstance(y, (int, float, Decimal)):
        return close_enough(x, y, tol)
    return str(x) == str(y)


def _single(rows):
    v = numeric(rows[0][0])
    return float(v) if isinstance(v, Decimal) else v if isinstance(v, (int, float)) else None
