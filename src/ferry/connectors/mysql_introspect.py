"""Introspection of one MySQL / MariaDB database into the neutral catalog.

Everything is read from ``information_schema`` (one query per object kind for
the whole database, never one per table). ``native`` spellings are exactly
``COLUMNS.COLUMN_TYPE`` (``tinyint(1)``, ``int(10) unsigned``,
``enum('G','PG')``).
"""

from __future__ import annotations

import fnmatch
import re
from typing import Callable, Sequence

from ferry.catalog.model import NUMBER_KINDS, Catalog, Column, DataType, ForeignKey, Index, Kind, SkippedObject, Table

Query = Callable[[str, Sequence], list]

GEOMETRY = {"geometry", "point", "linestring", "polygon", "multipoint", "multilinestring",
            "multipolygon", "geometrycollection", "geomcollection"}
_INTEGERS = {"tinyint": Kind.SMALLINT, "smallint": Kind.SMALLINT, "mediumint": Kind.INTEGER,
             "int": Kind.INTEGER, "integer": Kind.INTEGER, "bigint": Kind.BIGINT}
_SIMPLE = {"float": Kind.FLOAT, "double": Kind.DOUBLE, "real": Kind.DOUBLE, "date": Kind.DATE,
           "year": Kind.YEAR, "json": Kind.JSON, "uuid": Kind.UUID,
           "tinytext": Kind.TEXT, "text": Kind.TEXT, "mediumtext": Kind.TEXT, "longtext": Kind.TEXT,
           "tinyblob": Kind.BYTES, "blob": Kind.BYTES, "mediumblob": Kind.BYTES, "longblob": Kind.BYTES}
_FRACTIONAL = {"time": Kind.TIME, "datetime": Kind.TIMESTAMP, "timestamp": Kind.TIMESTAMPTZ}
_LABEL = re.compile(r"'((?:[^'\\]|''|\\.)*)'")
_JSON_CHECK = re.compile(r"^\s*json_valid\(`([^`]+)`\)\s*$", re.IGNORECASE)

COLUMNS_SQL = """
SELECT TABLE_NAME, COLUMN_NAME, COLUMN_TYPE, DATA_TYPE, IS_NULLABLE, COLUMN_DEFAULT, EXTRA,
       CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION, COLLATION_NAME
FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME, ORDINAL_POSITION"""
TABLES_SQL = """
SELECT TABLE_NAME, TABLE_TYPE, COALESCE(TABLE_ROWS, 0)
FROM information_schema.TABLES WHERE TABLE_SCHEMA = %s ORDER BY TABLE_NAME"""
INDEXES_SQL = """
SELECT TABLE_NAME, INDEX_NAME, NON_UNIQUE, COLUMN_NAME, SUB_PART, INDEX_TYPE
FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = %s
ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX"""
FKS_SQL = """
SELECT k.TABLE_NAME, k.CONSTRAINT_NAME, k.COLUMN_NAME, k.REFERENCED_TABLE_NAME,
       k.REFERENCED_COLUMN_NAME, r.DELETE_RULE, r.UPDATE_RULE
FROM information_schema.KEY_COLUMN_USAGE k
JOIN information_schema.REFERENTIAL_CONSTRAINTS r
  ON r.CONSTRAINT_SCHEMA = k.CONSTRAINT_SCHEMA AND r.CONSTRAINT_NAME = k.CONSTRAINT_NAME
 AND r.TABLE_NAME = k.TABLE_NAME
WHERE k.TABLE_SCHEMA = %s AND k.REFERENCED_TABLE_NAME IS NOT NULL
ORDER BY k.TABLE_NAME, k.CONSTRAINT_NAME, k.ORDINAL_POSITION"""
CHECKS_SQL = """
SELECT TABLE_NAME, CONSTRAINT_NAME, CHECK_CLAUSE
FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = %s"""
OTHERS_SQL = """
SELECT 'trigger', TRIGGER_NAME FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = %s
UNION ALL SELECT LOWER(ROUTINE_TYPE), ROUTINE_NAME FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = %s
UNION ALL SELECT 'event', EVENT_NAME FROM information_schema.EVENTS WHERE EVENT_SCHEMA = %s"""


