"""SQLite connector (standard library ``sqlite3``).

SQLite has no MD5 and no fixed column types, so canonical text and row hashes
are Python functions registered on the connection
(:mod:`ferry.connectors.canonical`); they still run inside the database's
query, per row, on the rows the WHERE clause selects.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import json
import os
import sqlite3
from typing import Iterator, Sequence

from ferry.catalog.model import TEXT_KINDS, Catalog, DataType, Kind, Table
from ferry.connectors import canonical, timezones
from ferry.connectors.base import SUM_MD5, Connector, Dialect, KeyRange, Select
from ferry.connectors.sqlite_introspect import introspect
from ferry.errors import ConnectionFailed, NotSupported, RejectError, TerminalError, TransientError

_DECLARED = {
    Kind.BOOLEAN: "BOOLEAN", Kind.SMALLINT: "SMALLINT", Kind.INTEGER: "INTEGER",
    Kind.BIGINT: "BIGINT", Kind.FLOAT: "FLOAT", Kind.DOUBLE: "DOUBLE", Kind.TEXT: "TEXT",
    Kind.BYTES: "BLOB", Kind.DATE: "DATE", Kind.TIME: "TIME", Kind.TIMESTAMP: "TIMESTAMP",
    Kind.TIMESTAMPTZ: "TIMESTAMPTZ", Kind.INTERVAL: "INTERVAL", Kind.JSON: "JSON",
    Kind.UUID: "UUID", Kind.ENUM: "TEXT", Kind.SET: "TEXT", Kind.ARRAY: "JSON", Kind.YEAR: "SMALLINT",
}


def _adapt_datetime(value: dt.datetime) -> str:
    if value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    return value.isoformat(sep=" ")


for _type, _adapter in ((decimal.Decimal, str), (dt.datetime, _adapt_datetime),
                        (dt.date, dt.date.isoformat), (dt.time, dt.time.isoformat),
                        (list, json.dumps), (dict, json.dumps)):
    sqlite3.register_adapter(_type, _adapter)


class SQLiteDialect(Dialect):
    """SQLite: double-quote identifiers, ``?`` parameters, types by declared name.

    Declared type names follow the affinity rules of
    https://www.sqlite.org/datatype3.html (section 3.1): the names chosen here
    keep their neutral kind when read back by :func:`sqlite_introspect.neutral_type`.
    """

    name = "sqlite"
    paramstyle = "qmark"
    max_identifier_length = 1024
    primary_key_after_load = False
    foreign_keys_inline = True

    def __init__(self) -> None:
        self._types: list[DataType] = []

    def quote(self, identifier: str) -> str:
        return '"' + identifier.replace('"', '""') + '"'

    def qualify(self, table: Table) -> str:
        return self.quote(table.name)

    def type_id(self, dtype: DataType) -> int:
        """A small integer standing for ``dtype`` in SQL calls of ``ferry_canon``."""
        if dtype not in self._types:
            self._types.append(dtype)
        return self._types.index(dtype)

    def normalize(self, expr: str, dtype: DataType) -> str:
        return f"ferry_canon({expr}, {self.type_id(dtype)})"

    def checksum_sql(self, select: Select, where: str, mode: str = SUM_MD5) -> str:
        """``md5-sum`` only (``ferry_hashsum`` over registered functions).

        Raises:
            NotSupported: any other ``mode``.
        """
        if mode != SUM_MD5:
            raise NotSupported(f"checksum mode {mode} on SQLite")
        texts = ", ".join(self.normalize(e, t) for e, t in select.exprs)
        return (f"SELECT COUNT(*), ferry_hashsum(ferry_rowtext({texts})) "
                f"FROM {self.qualify(select.table)} WHERE {where}")

    def declared_type(self, dtype: DataType) -> str:
        """The declared SQLite type name for a neutral type."""
        if dtype.kind == Kind.DECIMAL:
            return f"NUMERIC({dtype.precision},{dtype.scale or 0})" if dtype.precision else "NUMERIC"
        if dtype.kind in (Kind.CHAR, Kind.VARCHAR):
            return f"{dtype.kind.value.upper()}({dtype.length})" if dtype.length else "TEXT"
        return _DECLARED[dtype.kind]

    def sa_type(self, dtype: DataType):
        from ferry.catalog.ddl import declared

        return declared(self.declared_type(dtype))

    def sa_dialect(self):
        from sqlalchemy.dialects import sqlite

        return sqlite.dialect()


def _sqlite_canon(value, dtype: DataType) -> str | None:
    """Canonical text for SQLite's UDF. A stored value its declared type cannot
    hold (text in an INTEGER column: SQLite allows it) hashes as its text; text
    that is not valid UTF-8 comes back with its bad bytes escaped, because
    SQLite cannot take lone surrogates from a function."""
    text = canonical.lenient_text(value, dtype)
    if text is not None and not text.isascii():
        text = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    return text


def _md5_hex(value) -> str | None:
    """MD5 hex of a value's text, as PostgreSQL's md5(x::text) and MySQL's MD5(x)."""
    if value is None:
        return None
    data = value if isinstance(value, bytes) else str(value).encode("utf-8", "surrogateescape")
    return hashlib.md5(data).hexdigest()


