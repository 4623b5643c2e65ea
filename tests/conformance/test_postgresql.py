"""Conformance of the PostgreSQL connector on a real server.

Every value check compares what the server computes (``normalize`` /
``checksum`` / ``row_hashes``) with the Python reference in
:mod:`ferry.connectors.canonical` applied to the values the connector reads.
"""

from __future__ import annotations

import datetime as dt
import random
import struct
import threading
import time
import uuid
from decimal import Decimal

import pytest
import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from ferry.catalog.model import Column, DataType, Kind, Table
from ferry.connectors import canonical, open_connector
from ferry.connectors.base import KeyRange, Select
from ferry.connectors.postgresql import PostgresConnector, PostgresDialect
from ferry.connectors import pump
from ferry.errors import ConnectionFailed, NotSupported, RejectError, TerminalError, TransientError
from ferry.secrets import DatabaseURL, parse_url

CANARY = "Sup3rS3cretCanary"
UTC = dt.timezone.utc

SCHEMA_DDL = """
CREATE EXTENSION citext;
CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy');
CREATE DOMAIN posint AS integer CHECK (VALUE > 0);
CREATE TABLE parent (id bigserial PRIMARY KEY, code char(3) UNIQUE);
CREATE TABLE every_type (
  id serial PRIMARY KEY, ident int GENERATED ALWAYS AS IDENTITY,
  s smallint NOT NULL DEFAULT 7, i integer, b bigint, n numeric(10,2), nn numeric, r real,
  d double precision, m money, c char(5), v varchar(20), t text DEFAULT 'x', ci citext, ba bytea,
  dt date, tm time(3), ts timestamp(6), tz timestamptz(2), iv interval, j json, jb jsonb, u uuid,
  bo boolean, e mood, ai int[], at text[], dm posint, tv tsvector, ip inet,
  parent_id bigint REFERENCES parent(id) ON DELETE CASCADE, UNIQUE (i, b));
CREATE INDEX every_type_v ON every_type (v);
CREATE INDEX every_type_lower ON every_type (lower(t));
CREATE INDEX every_type_partial ON every_type (i) WHERE i > 0;
CREATE VIEW v_every AS SELECT id FROM every_type;
CREATE MATERIALIZED VIEW mv_every AS SELECT id FROM every_type;
CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN NEW; END$$;
CREATE TRIGGER every_touch BEFORE UPDATE ON every_type FOR EACH ROW EXECUTE FUNCTION touch();
CREATE SEQUENCE lonely;
CREATE TABLE measures (at timestamptz NOT NULL, v int) PARTITION BY RANGE (at);
CREATE TABLE measures_2024 PARTITION OF measures FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
CREATE TABLE measures_2025 PARTITION OF measures FOR VALUES FROM ('2025-01-01') TO ('2026-01-01');
CREATE SCHEMA other;
CREATE TABLE other.child (pid bigint REFERENCES public.parent(id));
"""

