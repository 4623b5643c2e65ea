"""Data-quality checks counted inside one database: NULLs in NOT NULL columns,
duplicate keys, orphan foreign-key rows.

On the target they prove the copy kept the constraints' meaning even where the
target does not enforce them (yet); on the source (``--source-only``) they are
a preflight: NULLs the plan's expressions would write into NOT NULL target
columns, duplicates under the plan's key, rows whose parent is missing.
"""

from __future__ import annotations

from ferry.catalog.model import ForeignKey, Table
from ferry.engines.checks import CheckResult, verdict
from ferry.engines.checks.common import Side
from ferry.transform.mapping import ResolvedTable


def not_null(side: Side, table: ResolvedTable, max_nulls: int) -> list[CheckResult]:
    """One result per NOT NULL target column: NULL count <= ``max_nulls``.

    On the source the column's read expression (as transformed) is counted.
    """
    wanted = [(i, c) for i, c in enumerate(table.target.columns) if not c.nullable]
    if not wanted:
        return []
    exprs = [side.select.exprs[i][0] if side.name == "source" else side.quote(c.name) for i, c in wanted]
    sums = ", ".join(f"SUM(CASE WHEN {e} IS NULL THEN 1 ELSE 0 END)" for e in exprs)
    row = side.conn.query(f"SELECT {sums} FROM {side.qualified()} WHERE {side.where()}")[0]
    results = []
    for (_, col), n in zip(wanted, row):
        n = int(n or 0)
        results.append(CheckResult(table.name, f"not_null:{col.name}", verdict(n <= max_nulls),
                                   f"<= {max_nulls} NULL", f"{n} NULL", side=side.name, value=n))
    return results


def _unique_keys(side: Side, table: ResolvedTable) -> list[tuple[str, ...]]:
    t = side.table
    keys = [tuple(side.select.key)] if side.select.key else []
    keys += [t.primary_key] if t.primary_key else []
    keys += [u.columns for u in t.uniques if u.unique] + [i.columns for i in t.indexes if i.unique]
    return list(dict.fromkeys(k for k in keys if k))


def unique(side: Side, table: ResolvedTable, max_duplicates: int) -> list[CheckResult]:
    """One result per key (plan key, primary key, unique constraints): rows
    beyond the first of each duplicated non-NULL key value <= ``max_duplicates``."""
    results = []
    for key in _unique_keys(side, table):
        cols = ", ".join(side.quote(k) for k in key)
        nonnull = " AND ".join(f"{side.quote(k)} IS NOT NULL" for k in key)
        sql = (f"SELECT COALESCE(SUM(n - 1), 0), COUNT(*) FROM (SELECT COUNT(*) AS n FROM {side.qualified()} "
               f"WHERE {nonnull} GROUP BY {cols} HAVING COUNT(*) > 1) d")
        extra, groups = (int(v or 0) for v in side.conn.query(sql)[0])
        results.append(CheckResult(table.name, f"unique:{','.join(key)}", verdict(extra <= max_duplicates),
                                   f"<= {max_duplicates} duplicate rows",
                                   f"{extra} duplicate rows in {groups} key values", side=side.name, value=extra))
    return results


def _parent(side: Side, fk: ForeignKey) -> Table:
    schema, _, name = fk.ref_table.rpartition(".")
    return Table(name=name, columns=[], schema=schema or side.table.schema)


def foreign_keys(side: Side, table: ResolvedTable, max_orphans: int) -> list[CheckResult]:
    """One result per foreign key: child rows (all key columns non-NULL) without
    a parent row <= ``max_orphans``."""
    results = []
    for fk in side.table.foreign_keys:
        if not fk.ref_columns:
            continue
        parent = side.conn.dialect.qualify(_parent(side, fk))
        q = side.quote
        nonnull = " AND ".join(f"c.{q(c)} IS NOT NULL" for c in fk.columns)
        match = " AND ".join(f"p.{q(r)} = c.{q(c)}" for c, r in zip(fk.columns, fk.ref_columns))
        sql = (f"SELECT COUNT(*) FROM {side.qualified()} c WHERE {nonnull} "
               f"AND NOT EXISTS (SELECT 1 FROM {parent} p WHERE {match})")
        n = int(side.conn.query(sql)[0][0] or 0)
        label = f"{','.join(fk.columns)}->{fk.ref_table}({','.join(fk.ref_columns)})"
        results.append(CheckResult(table.name, f"foreign_keys:{label}", verdict(n <= max_orphans),
                                   f"<= {max_orphans} orphan rows", f"{n} orphan rows", side=side.name, value=n))
    return results
