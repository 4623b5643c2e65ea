"""The MySQL / MariaDB dialect: quoting, capability flags, canonical-text SQL,
checksums and the SQLAlchemy types used to create target tables.

No SQL built here contains a literal ``%``: mysqlclient interpolates bound
parameters with Python ``%`` formatting, so ``DATE_FORMAT(x, '%Y')`` would
break every query that also has parameters. Dates and times are rendered with
``CAST(... AS CHAR)`` instead, which prints the same ISO text.
"""

from __future__ import annotations

from typing import Any

from ferry.catalog.model import TEXT_KINDS, Column, DataType, Kind, Table
from ferry.connectors import mysql_normalize as norm
from ferry.connectors.base import (HASH_HEX_DIGITS, NULL_TEXT, ORDERED_MD5, ROW_SEPARATOR, SEGMENT_SHA256, SUM_MD5,
                                  Dialect, Select)
from ferry.errors import NotSupported
from ferry.connectors.mysql_introspect import GEOMETRY

MAX_DECIMAL_PRECISION, MAX_DECIMAL_SCALE = 65, 30
MAX_VARCHAR = 16383          # 65,535-byte row limit / 4 bytes per utf8mb4 character
MAX_VARBINARY = 65532
_INTEGER_TEXT = {Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT}
_PLAIN_INTEGERS = {"tinyint", "smallint", "mediumint", "int", "integer", "bigint"}


def sql_string(text: str) -> str:
    """``text`` as a MySQL string literal (backslashes and quotes escaped)."""
    return "'" + text.replace("\\", "\\\\").replace("'", "''") + "'"


