"""Which tables PostgreSQL -> PostgreSQL copies stream natively, and in which format.

The native path streams ``COPY (SELECT <projection> FROM t WHERE <key range
and filter>) TO STDOUT`` into ``COPY target FROM STDIN``: no row passes
through Python, transforms included (they are SQL in the projection). The
format is chosen per table from the types the projection returns (asked of
the source, no row read) and the target's column types:

* ``binary`` when every output column has the target column's type and that
  type's binary form is read back unchanged (PostgreSQL manual, COPY, "Binary
  Format": the binary form is type-specific, e.g. ``json`` and ``jsonb``
  differ);
* ``text`` when every output column either has the target's type (text
  output read back by the same type's input function is exact: what pg_dump
  relies on) or is of a type whose text output is the text the row path
  would send after loading the value into Python (integers, numeric,
  strings, dates and times, boolean, uuid, json, enums ...),
  so the target parses the same text either way;
* ``binary`` too when the only differences are widenings (``integer`` into
  ``bigint``, ``real`` into ``double precision``): the projection then casts
  those columns in SQL, which gives the value the row path would write;
* the row path otherwise (``real`` or ``double precision`` into another type
  than a wider float; ``bytea`` into text: the row path decodes UTF-8;
  ``money``; arrays and user types into another type).

A chunk whose native COPY the target refuses falls back to the row path,
which isolates the rejects (:class:`ferry.engines.copy.CopyEngine`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ferry.connectors.base import Connector, Select
from ferry.transform.mapping import ResolvedTable

# pg_type.typname of types whose COPY binary form a column of the same type reads unchanged
# (money's is its int8 of cents, whatever lc_monetary prints: https://www.postgresql.org/docs/15/datatype-money.html)
BINARY_SAFE = frozenset({"int2", "int4", "int8", "numeric", "float4", "float8", "text", "varchar",
                         "bpchar", "bytea", "date", "time", "timestamp", "timestamptz", "bool", "uuid",
                         "json", "jsonb", "interval", "money", "inet", "cidr", "macaddr"})
# types whose text output equals what psycopg sends back for the value it loads
# (not float8: PostgreSQL prints 2 where Python's float prints 2.0, which an integer column refuses)
TEXT_FAITHFUL = frozenset({"int2", "int4", "int8", "numeric", "text", "varchar", "bpchar",
                           "name", "bool", "date", "time", "timestamp", "timestamptz", "interval", "uuid",
                           "json", "jsonb", "enum", "inet", "cidr"})
# (produced, target) -> the SQL type a cast in the projection widens to, exactly
WIDENINGS = {("int2", "int4"): "integer", ("int2", "int8"): "bigint", ("int4", "int8"): "bigint",
             ("float4", "float8"): "double precision"}


@dataclass(frozen=True)
class CopyPath:
    """How one table's chunks are copied.

    Attributes:
        format: ``"binary"`` or ``"text"`` (native COPY), None (row path).
        reason: why the row path, for notes (empty on the native path).
        select: what the native COPY reads when it is not the table's
            ``read`` (widening casts added), else None.
    """

    format: str | None
    reason: str = ""
    select: Select | None = None

    @property
    def native(self) -> bool:
        return self.format is not None

    @property
    def binary(self) -> bool:
        return self.format == "binary"


ROW_PATH = CopyPath(None, "source and target are not both PostgreSQL")


def choose_path(table: ResolvedTable, src: Connector, tgt: Connector, allowed: bool = True) -> CopyPath:
    """The :class:`CopyPath` of ``table`` (one describe query on the source,
    one catalog query on the target, whose table must exist).

    Args:
        allowed: False when the plan turns the native path off
            (``options.native_copy``).
    """
    if not (src.dialect.name == tgt.dialect.name == "postgresql"):
        return ROW_PATH
    if not allowed:
        return CopyPath(None, "options.native_copy is false")
    if table.row_path_reason:
        return CopyPath(None, table.row_path_reason)
    produced = src.result_types(table.read)
    wanted = tgt.column_type_names(table.target)
    pairs = [(c.name, got, wanted.get(c.name, "")) for c, got in zip(table.target.columns, produced)]
    widened = [WIDENINGS.get((got, want)) for _, got, want in pairs]
    if any(widened):
        path = path_for([(c, want if to else got, want) for (c, got, want), to in zip(pairs, widened)])
        if path.binary:
            exprs = tuple((f"CAST({e} AS {to})" if to else e, t) for (e, t), to in zip(table.read.exprs, widened))
            return CopyPath("binary", select=replace(table.read, exprs=exprs))
    return path_for(pairs)


def path_for(pairs: list[tuple[str, str, str]]) -> CopyPath:
    """The path for ``(target column, type produced, target type)`` triples
    (type names as ``pg_type.typname``, ``enum`` for any enum)."""
    if all(got == want and got in BINARY_SAFE for _, got, want in pairs):
        return CopyPath("binary")
    for column, got, want in pairs:
        if (got != want and got not in TEXT_FAITHFUL) or got == "money":  # money's text follows lc_monetary
            return CopyPath(None, f"column {column}: {got or 'unknown type'} into {want or 'unknown type'}")
    return CopyPath("text")
