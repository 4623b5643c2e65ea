"""Every supported type round-trips through every engine pair with its value
unchanged, and checksums of equal data are equal across engines.

The same logical rows are created natively on the source engine, migrated by
``ferry run`` to the target engine, read back with the target connector and
compared value by value in canonical text (the yardstick of
:mod:`ferry.connectors.canonical`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ferry import api
from ferry.catalog.model import DataType, Kind, Table
from ferry.connectors import canonical, open_connector
from ferry.connectors.base import KeyRange, Select

COLUMNS = [  # name, neutral type, PostgreSQL, MariaDB, SQLite
    ("id", DataType(Kind.INTEGER), "integer PRIMARY KEY", "int PRIMARY KEY", "INTEGER PRIMARY KEY"),
    ("flag", DataType(Kind.BOOLEAN), "boolean", "tinyint(1)", "BOOLEAN"),
    ("small", DataType(Kind.SMALLINT), "smallint", "smallint", "SMALLINT"),
    ("big", DataType(Kind.BIGINT), "bigint", "bigint", "BIGINT"),
    ("amount", DataType(Kind.DECIMAL, precision=12, scale=3), "numeric(12,3)", "decimal(12,3)", "NUMERIC(12,3)"),
    ("ratio", DataType(Kind.DOUBLE), "double precision", "double", "DOUBLE"),
    ("name", DataType(Kind.VARCHAR, length=50), "varchar(50)", "varchar(50)", "VARCHAR(50)"),
    ("body", DataType(Kind.TEXT), "text", "text", "TEXT"),
    ("raw", DataType(Kind.BYTES), "bytea", "blob", "BLOB"),
    ("day", DataType(Kind.DATE), "date", "date", "DATE"),
    ("at", DataType(Kind.TIMESTAMP, precision=6), "timestamp(6)", "datetime(6)", "TIMESTAMP"),
    ("doc", DataType(Kind.JSON), "jsonb", "json", "JSON"),
]

ROWS = [
    (1, True, 0, 0, Decimal("1.500"), 0.1, "plain", "", b"\x00\x01\xff", dt.date(2024, 2, 29),
     dt.datetime(2024, 2, 29, 23, 59, 59, 123456), '{"b": 1, "a": [1, 2]}'),
    (2, False, -32768, -9223372036854775808, Decimal("-0.001"), 1e20, "trailing  ", "line\nbreak\ttab",
     b"", dt.date(1970, 1, 1), dt.datetime(1970, 1, 1, 0, 0, 0), '{"x": "caf\u00e9"}'),
    (3, None, None, None, None, None, None, None, None, None, None, None),
    (4, True, 32767, 9223372036854775807, Decimal("123456789.125"), -1.5e-7, "unicod\u00e9 \u20ac",
     "emoji \U0001F600", b"abc", dt.date(9999, 12, 31), dt.datetime(2000, 6, 15, 12, 30, 0, 500000), "[]"),
    # JSON numbers beyond 1e+-40 keep an exponent (MariaDB's form); within, plain
    (5, None, None, None, None, None, None, None, None, None, None,
     '{"big": 1e100, "tiny": [-2.50e-45, 1e-40], "edge": 1e40, "long": 123456789012345678901234567890123456789012.5}'),
]

ENGINES = {"postgresql": ("pg_url", 2), "mysql": ("mysql_url", 3), "sqlite": ("sqlite_url", 4)}


def _create_source(url: str, engine: str) -> None:
    conn = open_connector(url, read_only=False)
    try:
        col = ENGINES[engine][1]
        ddl = ", ".join(f"{conn.dialect.quote(c[0])} {c[col]}" for c in COLUMNS)
        conn.execute(f"CREATE TABLE {conn.dialect.quote('sample')} ({ddl})")
        conn.commit()
        conn.write(Table("sample", []), [c[0] for c in COLUMNS], [_portable(r, engine) for r in ROWS])
        conn.commit()
    finally:
        conn.close()


def _portable(row: tuple, engine: str) -> tuple:
    if engine == "mysql":  # MariaDB's boolean is tinyint(1)
        return tuple(int(v) if isinstance(v, bool) else v for v in row)
    return row


def _canonical_rows(rows) -> list[list]:
    return [[canonical.canonical_text(v, c[1]) for v, c in zip(row, COLUMNS)] for row in rows]


def _read_target(url: str) -> list[tuple]:
    conn = open_connector(url, read_only=True)
    try:
        table = conn.introspect(include=["sample"]).table("sample")
        select = Select(table, tuple((conn.dialect.quote(c[0]), c[1]) for c in COLUMNS), ("id",))
        return [row for batch in conn.read(select, KeyRange(), 100) for row in batch]
    finally:
        conn.close()


@pytest.mark.parametrize("target_engine", list(ENGINES))
@pytest.mark.parametrize("source_engine", list(ENGINES))
def test_values_round_trip(source_engine, target_engine, request, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    source = request.getfixturevalue(ENGINES[source_engine][0])
    target_fixture = ENGINES[target_engine][0]
    if target_fixture == ENGINES[source_engine][0]:
        target_fixture += "2"
    target = request.getfixturevalue(target_fixture)
    _create_source(source, source_engine)
    summary = api.run(api.plan_from_urls(source, target, jobs=2))
    assert [r.ok for r in summary.verify] == [True], summary.verify
    assert _canonical_rows(_read_target(target)) == _canonical_rows(ROWS)


def test_checksum_detects_one_changed_value(pg_url, mysql_url, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    _create_source(pg_url, "postgresql")
    plan = api.plan_from_urls(pg_url, mysql_url, jobs=1)
    api.run(plan)
    conn = open_connector(mysql_url, read_only=False)
    conn.execute("UPDATE sample SET ratio = 0.10000000000000002 WHERE id = 1")
    conn.commit()
    conn.close()
    results = api.verify(plan)
    assert [(r.table, r.modified) for r in results] == [("public.sample", [(1,)])]
