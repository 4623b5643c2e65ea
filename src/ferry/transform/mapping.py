"""Resolve a plan against the source catalog into per-table copy specifications.

A :class:`ResolvedTable` says, for one table mapping, what to read from the
source (SQL expressions in the source dialect), what the target table looks
like (target names, target neutral types) and how to hash both sides so that
validation compares the target with the source *as transformed*.
"""

from __future__ import annotations

import fnmatch
import glob
from collections import Counter
from dataclasses import dataclass, field, replace

from ferry.catalog.casting import CastingRule
from ferry.catalog.model import Catalog, Column, ForeignKey, Index, Table
from ferry.catalog.names import shorten_identifier, unique_names
from ferry.connectors.base import Select
from ferry.errors import PlanError
from ferry.plan.model import ColumnMapping, Plan, TableMapping
from ferry.transform.checks import check_compiled, check_mapping
from ferry.transform.columns import compile_column, planned_type
from ferry.transform.expressions import transpile
from ferry.transform.keymap import (Remap, Rewrite, by_source_table, image_select, link_rewrites, make_remap,
                                   plan_foreign_keys)
from ferry.transform.lookup import compile_lookup
from ferry.transform.python import PythonColumn, python_column
from ferry.transform.sqlparts import literal


ORIGIN = "origin"   # the column that tells merged mappings' rows apart


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
        label: ``source->target`` when the source is split or the target
            merged (see :attr:`name`).
        origin: the merge value of the target's ``origin`` column, or None;
            ``shares_target``: another mapping of the plan creates the target
            table (and its keys and indexes).
        notes: sentences for the run summary (e.g. a foreign key not created).
        functions: the ``python:`` columns (their read expressions marked).
        remap: the key column given new values, or None; rewrites: columns
            rewritten through a parent's key map; references: the plan's
            ``references:`` as ``(target column, source table)``. With a remap
            or rewrites, ``hash_target`` reads the view that maps keys back
            (see :mod:`ferry.transform.keymap`).
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
    label: str | None = None
    remap: Remap | None = None
    rewrites: list[Rewrite] = field(default_factory=list)
    references: list[tuple[str, str]] = field(default_factory=list)
    origin: str | None = None
    shares_target: bool = False
    notes: list[str] = field(default_factory=list)
    functions: list[PythonColumn] = field(default_factory=list)

    @property
    def name(self) -> str:
        """The id used in actions and reports: the source table's qualified name,
        or ``source->target`` when the plan splits the source into several
        target tables (``label``)."""
        return self.label or self.source.qualified

    @property
    def key(self) -> tuple[str, ...]:
        return self.read.key

    @property
    def keys_rewritten(self) -> bool:
        """A remapped key or rewritten references: ``hash_target`` reads the
        old-key view (:func:`ferry.transform.keymap.view_sql`)."""
        return bool(self.remap or self.rewrites)

    @property
    def row_path_reason(self) -> str:
        """Why every row must pass through Python on the copy (keys rewritten,
        a Python function), or "" when the fast paths may carry the table."""
        if self.keys_rewritten:
            return "keys rewritten through a key map"
        return "a Python function" if self.functions else ""

    @property
    def source_columns(self) -> dict[str, str]:
        """Source column -> target column (see :func:`source_to_target`)."""
        return source_to_target(self.casts)


def select_tables(plan: Plan, catalog: Catalog) -> list[tuple[Table, TableMapping]]:
    """The source tables the plan names: its mappings, narrowed by the
    include/exclude patterns (matched against the source table's name,
    qualified name and the mapping's target), or every table the patterns
    select when the plan lists none.

    Raises:
        PlanError: a selected mapping names a table the source does not have.
    """
    if plan.tables is None:
        chosen = [t for t in catalog.tables if _matches(t, plan.include, plan.exclude)]
        return [(t, TableMapping(source=t.qualified)) for t in chosen]
    found, problems = [], []
    for i, mapping in enumerate(plan.tables):
        table = catalog.find(mapping.source)
        names = (mapping.source, mapping.target or mapping.source) + ((table.name, table.qualified) if table else ())
        if not _names_match(names, plan.include, plan.exclude):
            continue
        if table is None:
            problems.append(f"tables.{i}.source: source has no table {mapping.source!r}")
        else:
            found.append((table, mapping))
    if problems:
        raise PlanError("the plan names tables the source does not have", problems,
                        "check the names with `ferry init`")
    return found


def introspection_filter(plan: Plan) -> tuple[list[str], list[str]]:
    """``(include, exclude)`` patterns to introspect the source with: the
    plan's patterns or, for a plan that lists its tables, exactly the tables
    it names (mapping sources and lookup tables), so that ``--tables``
    narrows the list rather than the introspection it is checked against."""
    if plan.tables is None:
        return plan.include, plan.exclude
    names = {m.source for m in plan.tables}
    names |= {c.lookup.table for m in plan.tables for c in m.columns or () if c.lookup}
    return sorted(glob.escape(n) for n in names), []


