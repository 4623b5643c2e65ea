"""Key remapping, resolved: which key gets new values, which columns follow.

A column mapping with ``remap: uuid4 | uuid7 | sequence`` gives every row of
its table a new key. The copy engine (:mod:`ferry.engines.keymap`) writes each
``old -> new`` pair into the target's *key map* table ``<target>_keymap
(old_key PRIMARY KEY, new_key UNIQUE)`` in the same transaction as the rows.
Every column that references the remapped key (a foreign key declared in the
source, or ``references:`` in the plan) is a :class:`Rewrite`: its values are
rewritten through the parent's key map while they are copied, so those tables
are copied after their parents.

Verification compares the target with the source *as transformed*; a new key
is not a function of the source row, so the target side is read through a view
``<target>_old_keys`` that joins the key maps back: the same rows with the old
key values, hashed against the source's.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ferry.catalog.model import Column, DataType, ForeignKey, Index, Kind, Table
from ferry.catalog.names import shorten_identifier
from ferry.connectors.base import Select
from ferry.errors import NotSupported, PlanError

NEW_TYPES = {"uuid4": DataType(Kind.UUID), "uuid7": DataType(Kind.UUID), "sequence": DataType(Kind.BIGINT)}


@dataclass
class Remap:
    """The key column ``column`` (target name, ``position`` in the target
    columns) gets new values of ``kind``; ``old_type`` is the type the old key
    would have had on the target; ``keymap`` is the target's key map table."""

    column: str
    position: int
    kind: str
    old_type: DataType
    keymap: Table


@dataclass
class Rewrite:
    """Target column ``column`` (at ``position``) holds keys of the mapping
    ``parent`` (its name), rewritten through that mapping's ``keymap``."""

    column: str
    position: int
    parent: str
    keymap: Table


def by_source_table(resolved: list, preferred) -> dict:
    """Source table name (plain and qualified) -> the mapping that stands for
    it: the first, in plan order, for which ``preferred(mapping)`` is true,
    else the first (a split source has several mappings)."""
    out: dict = {}
    for r in sorted(resolved, key=lambda r: not preferred(r)):   # sorted() is stable: plan order kept
        out.setdefault(r.source.name, r)
        out.setdefault(r.source.qualified, r)
    return out


def keymap_table(target: Table, old_type: DataType, kind: str, max_length: int) -> Table:
    """The key map of ``target``: ``old_key`` (primary key), ``new_key`` (unique)."""
    name = shorten_identifier(f"{target.name}_keymap", max_length)
    return Table(name, [Column("old_key", old_type, nullable=False), Column("new_key", NEW_TYPES[kind], nullable=False)],
                 schema=target.schema, primary_key=("old_key",),
                 uniques=[Index("new_key", ("new_key",), unique=True)])


def make_remap(target: Table, position: int, kind: str, max_length: int) -> Remap:
    """The :class:`Remap` of ``target.columns[position]`` (the table's
    single-column key); the column's type becomes the new key's type."""
    col = target.columns[position]
    old_type = col.type
    target.columns[position] = replace(col, type=NEW_TYPES[kind], identity=kind == "sequence" and col.identity,
                                       default=None)
    return Remap(col.name, position, kind, old_type, keymap_table(target, old_type, kind, max_length))


def link_rewrites(resolved: list) -> None:
    """Give every column that references a remapped key its :class:`Rewrite`.

    References are the source's foreign keys (still in source column names;
    run before foreign keys are linked to target names) and the plan's
    ``references:`` (``table.references``: ``(target column, source table)``).

    Raises:
        NotSupported: a table references its own remapped key.
    """
    parents = {name: r for name, r in by_source_table(resolved, lambda r: r.remap is not None).items()
               if r.remap is not None}
    for r in resolved:
        for column, ref_table in _references(r, parents):
            parent = parents[ref_table]
            if parent is r:
                raise NotSupported(f"{r.name}.{column} references the table's own remapped key: "
                                   "not supported yet", "remap the key of a table without self-references")
            position = [c.name for c in r.target.columns].index(column)
            r.target.columns[position] = replace(r.target.columns[position], type=parent.target.columns[
                parent.remap.position].type, identity=False, default=None)
            r.rewrites.append(Rewrite(column, position, parent.name, parent.remap.keymap))


