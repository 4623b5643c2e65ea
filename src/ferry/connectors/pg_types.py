"""PostgreSQL types <-> neutral :class:`DataType`, SQLAlchemy types and psycopg loaders.

Type modifiers (``atttypmod``) are decoded as PostgreSQL stores them
(src/backend/utils/adt/numeric.c ``make_numeric_typmod``, varchar.c,
timestamp.c): numeric ``((p << 16) | (s & 0x7ff)) + 4`` (scale may be negative
since PostgreSQL 15), char/varchar ``length + 4``, time/timestamp the precision.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg.adapt import AdaptersMap
from psycopg.types.string import TextLoader

from ferry.catalog.model import DataType, Kind

# pg_catalog type name -> neutral kind; everything not here is read as text.
_BUILTIN = {
    "bool": Kind.BOOLEAN, "int2": Kind.SMALLINT, "int4": Kind.INTEGER, "int8": Kind.BIGINT,
    "oid": Kind.BIGINT, "numeric": Kind.DECIMAL, "money": Kind.DECIMAL,
    "float4": Kind.FLOAT, "float8": Kind.DOUBLE,
    "bpchar": Kind.CHAR, "varchar": Kind.VARCHAR, "text": Kind.TEXT, "name": Kind.VARCHAR,
    "bytea": Kind.BYTES, "date": Kind.DATE, "time": Kind.TIME, "timestamp": Kind.TIMESTAMP,
    "timestamptz": Kind.TIMESTAMPTZ, "interval": Kind.INTERVAL,
    "json": Kind.JSON, "jsonb": Kind.JSON, "uuid": Kind.UUID,
}
# extension types with a plain text rendering
_EXTENSION_TEXT = {"citext": Kind.TEXT}

# psycopg would turn these into non-portable Python objects (dict, UUID,
# timedelta, ipaddress, Range, time with tzinfo); ferry wants their text.
TEXT_LOADED = ("json", "jsonb", "uuid", "interval", "inet", "cidr", "timetz",
               "int4range", "int8range", "numrange", "daterange", "tsrange", "tstzrange",
               "int4multirange", "int8multirange", "nummultirange", "datemultirange",
               "tsmultirange", "tstzmultirange")


@dataclass(frozen=True)
class PgType:
    """One row of ``pg_type`` as introspection needs it."""

    oid: int
    name: str
    schema: str
    typtype: str          # b base, d domain, e enum, c composite, r range, m multirange, p pseudo
    base: int             # domain: base type oid, else 0
    base_typmod: int      # domain: typmod of the base type
    elem: int             # array: element type oid, else 0
    category: str         # 'A' for arrays
    notnull: bool         # domain NOT NULL
    base_native: str      # domain: format_type(base, base_typmod)


def register_text_loaders(adapters: AdaptersMap) -> None:
    """Make ``adapters`` load JSON, UUID, interval, network, range and timetz
    values (and arrays of them) as their ``str`` text."""
    for name in TEXT_LOADED:
        try:
            adapters.register_loader(name, TextLoader)
        except Exception:  # type unknown to this psycopg version
            continue


def to_datatype(types: dict[int, PgType], enums: dict[int, tuple[str, ...]],
                oid: int, typmod: int, native: str) -> DataType:
    """The neutral type of a column of type ``oid`` with modifier ``typmod``.

    Args:
        types: pg_type rows by oid (with every domain base and array element).
        enums: enum labels (in sort order) by enum type oid.
        native: ``format_type(oid, typmod)``, the PostgreSQL spelling.

    Domains resolve to their base type (``native`` becomes the base's
    spelling); arrays map their element; unknown types become TEXT.
    """
    t = types.get(oid)
    if t is None:
        return DataType(Kind.TEXT, native=native)
    if t.typtype == "d":
        return to_datatype(types, enums, t.base, t.base_typmod, t.base_native)
    if t.typtype == "e":
        return DataType(Kind.ENUM, values=enums.get(oid, ()), native=native)
    if t.category == "A" and t.elem:
        item_native = native[:-2] if native.endswith("[]") else native
        item = to_datatype(types, enums, t.elem, typmod, item_native)
        return DataType(Kind.ARRAY, item=item, native=native)
    kind = _BUILTIN.get(t.name) if t.schema == "pg_catalog" else _EXTENSION_TEXT.get(t.name)
    if kind is None:
        return DataType(Kind.TEXT, native=native)
    return _with_modifier(DataType(kind, native=native), t.name, typmod)


def _with_modifier(dtype: DataType, name: str, typmod: int) -> DataType:
    if name == "numeric" and typmod >= 4:
        raw = typmod - 4
        scale = ((raw & 0x7FF) ^ 1024) - 1024
        return dtype.with_(precision=(raw >> 16) & 0xFFFF, scale=scale)
    if name in ("bpchar", "varchar") and typmod >= 4:
        return dtype.with_(length=typmod - 4)
    if name == "name":
        return dtype.with_(length=63)
    if name in ("time", "timestamp", "timestamptz") and typmod >= 0:
        return dtype.with_(precision=typmod)
    return dtype


def type_sql(dtype: DataType) -> str:
    """The PostgreSQL spelling of a target column of ``dtype`` in DDL, the
    same text SQLAlchemy compiles from :func:`sa_type` (``NUMERIC(10, 2)``,
    ``TIMESTAMP(3) WITH TIME ZONE``, ``TEXT[]``), without importing it."""
    k = dtype.kind
    if k == Kind.DECIMAL:
        if dtype.precision and dtype.precision <= 1000:
            return f"NUMERIC({dtype.precision}, {max(dtype.scale or 0, 0)})"
        return "NUMERIC"
    if k == Kind.CHAR:
        return f"CHAR({dtype.length})" if dtype.length else "TEXT"
    if k == Kind.VARCHAR:
        return f"VARCHAR({dtype.length})" if dtype.length else "VARCHAR"
    if k in (Kind.TIME, Kind.TIMESTAMP, Kind.TIMESTAMPTZ):
        precision = f"({min(dtype.precision, 6)})" if dtype.precision is not None else ""
        zone = "WITH" if k == Kind.TIMESTAMPTZ else "WITHOUT"
        return f"{'TIME' if k == Kind.TIME else 'TIMESTAMP'}{precision} {zone} TIME ZONE"
    if k == Kind.ARRAY:
        return type_sql(dtype.item or DataType(Kind.TEXT)) + "[]"
    return _SIMPLE_SQL[k]


_SIMPLE_SQL = {
    Kind.BOOLEAN: "BOOLEAN", Kind.SMALLINT: "SMALLINT", Kind.INTEGER: "INTEGER", Kind.BIGINT: "BIGINT",
    Kind.FLOAT: "REAL", Kind.DOUBLE: "DOUBLE PRECISION", Kind.TEXT: "TEXT", Kind.BYTES: "BYTEA",
    Kind.DATE: "DATE", Kind.INTERVAL: "INTERVAL", Kind.JSON: "JSONB", Kind.UUID: "UUID",
    Kind.ENUM: "TEXT", Kind.YEAR: "SMALLINT", Kind.SET: "TEXT[]",
}


def sa_type(dtype: DataType):
    """The SQLAlchemy PostgreSQL type for a target column of ``dtype``.

    ENUM -> TEXT (labels are not recreated as a type), SET -> TEXT[],
    YEAR -> SMALLINT, JSON -> JSONB, CHAR without length -> TEXT (a bare
    ``char`` is ``char(1)`` in PostgreSQL), DECIMAL beyond 1000 digits ->
    unconstrained NUMERIC. ``unsigned`` is ignored (casting widens first).
    """
    from sqlalchemy.dialects import postgresql as pg  # only for DDL tests: ~0.2 s to import

    k = dtype.kind
    if k == Kind.DECIMAL:
        if dtype.precision and dtype.precision <= 1000:
            return pg.NUMERIC(dtype.precision, max(dtype.scale or 0, 0))
        return pg.NUMERIC()
    if k == Kind.CHAR:
        return pg.CHAR(dtype.length) if dtype.length else pg.TEXT()
    if k == Kind.VARCHAR:
        return pg.VARCHAR(dtype.length) if dtype.length else pg.VARCHAR()
    if k in (Kind.TIME, Kind.TIMESTAMP, Kind.TIMESTAMPTZ):
        precision = min(dtype.precision, 6) if dtype.precision is not None else None
        if k == Kind.TIME:
            return pg.TIME(precision=precision)
        return pg.TIMESTAMP(timezone=k == Kind.TIMESTAMPTZ, precision=precision)
    if k == Kind.ARRAY:
        return pg.ARRAY(sa_type(dtype.item or DataType(Kind.TEXT)))
    return _simple_sa(pg)[k]()


def _simple_sa(pg) -> dict:
    return {
        Kind.BOOLEAN: pg.BOOLEAN, Kind.SMALLINT: pg.SMALLINT, Kind.INTEGER: pg.INTEGER,
        Kind.BIGINT: pg.BIGINT, Kind.FLOAT: pg.REAL, Kind.DOUBLE: pg.DOUBLE_PRECISION,
        Kind.TEXT: pg.TEXT, Kind.BYTES: pg.BYTEA, Kind.DATE: pg.DATE, Kind.INTERVAL: pg.INTERVAL,
        Kind.JSON: pg.JSONB, Kind.UUID: pg.UUID, Kind.ENUM: pg.TEXT, Kind.YEAR: pg.SMALLINT,
        Kind.SET: lambda: pg.ARRAY(pg.TEXT()),
    }
