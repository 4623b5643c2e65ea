"""MariaDB -> PostgreSQL through COPY text rendered by MariaDB
(:mod:`ferry.connectors.mysql_copytext`): tricky values arrive unchanged.

Each case creates a MariaDB table, checks that the server-rendered path takes
it (``read_copy_text`` is not None), migrates it with ``ferry run`` and
compares every target value with what the row path reads from the source
(``MySQLConnector.read``), in canonical text; the run's own verification
(checksums) must pass too.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import MySQLdb
import pytest

from ferry import api
from ferry.catalog.model import DataType, Kind
from ferry.connectors import canonical, open_connector
from ferry.connectors.base import KeyRange, Select
from ferry.connectors import pump
from ferry.connectors.mysql_copyout import CopyText
from ferry.connectors.mysql_copytext import copy_line_sql
from ferry.connectors.postgresql import PostgresDialect
from ferry.transform.mapping import resolve
from ferry.secrets import parse_url

COLUMNS = [  # name, MariaDB type, neutral type on the PostgreSQL target
    ("id", "INT PRIMARY KEY", DataType(Kind.INTEGER)),
    ("flag", "TINYINT(1)", DataType(Kind.BOOLEAN)),
    ("b1", "BIT(1)", DataType(Kind.BOOLEAN)),
    ("ti", "TINYINT", DataType(Kind.SMALLINT)),
    ("ub", "BIGINT UNSIGNED", DataType(Kind.DECIMAL, precision=20, scale=0)),
    ("big", "BIGINT", DataType(Kind.BIGINT)),
    ("ui", "INT UNSIGNED", DataType(Kind.BIGINT)),
    ("dec", "DECIMAL(65,30)", DataType(Kind.DECIMAL, precision=65, scale=30)),
    ("d", "DOUBLE", DataType(Kind.DOUBLE)),
    ("f", "FLOAT", DataType(Kind.FLOAT)),
    ("code", "CHAR(8)", DataType(Kind.CHAR, length=8)),
    ("name", "VARCHAR(40)", DataType(Kind.VARCHAR, length=40)),
    ("body", "TEXT", DataType(Kind.TEXT)),
    ("lat", "VARCHAR(10) CHARACTER SET latin1", DataType(Kind.VARCHAR, length=10)),
    ("pic", "BLOB", DataType(Kind.BYTES)),
    ("bin", "BINARY(3)", DataType(Kind.BYTES)),
    ("day", "DATE", DataType(Kind.DATE)),
    ("tm", "TIME(6)", DataType(Kind.TIME, precision=6)),
    ("at", "DATETIME(6)", DataType(Kind.TIMESTAMP, precision=6)),
    ("ts", "TIMESTAMP(6) NULL", DataType(Kind.TIMESTAMPTZ, precision=6)),
    ("yr", "YEAR", DataType(Kind.SMALLINT)),
    ("doc", "JSON", DataType(Kind.JSON)),
    ("rating", "ENUM('G','PG','it''s','x\\\\y')", DataType(Kind.ENUM, values=("G", "PG", "it's", "x\\y"))),
    ("feats", "SET('a','b c','d\"e','f\\\\g')", DataType(Kind.SET, values=("a", "b c", 'd"e', "f\\g"))),
    ("b9", "BIT(9)", DataType(Kind.BYTES)),
]
NAMES = [c[0] for c in COLUMNS]

ROWS = [
    (1, 1, 1, 127, 18446744073709551615, 9223372036854775807, 4294967295,
     "99999999999999999999999999999999999.999999999999999999999999999999", 1.7976931348623157e308,
     3.4028234e38, "back\\sl", "tab\there", "line\nbreak\r\nCR", "caf\xe9 \xff", b"\x00\x01\\\t\n\r\xff",
     b"\x00\x00\x00", "2024-02-29", "10:11:12.5", "2024-02-29 23:59:59.123456", "2038-01-19 03:14:07.999999",
     2155, '{"a": "tab\\t", "b": [1, 2.50]}', "it's", "a,b c,d\"e", 511),
    (2, 0, 0, -128, 0, -9223372036854775808, 0,
     "-99999999999999999999999999999999999.999999999999999999999999999999", 5e-324,
     1.4e-45, "", "\\N", "NULL", "", b"", b"a\x00b", "1000-01-01", "00:00:00",
     "1000-01-01 00:00:00", "1970-01-01 00:00:01", 1901, '"\\\\N"', "G", "", 0),
    (3,) + (None,) * (len(COLUMNS) - 1),
    (4, 1, 0, 0, 1, 0, 1, "0.000000000000000000000000000001", -2.2250738585072014e-308,
     -1.17549435e-38, "\\\\", "emoji \U0001F600", "\U0001F600\u20ac\u00e9 \\t literal", "\u20ac\u0161",
     b"\\N", b"\xff\xfe\xfd", "9999-12-31", "00:00:00.000001", "9999-12-31 23:59:59.999999",
     "2000-06-15 12:30:00.5", 2000, "[]", "PG", "b c", 256),
    (5, 1, 1, 1, 12345678901234567890, 1, 123, "-0.5", 0.1, 0.1, "  lead", "trail  ", " \t ",
     "a\tb", b"\n", b"\\", "2000-01-01", "12:00:00", "2000-01-01 00:00:00", "2000-01-01 00:00:00",
     0, '{"k": "caf\u00e9 \U0001F600"}', "G", "a", 1),
    (6, 0, 0, 2, 2, 2, 2, "123.456", 123456789012345678.0, 16777217.0, "x", "\\.", "\\.\n\\.",
     "\\", b"x", b"y", "2020-05-17", "13:00:00", "2020-05-17 10:00:00.000100", "2020-05-17 10:00:00",
     1999, "{}", "x\\y", "d\"e,f\\g", 2),
    (7, 1, 1, 3, 3, 3, 3, "1", -0.0, 1.5e-7, "t", "f", "", "", b"\x00", b"\x00\x00\x01", "2020-01-01",
     "23:59:59.999999", "2020-01-01 00:00:00", "2020-01-01 00:00:00", 2001, "null", "G", "a,b c", 0),
]


def _raw(url: str):
    u = parse_url(url)
    return MySQLdb.connect(host=u.host, port=u.port, user=u.user, password=u.password,
                           database=u.database, charset="utf8mb4", autocommit=True)


def _create(url: str, name: str, columns, rows) -> None:
    conn = _raw(url)
    cur = conn.cursor()
    cur.execute("SET SESSION time_zone = '+00:00'")
    cur.execute(f"CREATE TABLE {name} ({', '.join(f'`{c}` {t}' for c, t, _ in columns)})")
    cur.executemany(f"INSERT INTO {name} VALUES ({', '.join(['%s'] * len(columns))})", rows)
    if name == "tricky":  # bytes >= 0x80 that are no UTF-8, stored as latin1 text
        cur.execute("UPDATE tricky SET lat = CONVERT(UNHEX('80819AFF') USING latin1) WHERE id = 7")
    conn.close()


def _select(conn, name: str, columns) -> Select:
    table = conn.introspect(include=[name]).table(name)
    return Select(table, tuple((conn.dialect.quote(c), t) for c, _, t in columns), ("id",))


def _rendered(mysql_url: str, pg_url: str) -> list[bool]:
    """Per source table: does the plan's read take the server-rendered path?"""
    source = open_connector(mysql_url, read_only=True)
    try:
        tables = resolve(api.plan_from_urls(mysql_url, pg_url), source.introspect(), source.dialect,
                         PostgresDialect())
        return [copy_line_sql(t.read, source.dialect) is not None for t in tables]
    finally:
        source.close()