class MySQLDialect(Dialect):
    """MySQL 8 and MariaDB 10.6+ (``mariadb`` selects the MariaDB-only SQL:
    ``JSON_NORMALIZE``, JSON as LONGTEXT with a ``json_valid`` CHECK).
    ``utf8mb4_collation`` is the server's default collation of utf8mb4 (what
    ``CONVERT(x USING utf8mb4)`` gives); ``''`` when unknown."""

    name = "mysql"
    paramstyle = "format"
    max_identifier_length = 64
    primary_key_after_load = False     # InnoDB clusters rows by primary key
    shared_snapshot = False            # a consistent snapshot cannot be shared across sessions
    hash_by_native = True

    def __init__(self, mariadb: bool = True, utf8mb4_collation: str = "") -> None:
        self.mariadb = mariadb
        self.utf8mb4_collation = utf8mb4_collation

    def quote(self, identifier: str) -> str:
        """``identifier`` in backticks, backticks doubled."""
        return "`" + identifier.replace("`", "``") + "`"

    # -- values ----------------------------------------------------------
    def zero_date_predicate(self, expr: str) -> str:
        """SQL true when the DATE / DATETIME / TIMESTAMP ``expr`` is a zero date
        (``0000-00-00``), has a zero month or day (``2024-00-00``,
        ``2024-05-00``) or is in year 0. mysqlclient reads all of these as
        None (Python dates start at year 1), so casting rules count them
        with this predicate; NULL gives NULL. One product compared instead of
        three comparisons ORed: 0.03-0.10 s less per 1 M DATETIME(6) values
        (MariaDB 10.11, server CPU, best of 7, two rounds)."""
        return f"(YEAR({expr}) * MONTH({expr}) * DAYOFMONTH({expr}) = 0)"

    def _unless_zero_date(self, expr: str, text: str) -> str:
        """``text`` of the DATE / DATETIME ``expr``, NULL when it is a zero date."""
        return f"IF({self.zero_date_predicate(expr)}, NULL, {text})"

    def normalize(self, expr: str, dtype: DataType) -> str:
        """SQL rendering ``expr`` as the canonical text of neutral ``dtype``
        (see :mod:`ferry.connectors.base`); NULL stays NULL, and zero dates
        become NULL like the reader returns them.

        Documented gaps: JSON string escapes
        (``\\u00e9`` stays escaped), JSON numbers beyond 1e+-40, and on MySQL 8
        (no ``JSON_NORMALIZE``) JSON is MySQL's own rendering.
        """
        kind = dtype.kind
        if kind == Kind.BOOLEAN:
            return f"CASE WHEN {expr} IS NULL THEN NULL WHEN {expr} <> 0 THEN '1' ELSE '0' END"
        if kind in (Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT, Kind.YEAR):
            # + 0: a YEAR read as an integer prints 0 as '0000', ZEROFILL pads
            return f"CAST({expr} + 0 AS CHAR)"
        if kind == Kind.DECIMAL:
            return norm.decimal_text(self._decimal_cast(expr, dtype))
        if kind == Kind.DOUBLE:
            return norm.double_text(expr)
        if kind == Kind.FLOAT:
            return norm.float_text(expr)
        if kind == Kind.CHAR:
            return f"RTRIM(CONVERT({expr} USING utf8mb4))"
        if kind == Kind.BYTES:
            return norm.bytes_text(expr, dtype.native)
        return self._normalize_temporal(expr, kind) or self._normalize_text(expr, dtype)

    def _normalize_temporal(self, expr: str, kind: Kind) -> str | None:
        if kind == Kind.DATE:
            return self._unless_zero_date(expr, f"CAST(CAST({expr} AS DATE) AS CHAR)")
        if kind in (Kind.TIMESTAMP, Kind.TIMESTAMPTZ):
            return self._unless_zero_date(expr, norm.trim_fraction(f"CAST(CAST({expr} AS DATETIME(6)) AS CHAR)"))
        if kind == Kind.TIME:
            return f"CAST(CAST({expr} AS TIME(6)) AS CHAR)"
        return None

    def _normalize_text(self, expr: str, dtype: DataType) -> str:
        text = f"CONVERT({expr} USING utf8mb4)"
        if dtype.kind == Kind.JSON:
            return norm.json_text(expr) if self.mariadb else f"CAST({expr} AS CHAR)"
        if dtype.kind == Kind.UUID:
            return f"LOWER({text})"
        if dtype.kind == Kind.ARRAY:
            return norm.json_array_text(expr) if self.mariadb else text
        return text

    @staticmethod
    def _decimal_cast(expr: str, dtype: DataType) -> str:
        """Round to the target's precision and scale, as the target stores it."""
        p, s = dtype.precision, dtype.scale or 0
        if p and p <= MAX_DECIMAL_PRECISION and s <= MAX_DECIMAL_SCALE:
            return f"CAST({expr} AS DECIMAL({p},{s}))"
        return expr

    # -- hashing -----------------------------------------------------------
    def source_expr(self, table: Table, expr: str, dtype: DataType | None = None) -> str:
        """``expr`` as readers and hashes must select it: a bare column of a
        geometry type becomes ``ST_AsBinary(col)`` (WKB) unless ``dtype``, the
        type it is going to, is a MySQL geometry type too (a copy between two
        MySQL databases: then the column's own bytes, the SRID and the WKB,
        which a geometry column takes back, as mysqldump's ``--hex-blob``
        output does: https://dev.mysql.com/doc/refman/8.0/en/gis-data-formats.html#gis-internal-format);
        a FLOAT becomes ``CAST(col AS DOUBLE)`` (the text protocol prints
        FLOAT with 6 digits only), a BIT(n > 1) becomes its bytes; other
        exprs are kept."""
        native = self._column_native(table, expr)
        base = norm.native_base(native)
        if base in GEOMETRY:
            kept = dtype is not None and norm.native_base(dtype.native.lower()) in GEOMETRY
            return expr if kept else f"ST_AsBinary({expr})"
        if base == "float":
            return f"CAST({expr} AS DOUBLE)"
        if base == "bit" and (norm.bit_width(native) or 1) > 1:
            return f"CAST({expr} AS BINARY)"
        return expr

    def _column(self, table: Table, expr: str) -> Column | None:
        """The column ``expr`` names bare, else None."""
        return next((col for col in table.columns if expr == self.quote(col.name)), None)

    def _column_native(self, table: Table, expr: str) -> str:
        """The lower-case native type of the column ``expr`` names bare, else ``''``."""
        col = self._column(table, expr)
        return col.type.native.lower() if col else ""

    def converted_already(self, col: Column | None) -> bool:
        """True when ``col`` holds the bytes ``CONVERT(col USING utf8mb4)``
        gives, in a collation that mixes with it in ``CONCAT_WS``: the one
        it gives, or ``utf8mb4_bin`` (a ``_bin`` collation wins over the
        other collations of its character set, https://dev.mysql.com/doc/refman/8.0/en/charset-collation-coercibility.html;
        MariaDB's JSON columns are ``utf8mb4_bin``), so the conversion can go
        (MariaDB 10.11, one query over 2 M mixed rows, three unpaired runs:
        0.90 of the time without it on three text columns; a JSON column
        over 400,000 rows, three runs each: 0.41-0.42 s against 0.45-0.48 s)."""
        return bool(col and self.utf8mb4_collation and col.collation in (self.utf8mb4_collation, "utf8mb4_bin"))

    def _text_sql(self, table: Table, expr: str, dtype: DataType, col: Column | None) -> str:
        """Canonical text of ``expr``, shorter where the column's native type
        already is what the canonical text needs (per 1 M rows): a plain
        integer goes bare (``CONCAT_WS`` prints its digits; ``CAST(x + 0 AS
        CHAR)``, 0.2 s, matters only for YEAR and ZEROFILL), a DECIMAL of the
        target's precision and scale is not cast again (0.4 s), a DATETIME
        prints itself (0.2 s; one with a fraction has its trailing zeros
        trimmed, one without goes bare), a text column already
        in utf8mb4 is not converted. ``CONCAT_WS`` (every caller's context)
        turns a DATETIME and a DECIMAL into text itself: the same bytes as
        ``CAST(x AS CHAR)``, and cheaper (MariaDB 10.11, the mixed table's
        canonical row over 400,000 rows, server CPU, median of 15 interleaved
        runs: 0.71 s against 0.85 s without the DATETIME's cast; the machine's
        noise left the DECIMAL's gain unmeasured). ``col``: the column
        ``expr`` names bare, or None."""
        native = col.type.native.lower() if col else ""
        kind = dtype.kind
        if kind in TEXT_KINDS and self.converted_already(col):
            return f"RTRIM({expr})" if kind == Kind.CHAR else expr
        if kind in _INTEGER_TEXT and norm.native_base(native) in _PLAIN_INTEGERS and "zerofill" not in native:
            return expr
        if kind == Kind.DECIMAL and dtype.scale and native == f"decimal({dtype.precision},{dtype.scale})":
            return norm.scaled_decimal_text(expr)
        if kind in (Kind.TIMESTAMP, Kind.TIMESTAMPTZ) and native.startswith("datetime"):
            return self._unless_zero_date(expr, expr if native == "datetime" else norm.trim_fraction(expr))
        return self.normalize(self.source_expr(table, expr, dtype), dtype)

    def row_text_sql(self, select: Select) -> str:
        """``CONCAT_WS('|', COALESCE(norm1, '\\N'), ...)`` over ``select``;
        a NOT NULL column whose text is the column itself (or its RTRIM) goes
        without the COALESCE (the key's COALESCE was 3 % of one query over 2 M
        mixed rows, three unpaired runs)."""
        parts = []
        for e, t in select.exprs:
            col = self._column(select.table, e)
            text = self._text_sql(select.table, e, t, col)
            never_null = col is not None and not col.nullable and text in (e, f"RTRIM({e})")
            parts.append(text if never_null else f"COALESCE({text}, {sql_string(NULL_TEXT)})")
        return f"CONCAT_WS({sql_string(ROW_SEPARATOR)}, {', '.join(parts)})"

    def row_hash_sql(self, select: Select) -> str:
        """The 60-bit row hash of ``select`` as an unsigned integer expression."""
        return f"CAST(CONV(SUBSTRING(MD5({self.row_text_sql(select)}), 1, {HASH_HEX_DIGITS}), 16, 10) AS UNSIGNED)"

    @property
    def checksum_modes(self) -> tuple[str, ...]:
        """``md5-sum``; on MariaDB also ``md5-ordered`` and ``sha256-segment`` (``SET STATEMENT``)."""
        return (SUM_MD5, ORDERED_MD5, SEGMENT_SHA256) if self.mariadb else (SUM_MD5,)

    def checksum_sql(self, select: Select, where: str, mode: str = SUM_MD5) -> str:
        """``SELECT COUNT(*), exact sum of row hashes FROM table WHERE where``
        (the sum is a DECIMAL: no overflow), or the ``md5-ordered`` / ``sha256-segment`` variant
        (:func:`ferry.connectors.mysql_normalize.ordered_checksum`).

        Raises:
            NotSupported: a mode not in :attr:`checksum_modes`, or ``md5-ordered``
                without a single key column.
        """
        table = self.qualify(select.table)
        if mode == SUM_MD5:
            return f"SELECT COUNT(*), COALESCE(SUM({self.row_hash_sql(select)}), 0) FROM {table} WHERE {where}"
        if mode in self.checksum_modes and len(select.key) == 1:
            return norm.ordered_checksum(table, self.quote(select.key[0]), self.row_text_sql(select), where,
                                         whole=mode == SEGMENT_SHA256)
        raise NotSupported(f"checksum mode {mode} on {select.table.qualified}")

    # -- DDL -----------------------------------------------------------------
    def sa_type(self, dtype: DataType) -> Any:
        """The SQLAlchemy MySQL type for a target column of ``dtype``.

        BOOLEAN -> TINYINT(1); TEXT -> LONGTEXT; VARCHAR(n > 16383) -> LONGTEXT;
        BYTES -> VARBINARY(n) / LONGBLOB; TIMESTAMPTZ -> DATETIME(6) holding
        UTC (MySQL TIMESTAMP ends in 2038); DECIMAL capped at (65, 30), and
        DECIMAL(65,30) when unbounded; JSON -> JSON (MariaDB: LONGTEXT with a
        json_valid CHECK); UUID -> CHAR(36); ARRAY -> JSON (the items as a
        JSON array); INTERVAL -> VARCHAR(64).
        """
        from sqlalchemy.dialects import mysql as sa_mysql   # only a MySQL target's DDL needs SQLAlchemy

        kind = dtype.kind
        if kind in _SIMPLE_TYPES:
            name, args = _SIMPLE_TYPES[kind]
            return getattr(sa_mysql, name)(*args) if isinstance(args, tuple) else getattr(sa_mysql, name)(**args)
        if kind in (Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT):
            cls = {Kind.SMALLINT: sa_mysql.SMALLINT, Kind.INTEGER: sa_mysql.INTEGER,
                   Kind.BIGINT: sa_mysql.BIGINT}[kind]
            return cls(unsigned=dtype.unsigned)
        if kind == Kind.DECIMAL:
            return _decimal_type(sa_mysql, dtype)
        if kind in (Kind.CHAR, Kind.VARCHAR):
            return _text_type(sa_mysql, dtype)
        if kind == Kind.BYTES:
            return sa_mysql.VARBINARY(dtype.length) if dtype.length and dtype.length <= MAX_VARBINARY \
                else sa_mysql.LONGBLOB()
        if kind in (Kind.TIME, Kind.TIMESTAMP, Kind.TIMESTAMPTZ):
            fsp = 6 if dtype.precision is None else min(dtype.precision, 6)
            return sa_mysql.TIME(fsp=fsp) if kind == Kind.TIME else sa_mysql.DATETIME(fsp=fsp)
        if kind in (Kind.ENUM, Kind.SET):
            return (sa_mysql.ENUM if kind == Kind.ENUM else sa_mysql.SET)(*dtype.values)
        raise ValueError(f"no MySQL type for {dtype}")

    def sa_dialect(self) -> Any:
        """The SQLAlchemy ``mysql+mysqldb`` dialect (MariaDB flavour when set)."""
        if self.mariadb:
            from sqlalchemy.dialects.mysql import mariadb

            return mariadb.loader("mysqldb")()
        from sqlalchemy.dialects.mysql.mysqldb import MySQLDialect_mysqldb

        return MySQLDialect_mysqldb()


