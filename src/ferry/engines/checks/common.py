"""Helpers shared by the checks: one side of a table, literals, numbers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ferry.catalog.model import DataType, Table
from ferry.connectors.base import Connector, Select
from ferry.transform.mapping import ResolvedTable


@dataclass
class Side:
    """One side of a table mapping as the checks see it.

    Attributes:
        name: ``source`` or ``target``.
        conn: the connector.
        select: source ``read`` (as transformed) or target ``hash_target``.
        columns: target column names, one per ``select.exprs`` entry.
    """

    name: str
    conn: Connector
    select: Select
    columns: list[str]

    @property
    def table(self) -> Table:
        return self.select.table

    def qualified(self) -> str:
        return self.conn.dialect.qualify(self.select.table)

    def quote(self, name: str) -> str:
        return self.conn.dialect.quote(name)

    def where(self, extra: str | None = None) -> str:
        """The select's own filter and ``extra``, ANDed (``1=1`` when none)."""
        parts = [p for p in (self.select.where, extra) if p]
        return " AND ".join(f"({p})" for p in parts) or "1=1"


def sides(source: Connector, target: Connector, table: ResolvedTable) -> tuple[Side, Side]:
    """(source side, target side) of ``table``."""
    names = [c.name for c in table.target.columns]
    return Side("source", source, table.read, names), Side("target", target, table.hash_target, names)


def literal(conn: Connector, value) -> str:
    """``value`` as a SQL literal of ``conn``'s dialect (ints, floats, Decimal,
    text, dates; text escaped for the engine); a datetime with a time zone
    as the engine holds it (PostgreSQL with its offset, MySQL as UTC without,
    SQLite as UTC with ``+00:00``)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None and conn.dialect.name != "postgresql":
        value = value.astimezone(dt.timezone.utc)   # as MySQL (UTC, no zone) and SQLite (+00:00) hold it
        value = value.replace(tzinfo=None) if conn.dialect.name == "mysql" else value
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        value = value.isoformat(sep=" ") if isinstance(value, dt.datetime) else value.isoformat()
    text = str(value).replace("'", "''")
    if conn.dialect.name == "mysql":
        text = text.replace("\\", "\\\\")
    return f"'{text}'"


def key_in(conn: Connector, key: tuple[str, ...], values: list[tuple]) -> str:
    """SQL selecting rows whose ``key`` columns equal one of ``values``."""
    q = conn.dialect.quote
    if len(key) == 1:
        return f"{q(key[0])} IN ({', '.join(literal(conn, v[0]) for v in values)})"
    ors = [" AND ".join(f"{q(k)} = {literal(conn, x)}" for k, x in zip(key, v)) for v in values]
    return " OR ".join(f"({o})" for o in ors)


def close_enough(a, b, rel: float) -> bool:
    """True when numbers ``a`` and ``b`` are equal within relative tolerance ``rel``
    (exact when ``rel`` is 0 and both are exact); None equals only None, and
    a value that is no number equals only the same text."""
    if a is None or b is None:
        return a is None and b is None
    try:
        if rel == 0 and not isinstance(a, float) and not isinstance(b, float):
            return Decimal(str(a)) == Decimal(str(b))
        fa, fb = float(a), float(b)
    except (ArithmeticError, ValueError):   # text where a number belongs (SQLite's 'toto' in an INTEGER)
        return str(a) == str(b)
    return fa == fb or abs(fa - fb) <= rel * max(abs(fa), abs(fb))


def numeric(value):
    """A number from a driver value (Decimal, int, float, or text from SQLite's
    exact hash sums); the value itself when it is not a number."""
    if isinstance(value, str):
        try:
            return Decimal(value)
        except ArithmeticError:
            return value
    return value


def typed_select(select: Select, exprs: tuple[tuple[str, DataType], ...]) -> Select:
    """``select`` with other expressions (same table, key and filter)."""
    return Select(select.table, exprs, select.key, select.where)