def _read(conn, select: Select) -> list[tuple]:
    return [row for batch in conn.read(select, KeyRange(), 100) for row in batch]


def _canonical(rows, columns) -> list[list]:
    return [[canonical.canonical_text(v, c[2]) for v, c in zip(row, columns)] for row in rows]


def _migrate_and_compare(mysql_url: str, pg_url: str, name: str, columns) -> list[tuple]:
    source = open_connector(mysql_url, read_only=True)
    try:
        select = _select(source, name, columns)
        expected = _read(source, select)
    finally:
        source.close()
    assert _rendered(mysql_url, pg_url) == [True]
    summary = api.run(api.plan_from_urls(mysql_url, pg_url, jobs=1))
    assert [r.ok for r in summary.verify] == [True], summary.verify
    target = open_connector(pg_url, read_only=True)
    try:
        got = _read(target, _select_pg(target, name, columns))
    finally:
        target.close()
    assert _canonical(got, columns) == _canonical(expected, columns)
    return got


def _select_pg(conn, name: str, columns) -> Select:
    table = conn.introspect(include=[f"public.{name}"]).table(f"public.{name}")
    return Select(table, tuple((conn.dialect.quote(c), t) for c, _, t in columns), ("id",))


@pytest.fixture(params=["pump", "python"])
def lines_path(request, monkeypatch):
    """Each case twice: the lines moved in C (and the C loop did run), and
    through Python (as without the C module)."""
    if request.param == "python":
        monkeypatch.setattr(pump, "_pgpump", None)
        yield request.param
        return
    assert pump._pgpump is not None, "the C module ferry.connectors._pgpump is not built"
    calls, into = [], CopyText.into
    monkeypatch.setattr(CopyText, "into", lambda self, sink: calls.append(1) or into(self, sink))
    yield request.param
    assert calls, "no chunk was moved in C"


