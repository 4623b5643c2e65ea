"""The PostgreSQL dialect: quoting, type map, capability flags and hashing SQL
(what the engine *is*; :mod:`ferry.connectors.postgresql` does the I/O)."""

from __future__ import annotations

from typing import Sequence

from psycopg import sql as pgsql

from ferry.catalog.model import DataType
from ferry.connectors import pg_normalize
from ferry.connectors.base import ORDERED_MD5, PG_HASH, PG_RAW, SEGMENT_SHA256, SUM_MD5, Dialect, KeyRange, Select
from ferry.connectors.pg_types import sa_type, type_sql
from ferry.errors import NotSupported


class PostgresDialect(Dialect):
    """PostgreSQL quoting, type map, capability flags and hashing SQL.

    Args:
        utf8: False when the server encoding is not UTF8; row texts are then
            converted to UTF-8 before hashing.
    """

    name = "postgresql"
    paramstyle = "format"
    max_identifier_length = 63
    primary_key_after_load = True
    shared_snapshot = True
    # maintenance_work_mem raised to 256 MB (never lowered) for the index
    # build's transaction only (set_config(..., true) = SET LOCAL): the sort
    # of a 1 M-row key then fits in memory and parallel maintenance workers
    # (max_parallel_maintenance_workers, default 2) get 32 MB each (manual
    # 20.4.1 "maintenance_work_mem"; measured: ADD PRIMARY KEY on 1 M fresh
    # pgbench rows 0.27-0.29 s instead of 0.28-0.32 s, bench/RESULTS.md).
    index_build_sql = ("SELECT set_config('maintenance_work_mem', '262144kB', true) FROM pg_settings "
                       "WHERE name = 'maintenance_work_mem' AND setting::bigint < 262144")

    def __init__(self, utf8: bool = True, version: int = 0) -> None:
        self.utf8 = utf8
        self.version = version

    @property
    def checksum_modes(self) -> tuple[str, ...]:
        """Every variant; ``sha256-segment`` needs ``sha256()`` (PostgreSQL 11+;
        offered when the version is unknown, 0), ``pg-raw``
        ``hash_record_extended`` (PostgreSQL 14+)."""
        segment = (SEGMENT_SHA256,) if not 0 < self.version < 110000 else ()
        return (SUM_MD5, ORDERED_MD5) + segment + (PG_HASH,) + ((PG_RAW,) if self.version >= 140000 else ())

    def quote(self, identifier: str) -> str:
        """``"identifier"`` with embedded double quotes doubled."""
        return '"' + identifier.replace('"', '""') + '"'

    def bound_predicates(self, key: Sequence[str], krange: KeyRange) -> tuple[list[str], list]:
        """Row-value comparisons ``(a, b) >= (1, 'x')``, ``(a, b) < (9, 'y')``,
        which a btree index on the key serves directly.

        Bounds are inlined as escaped literals (``psycopg.sql.Literal``) and
        the parameter list is always empty, so a ``%`` in an expression of the
        same statement (``id % 10``) never meets placeholder processing.
        """
        parts = []
        lhs = ", ".join(self.quote(k) for k in key)
        for bound, op in ((krange.lower, ">="), (krange.upper, "<")):
            if bound is None:
                continue
            values = ", ".join(pgsql.Literal(v).as_string(None) for v in bound)
            parts.append(f"({lhs}) {op} ({values})" if len(key) > 1 else f"{lhs} {op} {values}")
        return parts, []

    def normalize(self, expr: str, dtype: DataType) -> str:
        """Canonical text SQL; see :mod:`ferry.connectors.pg_normalize`."""
        return pg_normalize.normalize(expr, dtype)

    def row_hash_sql(self, select: Select) -> str:
        """SQL (bigint) of one row's 60-bit hash over ``select.exprs``."""
        return pg_normalize.row_hash([self.normalize(e, t) for e, t in select.exprs], self.utf8)

    def checksum_sql(self, select: Select, where: str, mode: str = SUM_MD5) -> str:
        """``SELECT COUNT(*), SUM(row hash)`` (``sum(bigint)`` is an exact numeric),
        or the ``mode`` variant (:mod:`ferry.connectors.base`).

        Raises:
            NotSupported: an unknown ``mode``, or ``md5-ordered`` / ``sha256-segment``
                without a single key column.
        """
        table = self.qualify(select.table)
        if mode == SUM_MD5:
            return f"SELECT COUNT(*), COALESCE(SUM({self.row_hash_sql(select)}), 0) FROM {table} WHERE {where}"
        if mode == PG_RAW:
            plain = {self.quote(c.name) for c in select.table.columns}
            return pg_normalize.raw_checksum(table, [(e, t, e in plain) for e, t in select.exprs], where)
        parts = [self.normalize(e, t) for e, t in select.exprs]
        if mode == PG_HASH:
            return pg_normalize.native_checksum(table, parts, where)
        if mode in (ORDERED_MD5, SEGMENT_SHA256) and len(select.key) == 1:
            text = pg_normalize.row_text(parts)
            return pg_normalize.ordered_checksum(table, self.quote(select.key[0]), text, where, self.utf8,
                                                 whole=mode == SEGMENT_SHA256)
        raise NotSupported(f"checksum mode {mode} on {select.table.qualified}")

    def sa_type(self, dtype: DataType):
        """See :func:`ferry.connectors.pg_types.sa_type`."""
        return sa_type(dtype)

    def sa_dialect(self):
        """``sqlalchemy.dialects.postgresql.dialect()``."""
        from sqlalchemy.dialects import postgresql as sa_pg

        return sa_pg.dialect()

    def type_sql(self, dtype: DataType) -> str:
        """See :func:`ferry.connectors.pg_types.type_sql` (DDL without SQLAlchemy)."""
        return type_sql(dtype)
