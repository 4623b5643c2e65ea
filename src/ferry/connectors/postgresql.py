"""The PostgreSQL connector (psycopg 3): session handling and data I/O (the
dialect is :mod:`ferry.connectors.pg_dialect`).

Sessions run in psycopg autocommit mode and ferry opens transactions itself:
a writer (``read_only=False``) begins one before its first write and keeps it
until :meth:`PostgresConnector.commit`; a reader runs each statement on its own
(no idle transaction holding locks on the source) unless it exported or joined
a snapshot, which is a ``REPEATABLE READ READ ONLY`` transaction (PostgreSQL
manual, 9.27.5 "Snapshot Synchronization Functions").

Measured on 1,000,000 pgbench_accounts-like rows (int, int, int, char(84)),
PostgreSQL 15 on the same 2-CPU host (shared, so best of several runs):

* reads use a server-side cursor (``DECLARE`` + ``FETCH``): 0.82-1.08 M
  rows/s, against 0.33-0.45 M rows/s for ``COPY ... TO STDOUT`` parsed by
  ``copy.rows()`` (text or binary);
* writes use ``COPY ... FROM STDIN`` in text format with ``write_row``:
  0.39 M rows/s through :meth:`PostgresConnector.write` (psycopg alone
  0.6-0.7 M rows/s; binary with ``set_types`` was no faster and refuses
  loosely typed values);
* PostgreSQL -> PostgreSQL raw blocks (:meth:`read_copy` ->
  :meth:`write_copy`): text 0.38-0.40 M rows/s, binary 0.43-0.68 M rows/s,
  against 0.45-0.62 M rows/s for ``psql -c "COPY .. TO STDOUT" | psql -c
  "COPY .. FROM STDIN"``; since then moved in C when the package's C module is
  built (``_pgpump``, :class:`~ferry.connectors.pg_copyout.CopyOut`): a whole
  1 M-row run uses a third less CPU (bench/RESULTS.md, session 12);
* :meth:`checksum` (in the database): 0.53-0.68 M rows/s.

Requires PostgreSQL 13+ (``trim_scale``).
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Iterable, Iterator, Sequence

import psycopg
from psycopg import pq
from psycopg import sql as pgsql
from psycopg.pq import TransactionStatus

from ferry.catalog.model import Catalog, Table
from ferry.connectors.base import Connector, CopyData, KeyRange, Select
from ferry.connectors.pg_copyout import CopyOut
from ferry.connectors.pg_dialect import PostgresDialect
from ferry.connectors.pg_errors import classify, connect_error
from ferry.connectors.pg_identity import reset_identity
from ferry.connectors.pg_introspect import Introspector
from ferry.connectors.pg_types import register_text_loaders
from ferry.connectors.pg_write import (bytes_as_text, client_reject, column_types, decode_text_bytes,
                                       prefetched)
from ferry.errors import NotSupported, TerminalError, TransientError
from ferry.secrets import DatabaseURL

# extra_float_digits = 1: shortest round-trip float output (PostgreSQL 12+);
# jit = off: JIT compilation of the large hashing expressions costs far more
# than it saves (measured: 100 s instead of 0.3 s for 20,000 doubles);
# idle_in_transaction_session_timeout = 0: a snapshot exporter sits idle
# while its clones read; statement_timeout = 0: one COPY or checksum may run
# long (pg_dump sets both the same way, src/bin/pg_dump/pg_backup_db.c).
SESSION_SQL = ("SET TimeZone = 'UTC'; SET extra_float_digits = 1; SET DateStyle = 'ISO, YMD'; "
               "SET IntervalStyle = 'postgres'; SET standard_conforming_strings = on; SET jit = off; "
               "SET idle_in_transaction_session_timeout = 0; SET statement_timeout = 0")
READ_ONLY_SQL = "SET default_transaction_read_only = on"
SERIAL_SQL = "SET max_parallel_workers_per_gather = 0"
SNAPSHOT_BEGIN = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
COPY_BLOCK_BYTES = 1 << 20
TYPE_NAMES_SQL = """
SELECT t.oid, CASE WHEN t.typtype = 'e' THEN 'enum' ELSE COALESCE(bt.typname, t.typname) END FROM pg_type t
LEFT JOIN pg_type bt ON t.typtype = 'd' AND bt.oid = t.typbasetype WHERE t.oid = ANY(%s)"""
class PostgresConnector(Connector):
    """One psycopg connection to one PostgreSQL database.

    Args:
        url: the parsed URL; its query options (``sslmode``, ...) are passed
            to libpq as connection parameters.
        read_only: True for a source: ``default_transaction_read_only = on``.
        snapshot: a snapshot id from :meth:`export_snapshot` to join at once.

    Raises:
        ConnectionFailed: unreachable server, refused login, unknown database.
        TransientError: the server is starting, stopping or full.
    """

    def __init__(self, url: DatabaseURL, *, read_only: bool, snapshot: str | None = None) -> None:
        super().__init__(url, read_only=read_only)
        self._snapshot: str | None = None
        self._exporter = False
        self._tx = False
        self._cursors = 0
        self._serial = False
        self._conn = self._connect()
        encoding = self._conn.info.parameter_status("server_encoding") or "UTF8"
        self.dialect = PostgresDialect(utf8=encoding.upper() == "UTF8", version=self._conn.info.server_version)
        if snapshot:
            try:
                self.use_snapshot(snapshot)
            except BaseException:
                self.close()
                raise

    # -- session -------------------------------------------------------------
    def _connect(self) -> psycopg.Connection:
        u = self.url
        params = {"host": u.host, "port": u.port, "dbname": u.database, "user": u.user or None,
                  "password": u.password or None, "application_name": "ferry",
                  "client_encoding": "UTF8", "connect_timeout": 10}
        params.update(dict(u.options))
        try:
            conn = psycopg.connect(autocommit=True, **{k: v for k, v in params.items() if v is not None})
        except psycopg.Error as exc:
            raise connect_error(exc, u) from None
        try:
            conn.execute(SESSION_SQL + ("; " + READ_ONLY_SQL if self.read_only else "")
                         + ("; " + SERIAL_SQL if self._serial else ""))
        except psycopg.Error as exc:
            conn.close()
            raise classify(exc, f"session setup on {u.redacted()}") from exc
        register_text_loaders(conn.adapters)
        return conn

    def _live(self) -> psycopg.Connection:
        """The connection, reopened when it was lost. A lost writer
        transaction raises TransientError (unless already reported), a lost
        snapshot is rejoined, a lost exported snapshot raises TerminalError."""
        if not self._conn.closed:
            return self._conn
        lost_tx, snapshot, exporter = self._tx, self._snapshot, self._exporter
        self._tx, self._snapshot, self._exporter = False, None, False
        self._conn = self._connect()
        if snapshot and exporter:
            raise TerminalError(f"the exported snapshot {snapshot} was lost with its connection",
                                "restart the phase; it exports a new snapshot")
        if snapshot:
            self.use_snapshot(snapshot)
        elif lost_tx:
            raise TransientError("the connection to PostgreSQL was lost; its transaction was rolled back",
                                 "the action is retried from its start")
        return self._conn

    @contextmanager
    def _errors(self, context: str = ""):
        try:
            yield
        except psycopg.Error as exc:
            err = classify(exc, context)
            if isinstance(err, TransientError) and self._conn.closed:
                self._tx = False  # reported now: the next call reconnects quietly
            raise err from exc

    def _begin(self) -> bool:
        """BEGIN unless a transaction is open; True when this call began one."""
        conn = self._live()
        if conn.info.transaction_status != TransactionStatus.IDLE:
            return False
        conn.execute("BEGIN")
        self._tx = True
        return True

    def _end(self) -> None:
        """Finish a transaction :meth:`_begin` opened for one read."""
        if self._conn.closed:
            self._tx = False
        elif self._conn.info.transaction_status == TransactionStatus.INERROR:
            self.rollback()
        else:
            self.commit()

    def serial_queries(self) -> None:
        """``max_parallel_workers_per_gather = 0`` for this session, kept
        when the connection is reopened."""
        self._serial = True
        self._live().execute(SERIAL_SQL)

    # -- lifecycle -----------------------------------------------------------
    def clone(self) -> "PostgresConnector":
        """A new connection, same URL and mode, in the same exported snapshot."""
        return PostgresConnector(self.url, read_only=self.read_only, snapshot=self._snapshot)

    def close(self) -> None:
        """Close the connection (idempotent); an open transaction rolls back."""
        self._conn.close()

    def commit(self) -> None:
        """COMMIT; raises TransientError when the connection (and so the
        transaction) was lost before it."""
        if self._conn.closed:
            lost, self._tx = self._tx, False
            if lost:
                raise TransientError("the connection to PostgreSQL was lost before COMMIT; "
                                     "the transaction was rolled back", "the action is retried from its start")
            return
        with self._errors("COMMIT"):
            self._conn.commit()
        self._tx, self._snapshot, self._exporter = False, None, False

    def rollback(self) -> None:
        """ROLLBACK (a lost connection has nothing left to roll back)."""
        self._tx, self._snapshot, self._exporter = False, None, False
        if not self._conn.closed:
            with self._errors("ROLLBACK"):
                self._conn.rollback()

    def export_snapshot(self) -> str:
        """Begin a REPEATABLE READ READ ONLY transaction and return
        ``pg_export_snapshot()``; it lives until commit/rollback/close.

        Raises:
            TerminalError: a write transaction is open (it would be lost).
        """
        self._refuse_open_writes("export a snapshot")
        self.rollback()
        with self._errors("export snapshot"):
            conn = self._live()
            conn.execute(SNAPSHOT_BEGIN)
            self._tx = True
            snapshot = conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
        self._snapshot, self._exporter = snapshot, True
        return snapshot

    def use_snapshot(self, snapshot: str) -> None:
        """Join ``snapshot`` (``SET TRANSACTION SNAPSHOT``) in a new REPEATABLE
        READ READ ONLY transaction.

        Raises:
            TerminalError: the snapshot is unknown or its exporter has ended,
                or a write transaction is open.
        """
        self._refuse_open_writes("join a snapshot")
        self.rollback()
        conn = self._live()
        try:
            conn.execute(SNAPSHOT_BEGIN)
            self._tx = True
            conn.execute(pgsql.SQL("SET TRANSACTION SNAPSHOT {}").format(pgsql.Literal(snapshot)))
        except psycopg.Error as exc:
            err = classify(exc, f"join snapshot {snapshot}")
            self.rollback()
            if isinstance(err, TransientError):
                raise err from exc
            raise TerminalError(f"cannot join snapshot {snapshot}: {err.message}",
                                "the exporting session must still be open in its transaction") from exc
        self._snapshot, self._exporter = snapshot, False

    def _refuse_open_writes(self, what: str) -> None:
        if self._tx and not self.read_only and not self._snapshot:
            raise TerminalError(f"cannot {what} while a write transaction is open",
                                "commit or roll back first")

    # -- schema --------------------------------------------------------------
    def introspect(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Catalog:
        """Every user table of every non-system schema; see
        :mod:`ferry.connectors.pg_introspect`."""
        return Introspector(self.query, include, exclude).run()

    def execute(self, sql: str, params: Sequence = ()) -> None:
        """Run one statement; a writer runs it inside its transaction. With
        ``params`` (``%s`` placeholders) a literal ``%`` is written ``%%``."""
        with self._errors():
            if not self.read_only:
                self._begin()
            self._live().execute(sql, params or None)

    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """All rows of ``sql`` as tuples of portable values ([] without a result).
        With ``params`` (``%s`` placeholders) a literal ``%`` is written ``%%``;
        without, the SQL is sent as it is."""
        with self._errors():
            cur = self._live().execute(sql, params or None)
            return cur.fetchall() if cur.description else []

    def table_exists(self, table: Table) -> bool:
        """True when ``to_regclass`` finds the (qualified) table."""
        return bool(self.query("SELECT to_regclass(%s) IS NOT NULL", (self.dialect.qualify(table),))[0][0])

    def known_types(self, spellings: set[str]) -> set[str]:
        """The spellings ``to_regtype`` resolves here: built-in types, and
        enums, domains and extension types that exist in this database
        (``citext`` only where the extension is installed)."""
        if not spellings:
            return set()
        names = sorted(spellings)
        rows = self.query("SELECT s FROM unnest(%s::text[]) AS s WHERE to_regtype(s) IS NOT NULL", (names,))
        return {r[0] for r in rows}

    def reset_identity(self, table: Table, column: str) -> None:
        """setval the column's sequence (serial, identity, or the sequence of a
        ``nextval`` default) so the next value is max + 1 (start when empty);
        a no-op for a column without a sequence.

        Raises:
            TerminalError: no such table or column.
        """
        reset_identity(self, table, column)

    # -- data ----------------------------------------------------------------
    def _select_sql(self, select: Select, krange: KeyRange, portable: bool = True,
                    ordered: bool = True) -> tuple[str, list]:
        pred, params = self.select_predicate(select, krange)
        cols = ", ".join(self._read_expr(e, select.table) if portable else e for e, _ in select.exprs)
        sql = f"SELECT {cols} FROM {self.dialect.qualify(select.table)} WHERE {pred}"
        if ordered and select.key:
            sql += " ORDER BY " + ", ".join(self.dialect.quote(k) for k in select.key)
        return sql, params

    def _read_expr(self, expr: str, table: Table) -> str:
        # money prints with the locale's currency sign; its numeric value is portable
        for col in table.columns:
            if col.type.native == "money" and expr == self.dialect.quote(col.name):
                return f"{expr}::numeric"
        return expr

    def read(self, select: Select, krange: KeyRange, batch_rows: int) -> Iterator[list[tuple]]:
        """Batches of rows (portable values, JSON as its text), ordered by the
        key, streamed through a server-side cursor."""
        sql, params = self._select_sql(select, krange)
        return self._stream(sql, params, max(1, int(batch_rows)))

    def _stream(self, sql: str, params: list, batch_rows: int) -> Iterator[list[tuple]]:
        with self._errors("read"):
            started = self._begin()
            self._cursors += 1
            try:
                with self._conn.cursor(name=f"ferry_read_{self._cursors}") as cur:
                    cur.execute(sql, params or None)
                    while rows := cur.fetchmany(batch_rows):
                        yield rows
            finally:
                if started:
                    self._end()

    def write(self, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
        """``COPY table (columns) FROM STDIN`` of ``rows`` in the current transaction.

        Raises:
            RejectError: the server (or psycopg, for a NUL byte in text)
                refused a value; ``column`` names it when known.
        """
        if not rows:
            return
        cols = ", ".join(self.dialect.quote(c) for c in columns)
        statement = f"COPY {self.dialect.qualify(table)} ({cols}) FROM STDIN"
        with self._errors(f"COPY into {table.qualified}"):
            self._begin()
            rows = bytes_as_text(self._live(), self.dialect.qualify(table), columns, rows)
            try:
                with self._conn.cursor() as cur, cur.copy(statement) as copy:
                    for row in rows:
                        copy.write_row(row)
            except psycopg.DataError as exc:
                if exc.sqlstate is None:
                    raise client_reject(exc, columns, rows) from exc
                raise

    def write_stream(self, table: Table, columns: Sequence[str], batches: Iterable[list[tuple]]) -> int:
        """One ``COPY ... FROM STDIN`` for every batch of ``batches`` (a chunk),
        the batches read ahead in a helper thread so that the source's reads
        overlap this COPY; returns the rows written.

        Raises:
            RejectError: a value was refused; nothing of the COPY remains and
                the caller isolates the rows batch by batch.
        """
        cols = ", ".join(self.dialect.quote(c) for c in columns)
        statement = f"COPY {self.dialect.qualify(table)} ({cols}) FROM STDIN"
        written, rows = 0, []
        with self._errors(f"COPY into {table.qualified}"):
            self._begin()
            types = column_types(self._live(), self.dialect.qualify(table))
            try:
                with self._conn.cursor() as cur, cur.copy(statement) as copy:
                    for rows in prefetched(batches):
                        rows = decode_text_bytes(types, columns, rows)
                        for row in rows:
                            copy.write_row(row)
                        written += len(rows)
            except psycopg.DataError as exc:
                if exc.sqlstate is None:
                    raise client_reject(exc, columns, rows) from exc
                raise
        return written

    def savepoint(self, name: str) -> None:
        """SAVEPOINT ``name`` (a transaction is begun when none is open)."""
        with self._errors():
            self._begin()
            self._conn.execute(f"SAVEPOINT {self.dialect.quote(name)}")

    def rollback_to(self, name: str) -> None:
        """ROLLBACK TO SAVEPOINT ``name`` (the savepoint stays)."""
        with self._errors():
            self._live().execute(f"ROLLBACK TO SAVEPOINT {self.dialect.quote(name)}")

    def row_hashes(self, select: Select, krange: KeyRange) -> dict[tuple, int]:
        """Key tuple -> 60-bit row hash (the hash :meth:`checksum` sums).

        Raises:
            NotSupported: ``select.key`` is empty.
        """
        if not select.key:
            raise NotSupported(f"row hashes of {select.table.qualified} need a key")
        pred, params = self.select_predicate(select, krange)
        keys = ", ".join(self.dialect.quote(k) for k in select.key)
        sql = (f"SELECT {keys}, {self.dialect.row_hash_sql(select)} "
               f"FROM {self.dialect.qualify(select.table)} WHERE {pred}")
        return {tuple(r[:-1]): int(r[-1]) for r in self.query(sql, params)}

    # -- PostgreSQL -> PostgreSQL fast path -------------------------------------
    def read_copy(self, select: Select, krange: KeyRange, binary: bool = False) -> CopyOut:
        """Raw ``COPY (SELECT ...) TO STDOUT`` data (text, or binary when
        ``binary``) of ``select`` in ``krange`` (its ``where`` included), for
        :meth:`write_copy` on another PostgreSQL connector, which moves it in C
        when it can (:class:`~ferry.connectors.pg_copyout.CopyOut`). The
        expressions are sent as they are (no portable casts such as money ->
        numeric), so binary data fits a target whose column types are
        identical (see :meth:`result_types`). Rows come in scan order (no
        ORDER BY: a sort or index scan costs ~1 s per million rows).

        Iterated, it is read with libpq's ``PQgetCopyData`` in a tight loop
        without blocking, so the GIL is free while the server works
        (:mod:`ferry.connectors.pg_copyout`): PostgreSQL sends one message per
        row, and psycopg's ``Copy`` iterator costs ~2x the CPU per message
        (measured: 0.78 s instead of 1.2-1.3 s for 1,000,000 pgbench rows,
        bench/copy_out_read.py)."""
        # no parameters: PostgresDialect.bound_predicates inlines the bounds
        sql, _ = self._select_sql(select, krange, portable=False, ordered=False)
        statement = f"COPY ({sql}) TO STDOUT" + (" (FORMAT binary)" if binary else "")
        return CopyOut(lambda: self._live().pgconn, statement, COPY_BLOCK_BYTES,
                       lambda: self._errors("COPY TO STDOUT"))

    def result_types(self, select: Select) -> list[str]:
        """The type of each column :meth:`read_copy` of ``select`` returns, as
        ``pg_type.typname`` with domains resolved to their base (``int4``,
        ``bpchar``) and ``enum`` for any enum; reads no row (``LIMIT 0``)."""
        sql, _ = self._select_sql(select, KeyRange(), portable=False, ordered=False)
        with self._errors("describe"), self._live().cursor() as cur:
            cur.execute(f"SELECT * FROM ({sql}) AS ferry_q LIMIT 0")
            oids = [d.type_code for d in cur.description]
            cur.execute(TYPE_NAMES_SQL, (oids,))
            names = dict(cur.fetchall())
        return [names.get(oid, "") for oid in oids]

    def column_type_names(self, table: Table) -> dict[str, str]:
        """Column name -> base type name (``pg_type.typname``) of a table here."""
        with self._errors("describe"):
            return column_types(self._live(), self.dialect.qualify(table))

    def _pump(self, data: CopyData) -> None:
        """``data`` moved into this connection's COPY IN in C (no row through
        Python), the connection in blocking mode meanwhile: libpq then sends
        its output buffer once it holds 8 KiB (``pqPutMsgEnd``, fe-misc.c)
        instead of growing it, so memory stays bounded whatever the chunk's
        size (peak RSS 50 MiB at 1 M rows: bench/RESULTS.md).

        Raises:
            psycopg.OperationalError: this connection refused the data.
        """
        pgconn = self._conn.pgconn
        pgconn.nonblocking = 0
        try:
            sent = data.into(pgconn)
        finally:
            pgconn.nonblocking = 1
        if not sent:
            raise psycopg.OperationalError(pgconn.get_error_message().decode(errors="replace"))

    def write_copy(self, table: Table, columns: Sequence[str], blocks: Iterable[bytes],
                   binary: bool = False) -> int:
        """``COPY table (columns) FROM STDIN`` of raw blocks from :meth:`read_copy`;
        returns the rows written (the COPY command tag).
        Binary needs identical column types on both sides. ``blocks`` is
        iterated in a helper thread (see :func:`pg_write.prefetched`) so the
        source's COPY overlaps this one.

        Raises:
            RejectError: the server refused a value (column named when known).
        """
        cols = ", ".join(self.dialect.quote(c) for c in columns)
        statement = f"COPY {self.dialect.qualify(table)} ({cols}) FROM STDIN" + (
            " (FORMAT binary)" if binary else "")
        with self._errors(f"COPY into {table.qualified}"):
            self._begin()
            with self._conn.cursor() as cur:
                with cur.copy(statement) as copy:
                    if isinstance(blocks, CopyData) and blocks.can_pump():
                        copy.write(b"")     # data has come: psycopg adds no binary header and trailer of its own
                        self._pump(blocks)
                    else:
                        for block in prefetched(blocks):
                            copy.write(block)
                return cur.rowcount