def _matches(table: Table, include: list[str], exclude: list[str]) -> bool:
    return _names_match((table.name, table.qualified), include, exclude)


def _names_match(names: tuple[str, ...], include: list[str], exclude: list[str]) -> bool:
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
            resolved.append(_resolve_table(table, mapping, catalog, rules, source_dialect, target_dialect))
        except PlanError as exc:
            problems.extend(f"tables.{i}: {p}" for p in exc.problems)
    problems += _label_shared(resolved)
    if problems:
        raise PlanError("the plan does not fit the source schema", problems,
                        "fix the table mappings (see `ferry init` for the source's columns)")
    link_rewrites(resolved)
    _link_foreign_keys(resolved, target_dialect)
    plan_foreign_keys(resolved, target_dialect)
    for r in resolved:
        if r.keys_rewritten:
            r.hash_target = image_select(r, target_dialect)
    return resolved


def _label_shared(resolved: list[ResolvedTable]) -> list[str]:
    """Name the mappings of a source split into several targets, or of a
    target merged from several mappings (``users->accounts``); return the
    problems of merges (see :func:`_merge_problems`)."""
    sources = Counter(r.source.qualified for r in resolved)
    groups: dict[str, list[ResolvedTable]] = {}
    for r in resolved:
        groups.setdefault(r.target.qualified, []).append(r)
    problems = []
    for name, group in groups.items():
        problems += _merge_problems(name, group) if len(group) > 1 else []
        for later in group[1:]:
            later.shares_target = True
    for r in resolved:
        if sources[r.source.qualified] > 1 or len(groups[r.target.qualified]) > 1:
            r.label = f"{r.source.qualified}->{r.target.name}"
    return problems


def _merge_problems(name: str, group: list[ResolvedTable]) -> list[str]:
    """Mappings merged into one target need distinct ``origin`` values and
    the same target columns (names and types, in order)."""
    origins = [r.origin for r in group]
    if None in origins or len(set(origins)) < len(origins):
        return [f"tables: target table {name!r} is written by {len(group)} mappings (a merge): give each "
                "mapping its own `origin:` value, which tells their rows apart"]
    shape = [(c.name, str(c.type)) for c in group[0].target.columns]
    return [f"tables: {r.name} does not write the columns of {group[0].name} into {name!r} (same names and "
            f"types, in order): {[(c.name, str(c.type)) for c in r.target.columns]} != {shape}"
            for r in group[1:] if [(c.name, str(c.type)) for c in r.target.columns] != shape]


def _resolve_table(table: Table, mapping: TableMapping, catalog: Catalog, rules, sdial, tdial) -> ResolvedTable:
    column_maps = [m for m in (mapping.columns or [ColumnMapping(name=c.name) for c in table.columns])
                   if not m.drop]
    if mapping.origin is not None:
        column_maps.insert(0, ColumnMapping(target=ORIGIN, type="varchar(64)", default=mapping.origin))
    key = tuple(mapping.key or table.primary_key)
    problems = check_mapping(table, column_maps, key)
    wanted = [m.target or m.name for m in column_maps]
    short = unique_names(wanted, tdial.max_identifier_length)
    renamed = [("column", old, new) for old, new in short.items()]
    known = {c.name for c in table.columns}
    maps = [(m, want) for m, want in zip(column_maps, wanted) if m.name is None or m.name in known]
    compiled = []
    for m, want in maps:
        try:
            compiled.append((_compile(m, table, catalog, rules, sdial, tdial.name, f"columns.{want}"),
                             short.get(want, want)))
        except PlanError as exc:
            problems += exc.problems
    source_where = _filter(mapping, table, sdial.name, problems)
    problems += check_compiled(compiled, key)
    if problems:
        raise PlanError("bad table mapping", problems)
    resolved = _assemble(table, mapping, key, compiled, source_where, renamed, sdial, tdial)
    _column_options(resolved, [m for m, _ in maps], [t for _, t in compiled], tdial)
    if mapping.origin is not None:
        _tag_origin(resolved, mapping.origin, tdial)
    return resolved


def _tag_origin(r: ResolvedTable, origin: str, tdial) -> None:
    """A mapping with an ``origin`` (merge): the target key is ``(origin,
    key...)`` and the target side of every check sees this mapping's rows only."""
    r.origin = origin
    r.target.primary_key = (ORIGIN,) + r.target.primary_key if r.target.primary_key else ()
    where = f"{tdial.quote(ORIGIN)} = {literal(origin, tdial.name)}"
    r.hash_target = Select(r.hash_target.table, r.hash_target.exprs, r.hash_target.key, where)


