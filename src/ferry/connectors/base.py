"""The connector contract every engine module fulfils.

An engine module holds a :class:`Dialect` (what the engine *is*: quoting, type
map, capability flags, the SQL that normalises values for hashing) and a
:class:`Connector` (I/O on one connection). Engines (copy, validate) only talk
to these two classes, so adding an engine never touches them.

Values crossing between connectors are *portable values*: ``None``, ``bool``,
``int``, ``float``, ``decimal.Decimal``, ``str``, ``bytes``, ``datetime.date``,
``datetime.time``, ``datetime.datetime`` (naive for TIMESTAMP, aware for
TIMESTAMPTZ), ``list`` (ARRAY / SET). JSON travels as its ``str`` text (never
parsed: parsing changes ``57.550`` into ``57.55``); UUID as ``str``.

Canonical text (what checksums hash), identical on every engine:

==============  ============================================================
kind            canonical text of a non-NULL value
==============  ============================================================
boolean         ``1`` / ``0``
integers, year  decimal digits, ``-`` sign
decimal         plain decimal, trailing fractional zeros and a trailing ``.``
                removed (``1.50`` -> ``1.5``, ``2.00`` -> ``2``, ``-0`` -> ``0``)
float, double   the shortest decimal that reads back as the same value (as
                PostgreSQL float8out/float4out and MySQL print it), exponent
                written ``e`` + optional ``-`` + digits without leading zeros
                (``1e20``, ``1.5e-7``), used when the decimal exponent is < -4
                or >= 15 (PostgreSQL's rule), else plain (``0.001``, ``12.5``,
                ``100``); ``Infinity``, ``-Infinity``, ``NaN``
char            the text with trailing spaces removed
varchar, text,  the text as stored
enum
set             labels joined by ``,`` in stored order
bytes           lowercase hex
date            ``YYYY-MM-DD``
time            ``HH:MM:SS.ffffff`` (always 6 fractional digits)
timestamp       ``YYYY-MM-DD HH:MM:SS.ffffff``, trailing fractional zeros and
                a trailing ``.`` removed (``10:00:00.5``, ``10:00:00``): what
                PostgreSQL prints (ISO DateStyle)
timestamptz     the instant in UTC, written as a timestamp
json            the engine's canonical JSON rendering (see dialect)
uuid            lowercase ``8-4-4-4-12`` hex
array           ``{`` + canonical items joined by ``,`` + ``}``
==============  ============================================================

A row's text is the canonical values joined by ``|`` with NULL written
``\\N``; its hash is the first 15 hex digits of the MD5 of that UTF-8 text read
as an unsigned integer (60 bits); a segment's checksum is the row count and the
exact sum of its row hashes (see :class:`Checksum`).

Segment checksums have faster variants a pair of engines may share
(:data:`CHECKSUM_MODES`); they only decide whether a segment is searched
further, never which rows differ (bisection leaves always compare the MD5 row
hashes above), so a variant can cost speed, never a missed difference:

* ``md5-sum`` (every engine): the sum of the row hashes above.
* ``md5-ordered`` (PostgreSQL, MariaDB; single integer keys): rows grouped by
  ``key / 1024`` (integer division, truncating); per group the MD5 of the row
  texts in key order, each written ``<UTF-8 bytes>:<text>``; the sum of the
  groups' 60-bit hashes. One MD5 call per 1,024 rows instead of one per row
  (PostgreSQL's per-call MD5 cost dominates its row hash).
* ``sha256-segment`` (PostgreSQL, MariaDB; single integer keys): one SHA-256
  over all the segment's row texts in key order, joined by the byte 0xFF (which
  UTF-8 text never contains, so the joins are unambiguous without a length
  per row: MariaDB would render each row twice for ``LENGTH(r)`` and ``r``);
  its first 60 bits. SHA-256, not MD5: both servers hash through OpenSSL,
  whose SHA-256 uses the CPU's SHA extensions where it has them and MD5 has
  none (server CPU, best of 3: PostgreSQL 15 over the mixed benchmark table's
  first 1 M rows, 155 MB of row text, 1.55-1.68 s with ``md5()`` against
  1.35 s with ``sha256()`` in two rounds of three, the third 1.55 s against
  1.94 s; MariaDB 10.11, 200 MB, ``MD5()`` 0.12-0.13 s more than
  ``SHA2(..., 256)`` in both rounds). No grouping and no sort inside the aggregate: PostgreSQL
  aggregates an ordered subquery ("supplying the input values from a sorted
  subquery will usually work", https://www.postgresql.org/docs/current/sql-expressions.html#SYNTAX-AGGREGATES),
  MariaDB aggregates the rows in the order of its range scan on the key. Neither
  order is promised, so when no chunk of a table matches, the validate engine
  confirms a differing chunk with ``md5-ordered`` before searching it, and a
  segment text that MariaDB cuts at ``max_allowed_packet`` moves the table to
  ``md5-ordered``.
* ``pg-hash`` (PostgreSQL on both sides): the sum of
  ``hashtextextended(ROW(canonical texts)::text COLLATE "C", 0)``,
  PostgreSQL's own 64-bit hash.
* ``pg-raw`` (PostgreSQL 14+ on both sides): the sum of
  ``hash_record_extended(ROW(columns), 0)``, each value hashed by its type's
  own hash function without any text rendering (cheaper than a plain
  ``hashtext(t::text)`` scan); equal only when both sides have the same column
  types, so the validate engine checks a differing chunk again with ``pg-hash``.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass
from typing import Any, Iterator, Sequence

from ferry.catalog.model import Catalog, DataType, Table

ROW_SEPARATOR = "|"
NULL_TEXT = "\\N"
HASH_HEX_DIGITS = 15
SUM_MD5, ORDERED_MD5, SEGMENT_SHA256 = "md5-sum", "md5-ordered", "sha256-segment"
PG_HASH, PG_RAW = "pg-hash", "pg-raw"
CHECKSUM_MODES = (SUM_MD5, ORDERED_MD5, SEGMENT_SHA256, PG_HASH, PG_RAW)
ORDERED_GROUP_ROWS = 1024


@dataclass(frozen=True)
class KeyRange:
    """A half-open range of key values ``lower <= key < upper``.

    Bounds are tuples with one value per key column (compared as row values,
    lexicographically); ``None`` means unbounded on that side. ``KeyRange()``
    is the whole table. Rows whose key holds a NULL belong to the range
    without a lower bound (:meth:`Dialect.range_predicate`).
    """

    lower: tuple | None = None
    upper: tuple | None = None


def nullable_key(table: Table, key: Sequence[str]) -> tuple[str, ...]:
    """The columns of ``key`` that ``table`` lets hold NULL (see
    :meth:`Dialect.range_predicate`); names it does not have count as NOT NULL."""
    names = {c.name: c for c in table.columns}
    return tuple(k for k in key if k in names and names[k].nullable)


@dataclass(frozen=True)
class Select:
    """What to read from (or hash in) one table.

    Attributes:
        table: the table in this connector's database.
        exprs: one ``(sql, type)`` per output column: a SQL expression in this
            connector's dialect over the table's columns (usually just the
            quoted column name) and the neutral type the value has on the
            *target*; hashing normalises by that type.
        key: key column names (for ordering and key ranges), () for none.
        where: an extra filter in this dialect, or None.
    """

    table: Table
    exprs: tuple[tuple[str, DataType], ...]
    key: tuple[str, ...] = ()
    where: str | None = None


class CopyData(abc.ABC):
    """Rows in PostgreSQL COPY format (text or binary) for a PostgreSQL
    target's ``COPY ... FROM STDIN``, not read yet. Iterated: blocks of whole
    rows, through Python. :meth:`into` instead moves them into the target's
    libpq connection in C (``ferry.connectors._pgpump``), when
    :meth:`can_pump`."""

    @abc.abstractmethod
    def __iter__(self) -> Iterator[bytes]:
        """Blocks of whole rows."""

    @abc.abstractmethod
    def can_pump(self) -> bool:
        """True when :meth:`into` can run here (the C module was built, the
        client libraries were found)."""

    @abc.abstractmethod
    def into(self, sink) -> bool:
        """Read the rows and send them into ``sink``, a psycopg ``PGconn``
        already in COPY IN and in blocking mode (its end, ``PQputCopyEnd``
        and the result, stays the caller's). False when the sink refused a
        message (its connection failed; its own error says why)."""


@dataclass(frozen=True)
class Checksum:
    """The checksum of one key range: ``count`` rows, ``total`` = exact sum of
    their 60-bit row hashes (a Python int, unbounded) or of the mode's hashes.
    ``exact`` is False when the engine could not hash every byte (a truncated
    ``GROUP_CONCAT``): such a checksum equals nothing."""

    count: int
    total: int
    exact: bool = True

    def matches(self, other: "Checksum") -> bool:
        """Same count and total, both exact."""
        return self.exact and other.exact and (self.count, self.total) == (other.count, other.total)


@dataclass
class Reject:
    """A row the target refused.

    Attributes:
        row: the values as they were offered to the target.
        reason: the target's error message (redacted), one line.
        column: the column the error names, when the engine says, else None.
    """

    row: tuple
    reason: str
    column: str | None = None


class Dialect(abc.ABC):
    """What an engine is: quoting, types, capabilities and hashing SQL.

    Class attributes:
        name: ``postgresql``, ``mysql`` or ``sqlite``.
        paramstyle: ``qmark`` (``?``) or ``format`` (``%s``).
        max_identifier_length: longest identifier in bytes the engine accepts.
        primary_key_after_load: True when primary keys are cheaper to build
            after the data is loaded (PostgreSQL), False when the table must
            be created with it (SQLite rowid tables, InnoDB clustered index).
        shared_snapshot: True when parallel readers can share one consistent
            snapshot (PostgreSQL exported snapshots).
        index_build_sql: a statement run in the transaction of each primary
            key / index build after the load (session settings), or "".
        hash_by_native: True when the canonical text SQL depends on a
            column's native type, not only on its neutral one (MySQL: YEAR,
            ZEROFILL, FLOAT, BIT(n)); the validate phase then hashes a target
            table with the native types introspected from it.
    """

    name: str = ""
    paramstyle: str = "format"
    max_identifier_length: int = 63
    primary_key_after_load: bool = False
    shared_snapshot: bool = False
    index_build_sql: str = ""
    hash_by_native: bool = False

    @abc.abstractmethod
    def quote(self, identifier: str) -> str:
        """The identifier quoted for this engine (reserved words, case, spaces)."""

    def qualify(self, table: Table) -> str:
        """The quoted, schema-qualified table name."""
        if table.schema:
            return f"{self.quote(table.schema)}.{self.quote(table.name)}"
        return self.quote(table.name)

    @property
    def param(self) -> str:
        """The placeholder for one bound parameter."""
        return "?" if self.paramstyle == "qmark" else "%s"

    def range_predicate(self, key: Sequence[str], krange: KeyRange,
                        nullable: Sequence[str] = ()) -> tuple[str, list]:
        """SQL (``"1=1"`` when unbounded) and parameters selecting ``krange``.

        The bounds are :meth:`bound_predicates`. ``nullable`` names the key columns that
        may hold NULL (SQLite lets a primary key that is not the rowid hold
        NULLs: https://www.sqlite.org/lang_createtable.html#the_primary_key;
        a key declared in the plan may be on a nullable column). No
        comparison selects such a row, so it belongs to the range without a
        lower bound and to no other: ranges that cover a table still cover
        every row.
        """
        parts, params = self.bound_predicates(key, krange)
        if not parts:
            return "1=1", params
        pred = " AND ".join(parts)
        if not nullable:
            return pred, params
        nulls = self.any_null(nullable)
        return (f"({pred} OR {nulls})" if krange.lower is None else f"{pred} AND NOT {nulls}"), params

    def any_null(self, columns: Sequence[str]) -> str:
        """SQL true when any of ``columns`` is NULL."""
        return "(" + " OR ".join(f"{self.quote(c)} IS NULL" for c in columns) + ")"

    def bound_predicates(self, key: Sequence[str], krange: KeyRange) -> tuple[list[str], list]:
        """One SQL comparison per bound of ``krange`` (none when unbounded) and
        their parameters: row-value comparisons expanded into ORs of ANDs,
        which every engine can use an index for."""
        parts, params = [], []
        for bound, strict_op, last_op in ((krange.lower, ">", ">="), (krange.upper, "<", "<")):
            if bound is not None:
                sql, p = self._lexicographic(key, bound, strict_op, last_op)
                parts.append(sql)
                params.extend(p)
        return parts, params

    def _lexicographic(self, key, bound, strict_op, last_op) -> tuple[str, list]:
        ors, params = [], []
        for i in range(len(key)):
            ands = [f"{self.quote(k)} = {self.param}" for k in key[:i]]
            op = last_op if i == len(key) - 1 else strict_op
            ands.append(f"{self.quote(key[i])} {op} {self.param}")
            params.extend(bound[: i + 1])
            ors.append("(" + " AND ".join(ands) + ")")
        return "(" + " OR ".join(ors) + ")", params

    @abc.abstractmethod
    def normalize(self, expr: str, dtype: DataType) -> str:
        """SQL rendering ``expr`` (of neutral type ``dtype``) as canonical text
        (table in the module docstring); NULL stays NULL."""

    #: segment checksum variants the engine computes (see the module docstring)
    checksum_modes: tuple[str, ...] = (SUM_MD5,)

    @abc.abstractmethod
    def checksum_sql(self, select: Select, where: str, mode: str = SUM_MD5) -> str:
        """``SELECT count, hash-sum FROM table WHERE where`` for ``select``
        (a third column, when present, is 1 when every byte was hashed).

        Raises:
            NotSupported: ``mode`` is not in :attr:`checksum_modes`.
        """

    @abc.abstractmethod
    def sa_type(self, dtype: DataType) -> Any:
        """The SQLAlchemy type to create a target column of neutral ``dtype``."""

    @abc.abstractmethod
    def sa_dialect(self) -> Any:
        """The SQLAlchemy dialect object, for compiling DDL."""


class Connector(abc.ABC):
    """I/O on one connection to one database.

    A connector is used by one thread at a time; parallel workers each call
    :meth:`clone`. Writes happen inside the connector's current transaction
    and become durable only at :meth:`commit`.

    Raises (every method): :class:`ferry.errors.TransientError` for failures
    worth a retry, :class:`ferry.errors.TerminalError` or
    :class:`ferry.errors.ConnectionFailed` otherwise.
    """

    dialect: Dialect

    def __init__(self, url, *, read_only: bool) -> None:
        self.url = url
        self.read_only = read_only

    # -- lifecycle ---------------------------------------------------------
    @abc.abstractmethod
    def clone(self) -> "Connector":
        """A new connection to the same database, same mode and snapshot."""

    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection (idempotent)."""

    def serial_queries(self) -> None:
        """Run this session's queries in one server process, without the
        engine's parallel workers, so that ``--jobs`` sessions keep ``--jobs``
        cores busy per server and no more (engines without parallel query:
        nothing to do)."""

    @abc.abstractmethod
    def commit(self) -> None:
        """Make every write since the last commit durable."""

    @abc.abstractmethod
    def rollback(self) -> None:
        """Undo every write since the last commit."""

    def export_snapshot(self) -> str | None:
        """Start a consistent read snapshot other connections can join; its id,
        or None when the engine cannot share one."""
        return None

    def use_snapshot(self, snapshot: str) -> None:
        """Join the snapshot exported by :meth:`export_snapshot`."""

    # -- schema --------------------------------------------------------------
    @abc.abstractmethod
    def introspect(self, include: Sequence[str] = (), exclude: Sequence[str] = ()) -> Catalog:
        """Tables (filtered by fnmatch patterns on ``name`` or ``schema.name``),
        columns, keys, indexes, foreign keys, and the skipped objects."""

    @abc.abstractmethod
    def execute(self, sql: str, params: Sequence = ()) -> None:
        """Run one statement (DDL or DML) in the current transaction."""

    @abc.abstractmethod
    def reset_identity(self, table: Table, column: str) -> None:
        """Set the identity / sequence / auto-increment of ``column`` to max + 1."""

    @abc.abstractmethod
    def table_exists(self, table: Table) -> bool:
        """True when ``table`` exists in this database."""

    def hash_row(self, values: tuple, types: list) -> int:
        """The row hash this engine's ``md5-sum`` checksum gives a row of
        ``values`` read with ``types`` (a rejected row of a table without key
        is taken out of that sum by it)."""
        from ferry.connectors.canonical import lenient_row_hash   # canonical imports this module

        return lenient_row_hash(values, types)

    def known_types(self, spellings: set[str]) -> set[str]:
        """The native type ``spellings`` this database knows, for a table
        copied from the same engine to keep its source's column types
        (default: none, the neutral mapping is used)."""
        return set()

    # -- data ----------------------------------------------------------------
    @abc.abstractmethod
    def query(self, sql: str, params: Sequence = ()) -> list[tuple]:
        """Run a query and return all rows (small results only)."""

    def table_predicate(self, table: Table, key: Sequence[str], krange: KeyRange,
                        where: str | None = None) -> tuple[str, list]:
        """SQL and parameters selecting the rows of ``table`` in ``krange`` and
        ``where`` (:meth:`Dialect.range_predicate`, told which key columns of
        ``table`` may hold NULL)."""
        pred, params = self.dialect.range_predicate(key, krange, nullable_key(table, key))
        return (f"({pred}) AND ({where})" if where else pred), params

    def select_predicate(self, select: Select, krange: KeyRange) -> tuple[str, list]:
        """:meth:`table_predicate` of ``select``'s table, key and filter."""
        return self.table_predicate(select.table, select.key, krange, select.where)

    def count(self, table: Table, key: Sequence[str] = (), krange: KeyRange = KeyRange(),
              where: str | None = None) -> int:
        """Rows of ``table`` in ``krange`` (and ``where``)."""
        pred, params = self.table_predicate(table, key, krange, where)
        sql = f"SELECT COUNT(*) FROM {self.dialect.qualify(table)} WHERE {pred}"
        return int(self.query(sql, params)[0][0])

    def key_bounds(self, table: Table, key: Sequence[str], krange: KeyRange = KeyRange()) -> tuple[Any, Any]:
        """(min, max) of a single-column key in ``krange``, or (None, None) when it holds no row."""
        pred, params = self.table_predicate(table, key, krange)
        col = self.dialect.quote(key[0])
        row = self.query(f"SELECT MIN({col}), MAX({col}) FROM {self.dialect.qualify(table)} WHERE {pred}", params)[0]
        return row[0], row[1]

    def sample_keys(self, table: Table, key: Sequence[str], every: int, krange: KeyRange = KeyRange()) -> list[tuple]:
        """Every ``every``-th key in ``krange``, in key order (keyset sampling:
        chunks of a table, splits of a segment); keys holding a NULL are no
        cut points (they belong to the first range)."""
        d = self.dialect
        nullable = nullable_key(table, key)
        pred, params = self.table_predicate(table, key, krange, f"NOT {d.any_null(nullable)}" if nullable else None)
        cols = ", ".join(d.quote(k) for k in key)
        # SQLite has MOD only when built with its math functions
        mod = f"ferry_rn % {int(every)}" if d.name == "sqlite" else f"MOD(ferry_rn, {int(every)})"
        sql = (f"SELECT {cols} FROM (SELECT {cols}, ROW_NUMBER() OVER (ORDER BY {cols}) AS ferry_rn "
               f"FROM {d.qualify(table)} WHERE {pred}) s WHERE {mod} = 0 ORDER BY {cols}")
        return [tuple(r) for r in self.query(sql, params)]

    @abc.abstractmethod
    def read(self, select: Select, krange: KeyRange, batch_rows: int) -> Iterator[list[tuple]]:
        """Rows of ``select`` in ``krange`` as batches of at most ``batch_rows``
        tuples of portable values, streamed (memory bounded by one batch)."""

    @abc.abstractmethod
    def write(self, table: Table, columns: Sequence[str], rows: list[tuple]) -> None:
        """Insert ``rows`` (portable values, in ``columns`` order) in bulk.

        Raises :class:`ferry.errors.RejectError` when the target refuses the
        batch for its data (the caller isolates the bad rows)."""

    @abc.abstractmethod
    def savepoint(self, name: str) -> None:
        """Set a savepoint in the current transaction."""

    @abc.abstractmethod
    def rollback_to(self, name: str) -> None:
        """Roll back to (and keep) savepoint ``name``."""

    def delete_range(self, table: Table, key: Sequence[str], krange: KeyRange, where: str | None = None) -> None:
        """Delete the rows of ``krange`` (and ``where``): idempotent chunk rewrite."""
        pred, params = self.table_predicate(table, key, krange, where)
        self.execute(f"DELETE FROM {self.dialect.qualify(table)} WHERE {pred}", params)

    def truncate(self, table: Table) -> None:
        """Delete every row of ``table``."""
        self.execute(f"DELETE FROM {self.dialect.qualify(table)}")

    def checksum(self, select: Select, krange: KeyRange = KeyRange(), mode: str = SUM_MD5) -> Checksum:
        """Count and hash-sum of the rows of ``select`` in ``krange``, computed
        inside the database (``mode``: one of the dialect's :attr:`Dialect.checksum_modes`)."""
        pred, params = self.select_predicate(select, krange)
        row, exact = self.checksum_query(self.dialect.checksum_sql(select, pred, mode), params, mode)
        return Checksum(int(row[0]), int(row[1] or 0), exact)

    def checksum_query(self, sql: str, params: Sequence, mode: str) -> tuple[tuple, bool]:
        """The row of a checksum statement and whether every byte was hashed
        (an engine that may cut strings silently overrides this)."""
        return self.query(sql, params)[0], True

    def row_hashes(self, select: Select, krange: KeyRange) -> dict[tuple, int]:
        """Key -> row hash for every row in ``krange`` (for bisection leaves)."""
        raise NotImplementedError