JSON_TEXT = '{"b": 1, "a": {"d": [1, 2.50, {"z": null, "y": true}], "c": 57.550}, "é": "x\\"y"}'
# column -> (PostgreSQL type, neutral type, values as SQL literals, the values read() returns)
EDGE = {
    "bo": ("boolean", DataType(Kind.BOOLEAN), ["true", "false", "NULL"], [True, False, None]),
    "i2": ("smallint", DataType(Kind.SMALLINT), ["-32768", "32767", "0"], [-32768, 32767, 0]),
    "i8": ("bigint", DataType(Kind.BIGINT), ["-9223372036854775808", "1", "NULL"],
           [-9223372036854775808, 1, None]),
    "n": ("numeric(12,4)", DataType(Kind.DECIMAL, precision=12, scale=4), ["1.50", "-0.0000", "123.456"],
          [Decimal("1.5000"), Decimal("0.0000"), Decimal("123.4560")]),
    "d": ("double precision", DataType(Kind.DOUBLE), ["0.1", "1e20", "1.5e-7"], [0.1, 1e20, 1.5e-7]),
    "d2": ("double precision", DataType(Kind.DOUBLE), ["'-0'", "'NaN'", "5.3356390453840976e16"],
           [-0.0, float("nan"), 5.3356390453840976e16]),
    "r": ("real", DataType(Kind.FLOAT), ["0.15", "94241504", "1e-10"], [0.15, 94241504.0, 1e-10]),
    "c": ("char(6)", DataType(Kind.CHAR, length=6), ["'ab'", "''", "NULL"], ["ab    ", "      ", None]),
    "v": ("varchar(10)", DataType(Kind.VARCHAR, length=10), ["''", "'trail  '", "'ünï €'"],
          ["", "trail  ", "ünï €"]),
    "t": ("text", DataType(Kind.TEXT), ["'emoji 😀'", "E'line\\nbreak\\ttab'", "'a|b\\N'"],
          ["emoji 😀", "line\nbreak\ttab", "a|b\\N"]),
    "ba": ("bytea", DataType(Kind.BYTES), ["'\\x00ff10'", "'\\x'", "NULL"], [b"\x00\xff\x10", b"", None]),
    "dt": ("date", DataType(Kind.DATE), ["'2024-02-29'", "'0001-01-01'", "'9999-12-31'"],
           [dt.date(2024, 2, 29), dt.date(1, 1, 1), dt.date(9999, 12, 31)]),
    "tm": ("time", DataType(Kind.TIME), ["'13:05:00'", "'23:59:59.999999'", "'00:00:00.5'"],
           [dt.time(13, 5), dt.time(23, 59, 59, 999999), dt.time(0, 0, 0, 500000)]),
    "ts": ("timestamp", DataType(Kind.TIMESTAMP), ["'2024-01-01 00:00:00'", "'2024-01-01 12:34:56.789'", "NULL"],
           [dt.datetime(2024, 1, 1), dt.datetime(2024, 1, 1, 12, 34, 56, 789000), None]),
    "tz": ("timestamptz", DataType(Kind.TIMESTAMPTZ),
           ["'2024-06-01 12:00:00+02'", "'2024-01-01 00:00:00.5-08'", "'2000-01-01 00:00:00Z'"],
           [dt.datetime(2024, 6, 1, 10, tzinfo=UTC), dt.datetime(2024, 1, 1, 8, 0, 0, 500000, tzinfo=UTC),
            dt.datetime(2000, 1, 1, tzinfo=UTC)]),
    "j": ("json", DataType(Kind.JSON), [f"'{JSON_TEXT}'", "'57.550'", "'[]'"], [JSON_TEXT, "57.550", "[]"]),
    "jb": ("jsonb", DataType(Kind.JSON), [f"'{JSON_TEXT}'", "'{\"k\": 1e2}'", "NULL"],
           ['{"a": {"c": 57.550, "d": [1, 2.50, {"y": true, "z": null}]}, "b": 1, "é": "x\\"y"}',
            '{"k": 100}', None]),
    "u": ("uuid", DataType(Kind.UUID), ["'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'", "NULL", "NULL"],
          ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11", None, None]),
    "ai": ("int[]", DataType(Kind.ARRAY, item=DataType(Kind.INTEGER)), ["'{1,NULL,3}'", "'{}'", "NULL"],
           [[1, None, 3], [], None]),
    "at": ("text[]", DataType(Kind.ARRAY, item=DataType(Kind.TEXT)), ["'{\"a b\",\"c,d\",\"\"}'", "NULL", "'{x}'"],
           [["a b", "c,d", ""], None, ["x"]]),
    "e": ("mood", DataType(Kind.ENUM, values=("sad", "ok", "happy")), ["'happy'", "'sad'", "NULL"],
          ["happy", "sad", None]),
    "iv": ("interval", DataType(Kind.INTERVAL), ["'1 day 2 hours'", "'-3 mons'", "NULL"],
           ["1 day 02:00:00", "-3 mons", None]),
    "m": ("money", DataType(Kind.DECIMAL, native="money"), ["12.34", "-0.5", "NULL"],
          [Decimal("12.34"), Decimal("-0.50"), None]),
}
EDGE_COLS = list(EDGE)
EDGE_DTYPES = [EDGE[c][1] for c in EDGE_COLS]
EDGE_ROWS = [tuple([k + 1] + [EDGE[c][3][k] for c in EDGE_COLS]) for k in range(3)]


@pytest.fixture
def pg(pg_url):
    conn = open_connector(pg_url, read_only=False)
    yield conn
    conn.close()


def _edge_table(conn: PostgresConnector, name: str = "edge") -> tuple[Table, Select]:
    cols = ", ".join(f"{c} {EDGE[c][0]}" for c in EDGE_COLS)
    conn.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
    conn.execute(f"CREATE TABLE {name} (k int PRIMARY KEY, {cols})")
    for k in range(3):
        conn.execute(f"INSERT INTO {name} VALUES ({k + 1}, {', '.join(EDGE[c][2][k] for c in EDGE_COLS)})")
    conn.commit()
    table = conn.introspect(include=[name]).table(name)
    return table, _select(table)


def _select(table: Table) -> Select:
    q = PostgresDialect().quote
    return Select(table, tuple((q(c.name), c.type) for c in table.columns), key=table.primary_key)


def _rows(conn, select, krange=KeyRange(), batch=100) -> list[tuple]:
    return [row for batch_rows in conn.read(select, krange, batch) for row in batch_rows]


def _same(a, b) -> bool:
    """Equality that treats NaN as equal to NaN and tells -0.0 from 0.0."""
    if isinstance(a, float) and isinstance(b, float):
        return (a != a and b != b) or (a == b and struct.pack("d", a) == struct.pack("d", b))
    return type(a) is type(b) and a == b if a is not None else b is None


# -- connection, session, errors ------------------------------------------------

def test_connect_errors_are_connection_failed_without_the_password(pg_url):
    u = parse_url(pg_url)
    cases = [(DatabaseURL("postgresql", u.host, u.port, "ferry_no_such_role", CANARY, u.database), "password"),
             (DatabaseURL("postgresql", u.host, u.port, u.user, CANARY, "ferry_no_such_db"), "create it"),
             (DatabaseURL("postgresql", u.host, 1, u.user, CANARY, u.database), "server runs")]
    for url, hint in cases:
        with pytest.raises(ConnectionFailed) as info:
            PostgresConnector(url, read_only=True)
        text = f"{info.value} {info.value.hint} {info.value.__cause__!r}"
        assert CANARY not in text and hint in info.value.hint
    assert "cannot reach PostgreSQL at" in str(info.value)


def test_session_settings_and_read_only_refuses_writes(pg, pg_url):
    pg.execute("CREATE TABLE t (a int)")
    pg.commit()
    src = open_connector(pg_url, read_only=True)
    try:
        settings = src.query("SELECT current_setting('TimeZone'), current_setting('extra_float_digits'), "
                             "current_setting('default_transaction_read_only')")[0]
        assert settings == ("UTC", "1", "on")
        with pytest.raises(TerminalError, match="read-only"):
            src.execute("INSERT INTO t VALUES (1)")
        with pytest.raises(TerminalError, match="read-only"):
            src.write(Table("t", []), ["a"], [(1,)])
        src.rollback()
        assert src.count(Table("t", [], schema="public")) == 0
    finally:
        src.close()


def test_terminated_backend_raises_transient_then_reconnects(pg, pg_url):
    pg.execute("CREATE TABLE t (a int)")
    pg.commit()
    admin = open_connector(pg_url, read_only=True)
    pg.write(Table("t", []), ["a"], [(1,), (2,)])
    admin.query("SELECT pg_terminate_backend(%s)", (pg._conn.info.backend_pid,))
    with pytest.raises(TransientError):
        pg.commit()
    assert pg.query("SELECT count(*) FROM t") == [(0,)]  # reconnected; the batch was rolled back
    admin.query("SELECT pg_terminate_backend(%s)", (pg._conn.info.backend_pid,))
    with pytest.raises(TransientError):
        pg.query("SELECT 1")
    assert pg.query("SELECT 1") == [(1,)]
    admin.close()


def test_serialization_failure_is_transient_and_missing_objects_terminal(pg, pg_url):
    pg.execute("CREATE TABLE t (a int PRIMARY KEY, v int)")
    pg.execute("INSERT INTO t VALUES (1, 1)")
    pg.commit()
    other = open_connector(pg_url, read_only=False)
    pg.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    assert pg.query("SELECT v FROM t") == [(1,)]
    other.execute("UPDATE t SET v = 2")
    other.commit()
    with pytest.raises(TransientError) as info:
        pg.execute("UPDATE t SET v = 3")
    assert info.value.sqlstate == "40001"
    pg.rollback()
    with pytest.raises(TerminalError, match="missing table"):
        pg.query("SELECT * FROM no_such_table")
    pg.rollback()
    other.close()


def test_permission_denied_is_terminal(pg, pg_url):
    role = f"ferry_r_{uuid.uuid4().hex[:8]}"
    pg.execute("CREATE TABLE secret (a int)")
    pg.execute(f"CREATE ROLE {role} LOGIN")
    pg.commit()
    try:
        u = parse_url(pg_url)
        limited = PostgresConnector(DatabaseURL("postgresql", u.host, u.port, role, "", u.database), read_only=True)
        with pytest.raises(TerminalError, match="permission denied") as info:
            limited.query("SELECT * FROM secret")
        assert "grant" in info.value.hint
        limited.close()
    finally:
        pg.execute(f"DROP OWNED BY {role}")
        pg.commit()
        pg.execute(f"DROP ROLE {role}")
        pg.commit()


# -- introspection ----------------------------------------------------------------

def test_introspect_every_type(pg):
    pg.execute(SCHEMA_DDL)
    pg.commit()
    cat = pg.introspect()
    t = cat.table("public.every_type")
    kinds = {c.name: c.type.kind for c in t.columns}
    assert kinds == {
        "id": Kind.INTEGER, "ident": Kind.INTEGER, "s": Kind.SMALLINT, "i": Kind.INTEGER, "b": Kind.BIGINT,
        "n": Kind.DECIMAL, "nn": Kind.DECIMAL, "r": Kind.FLOAT, "d": Kind.DOUBLE, "m": Kind.DECIMAL,
        "c": Kind.CHAR, "v": Kind.VARCHAR, "t": Kind.TEXT, "ci": Kind.TEXT, "ba": Kind.BYTES,
        "dt": Kind.DATE, "tm": Kind.TIME, "ts": Kind.TIMESTAMP, "tz": Kind.TIMESTAMPTZ, "iv": Kind.INTERVAL,
        "j": Kind.JSON, "jb": Kind.JSON, "u": Kind.UUID, "bo": Kind.BOOLEAN, "e": Kind.ENUM,
        "ai": Kind.ARRAY, "at": Kind.ARRAY, "dm": Kind.INTEGER, "tv": Kind.TEXT, "ip": Kind.TEXT,
        "parent_id": Kind.BIGINT}
    col = t.column
    assert (col("n").type.precision, col("n").type.scale, col("nn").type.precision) == (10, 2, None)
    assert (col("c").type.length, col("v").type.length, col("t").type.length) == (5, 20, None)
    assert (col("tm").type.precision, col("ts").type.precision, col("tz").type.precision) == (3, 6, 2)
    assert col("e").type.values == ("sad", "ok", "happy")
    assert col("ai").type.item.kind == Kind.INTEGER and col("at").type.item.kind == Kind.TEXT
    assert (col("dm").type.native, col("tv").type.native, col("ci").type.native) == ("integer", "tsvector", "citext")
    assert col("m").type.native == "money" and col("ai").type.native == "integer[]"
    assert (col("id").identity, col("ident").identity, col("i").identity) == (True, True, False)
    assert (col("id").default, col("s").default, col("t").default) == (None, "7", "'x'::text")
    assert (col("s").nullable, col("i").nullable, col("id").nullable) == (False, True, False)
    assert t.primary_key == ("id",)
    assert [u.columns for u in t.uniques] == [("i", "b")]
    assert [i.columns for i in t.indexes] == [("v",)]
    fk = t.foreign_keys[0]
    assert (fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete) == (("parent_id",), "public.parent",
                                                                        ("id",), "CASCADE")
    assert cat.table("parent").uniques[0].columns == ("code",)
    names = [x.qualified for x in cat.tables]
    assert "public.measures" in names and not any("measures_20" in n for n in names)
    assert names.index("public.parent") < min(names.index("public.every_type"), names.index("other.child"))
    skipped = {(s.kind, s.name) for s in cat.skipped}
    assert {("view", "public.v_every"), ("materialized view", "public.mv_every"),
            ("trigger", "public.every_type.every_touch"), ("function", "public.touch()"),
            ("sequence", "public.lonely"), ("partitioning", "public.measures"),
            ("index", "public.every_type.every_type_lower"), ("index", "public.every_type.every_type_partial"),
            ("domain", "public.posint"), ("extension", "citext")} <= skipped
    assert not any(s.kind == "sequence" and "every_type" in s.name for s in cat.skipped)


def test_introspect_filters_and_partitioned_reads(pg):
    pg.execute(SCHEMA_DDL)
    pg.execute("INSERT INTO measures SELECT timestamptz '2024-06-01' + g * interval '1 day', g "
               "FROM generate_series(0, 399) g")
    pg.commit()
    cat = pg.introspect(include=["every_*", "other.*", "measures"], exclude=["public.every_type"])
    assert sorted(t.qualified for t in cat.tables) == ["other.child", "public.measures"]
    measures = cat.table("measures")
    assert pg.count(measures) == 400
    sel = Select(measures, (('"v"', DataType(Kind.INTEGER)),))
    assert sorted(r[0] for r in _rows(pg, sel)) == list(range(400))


# -- canonical text, checksums -------------------------------------------------------

def test_normalize_matches_the_python_reference(pg):
    table, _ = _edge_table(pg)
    dialect = pg.dialect
    for name, dtype in zip(EDGE_COLS, EDGE_DTYPES):
        expr = f'"{name}"::numeric' if name == "m" else f'"{name}"'
        got = [r[0] for r in pg.query(f"SELECT {dialect.normalize(expr, dtype)} FROM edge ORDER BY k")]
        expected = [canonical.canonical_text(v, dtype) for v in EDGE[name][3]]
        assert got == expected, name


def test_read_returns_the_inserted_values(pg):
    table, select = _edge_table(pg)
    rows = _rows(pg, select, batch=2)
    assert len(rows) == 3
    for row, expected in zip(rows, EDGE_ROWS):
        for name, got, want in zip(["k"] + EDGE_COLS, row, expected):
            assert _same(got, want), (name, got, want)
    assert rows[0][EDGE_COLS.index("j") + 1] == JSON_TEXT  # JSON text byte for byte


def test_checksum_is_the_sum_of_reference_hashes_and_sees_one_change(pg):
    table, select = _edge_table(pg)
    dtypes = [DataType(Kind.INTEGER)] + EDGE_DTYPES
    hashes = {(r[0],): canonical.row_hash(r, dtypes) for r in EDGE_ROWS}
    checksum = pg.checksum(select)
    assert (checksum.count, checksum.total) == (3, sum(hashes.values()))
    assert pg.row_hashes(select, KeyRange()) == hashes
    assert pg.checksum(select, KeyRange((2,), None)).total == hashes[(2,)] + hashes[(3,)]
    pg.execute("UPDATE edge SET jb = '{\"k\": 100.1}' WHERE k = 2")
    pg.commit()
    changed = pg.row_hashes(select, KeyRange())
    assert pg.checksum(select).total != checksum.total
    assert [k for k in hashes if hashes[k] != changed[k]] == [(2,)]
    with pytest.raises(NotSupported):
        pg.row_hashes(Select(table, select.exprs), KeyRange())


def test_float_rendering_on_many_values(pg):
    rng = random.Random(7)
    doubles = [rng.uniform(-1, 1) * 10 ** rng.randint(-30, 30) for _ in range(3000)]
    doubles += [rng.uniform(-1, 1) * 2.0 ** rng.randint(20, 70) for _ in range(3000)]
    singles = [struct.unpack("f", struct.pack("f", v))[0] for v in doubles if 1e-37 < abs(v) < 3e38]
    for values, sql_type, kind in ((doubles, "float8", Kind.DOUBLE), (singles, "real", Kind.FLOAT)):
        norm = pg.dialect.normalize("x", DataType(kind))
        rows = pg.query(f"SELECT x, {norm} FROM unnest(%s::{sql_type}[]) x", (values,))
        bad = [(x, text) for x, text in rows if text != canonical.canonical_text(x, DataType(kind))]
        assert bad == [], bad[:5]


# -- writing ---------------------------------------------------------------------

def test_write_then_read_round_trip(pg):
    table, select = _edge_table(pg)
    pg.execute("CREATE TABLE edge2 (LIKE edge INCLUDING ALL)")
    target = Table("edge2", table.columns, schema="public", primary_key=("k",))
    pg.write(target, ["k"] + EDGE_COLS, EDGE_ROWS)
    pg.commit()
    copy = Select(target, select.exprs, key=("k",))
    rows = _rows(pg, copy)
    assert all(_same(a, b) for got, want in zip(rows, EDGE_ROWS) for a, b in zip(got, want))
    assert pg.checksum(copy) == pg.checksum(select)


def test_refused_rows_raise_reject_error_naming_the_column(pg):
    pg.execute("CREATE TABLE t (a int PRIMARY KEY, b text, c int NOT NULL)")
    pg.commit()
    t = Table("t", [])
    cases = [((1, "x", "abc"), "c", "invalid input syntax"), ((1, "x\x00y", 1), "b", "NUL"),
             ((1, "x", None), "c", "not-null"), ((10**12, "x", 1), "a", "out of range"),
             ((1, b"file\x96name", 1), "b", "UTF8")]
    for row, column, text in cases:
        pg.savepoint("batch")
        with pytest.raises(RejectError, match=text) as info:
            pg.write(t, ["a", "b", "c"], [(9, "ok", 9), row])
        assert info.value.column == column and f"(column {column})" in info.value.message
        pg.rollback_to("batch")
    pg.write(t, ["a", "b", "c"], [(1, b"ok", 1)])  # bytes for a text column are UTF-8 text
    pg.savepoint("batch")
    with pytest.raises(RejectError, match="duplicate key"):
        pg.write(t, ["a", "b", "c"], [(1, "again", 1)])
    pg.rollback_to("batch")
    pg.commit()
    assert pg.query("SELECT a, b, c FROM t") == [(1, "ok", 1)]


def test_reset_identity_for_serial_identity_and_plain_columns(pg):
    pg.execute("CREATE TABLE s (id serial PRIMARY KEY, v int)")
    pg.execute("CREATE TABLE g (id bigint GENERATED ALWAYS AS IDENTITY (START 10) PRIMARY KEY, v int)")
    pg.execute("CREATE TABLE p (id int PRIMARY KEY, v int)")
    pg.write(Table("s", [], schema="public"), ["id", "v"], [(5, 0), (41, 0)])
    pg.write(Table("g", [], schema="public"), ["id", "v"], [(100, 0)])
    for name in ("s", "g", "p"):
        pg.reset_identity(Table(name, [], schema="public"), "id")
    pg.execute("INSERT INTO s (v) VALUES (1)")
    pg.execute("INSERT INTO g (v) VALUES (1)")
    pg.commit()
    assert pg.query("SELECT max(id) FROM s") == [(42,)]
    assert pg.query("SELECT max(id) FROM g") == [(101,)]
    pg.execute("TRUNCATE g")
    pg.reset_identity(Table("g", [], schema="public"), "id")
    pg.execute("INSERT INTO g (v) VALUES (1)")
    assert pg.query("SELECT id FROM g") == [(10,)]
    with pytest.raises(TerminalError, match="no such column"):
        pg.reset_identity(Table("p", [], schema="public"), "nope")


def _moved(blocks, path: str):
    """``blocks`` (a :class:`CopyOut`) as :meth:`write_copy` gets it: as it is
    (moved in C) or as a plain iterable of blocks (through Python)."""
    return blocks if path == "pump" else (block for block in blocks)


def test_copy_pump_is_built(pg):
    """The C module that moves COPY data into PostgreSQL is built with the
    package (the test set-up installs a compiler) and finds psycopg's libpq."""
    assert pump.functions(pump.LIBPQ) is not None


@pytest.mark.parametrize("path", ["pump", "python"])
def test_copy_fast_path_text_and_binary(pg, pg_url2, path):
    table, select = _edge_table(pg)
    pg.execute("CREATE TABLE big AS SELECT g AS k, repeat('x', 50 + g % 7) AS v FROM generate_series(1, 20000) g")
    pg.commit()
    big = Table("big", [Column("k", DataType(Kind.INTEGER)), Column("v", DataType(Kind.TEXT))], schema="public")
    gone = Table("gone", big.columns, schema="public")
    target = open_connector(pg_url2, read_only=False)
    try:
        target.execute("CREATE TYPE mood AS ENUM ('sad', 'ok', 'happy')")
        ddl = ", ".join(f"{c} {EDGE[c][0]}" for c in EDGE_COLS)
        for name in ("by_text", "by_binary"):
            target.execute(f"CREATE TABLE {name} (k int PRIMARY KEY, {ddl})")
            blocks = _moved(pg.read_copy(select, KeyRange(), binary=name == "by_binary"), path)
            target.write_copy(Table(name, [], schema="public"), ["k"] + EDGE_COLS, blocks,
                              binary=name == "by_binary")
            target.commit()
            copied = Select(Table(name, table.columns, schema="public"), select.exprs, key=("k",))
            assert target.checksum(copied) == pg.checksum(select)
        part = b"".join(pg.read_copy(select, KeyRange((2,), (3,))))
        assert part.startswith(b"2\t") and part.count(b"\n") == 1
        target.execute("CREATE TABLE narrow (k int, v varchar(3))")
        target.commit()
        target.savepoint("s")
        with pytest.raises(RejectError, match="too long"):  # the target stops while the source streams
            target.write_copy(Table("narrow", []), ["k", "v"], _moved(pg.read_copy(_select(big), KeyRange()), path))
        target.rollback_to("s")
        assert pg.query("SELECT count(*) FROM big") == [(20000,)]  # the source session is usable
        with pytest.raises(TerminalError, match="missing table"):  # the source fails mid-pipe
            target.write_copy(Table("narrow", []), ["k", "v"], _moved(pg.read_copy(_select(gone), KeyRange()), path))
        target.rollback()
        assert target.query("SELECT count(*) FROM narrow") == [(0,)]
    finally:
        target.close()


def test_copy_out_waits_for_the_server_without_holding_the_gil(pg):
    """A COPY TO reader waiting for its server lets the other threads run
    (a blocking ``PQgetCopyData``/``PQgetResult`` would hold the GIL)."""
    pg.execute("CREATE VIEW slow AS SELECT g AS k, 'x'::text AS v "
               "FROM generate_series(1, 3) g, (SELECT pg_sleep(0.6)) AS s")
    pg.commit()
    slow = Table("slow", [Column("k", DataType(Kind.INTEGER)), Column("v", DataType(Kind.TEXT))], schema="public")
    spins, stop = [0], threading.Event()

    def spin():
        while not stop.is_set():
            spins[0] += 1

    thread = threading.Thread(target=spin)
    thread.start()
    try:
        time.sleep(0.6)
        idle = spins[0]
        data = b"".join(pg.read_copy(_select(slow), KeyRange()))
        during = spins[0] - idle
    finally:
        stop.set()
        thread.join()
    assert data == b"1\tx\n2\tx\n3\tx\n"
    assert during > idle / 4, (during, idle)   # held: ~1 % of the idle count


# -- reading, snapshots ------------------------------------------------------------

def test_read_streams_batches_by_key_range(pg):
    pg.execute("CREATE TABLE t (a int, b text, v int, PRIMARY KEY (a, b))")
    pg.execute("INSERT INTO t SELECT g / 10, (g % 10)::text, g FROM generate_series(0, 999) g")
    pg.commit()
    table = pg.introspect(include=["t"]).table("t")
    select = _select(table)
    batches = list(pg.read(select, KeyRange((10, "5"), (20, "5")), 30))
    assert [len(b) for b in batches] == [30, 30, 30, 10]
    values = [r[2] for b in batches for r in b]
    assert values == list(range(105, 205))
    assert pg.count(table, table.primary_key, KeyRange((10, "5"), (20, "5"))) == 100
    modulo = Select(table, (('"v" % 7', DataType(Kind.INTEGER)),), key=("a", "b"), where="b LIKE '1%'")
    assert [r[0] for r in _rows(pg, modulo, KeyRange((10, "0"), (12, "0")))] == [101 % 7, 111 % 7]
    assert pg.checksum(modulo, KeyRange((10, "0"), (12, "0"))).count == 2
    assert len(pg.row_hashes(modulo, KeyRange((10, "0"), None))) == 90
    stream = pg.read(select, KeyRange(), 7)
    assert len(next(stream)) == 7
    stream.close()  # abandoning a stream ends its cursor and transaction
    assert pg.query("SELECT count(*) FROM t") == [(1000,)]


def test_exported_snapshot_is_shared_by_clones(pg, pg_url):
    pg.execute("CREATE TABLE t (a int)")
    pg.execute("INSERT INTO t VALUES (1)")
    pg.commit()
    source = open_connector(pg_url, read_only=True)
    snapshot = source.export_snapshot()
    pg.execute("INSERT INTO t VALUES (2)")
    pg.commit()
    clone = source.clone()
    try:
        assert isinstance(snapshot, str) and snapshot
        assert clone.query("SELECT count(*) FROM t") == [(1,)]
        assert source.query("SELECT count(*) FROM t") == [(1,)]
        assert pg.query("SELECT count(*) FROM t") == [(2,)]
        source.commit()
        with pytest.raises(TerminalError, match="cannot join snapshot"):
            source.use_snapshot(snapshot)
        assert source.query("SELECT count(*) FROM t") == [(2,)]
        pg.execute("INSERT INTO t VALUES (3)")
        with pytest.raises(TerminalError, match="write transaction is open"):
            pg.export_snapshot()
        pg.commit()
        assert pg.query("SELECT count(*) FROM t") == [(3,)]
    finally:
        clone.close()
        source.close()


# -- dialect -----------------------------------------------------------------------

def test_dialect_quoting_flags_and_sa_types_for_every_kind(pg):
    d = pg.dialect
    assert d.quote('we"ird name') == '"we""ird name"'
    assert (d.max_identifier_length, d.primary_key_after_load, d.shared_snapshot, d.paramstyle) == (
        63, True, True, "format")
    kinds = [DataType(k) for k in Kind if k != Kind.ARRAY] + [
        DataType(Kind.ARRAY, item=DataType(Kind.BIGINT)), DataType(Kind.DECIMAL, precision=12, scale=3),
        DataType(Kind.CHAR, length=4), DataType(Kind.VARCHAR, length=9), DataType(Kind.TIMESTAMPTZ, precision=3)]
    meta = sa.MetaData()
    cols = [sa.Column(f"c{i}", d.sa_type(t)) for i, t in enumerate(kinds)]
    pg.execute(str(CreateTable(sa.Table("made", meta, *cols)).compile(dialect=d.sa_dialect())))
    pg.commit()
    made = {c.name: c.type for c in pg.introspect(include=["made"]).table("made").columns}
    expected = {Kind.ENUM: Kind.TEXT, Kind.SET: Kind.ARRAY, Kind.YEAR: Kind.SMALLINT}
    for i, t in enumerate(kinds):
        want = Kind.TEXT if t.kind == Kind.CHAR and not t.length else expected.get(t.kind, t.kind)
        assert made[f"c{i}"].kind == want, t  # a bare char is char(1) in PostgreSQL: TEXT instead
    assert made["c0"].kind == Kind.BOOLEAN
    assert str(made[f"c{len(kinds) - 4}"]) == "decimal(12,3)"
    assert made[f"c{len(kinds) - 1}"].precision == 3



def test_type_sql_spells_what_sqlalchemy_compiles(pg):
    """The DDL written without SQLAlchemy names the same types as its compiler."""
    d = pg.dialect
    kinds = [DataType(k) for k in Kind if k != Kind.ARRAY] + [
        DataType(Kind.ARRAY, item=DataType(Kind.DECIMAL, precision=12, scale=3)),
        DataType(Kind.DECIMAL, precision=2000), DataType(Kind.CHAR, length=4), DataType(Kind.VARCHAR, length=9),
        DataType(Kind.TIME, precision=2), DataType(Kind.TIMESTAMP, precision=9),
        DataType(Kind.TIMESTAMPTZ, precision=3)]
    for t in kinds:
        assert d.type_sql(t) == str(d.sa_type(t).compile(dialect=d.sa_dialect())), t