def _python(r: ResolvedTable, position: int, m: ColumnMapping, tname: str) -> None:
    """Record a ``python:`` column and mark its read expression.

    Raises:
        PlanError: on a key column, or the function cannot be imported.
    """
    if m.name in r.key:
        raise PlanError("bad python", [f"columns.{tname}.python: key columns cannot be transformed"])
    expr, dtype = r.read.exprs[position]
    out = planned_type(m.type, f"columns.{tname}") if m.type else dtype
    f = python_column(tname, position, m.python, expr, out, f"columns.{tname}")
    r.read = _with_expr(r.read, position, (f.marker, dtype))         # read as the SQL gives it
    r.hash_target = _with_expr(r.hash_target, position, (r.hash_target.exprs[position][0], out))
    r.target.columns[position] = replace(r.target.columns[position], type=out, default=None, identity=False)
    r.casts[position].type, r.casts[position].rule = str(out), f"python: {m.python} -> {out}"
    r.functions.append(f)
    r.transforms.append(f"{tname}: python {m.python}")


def _with_expr(select: Select, position: int, expr: tuple) -> Select:
    exprs = select.exprs[:position] + (expr,) + select.exprs[position + 1:]
    return Select(select.table, exprs, select.key, select.where)


def _compile(m: ColumnMapping, table: Table, catalog: Catalog, rules, sdial, target_engine: str, where: str):
    if m.lookup is not None:
        return compile_lookup(m, table, catalog, rules, sdial, target_engine, where)
    if m.python and m.type:   # the function's result type: the SQL part does not cast to it (see _python)
        m = m.model_copy(update={"type": None, "on_invalid": None})
    return compile_column(m, table, rules, sdial, target_engine, where)


def _column_options(r: ResolvedTable, maps: list[ColumnMapping], targets: list[str], tdial) -> None:
    """Record ``python:``, ``references:`` and ``remap:`` of the column
    mappings (``maps``, whose target columns are ``targets``).

    Raises:
        PlanError: ``remap`` or ``python`` on a column that cannot take it.
    """
    for position, (m, tname) in enumerate(zip(maps, targets)):
        if m.python:
            _python(r, position, m, tname)
        if m.references:
            r.references.append((tname, m.references))
        if not m.remap:
            continue
        if r.remap is not None or (m.name,) != tuple(r.key):
            raise PlanError("bad remap", [f"columns.{tname}.remap: only the table's single-column key "
                                          f"({', '.join(r.key) or 'none'}) can be remapped, once"])
        r.remap = make_remap(r.target, position, m.remap, tdial.max_identifier_length)


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
        # a primary key is NOT NULL on the target from the start: a NULL key (SQLite's
        # primary keys may hold them) is rejected with its reason, not met by the key build
        nullable = c.nullable and c.source not in table.primary_key
        tcols.append(Column(tname, c.type, nullable, c.default, c.identity))
        stand_in = c.source or _stand_in(table, key)
        casts.append(ColumnCast(stand_in, tname, str(c.type), c.rule, c.note, added=c.source is None))
        nulls += [(tname, note, _and(source_where, pred)) for note, pred in c.null_counters]
        rejects += [(tname, reason, _and(source_where, pred)) for reason, pred in c.reject_filters]
        counters += [(tname, note, _and(source_where, pred)) for note, pred in c.value_counters]
        changed += [f"{tname}: {', '.join(c.transforms)}"] if c.transforms else []
    by_source = source_to_target(casts)
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


def source_to_target(casts: list[ColumnCast]) -> dict[str, str]:
    """Source column -> target column; a source column copied twice maps to its
    first target column (the one keys and foreign keys follow)."""
    out: dict[str, str] = {}
    for c in casts:
        if not c.added:
            out.setdefault(c.source, c.target)
    return out


def _stand_in(table: Table, key: tuple[str, ...]) -> str:
    return next((c.name for c in table.columns if c.name not in key), table.columns[0].name)


def _and(condition: str | None, predicate: str) -> str:
    return f"({condition}) AND ({predicate})" if condition else predicate


def _map_indexes(indexes: list[Index], by_source: dict[str, str]) -> list[Index]:
    return [Index(i.name, tuple(by_source[c] for c in i.columns), i.unique)
            for i in indexes if all(c in by_source for c in i.columns)]


def _link_foreign_keys(resolved: list[ResolvedTable], tdial) -> None:
    """Point foreign keys at target names; drop those whose parent is not copied.

    A parent split into several targets is referenced through the first
    mapping whose primary key carries the referenced columns."""
    by_source = by_source_table(resolved, lambda r: bool(r.target.primary_key))
    for r in resolved:
        kept = []
        for fk in r.target.foreign_keys:
            parent = by_source.get(fk.ref_table)
            if parent is None:
                continue
            if parent.origin is not None:
                r.notes.append(f"foreign key {fk.name} of {r.name} not created: its parent {parent.target.name} "
                               "is merged from several tables (its key is (origin, ...))")
                continue
            cols, pcols = r.source_columns, parent.source_columns
            ref_cols = fk.ref_columns or parent.source.primary_key
            if not all(c in pcols for c in ref_cols):
                continue
            kept.append(ForeignKey(fk.name, tuple(cols[c] for c in fk.columns), parent.target.name,
                                   tuple(pcols[c] for c in ref_cols), fk.on_delete, fk.on_update))
        r.target.foreign_keys = kept
