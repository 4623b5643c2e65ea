"""``lookup:``: an added column taken from another source table (a merge by
lookup join).

``{target: phone, lookup: {table: user_details, column: phone, key: {user_id: id}}}``
compiles into a correlated scalar subquery of the source ``SELECT``::

    (SELECT l."phone" FROM "user_details" l WHERE l."user_id" = "users"."id")

so it runs inside the source, keeps the row path's batching and is part of
the source image that verification hashes. The ``key`` columns must be the
lookup table's primary key or a unique key (at most one row matches; no match
gives NULL). The target type is the looked-up column's, through the casting
rules (``type:`` overrides it); the rules' value checks do not run on
looked-up values, so a value the target type cannot hold is refused by the
target and becomes a reject.
"""

from __future__ import annotations

from ferry.catalog.casting import cast_column
from ferry.catalog.model import Catalog, Table
from ferry.catalog.types import format_type
from ferry.errors import PlanError
from ferry.plan.model import ColumnMapping
from ferry.transform.columns import CompiledColumn, planned_type


def compile_lookup(m: ColumnMapping, table: Table, catalog: Catalog, rules, sdial, target_engine: str, where: str):
    """The :class:`~ferry.transform.columns.CompiledColumn` of a lookup column.

    Raises:
        PlanError: unknown lookup table or columns, a key that is not unique,
            a bad ``type``.
    """

    spec = m.lookup
    other, column = _lookup_table(spec, table, catalog, where)
    dtype = _type(m, other.column(column), other, rules, sdial, target_engine, where)
    q = sdial.quote
    match = " AND ".join(f"l.{q(theirs)} = {q(table.name)}.{q(ours)}" for theirs, ours in spec.key.items())
    expr = f"(SELECT l.{q(column)} FROM {sdial.qualify(other)} l WHERE {match})"
    return CompiledColumn(None, expr, dtype, f"lookup: {other.qualified}.{column} -> {format_type(dtype)}",
                          transforms=["lookup"])


def _lookup_table(spec, table: Table, catalog: Catalog, where: str) -> tuple[Table, str]:
    try:
        other = catalog.table(spec.table)
    except KeyError:
        raise PlanError("bad lookup", [f"{where}.lookup: the source has no table {spec.table!r}"]) from None
    names, ours = {c.name for c in other.columns}, {c.name for c in table.columns}
    problems = [f"{where}.lookup: {other.qualified} has no column {c!r}"
                for c in [spec.column, *spec.key] if c not in names]
    problems += [f"{where}.lookup.key: {table.qualified} has no column {c!r}" for c in spec.key.values() if c not in ours]
    unique = [tuple(other.primary_key)] + [tuple(u.columns) for u in other.uniques]
    if not problems and not any(set(u) == set(spec.key) for u in unique if u):
        problems.append(f"{where}.lookup.key: ({', '.join(spec.key)}) is not the primary key or a unique key of "
                        f"{other.qualified}: a row could match several")
    if problems:
        raise PlanError("bad lookup", problems)
    return other, spec.column


def _type(m: ColumnMapping, col, other: Table, rules, sdial, target_engine: str, where: str):
    if m.type:
        return planned_type(m.type, where)
    return cast_column(col, other, sdial, target_engine, rules).type