def test_tricky_values_arrive_unchanged(mysql_url, pg_url, tmp_path, monkeypatch, lines_path):
    monkeypatch.chdir(tmp_path)
    _create(mysql_url, "tricky", COLUMNS, ROWS)
    got = {row[0]: dict(zip(NAMES, row)) for row in _migrate_and_compare(mysql_url, pg_url, "tricky", COLUMNS)}
    assert got[2]["name"] == "\\N" and got[7]["body"] == "" and got[3]["body"] is None
    assert got[1]["body"] == "line\nbreak\r\nCR" and got[1]["lat"] == "caf\xe9 \xff"
    assert got[1]["pic"] == b"\x00\x01\\\t\n\r\xff" and got[2]["bin"] == b"a\x00b"
    assert got[1]["ub"] == Decimal(18446744073709551615) and got[2]["big"] == -9223372036854775808
    assert got[1]["dec"] == Decimal("99999999999999999999999999999999999.999999999999999999999999999999")
    assert got[2]["d"] == 5e-324 and got[1]["d"] == 1.7976931348623157e308 and got[6]["f"] == 16777216.0
    assert got[4]["flag"] is True and got[2]["b1"] is False and got[1]["b9"] == b"\x01\xff"
    assert got[1]["feats"] == ["a", "b c", 'd"e'] and got[2]["feats"] == []
    assert got[6]["rating"] == "x\\y" and got[6]["feats"] == ['d"e', "f\\g"]
    assert got[1]["ts"] == dt.datetime(2038, 1, 19, 3, 14, 7, 999999, tzinfo=dt.timezone.utc)
    assert got[4]["at"] == dt.datetime(9999, 12, 31, 23, 59, 59, 999999)
    assert got[4]["name"] == "emoji \U0001F600" and got[6]["body"] == "\\.\n\\."
    assert got[7]["lat"] == "\u20ac\x81\u0161\xff"


def test_not_null_and_utf8mb4_columns_render_bare(mysql_url, pg_url, tmp_path, monkeypatch):
    """NOT NULL columns go without their ``\\N`` case and text in the
    collation ``CONVERT(x USING utf8mb4)`` gives, or utf8mb4_bin, without the
    ``CONVERT``; latin1 text keeps it. The values arrive unchanged."""
    monkeypatch.chdir(tmp_path)
    columns = [("id", "INT PRIMARY KEY", DataType(Kind.INTEGER)),
               ("t1", "VARCHAR(20) NOT NULL", DataType(Kind.VARCHAR, length=20)),
               ("t2", "TEXT", DataType(Kind.TEXT)),
               ("lat", "VARCHAR(10) CHARACTER SET latin1 NOT NULL", DataType(Kind.VARCHAR, length=10)),
               ("cs", "VARCHAR(10) COLLATE utf8mb4_bin NOT NULL", DataType(Kind.VARCHAR, length=10))]
    _create(mysql_url, "bare", columns, [(1, "tab\there \u20ac", None, "caf\xe9", "a\\b"),
                                         (2, "line\nbreak\r", "\\N", "\xff\t", "\U0001F600\n")])
    source = open_connector(mysql_url, read_only=True)
    try:
        sql = copy_line_sql(_select(source, "bare", columns), source.dialect)
    finally:
        source.close()
    assert "`id` IS NULL" not in sql and "`t1` IS NULL" not in sql and "`t2` IS NULL" in sql
    assert "CONVERT(`t1`" not in sql and "CONVERT(`t2`" not in sql
    assert "CONVERT(`lat` USING utf8mb4)" in sql and "CONVERT(`cs`" not in sql
    got = _migrate_and_compare(mysql_url, pg_url, "bare", columns)
    assert got[0][1] == "tab\there \u20ac" and got[1][2] == "\\N" and got[1][4] == "\U0001F600\n"