# kind -> (SQLAlchemy MySQL type name, positional or keyword arguments)
_SIMPLE_TYPES = {
    Kind.BOOLEAN: ("TINYINT", {"display_width": 1}), Kind.FLOAT: ("FLOAT", ()), Kind.DOUBLE: ("DOUBLE", ()),
    Kind.TEXT: ("LONGTEXT", ()), Kind.DATE: ("DATE", ()), Kind.YEAR: ("YEAR", ()),
    Kind.JSON: ("JSON", ()), Kind.ARRAY: ("JSON", ()),
    Kind.UUID: ("CHAR", (36,)), Kind.INTERVAL: ("VARCHAR", (64,)),
}


def _decimal_type(sa_mysql, dtype: DataType):
    if not dtype.precision:
        return sa_mysql.DECIMAL(MAX_DECIMAL_PRECISION, MAX_DECIMAL_SCALE)
    scale = min(dtype.scale or 0, MAX_DECIMAL_SCALE)
    return sa_mysql.DECIMAL(min(dtype.precision, MAX_DECIMAL_PRECISION), scale, unsigned=dtype.unsigned)


def _text_type(sa_mysql, dtype: DataType):
    n = dtype.length
    if n is None or n > MAX_VARCHAR:
        return sa_mysql.LONGTEXT()
    if dtype.kind == Kind.CHAR and n <= 255:
        return sa_mysql.CHAR(n)
    return sa_mysql.VARCHAR(n)