class _HashSum:
    """Aggregate: exact sum of row hashes, returned as text (it exceeds 64 bits)."""

    def __init__(self) -> None:
        self.total = 0

    def step(self, text: str) -> None:
        self.total += canonical.text_hash(text)

    def finalize(self) -> str:
        return str(self.total)


def _classify(exc: Exception):
    text = str(exc)
    if isinstance(exc, sqlite3.IntegrityError) or "datatype mismatch" in text:
        return RejectError(text)
    if isinstance(exc, sqlite3.OperationalError) and "locked" in text:
        return TransientError(f"SQLite database is locked: {text}", "retry when the other writer is done")
    return TerminalError(f"SQLite error: {text}")


class SQLiteConnector(Connector):
    """One ``sqlite3`` connection; read-only sources are opened with ``mode=ro``."""

    def __init__(self, url, *, read_only: bool, dialect: SQLiteDialect | None = None) -> None:
        super().__init__(url, read_only=read_only)
        self.dialect = dialect or SQLiteDialect()
        self.path = url.database
        self.conn = self._connect()

    def _connect(self) -> sqlite3.Connection:
        if self.read_only and not os.path.exists(self.path):
            raise ConnectionFailed(f"SQLite file {self.path} does not exist", "check the path in the URL")
        uri = f"file:{self.path}?mode=ro" if self.read_only else f"file:{self.path}"
        try:
            conn = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None,
                                   timeout=30)
            conn.execute("SELECT 1 FROM sqlite_master LIMIT 1")
        except sqlite3.DatabaseError as exc:
            raise ConnectionFailed(f"cannot open SQLite file {self.path}: {exc}",
                                   "check that the file is a SQLite database") from None
        conn.text_factory = lambda b: b.decode("utf-8", "surrogateescape")
        types = self.dialect._types
        conn.create_function("ferry_canon", 2, lambda v, i: _sqlite_canon(v, types[i]), deterministic=True)
        conn.create_function("ferry_rowtext", -1, lambda *t: canonical.row_text(t), deterministic=True)
        conn.create_function("ferry_hash", 1, canonical.text_hash, deterministic=True)
        conn.create_aggregate("ferry_hashsum", 1, _HashSum)
        conn.create_function("md5", 1, _md5_hex, deterministic=True)  # the `hash` transform
        conn.create_function("ferry_tz_from", 2, timezones.sqlite_tz_from, deterministic=True)
        conn.create_function("ferry_tz_to", 2, timezones.sqlite_tz_to, deterministic=True)
        if not self.read_only:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("BEGIN")
        return conn

    def clone(self) -> "SQLiteConnector":
        return SQLiteConnector(self.url, read_only=self.read_only, dialect=self.dialect)

    def close(self) -> None:
        try:
            if self.conn.in_transaction:
                self.conn.rollback()
            self.conn.close()
        except sqlite3.Error:
            pass

    def commit(self) -> None:
        self._run(lambda: (self.conn.commit(), self.conn.execute("BEGIN")))

    def rollback(self) -> None:
        self._run(lambda: (self.conn.rollback(), self.conn.execute("BEGIN")))

    def _run(self, fn):
        try:
            return fn()
        except sqlite3.Error as exc:
            raise _classify(exc) from None

    def introspect(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Catalog:
        return self._run(lambda: introspect(self.conn, include, exclude))

    def execute(self, sql: str, params: Sequence = ()) -> None:
        self._run(lambda: self.conn.execute(sql, tuple(params)))

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        return self._run(lambda: self.conn.execute(sql, tuple(params)).fetchall())

    def table_exists(self, table: Table) -> bool:
        rows = self.query("SELECT 1 FROM sqlite_master WHERE type='table' AND name=?", (table.name,))
        return bool(rows)

    def hash_row(self, values: tuple, types: list) -> int:
        """The row hash of the ``ferry_canon`` texts this engine's checksum hashes."""
        return canonical.text_hash(canonical.row_text(_sqlite_canon(v, t) for v, t in zip(values, types)))

    def known_types(self, spellings: set[str]) -> set[str]:
        """Every spelling: SQLite takes any declared type and derives the
        column's affinity from it (https://www.sqlite.org/datatype3.html, 3.1),
        so a table copied from SQLite keeps its declared types."""
        return set(spellings)

    def reset_identity(self, table: Table, column: str) -> None:
        """Only AUTOINCREMENT tables keep a counter (``sqlite_sequence``); rowid
        tables continue from max(rowid) on their own."""
        if self.query("SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'"):
            q = self.dialect.quote
            self.execute(f"UPDATE sqlite_sequence SET seq = (SELECT COALESCE(MAX({q(column)}), 0) "
                         f"FROM {q(table.name)}) WHERE name = ?", (table.name,))

    def _select_sql(self, select: Select, krange: KeyRange) -> tuple[str, list]:
        pred, params = self.select_predicate(select, krange)
        cols = ", ".join(f"CAST({e} AS TEXT)" if t.kind in TEXT_KINDS else e for e, t in select.exprs)
        order = ", ".join(self.dialect.quote(k) for k in select.key)
        sql = f"SELECT {cols} FROM {self.dialect.qualify(select.table)} WHERE {pred}"
        return (sql + f" ORDER BY {order}" if order else sql), params

    def read(self, select: Select, krange: KeyRange, batch_rows: int) -> Iterator[list[tuple]]:
        sql, params = self._select_sql(select, krange)
        cursor = self._run(lambda: self.conn.execute(sql, params))
        while batch := self._run(lambda: cursor.fetchmany(batch_rows)):
            yield batch

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
        cols = ", ".join(self.dialect.quote(c) for c in columns)
        marks = ", ".join("?" for _ in columns)
        sql = f"INSERT INTO {self.dialect.qualify(table)} ({cols}) VALUES ({marks})"
        try:
            self.conn.executemany(sql, rows)
        except (sqlite3.Error, OverflowError, ValueError) as exc:
            raise _classify(exc) if isinstance(exc, sqlite3.Error) else RejectError(str(exc)) from None

    def savepoint(self, name: str) -> None:
        self.execute(f"SAVEPOINT {name}")

    def rollback_to(self, name: str) -> None:
        self.execute(f"ROLLBACK TO SAVEPOINT {name}")

    def row_hashes(self, select: Select, krange: KeyRange) -> dict[tuple, int]:
        texts = ", ".join(self.dialect.normalize(e, t) for e, t in select.exprs)
        keys = ", ".join(self.dialect.quote(k) for k in select.key)
        pred, params = self.select_predicate(select, krange)
        sql = (f"SELECT {keys}, ferry_hash(ferry_rowtext({texts})) "
               f"FROM {self.dialect.qualify(select.table)} WHERE {pred}")
        n = len(select.key)
        return {tuple(r[:n]): r[n] for r in self.query(sql, params)}
