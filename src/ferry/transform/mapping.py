"""Resolve a plan against the source catalog into per-table copy specifications.

A :class:`ResolvedTable` says, for one table mapping, what to read from the
source (SQL expressions in the source dialect), what the target table looks
like (target names, target neutral types) and how to hash both sides so that
validation compares the target with the source *as transformed*.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from ferry.catalog.casting import CastingRule
from ferry.catalog.model import Catalog, Column, ForeignKey, Index, Table
from ferry.catalog.names import shorten_identifier, unique_names
from ferry.connectors.base import Select
from ferry.errors import PlanError
from ferry.plan.model import ColumnMapping, Plan, TableMapping
from ferry.transform.checks import check_compiled, check_mapping
from ferry.transform.columns import compile_column
from ferry.transform.expressions import transpile


@dataclass
class ColumnCast:
    """One column's journey: source name -> target name and type, and why.

    An added column (``added``) has no source column: ``source`` then names a
    stand-in, the first non-key source column, so that code addressing source
    columns by name (reject records, the native COPY check) keeps working;
    nothing maps through it (foreign keys, indexes skip added columns).
    """

    source: str
    target: str
    type: str
    rule: str
    note: str = ""
    added: bool = False


@dataclass
class ResolvedTable:
    """Everything the copy and validate engines need for one table mapping.

    Attributes:
        source: the source table as introspected.
        target: the target table (target names and neutral target types).
        read: what to read from the source (key = source key columns).
        hash_target: what to hash on the target (key = target key columns).
        casts: one :class:`ColumnCast` per copied column.
        null_counters: ``(target column, note, source predicate)`` for values a
            casting rule turns into NULL; the copy phase counts them.
        reject_filters: ``(target column, reason, source predicate)`` for rows a
            casting rule rejects; they go to the reject store, not the target.
        renamed: ``(kind, old, new)`` for identifiers shortened for the target.
        value_counters: ``(target column, note, source predicate)`` for values a
            transform changes in place (clamped); the copy phase counts them.
        source_where: the plan's ``filter`` in the source dialect, or None: the
            source rows the migration covers (``read.where`` adds the reject
            filters). Row counts of the source must use it.
        transforms: ``"column: trim, upper"`` per column whose values a
            transform changes (reports; PostgreSQL -> PostgreSQL runs them in the
            source's COPY, see :mod:`ferry.engines.native`).
        filter: the plan's ``filter`` as written (portable SQL), for reports.
        source_checks: ``(SQL, problem)`` the source must answer with a true
            first value before any data moves (see :mod:`ferry.transform.probe`).
    """

    source: Table
    target: Table
    read: Select
    hash_target: Select
    casts: list[ColumnCast]
    null_counters: list[tuple[str, str, str]] = field(default_factory=list)
    reject_filters: list[tuple[str, str, str]] = field(default_factory=list)
    renamed: list[tuple[str, str, str]] = field(default_factory=list)
    value_counters: list[tuple[str, str, str]] = field(default_factory=list)
    source_where: str | None = None
    transforms: list[str] = field(default_factory=list)
    filter: str | None = None
    source_checks: list[tuple[str, str]] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The source table's qualified name: the id used in actions and reports."""
        return self.source.qualified

    @property
    def key(self) -> tuple[str, ...]:
        return self.read.key


def select_tables(plan: Plan, catalog: Catalog) -> list[tuple[Table, TableMapping]]:
    """The source tables the plan names (explicit mappings, or include/exclude patterns).

    Raises:
        PlanError: a mapping names a table the source does not have.
    """
    if plan.tables is None:
        chosen = [t for t in catalog.tables if _matches(t, plan.include, plan.exclude)]
        return [(t, TableMapping(source=t.qualified)) for t in chosen]
    found, problems = [], []
    for i, mapping in enumerate(plan.tables):
        try:
            found.append((catalog.table(mapping.source), mapping))
        except KeyError:
            problems.append(f"tables.{i}.source: source has no table {mapping.source!r}")
    if problems:
        raise PlanError("the plan names tables the source does not have", problems,
                        "check the names with `ferry init`")
    return found


def _matches(table: Table, include: list[str], exclude: list[str]) -> bool:
    names = (table.name, table.qualified)
    if include and not any(fnmatch.fnmatchcase(n, p) for p in include for n in names):
        return False
    return not any(fnmatch.fnmatchcase(n, p) for p in exclude for n in names)


def resolve(plan: Plan, catalog: Catalog, source_dialect, target_dialect) -> list[ResolvedTable]:
    """Resolve every table mapping of ``plan``; every problem is reported at once.

    Raises:
        PlanError: unknown tables or columns, bad type spellings, bad keys.
    """
    rules = [CastingRule.model_validate(r) for r in plan.casting]
    resolved, problems = [], []
    for i, (table, mapping) in enumerate(select_tables(plan, catalog)):
        try:
            resolved.append(_resolve_table(table, mapping, rules, source_dialect, target_dialect))
        except PlanError as exc:
            problems.extend(f"tables.{i}: {p}" for p in exc.problems)
    if problems:
        raise PlanError("the plan does not fit the source schema", problems,
                        "fix the table mappings (see `ferry init` for the source's columns)")
    _link_foreign_keys(resolved, target_dialect)
    return resolved


def _resolve_table(table: Table, mapping: TableMapping, rules, sdial, tdial) -> ResolvedTable:
    column_maps = [m for m in (mapping.columns or [ColumnMapping(name=c.name) for c in table.columns])
                   if not m.drop]
    key = tuple(mapping.key or table.primary_key)
    problems = check_mapping(table, column_maps, key)
    wanted = [m.target or m.name for m in column_maps]
    short = unique_names(wanted, tdial.max_identifier_length)
    renamed = [("column", old, new) for old, new in short.items()]
    compiled = []
    for i, (m, want) in enumerate(zip(column_maps, wanted)):
        if m.name is not None and m.name not in {c.name for c in table.columns}:
            continue
        try:
            compiled.append((compile_column(m, table, rules, sdial, tdial.name, f"columns.{want}"),
                             short.get(want, want)))
        except PlanError as exc:
            problems += exc.problems
    source_where = _filter(mapping, table, sdial.name, problems)
    problems += check_compiled(compiled, key)
    if problems:
        raise PlanError("bad table mapping", problems)
    return _assemble(table, mapping, key, compiled, source_where, renamed, sdial, tdial)


def _filter(mapping: TableMapping, table: Table, engine: str, problems: list[str]) -> str | None:
    if not mapping.filter:
        return None
    try:
        return transpile(mapping.filter, [c.name for c in table.columns], engine, "filter")
    except PlanError as exc:
        problems += exc.problems
        return None


def _target_name(name: str, tdial, renamed: list, kind: str) -> str:
    short = shorten_identifier(name, tdial.max_identifier_length)
    if short != name:
        renamed.append((kind, name, short))
    return short


def _assemble(table, mapping, key, compiled, source_where, renamed, sdial, tdial):
    casts, exprs, tcols, nulls, rejects, counters, changed = [], [], [], [], [], [], []
    for c, tname in compiled:
        exprs.append((c.expr, c.type))
        tcols.append(Column(tname, c.type, c.nullable, c.default, c.identity))
        stand_in = c.source or _stand_in(table, key)
        casts.append(ColumnCast(stand_in, tname, str(c.type), c.rule, c.note, added=c.source is None))
        nulls += [(tname, note, _and(source_where, pred)) for note, pred in c.null_counters]
        rejects += [(tname, reason, _and(source_where, pred)) for reason, pred in c.reject_filters]
        counters += [(tname, note, _and(source_where, pred)) for note, pred in c.value_counters]
        changed += [f"{tname}: {', '.join(c.transforms)}"] if c.transforms else []
    by_source = {c.source: c.target for c in casts if not c.added}
    tname = _target_name(mapping.target or table.name, tdial, renamed, "table")
    schema = table.schema if tdial.name == "postgresql" and getattr(sdial, "name", "") == "postgresql" else None
    target = Table(name=tname, columns=tcols, schema=schema,
                   primary_key=tuple(by_source[k] for k in table.primary_key if k in by_source),
                   uniques=_map_indexes(table.uniques, by_source),
                   indexes=_map_indexes(table.indexes, by_source),
                   foreign_keys=[fk for fk in table.foreign_keys if all(c in by_source for c in fk.columns)],
                   row_estimate=table.row_estimate)
    # NULL-safe negation: a NULL predicate (NULL value) must keep the row, not drop it
    keep = [f"(CASE WHEN ({pred}) THEN 1 ELSE 0 END) = 0" for _, _, pred in rejects]
    where = " AND ".join(([f"({source_where})"] if source_where else []) + keep) or None
    read = Select(table, tuple(exprs), key, where)
    target_exprs = tuple((tdial.quote(c.name), c.type) for c in tcols)
    hash_target = Select(target, target_exprs, tuple(by_source.get(k, k) for k in key))
    return ResolvedTable(table, target, read, hash_target, casts, nulls, rejects, renamed,
                         value_counters=counters, source_where=source_where, transforms=changed,
                         filter=mapping.filter,
                         source_checks=[chk for c, _ in compiled for chk in c.source_checks])


def _stand_in(table: Table, key: tuple[str, ...]) -> str:
    return next((c.name for c in table.columns if c.name not in key), table.columns[0].name)


def _and(condition: str | None, predicate: str) -> str:
    return f"({condition}) AND ({predicate})" if condition else predicate


def _map_indexes(indexes: list[Index], by_source: dict[str, str]) -> list[Index]:
    return [Index(i.name, tuple(by_source[c] for c in i.columns), i.unique)
            for i in indexes if all(c in by_source for c in i.columns)]


def _link_foreign_keys(resolved: list[ResolvedTable], tdial) -> None:
    """Point foreign keys at target names; drop those whose parent is not copied."""
    by_source = {r.source.name: r for r in resolved} | {r.source.qualified: r for r in resolved}
    for r in resolved:
        kept = []
        for fk in r.target.foreign_keys:
            parent = by_source.get(fk.ref_table)
            if parent is None:
                continue
            cols = {c.source: c.target for c in r.casts if not c.added}
            pcols = {c.source: c.target for c in parent.casts if not c.added}
            ref_cols = fk.ref_columns or parent.source.primary_key
            if not all(c in pcols for c in ref_cols):
                continue
            kept.append(ForeignKey(fk.name, tuple(cols[c] for c in fk.columns), parent.target.name,
                                   tuple(pcols[c] for c in ref_cols), fk.on_delete, fk.on_update))
        r.target.foreign_keys = kept