def introspect(query: Query, database: str, include: Sequence[str] = (),
               exclude: Sequence[str] = (), mariadb: bool = True) -> Catalog:
    """Read the catalog of ``database`` through ``query(sql, params) -> rows``.

    Tables are filtered by fnmatch patterns on ``name`` or ``database.name``
    and ordered parents first by foreign key (cycles keep name order). Views,
    triggers, routines, events, generated columns, unsupported indexes and
    CHECK constraints other than MariaDB's JSON ``json_valid`` go to
    ``Catalog.skipped``.
    """
    skipped: list[SkippedObject] = []
    tables = _tables(query, database, include, exclude, skipped)
    checks = _checks(query, database, tables, skipped) if mariadb else {}
    _columns(query, database, tables, checks, skipped)
    _indexes(query, database, tables, skipped)
    _foreign_keys(query, database, tables)
    for kind, name in query(OTHERS_SQL, (database, database, database)):
        skipped.append(SkippedObject(kind, name))
    return Catalog(order_by_dependency(list(tables.values())), skipped)


def _wanted(name: str, database: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    names = (name, f"{database}.{name}")
    if include and not any(fnmatch.fnmatchcase(n, p) for p in include for n in names):
        return False
    return not any(fnmatch.fnmatchcase(n, p) for p in exclude for n in names)


def _tables(query: Query, database, include, exclude, skipped) -> dict[str, Table]:
    tables = {}
    for name, table_type, rows in query(TABLES_SQL, (database,)):
        if table_type == "VIEW":
            skipped.append(SkippedObject("view", name))
        elif table_type == "SEQUENCE":
            skipped.append(SkippedObject("sequence", name))
        elif _wanted(name, database, include, exclude):
            tables[name] = Table(name=name, columns=[], row_estimate=int(rows))
    return tables


def _checks(query: Query, database, tables, skipped) -> dict[tuple[str, str], bool]:
    """MariaDB ``json_valid(col)`` checks as {(table, column): True}; other
    CHECK constraints are listed as skipped."""
    json_columns = {}
    for table, name, clause in query(CHECKS_SQL, (database,)):
        if table not in tables:
            continue
        match = _JSON_CHECK.match(clause or "")
        if match:
            json_columns[(table, match.group(1))] = True
        else:
            skipped.append(SkippedObject("check", f"{table}.{name}", f"CHECK ({clause}) is not migrated"))
    return json_columns


def _columns(query: Query, database, tables, json_columns, skipped) -> None:
    for row in query(COLUMNS_SQL, (database,)):
        table = tables.get(row[0])
        if table is None:
            continue
        name, extra = row[1], (row[6] or "").lower()
        if "generated" in extra and "default_generated" not in extra:
            skipped.append(SkippedObject("generated column", f"{row[0]}.{name}",
                                         "generated columns are computed by the target, not copied"))
            continue
        dtype = column_type(row[2], row[3], row[7], row[8], row[9], row[10])
        if (row[0], name) in json_columns and dtype.kind == Kind.TEXT:
            dtype = dtype.with_(kind=Kind.JSON)
        table.columns.append(Column(name=name, type=dtype, nullable=row[4] == "YES",
                                    default=column_default(row[5], extra, dtype),
                                    identity="auto_increment" in extra, collation=row[11]))


def column_type(column_type_: str, data_type: str, char_len=None, num_precision=None,
                num_scale=None, dt_precision=None) -> DataType:
    """The neutral type of one column from its ``information_schema.COLUMNS``
    fields (``COLUMN_TYPE`` becomes ``native`` verbatim)."""
    native, base = column_type_, data_type.lower()
    unsigned = "unsigned" in native.lower()
    if base in _INTEGERS:
        return DataType(_INTEGERS[base], unsigned=unsigned, native=native)
    if base in ("decimal", "numeric"):
        return DataType(Kind.DECIMAL, precision=_int(num_precision), scale=_int(num_scale),
                        unsigned=unsigned, native=native)
    if base == "bit":
        n = _int(num_precision) or 1
        return DataType(Kind.BOOLEAN, native=native) if n == 1 else \
            DataType(Kind.BYTES, length=(n + 7) // 8, native=native)
    if base in ("char", "varchar"):
        return DataType(Kind.CHAR if base == "char" else Kind.VARCHAR, length=_int(char_len), native=native)
    if base in ("binary", "varbinary"):
        return DataType(Kind.BYTES, length=_int(char_len), native=native)
    if base in _FRACTIONAL:
        return DataType(_FRACTIONAL[base], precision=_int(dt_precision) or 0, native=native)
    if base in ("enum", "set"):
        return DataType(Kind.ENUM if base == "enum" else Kind.SET, values=labels(native), native=native)
    if base in GEOMETRY:
        return DataType(Kind.BYTES, native=native)
    if base in ("inet4", "inet6"):
        return DataType(Kind.VARCHAR, length=15 if base == "inet4" else 39, native=native)
    return DataType(_SIMPLE.get(base, Kind.TEXT), unsigned=unsigned if base in ("float", "double") else False,
                    native=native)


def labels(native: str) -> tuple[str, ...]:
    """The labels of ``enum('a','b''c')`` / ``set(...)``: ``('a', "b'c")``."""
    inner = native[native.index("(") + 1: native.rindex(")")]
    return tuple(m.group(1).replace("''", "'").replace("\\\\", "\\") for m in _LABEL.finditer(inner))


def column_default(default: str | None, extra: str, dtype: DataType) -> str | None:
    """The default as SQL text: ``CURRENT_TIMESTAMP`` for the current-time
    functions, string literals quoted, numbers bare, None for no default.

    MariaDB >= 10.2.7 reports literals already quoted and NULL as ``'NULL'``;
    MySQL reports them bare and marks expressions ``DEFAULT_GENERATED``
    (https://mariadb.com/kb/en/information-schema-columns-table/).
    """
    if default is None or default == "NULL":
        return None
    match = re.fullmatch(r"(?i)current_timestamp(?:\((\d*)\))?", default)
    if match:
        return f"CURRENT_TIMESTAMP({match.group(1)})" if match.group(1) else "CURRENT_TIMESTAMP"
    if default.startswith("'") or "default_generated" in extra:
        return default
    if dtype.kind in (*NUMBER_KINDS, Kind.YEAR, Kind.BOOLEAN) and re.fullmatch(r"[-+]?[0-9.eE+-]+", default):
        return default
    if re.fullmatch(r"b'[01]*'", default):
        return default      # a BIT default: a bit-value literal, whatever the column became (bytes for BIT(n > 1))
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*\(.*\)", default):
        return default      # MariaDB expression default, e.g. uuid()
    return "'" + default.replace("'", "''") + "'"


def _indexes(query: Query, database, tables, skipped) -> None:
    grouped: dict[tuple[str, str], list] = {}
    for table, index, non_unique, column, sub_part, index_type in query(INDEXES_SQL, (database,)):
        if table in tables:
            grouped.setdefault((table, index), []).append((non_unique, column, sub_part, index_type))
    for (table, index), parts in grouped.items():
        reason = _unsupported_index(parts)
        if reason:
            skipped.append(SkippedObject("index", f"{table}.{index}", reason))
            continue
        columns = tuple(p[1] for p in parts)
        if index == "PRIMARY":
            tables[table].primary_key = columns
        elif int(parts[0][0]) == 0:
            tables[table].uniques.append(Index(index, columns, unique=True))
        else:
            tables[table].indexes.append(Index(index, columns))


def _unsupported_index(parts) -> str | None:
    index_type = (parts[0][3] or "").upper()
    if index_type in ("FULLTEXT", "SPATIAL"):
        return f"{index_type} index"
    if any(p[2] is not None for p in parts):
        return "prefix index (only the first bytes of a column are indexed)"
    if any(p[1] is None for p in parts):
        return "functional index"
    return None


def _foreign_keys(query: Query, database, tables) -> None:
    grouped: dict[tuple[str, str], list] = {}
    for table, name, column, ref_table, ref_column, on_delete, on_update in query(FKS_SQL, (database,)):
        if table in tables:
            grouped.setdefault((table, name), []).append((column, ref_table, ref_column, on_delete, on_update))
    for (table, name), parts in grouped.items():
        first = parts[0]
        tables[table].foreign_keys.append(ForeignKey(
            name=name, columns=tuple(p[0] for p in parts), ref_table=first[1],
            ref_columns=tuple(p[2] for p in parts), on_delete=first[3], on_update=first[4]))


def order_by_dependency(tables: list[Table]) -> list[Table]:
    """Tables with every referenced table before the referencing one; tables
    in a cycle (and self references) keep their name order."""
    by_name = {t.name: t for t in tables}
    ordered: list[Table] = []
    state: dict[str, int] = {}      # 1 = visiting, 2 = done

    def visit(table: Table) -> None:
        if state.get(table.name):
            return
        state[table.name] = 1
        for fk in table.foreign_keys:
            parent = by_name.get(fk.ref_table)
            if parent is not None and parent.name != table.name:
                visit(parent)
        state[table.name] = 2
        ordered.append(table)

    for table in sorted(tables, key=lambda t: t.name):
        visit(table)
    return ordered


def _int(value) -> int | None:
    return None if value is None else int(value)
