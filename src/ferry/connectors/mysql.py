"""MySQL and MariaDB connector (mysqlclient / ``MySQLdb``).

One :class:`MySQLConnector` is one session, configured at connect time:

* ``charset utf8mb4`` and ``time_zone = '+00:00'`` (TIMESTAMP values are read
  and written as UTC);
* ``sql_mode``: a target runs ``STRICT_ALL_TABLES`` plus the zero-date checks,
  so bad data raises an error instead of being truncated with a warning; a
  source runs a permissive mode so zero dates can be read. Both add
  ``NO_AUTO_VALUE_ON_ZERO`` so a copied id 0 stays 0 instead of drawing a new
  auto-increment value (as mysqldump does,
  https://dev.mysql.com/doc/refman/8.0/en/sql-mode.html#sqlmode_no_auto_value_on_zero);
* ``read_only=True`` -> ``SET SESSION TRANSACTION READ ONLY``: the server
  refuses writes (error 1792) and DDL;
* autocommit off on a writer; on a read-only connector autocommit on, so
  each query is its own transaction and sees fresh data with no ``ROLLBACK``
  round trip after it (uncontended, a checksum of 625 rows took 0.96 ms with
  that and ``SHOW COUNT(*) WARNINGS``, 0.57 ms without). MySQL cannot
  share one snapshot across sessions (``shared_snapshot = False``); on a
  read-only connector every :meth:`read` runs in its own ``START
  TRANSACTION WITH CONSISTENT SNAPSHOT``, ended when the stream closes.

Towards PostgreSQL, :meth:`MySQLConnector.read_copy_text` reads the rows as
COPY text lines the server renders (:mod:`ferry.connectors.mysql_copytext`):
reading 1,000,000 pgbench rows costs 0.13 s of client CPU, and nothing is
formatted in Python.

The module-level :func:`classify` (from :mod:`ferry.connectors.mysql_errors`)
maps driver errors to the ferry error tree.
"""

from __future__ import annotations

from typing import Iterator, Sequence

import MySQLdb
import MySQLdb.cursors

from ferry.catalog.model import Catalog, Table
from ferry.connectors.base import ORDERED_MD5, SEGMENT_SHA256, Connector, KeyRange, Select
from ferry.connectors.mysql_copyout import CopyText
from ferry.connectors.mysql_copytext import copy_line_sql
from ferry.connectors.mysql_dialect import MySQLDialect
from ferry.connectors.mysql_errors import classify, connect_error
from ferry.connectors.mysql_insert import insert_statements
from ferry.connectors.mysql_introspect import introspect as _introspect
from ferry.connectors.mysql_values import read_conversions, row_fixer, writable_columns
from ferry.errors import RejectError, TransientError

__all__ = ["MySQLConnector", "MySQLDialect", "classify"]

GROUP_CONCAT_CUT = 1260      # warning "Row N was cut by GROUP_CONCAT()"

TARGET_SQL_MODE = ("STRICT_ALL_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
                   "NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO")
SOURCE_SQL_MODE = "NO_ENGINE_SUBSTITUTION,NO_AUTO_VALUE_ON_ZERO"
# An unbuffered read keeps the server waiting while the consumer writes
# elsewhere; the server drops the session after net_write_timeout seconds
# (https://dev.mysql.com/doc/c-api/8.0/en/mysql-use-result.html).
NET_TIMEOUT_S = 3600
CONNECT_TIMEOUT_S = 10
# Characters per multi-row INSERT (at most 4 bytes each in utf8mb4), capped
# further by a quarter of the server's max_allowed_packet.
MAX_STATEMENT_CHARS = 2 * 1024 * 1024
WRITE_SAVEPOINT = "ferry_write"