def test_zero_dates_and_out_of_range_times(mysql_url, pg_url, tmp_path, monkeypatch):
    """Zero dates become NULL as on the row path; a TIME PostgreSQL's ``time``
    cannot hold makes the chunk fall back to the row path, which rejects it."""
    monkeypatch.chdir(tmp_path)
    columns = [("id", "INT PRIMARY KEY", DataType(Kind.INTEGER)), ("day", "DATE", DataType(Kind.DATE)),
               ("at", "DATETIME", DataType(Kind.TIMESTAMP)), ("tm", "TIME", DataType(Kind.TIME))]
    conn = _raw(mysql_url)
    conn.cursor().execute("SET SESSION sql_mode = ''")
    conn.cursor().execute("CREATE TABLE zd (id INT PRIMARY KEY, day DATE, at DATETIME, tm TIME)")
    conn.cursor().execute("INSERT INTO zd VALUES (1, '0000-00-00', '0000-00-00 00:00:00', '10:00:00'), "
                          "(2, '2024-05-00', '2024-00-01 00:00:00', '00:00:00'), "
                          "(3, '2024-05-01', '2024-05-01 10:00:00', '100:00:00')")
    conn.close()
    assert _rendered(mysql_url, pg_url) == [True]
    summary = api.run(api.plan_from_urls(mysql_url, pg_url, jobs=1, max_rejects=1))
    assert [(t.rows, t.rejects) for t in summary.tables] == [(2, 1)]
    target = open_connector(pg_url, read_only=True)
    try:
        got = _read(target, _select_pg(target, "zd", columns))
    finally:
        target.close()
    assert got == [(1, None, None, dt.time(10)), (2, None, None, dt.time(0))]


def test_a_refused_value_falls_back_and_is_rejected_alone(mysql_url, pg_url, tmp_path, monkeypatch, lines_path):
    """NUL in text is refused by PostgreSQL: the other rows load, that row is a reject."""
    monkeypatch.chdir(tmp_path)
    _create(mysql_url, "nul", [("id", "INT PRIMARY KEY", None), ("t", "TEXT", None)],
            [(1, "ok"), (2, "a\x00b"), (3, "fine")])
    assert _rendered(mysql_url, pg_url) == [True]
    summary = api.run(api.plan_from_urls(mysql_url, pg_url, jobs=1, max_rejects=1))
    assert [(t.rows, t.rejects) for t in summary.tables] == [(2, 1)]


@pytest.mark.parametrize("ddl, target", [
    ("GEOMETRY", DataType(Kind.BYTES)),
    ("INET6", DataType(Kind.VARCHAR, length=39)),
    ("INT", DataType(Kind.TEXT)),
    ("DATETIME", DataType(Kind.TIMESTAMPTZ)),
])
def test_columns_not_rendered_exactly_take_the_row_path(mysql_url, ddl, target):
    conn = _raw(mysql_url)
    conn.cursor().execute(f"CREATE TABLE odd (id INT PRIMARY KEY, v {ddl})")
    conn.close()
    source = open_connector(mysql_url, read_only=True)
    try:
        select = _select(source, "odd", [("id", "", DataType(Kind.INTEGER)), ("v", "", target)])
        assert copy_line_sql(select, source.dialect) is None
        expr = Select(select.table, ((source.dialect.quote("id"), DataType(Kind.INTEGER)),
                                     ("UPPER(`v`)", DataType(Kind.TEXT))), ("id",))
        assert copy_line_sql(expr, source.dialect) is None
    finally:
        source.close()


def test_a_line_longer_than_max_allowed_packet_takes_the_row_path(mysql_url, pg_url, tmp_path, monkeypatch, lines_path):
    """The server returns NULL for a result beyond ``max_allowed_packet`` (a
    BLOB's hex is twice its size): that chunk is copied row by row, unchanged.
    (Verification is off: the source's checksum SQL meets the same limit.)"""
    monkeypatch.chdir(tmp_path)
    _create(mysql_url, "big", [("id", "INT PRIMARY KEY", None), ("b", "LONGBLOB", None)],
            [(1, b"\x00small\\"), (2, None)])
    conn = _raw(mysql_url)
    cur = conn.cursor()
    cur.execute("SELECT @@max_allowed_packet")
    size = cur.fetchone()[0] // 2 + 1
    cur.execute("UPDATE big SET b = CONCAT(REPEAT('\\\\', %s), 0x00ff) WHERE id = 2", (size,))
    conn.close()
    assert _rendered(mysql_url, pg_url) == [True]
    summary = api.run(api.plan_from_urls(mysql_url, pg_url, jobs=1, verify=False))
    assert [(t.rows, t.rejects) for t in summary.tables] == [(2, 0)]
    target = open_connector(pg_url, read_only=True)
    try:
        got = target.query("SELECT id, length(b), substr(b, 1, 2), substr(b, length(b) - 1) FROM big ORDER BY id")
    finally:
        target.close()
    assert got == [(1, 7, b"\x00s", b"l\\"), (2, size + 2, b"\\\\", b"\x00\xff")]
