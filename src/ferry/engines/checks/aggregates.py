"""``aggregates``: per column, computed inside each database on both sides and
compared: NULL count, min and max (numbers, dates, times), sum (numbers), sum
of lengths in characters (text). Integers and decimals must be equal; floats
(and any value an engine returns as a float) within a relative tolerance
(``checks.float_tolerance``, 1e-9; 1e-6 for 32-bit floats). Text min/max are
not compared: collations order text differently on each engine.
"""

from __future__ import annotations

from ferry.catalog.model import NUMBER_KINDS, TEXT_KINDS, DataType, Kind
from ferry.connectors.canonical import lenient_text
from ferry.engines.checks import CheckResult, verdict
from ferry.engines.checks.common import Side, close_enough, numeric
from ferry.transform.mapping import ResolvedTable

ORDERED_KINDS = (*NUMBER_KINDS, Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMPTZ)
FLOAT32_TOLERANCE = 1e-6


def _expr(side: Side, i: int, name: str) -> str:
    if side.name == "target":
        return side.quote(name)
    expr = side.select.exprs[i][0]
    fix = getattr(side.conn.dialect, "source_expr", None)
    return fix(side.table, expr) if fix else expr


def _length(side: Side, expr: str, dtype: DataType) -> str:
    """Characters of a text ``expr``; a CHAR's without its padding, as PostgreSQL's
    ``bpchar`` and MySQL's CHAR give it (SQLite keeps the spaces a CHAR was copied with)."""
    engine = side.conn.dialect.name
    if engine == "mysql":
        return f"CHAR_LENGTH({expr})"
    if engine == "postgresql":
        return f"length(CAST({expr} AS text))"
    return f"length(rtrim({expr}, ' '))" if dtype.kind == Kind.CHAR else f"length({expr})"


def _plan(side: Side, types: list[DataType]) -> list[tuple[str, str, str]]:
    """``(column, aggregate, sql)`` for every aggregate of every column."""
    items = [("*", "count", "COUNT(*)")]
    for i, (name, dtype) in enumerate(zip(side.columns, types)):
        e = _expr(side, i, name)
        items.append((name, "nulls", f"SUM(CASE WHEN {e} IS NULL THEN 1 ELSE 0 END)"))
        if dtype.kind in ORDERED_KINDS:
            items += [(name, "min", f"MIN({e})"), (name, "max", f"MAX({e})")]
        if dtype.kind in NUMBER_KINDS:
            items.append((name, "sum", f"SUM({e})"))
        if dtype.kind in TEXT_KINDS:
            items.append((name, "length_sum", f"SUM({_length(side, e, dtype)})"))
    return items


def measure(side: Side, types: list[DataType]) -> dict[tuple[str, str], object]:
    """``(column, aggregate) -> value`` on one side (one query)."""
    items = _plan(side, types)
    sql = f"SELECT {', '.join(s for _, _, s in items)} FROM {side.qualified()} WHERE {side.where()}"
    row = side.conn.query(sql)[0]
    return {(c, a): v for (c, a, _), v in zip(items, row)}


def _same(agg: str, dtype: DataType, a, b, rel: float) -> bool:
    if agg in ("count", "nulls", "length_sum"):
        return int(a or 0) == int(b or 0)
    if dtype.kind not in NUMBER_KINDS:
        return lenient_text(a, dtype) == lenient_text(b, dtype)
    a, b = numeric(a), numeric(b)
    tolerance = FLOAT32_TOLERANCE if dtype.kind == Kind.FLOAT else rel
    exact = dtype.kind not in (Kind.FLOAT, Kind.DOUBLE) and not isinstance(a, float) and not isinstance(b, float)
    return close_enough(a, b, 0 if exact else tolerance)


def _within(dtype: DataType, rel: float) -> str:
    if dtype.kind == Kind.FLOAT:
        return f" (within {FLOAT32_TOLERANCE:g})"
    return f" (within {rel:g})" if dtype.kind == Kind.DOUBLE else ""


def aggregates(src: Side, tgt: Side, table: ResolvedTable, rel: float) -> list[CheckResult]:
    """One result per column (and one for the row count): every aggregate equal."""
    types = [t for _, t in tgt.select.exprs]
    by_name = dict(zip(tgt.columns, types)) | {"*": DataType(Kind.BIGINT)}
    a, b = measure(src, types), measure(tgt, types)
    results: dict[str, list[str]] = {}
    for (col, agg), sv in a.items():
        tv = b.get((col, agg))
        bad = results.setdefault(col, [])
        if not _same(agg, by_name[col], sv, tv, rel):
            bad.append(f"{agg} {sv!r} != {tv!r}")
    python = {f.column for f in table.functions}   # the source's SQL cannot see what Python made
    return [CheckResult(table.name, "aggregates" if col == "*" else f"aggregates:{col}", verdict(not bad),
                        "all aggregates equal" + _within(by_name[col], rel),
                        "; ".join(bad) or "equal", side="both", value=len(bad))
            for col, bad in results.items() if col not in python] + [
        CheckResult(table.name, f"aggregates:{col}", "review", "all aggregates equal",
                    "not measured: a Python function makes this column (compared by checksum and sample)")
        for col in sorted(python)]