class MySQLConnector(Connector):
    """A session on one MySQL / MariaDB database (the URL's database).

    Args:
        url: a :class:`ferry.secrets.DatabaseURL` with engine ``mysql``;
            options ``unix_socket``, ``ssl_mode`` and ``connect_timeout``
            (seconds) are passed to mysqlclient.
        read_only: True for a source (the session refuses writes).

    Raises:
        ConnectionFailed: the server cannot be reached (2002/2003), refuses
            the login (1045) or has no such database (1049).
    """

    dialect = MySQLDialect()

    def __init__(self, url, *, read_only: bool) -> None:
        super().__init__(url, read_only=read_only)
        self._conn = None
        self._conn = _connect(url, read_only)
        self.mariadb = "mariadb" in self._conn.get_server_info().lower()
        try:
            packet, collation = self.query("SELECT @@max_allowed_packet, COLLATION(CONVERT('' USING utf8mb4))")[0]
            self._max_packet = int(packet)
            self.dialect = MySQLDialect(mariadb=self.mariadb, utf8mb4_collation=collation)
        except Exception:
            self.close()
            raise

    # -- lifecycle ---------------------------------------------------------
    @property
    def connection_id(self) -> int:
        """The server's id of this session (what ``KILL`` takes)."""
        return self._live().thread_id()

    def clone(self) -> "MySQLConnector":
        """A new session with the same URL and mode (no shared snapshot)."""
        return MySQLConnector(self.url, read_only=self.read_only)

    def close(self) -> None:
        """Close the session; idempotent, never raises."""
        conn, self._conn = self._conn, None
        if conn is not None:
            try:
                conn.close()
            except MySQLdb.Error:
                pass

    def commit(self) -> None:
        """Commit the current transaction."""
        self._call(lambda: self._live().commit())

    def rollback(self) -> None:
        """Roll back the current transaction."""
        self._call(lambda: self._live().rollback())

    def savepoint(self, name: str) -> None:
        """``SAVEPOINT name``."""
        self.execute(f"SAVEPOINT {self.dialect.quote(name)}")

    def rollback_to(self, name: str) -> None:
        """``ROLLBACK TO SAVEPOINT name`` (the savepoint is kept)."""
        self.execute(f"ROLLBACK TO SAVEPOINT {self.dialect.quote(name)}")

    # -- schema --------------------------------------------------------------
    def introspect(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Catalog:
        """The catalog of the URL's database (tables have ``schema`` None);
        see :func:`ferry.connectors.mysql_introspect.introspect`."""
        return _introspect(self.query, self.url.database, include, exclude, self.mariadb)

    def table_exists(self, table: Table) -> bool:
        """True when ``table`` (in ``table.schema`` or the URL's database) exists."""
        rows = self.query("SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s",
                          (table.schema or self.url.database, table.name))
        return bool(rows)

    def reset_identity(self, table: Table, column: str) -> None:
        """``ALTER TABLE t AUTO_INCREMENT = max(column) + 1``.

        ALTER TABLE commits the current transaction implicitly
        (https://dev.mysql.com/doc/refman/8.0/en/implicit-commit.html)."""
        q = self.dialect.qualify(table)
        next_value = self.query(f"SELECT COALESCE(MAX({self.dialect.quote(column)}), 0) + 1 FROM {q}")[0][0]
        self.execute(f"ALTER TABLE {q} AUTO_INCREMENT = {int(next_value)}")

    # -- statements ------------------------------------------------------------
    def execute(self, sql: str, params: Sequence = ()) -> None:
        """Run one statement in the current transaction. With ``params``
        (``%s`` placeholders) a literal ``%`` must be written ``%%``."""
        def run():
            with self._live().cursor() as cur:
                cur.execute(sql, tuple(params) if params else None)
        self._call(run)

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Run a query and return every row (small results only); on a
        read-only connector it is a transaction of its own (autocommit)."""
        def run():
            with self._live().cursor() as cur:
                cur.execute(sql, tuple(params) if params else None)
                rows = list(cur.fetchall())
            return rows
        return self._call(run)

    # -- data ----------------------------------------------------------------
    def known_types(self, spellings: set[str]) -> set[str]:
        """Every MySQL spelling: MySQL has no user types. A geometry column
        keeps its type (its values are copied in the server's own format,
        SRID included: :meth:`MySQLDialect.source_expr`); a column's
        ``REF_SYSTEM_ID`` attribute (MariaDB) is not carried over."""
        return set(spellings)

    def read(self, select: Select, krange: KeyRange, batch_rows: int) -> Iterator[list[tuple]]:
        """Stream the rows of ``select`` in ``krange`` (ordered by key) as
        lists of at most ``batch_rows`` tuples, through an unbuffered
        ``SSCursor`` (memory bounded by one batch). Values are portable (see
        :mod:`ferry.connectors.mysql_values`). Until the stream is exhausted
        or closed the session can run nothing else (MySQL error 2014,
        commands out of sync): run other statements on a :meth:`clone`."""
        sql, params = self._select_sql(select, krange)
        conn = self._live()
        cur = conn.cursor(MySQLdb.cursors.SSCursor)
        try:
            kinds = [t.kind for _, t in select.exprs]
            yield from self._stream(cur, sql, params, max(1, int(batch_rows)), kinds)
        except MySQLdb.Error as exc:
            raise classify(exc) from exc
        finally:
            self._close_stream(cur)

    def _stream(self, cur, sql, params, batch_rows, kinds) -> Iterator[list[tuple]]:
        self._start_read(cur)
        cur.execute(sql, params or None)
        fix = row_fixer(cur.description, kinds)
        while True:
            rows = cur.fetchmany(batch_rows)
            if not rows:
                break
            yield [fix(r) for r in rows] if fix else list(rows)

    def read_copy_text(self, select: Select, krange: KeyRange) -> CopyText | None:
        """PostgreSQL COPY text of ``select`` in ``krange`` (ordered by key),
        rendered by the server (see :mod:`ferry.connectors.mysql_copytext`),
        for ``COPY ... FROM STDIN`` (:class:`~ferry.connectors.mysql_copyout.CopyText`:
        blocks of whole lines, or moved in C); None when a column cannot be
        rendered exactly (read it with :meth:`read`).
        The same session rules as :meth:`read` apply while it streams.

        Raises:
            RejectError: a row's line is longer than the server's
                ``max_allowed_packet`` (the server returns NULL): read the
                chunk with :meth:`read`.
        """
        line = copy_line_sql(select, self.dialect)
        return None if line is None else CopyText(self, select, krange, line)

    def _start_read(self, cur) -> None:
        """A reader's statement runs in its own consistent snapshot (ended by :meth:`_end_read`)."""
        if self.read_only:
            cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")

    def _close_stream(self, cur) -> None:
        """Close ``cur`` (None: none is open) and end the read's snapshot."""
        try:
            if cur is not None:
                cur.close()
            self._end_read()
        except MySQLdb.Error:
            pass     # the session died; the next call reports it

    def _select_sql(self, select: Select, krange: KeyRange, cols: str | None = None) -> tuple[str, list]:
        d = self.dialect
        pred, params = self.select_predicate(select, krange)
        cols = cols or ", ".join(d.source_expr(select.table, e, t) for e, t in select.exprs)
        sql = f"SELECT {cols} FROM {d.qualify(select.table)} WHERE {pred}"
        if select.key:
            sql += " ORDER BY " + ", ".join(d.quote(k) for k in select.key)
        return sql, params

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
        """Insert ``rows`` with multi-row INSERTs of up to 2 Mi characters
        (see :mod:`ferry.connectors.mysql_insert`). The batch is atomic: when
        the server refuses a row (strict mode) every row of the batch is
        undone and :class:`RejectError` is raised with the server's message
        and, as ``err.column``, the column it names."""
        if not rows:
            return
        d = self.dialect
        prefix = f"INSERT INTO {d.qualify(table)} ({', '.join(d.quote(c) for c in columns)}) VALUES "
        data = writable_columns(rows, lambda: self._set_columns(table, columns))
        conn = self._live()
        fallback = lambda v: conn.literal(v).decode("utf-8", "surrogateescape")   # noqa: E731
        max_chars = min(MAX_STATEMENT_CHARS, self._max_packet // 4)

        def run():
            with conn.cursor() as cur:
                cur.execute(f"SAVEPOINT {WRITE_SAVEPOINT}")
                try:
                    for statement in insert_statements(prefix, data, fallback, max_chars, self._max_packet):
                        cur.execute(statement)
                except (MySQLdb.Error, RejectError, UnicodeEncodeError):
                    self._undo_write(cur)
                    raise
        try:
            self._call(run)
        except UnicodeEncodeError as exc:
            raise RejectError(f"text that is not valid UTF-8 cannot be stored: {exc.reason}") from exc

    def _set_columns(self, table: Table, columns: Sequence[str]) -> set[int]:
        """Indexes in ``columns`` of the SET columns of ``table``."""
        rows = self.query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s "
                          "AND TABLE_NAME = %s AND DATA_TYPE = 'set'", (table.schema or self.url.database, table.name))
        names = {r[0] for r in rows}
        return {i for i, c in enumerate(columns) if c in names}

    @staticmethod
    def _undo_write(cur) -> None:
        try:
            cur.execute(f"ROLLBACK TO SAVEPOINT {WRITE_SAVEPOINT}")
        except MySQLdb.Error:
            pass     # a deadlock already rolled the whole transaction back

    def checksum_query(self, sql: str, params: Sequence, mode: str) -> tuple[tuple, bool]:
        """The checksum row; an ``md5-ordered`` or ``sha256-segment`` one is inexact when the statement
        left warning 1260 (a ``GROUP_CONCAT`` cut) or more warnings than
        ``SHOW WARNINGS`` lists (``max_error_count``). The count comes with
        the result (``mysql_warning_count``), so ``SHOW WARNINGS`` runs only
        when there are some."""
        if mode not in (ORDERED_MD5, SEGMENT_SHA256):
            return super().checksum_query(sql, params, mode)

        def run():
            conn = self._live()
            with conn.cursor() as cur:
                cur.execute(sql, tuple(params) if params else None)
                row = cur.fetchone()
                count = conn.warning_count()
                listed = []
                if count:
                    cur.execute("SHOW WARNINGS")
                    listed = list(cur.fetchall())
            return row, len(listed) == count and not any(int(w[1]) == GROUP_CONCAT_CUT for w in listed)
        return self._call(run)

    def row_hashes(self, select: Select, krange: KeyRange) -> dict[tuple, int]:
        """Key tuple -> 60-bit row hash for every row of ``select`` in ``krange``."""
        d = self.dialect
        pred, params = self.select_predicate(select, krange)
        keys = ", ".join(d.quote(k) for k in select.key)
        sql = f"SELECT {keys}, {d.row_hash_sql(select)} FROM {d.qualify(select.table)} WHERE {pred}"
        n = len(select.key)
        return {tuple(r[:n]): int(r[n]) for r in self.query(sql, params)}

    # -- internals -------------------------------------------------------------
    def _live(self):
        if self._conn is None:
            raise TransientError("the MySQL connection is closed", "open a new connector (clone)")
        return self._conn

    def _end_read(self) -> None:
        if self.read_only:
            self._live().rollback()

    def _call(self, fn):
        try:
            return fn()
        except MySQLdb.Error as exc:
            raise classify(exc) from exc

    def __repr__(self) -> str:
        return f"MySQLConnector({self.url.redacted()}, read_only={self.read_only})"


def _connect(url, read_only: bool):
    """Open and configure a mysqlclient connection (see the module docstring)."""
    options = dict(url.options)
    kwargs = dict(host=url.host, port=int(url.port), user=url.user, password=url.password,
                  database=url.database, charset="utf8mb4", autocommit=read_only,
                  connect_timeout=int(options.get("connect_timeout", CONNECT_TIMEOUT_S)),
                  conv=read_conversions(), init_command=_session_sql(read_only))
    if "unix_socket" in options:
        kwargs["unix_socket"] = options["unix_socket"]
    if "ssl_mode" in options:
        kwargs["ssl_mode"] = options["ssl_mode"].upper()
    try:
        conn = MySQLdb.connect(**kwargs)
        if read_only:
            conn.query("SET SESSION TRANSACTION READ ONLY")
        return conn
    except MySQLdb.Error as exc:
        raise connect_error(exc, url) from None


def _session_sql(read_only: bool) -> str:
    mode = SOURCE_SQL_MODE if read_only else TARGET_SQL_MODE
    return (f"SET time_zone = '+00:00', sql_mode = '{mode}', "
            f"net_write_timeout = {NET_TIMEOUT_S}, net_read_timeout = {NET_TIMEOUT_S}")