def _references(r, parents: dict) -> list[tuple[str, str]]:
    """``(target column, parent source table)`` of ``r`` pointing at a remapped key."""
    out = [(col, ref) for col, ref in r.references if ref in parents]
    by_source = r.source_columns
    for fk in r.target.foreign_keys:
        parent = parents.get(fk.ref_table)
        if parent is None or len(fk.columns) != 1 or fk.columns[0] not in by_source:
            continue
        refs = fk.ref_columns or parent.source.primary_key
        if tuple(refs) == parent.key:
            out.append((by_source[fk.columns[0]], fk.ref_table))
    return list(dict.fromkeys(out))


def plan_foreign_keys(resolved: list, tdial) -> None:
    """Add the plan's ``references:`` as target foreign keys (target names),
    pointing at the mapping of that source table that holds its primary key.

    Raises:
        PlanError: a reference names a table the plan does not copy, or one
            without a single-column primary key.
    """
    holders = by_source_table(resolved, lambda r: bool(r.target.primary_key))
    problems = []
    for r in resolved:
        for column, ref_table in r.references:
            parent = holders.get(ref_table)
            if parent is None or len(parent.target.primary_key) != 1:
                problems.append(f"{r.name}.{column}.references: {ref_table!r} is not a table of the plan with "
                                "a single-column primary key")
                continue
            name = shorten_identifier(f"fk_{column}", tdial.max_identifier_length)
            r.target.foreign_keys.append(ForeignKey(name, (column,), parent.target.name, parent.target.primary_key))
    if problems:
        raise PlanError("bad references", problems, "name a source table the plan copies")


def image_select(r, tdial) -> Select:
    """What verification hashes on the target for a table with a remap or
    rewritten references: the view ``<target>_old_keys`` (see :func:`view_sql`), whose
    columns carry the old key values and types."""
    types = {r.remap.column: r.remap.old_type} if r.remap else {}
    types |= {lk.column: _old_type(lk) for lk in r.rewrites}
    view = Table(shorten_identifier(f"{r.target.name}_old_keys", tdial.max_identifier_length),
                 r.target.columns, schema=r.target.schema, primary_key=r.hash_target.key)
    exprs = tuple((q, types.get(c.name, t)) for (q, t), c in zip(r.hash_target.exprs, r.target.columns))
    return Select(view, exprs, r.hash_target.key)


def _old_type(rewrite: Rewrite) -> DataType:
    return rewrite.keymap.columns[0].type


def view_sql(r, tdial) -> str:
    """``CREATE VIEW <target>_old_keys AS SELECT ...``: the target table with
    the remapped key and the rewritten references read back as old keys."""
    q = tdial.quote
    joins, cols = [], []
    special = {lk.column: (f"l{i}", lk.keymap, "LEFT JOIN") for i, lk in enumerate(r.rewrites)}
    if r.remap:
        special[r.remap.column] = ("k", r.remap.keymap, "JOIN")
    for c in r.target.columns:
        if c.name in special:
            alias, keymap, join = special[c.name]
            joins.append(f"{join} {tdial.qualify(keymap)} {alias} ON {alias}.{q('new_key')} = t.{q(c.name)}")
            cols.append(f"{alias}.{q('old_key')} AS {q(c.name)}")
        else:
            cols.append(f"t.{q(c.name)}")
    return (f"CREATE VIEW {tdial.qualify(r.hash_target.table)} AS SELECT {', '.join(cols)} "
            f"FROM {tdial.qualify(r.target)} t {' '.join(joins)}")
