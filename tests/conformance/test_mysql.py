"""Conformance of the MySQL / MariaDB connector on a real server.

Every value check compares what the server computes (``normalize`` /
``checksum``) with the Python reference in :mod:`ferry.connectors.canonical`
applied to what the connector reads.
"""

from __future__ import annotations

import datetime as dt
import struct
import threading
from decimal import Decimal
from pathlib import Path

import MySQLdb
import pytest
import sqlalchemy as sa
from sqlalchemy.schema import CreateTable

from ferry.catalog.model import DataType, Kind, Table
from ferry.connectors import canonical, open_connector
from ferry.connectors.base import Checksum, KeyRange, Select
from ferry.connectors.mysql import MySQLConnector, MySQLDialect
from ferry.errors import ConnectionFailed, RejectError, TerminalError, TransientError
from ferry.secrets import DatabaseURL, parse_url

SAKILA = Path(__file__).resolve().parents[3] / "shared" / "datasets" / "sakila"
CANARY = "Sup3rS3cretCanary"

ALL_TYPES_DDL = """
CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB;
CREATE TABLE all_types (
  id INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  flag TINYINT(1) NOT NULL DEFAULT 1, tiny TINYINT, usmall SMALLINT(5) UNSIGNED, med MEDIUMINT,
  uint INT(10) UNSIGNED, big BIGINT, money DECIMAL(10,2) DEFAULT 0.00, f FLOAT, d DOUBLE,
  b1 BIT(1), b9 BIT(9), code CHAR(5), name VARCHAR(40) DEFAULT 'x y', body MEDIUMTEXT,
  bin BINARY(4), vbin VARBINARY(16), pic BLOB, day DATE, tm TIME(6), at DATETIME(6),
  ts TIMESTAMP(3) NULL DEFAULT CURRENT_TIMESTAMP(3), yr YEAR, doc JSON,
  rating ENUM('G','PG','it''s'), feats SET('a','b','c'), geo GEOMETRY, parent_id INT,
  doubled INT AS (uint * 2) VIRTUAL,
  UNIQUE KEY uq_name (name), KEY ix_big_med (big, med), KEY ix_prefix (body(10)),
  FULLTEXT KEY ft_body (body), CONSTRAINT positive CHECK (uint >= 0),
  CONSTRAINT fk_parent FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE SET NULL ON UPDATE CASCADE
) ENGINE=InnoDB;
CREATE VIEW v_all AS SELECT id FROM all_types;
CREATE TRIGGER trg BEFORE INSERT ON parent FOR EACH ROW SET NEW.id = NEW.id;
CREATE PROCEDURE proc() SELECT 1;
CREATE FUNCTION fn() RETURNS INT DETERMINISTIC RETURN 1;
"""

EDGE_COLUMNS = [  # column, MariaDB type, neutral type the value is hashed as
    ("id", "INT PRIMARY KEY", DataType(Kind.INTEGER)), ("flag", "TINYINT(1)", DataType(Kind.BOOLEAN)),
    ("b1", "BIT(1)", DataType(Kind.BOOLEAN)), ("money", "DECIMAL(10,3)", DataType(Kind.DECIMAL, precision=10, scale=3)),
    ("d", "DOUBLE", DataType(Kind.DOUBLE)), ("f", "FLOAT", DataType(Kind.FLOAT)),
    ("code", "CHAR(8)", DataType(Kind.CHAR, length=8)), ("name", "VARCHAR(40)", DataType(Kind.VARCHAR, length=40)),
    ("body", "TEXT", DataType(Kind.TEXT)), ("pic", "BLOB", DataType(Kind.BYTES)), ("day", "DATE", DataType(Kind.DATE)),
    ("tm", "TIME(6)", DataType(Kind.TIME, precision=6)), ("at", "DATETIME(6)", DataType(Kind.TIMESTAMP, precision=6)),
    ("ts", "TIMESTAMP(6) NULL", DataType(Kind.TIMESTAMPTZ, precision=6)), ("yr", "YEAR", DataType(Kind.YEAR)),
    ("doc", "JSON", DataType(Kind.JSON)), ("rating", "ENUM('G','PG')", DataType(Kind.ENUM, values=("G", "PG"))),
    ("feats", "SET('a','b','c')", DataType(Kind.SET, values=("a", "b", "c"))),
    ("b9", "BIT(9)", DataType(Kind.BYTES, native="bit(9)")),
]
EDGE_TYPES = [(c, t) for c, _, t in EDGE_COLUMNS]
EDGE_ROWS = [
    (1, 0, 0, "1.500", 0.1, 0.15, "ab  ", "trail  ", "", b"\x00a\x00", "2024-02-29", "00:00:00",
     "2024-02-29 23:59:59.123456", "2024-01-02 03:04:05.000001", 2024,
     '{"b": {"z": 1, "a": [57.550, 1e2, -0.5]}, "a": "x"}', "G", "c,a", 1),
    (2, 1, 1, "-0.001", 1e20, 1234567.0, "", "", "emoji \U0001F600 caf\u00e9", b"", "1970-01-01",
     "838:59:59.5", "1970-01-01 00:00:00", "1970-01-01 00:00:01", 1901, '{"price": 57.550, "n": null}',
     "PG", "", 257),
    (3, 2, None, "123456.125", 1.5e-7, 3.4e38, "x", " lead", "\u00e9\u20ac", b"\xff" * 40, "9999-12-31",
     "23:59:59.999999", "9999-12-31 23:59:59.999999", "2038-01-19 03:14:07", 2155, "[1, 2.50, true]",
     None, "a,b,c", 0),
    (4, None, None, None, 0.0001, 1e-5, None, None, None, None, None, None, None, None, None, None,
     None, None, None),
    (5, 1, 0, "0.000", 123456789012345678.0, 0.1, "12345678", "12345678", "tab\tnl\n", b"\x00",
     "0001-01-01", "-00:00:01", "2000-06-15 12:30:00.5", "2000-06-15 12:30:00.5", 2000, '"str"',
     "G", "b", 3),
    (6, 0, 1, "9999999.999", 1e15, -2.5e-5, "z", "q", "z", b"z", "2000-01-01", "12:00:00",
     "2000-01-01 00:00:00", "2000-01-01 00:00:00", 1999, "{}", "G", "a", 511),
]


# -- helpers -------------------------------------------------------------------

def _run_script(conn, script: str) -> None:
    """Run ``script`` statement by statement, honouring ``DELIMITER`` lines."""
    delimiter, buffer = ";", []
    for line in script.splitlines():
        if line.strip().upper().startswith("DELIMITER "):
            delimiter = line.split()[1]
            continue
        buffer.append(line)
        if line.rstrip().endswith(delimiter):
            statement = "\n".join(buffer).rstrip()[: -len(delimiter)].strip()
            buffer = []
            if statement:
                conn.query(statement)
                while conn.next_result() == 0:
                    pass


def _raw(url: str):
    u = parse_url(url)
    return MySQLdb.connect(host=u.host, port=u.port, user=u.user, password=u.password,
                           database=u.database, charset="utf8mb4", autocommit=True)


def _script(url: str, script: str) -> None:
    conn = _raw(url)
    _run_script(conn, script)
    conn.close()


def _load_sakila(url: str) -> None:
    """Load Sakila into the fixture database (not into a schema called sakila)."""
    schema = (SAKILA / "sakila-schema.sql").read_text()
    data = (SAKILA / "sakila-data.sql").read_text()
    drop = ("DROP SCHEMA IF EXISTS sakila;", "CREATE SCHEMA sakila;", "USE sakila;")
    schema = "\n".join(l for l in schema.splitlines() if l.strip() not in drop).replace("sakila.", "")
    data = "\n".join(l for l in data.splitlines() if l.strip() != "USE sakila;")
    _script(url, schema + "\n" + data)


def _edge_table(url: str) -> Table:
    conn = _raw(url)
    cur = conn.cursor()
    cur.execute("SET SESSION sql_mode = '', time_zone = '+00:00'")
    cur.execute(f"CREATE TABLE edge ({', '.join(f'{c} {n}' for c, n, _ in EDGE_COLUMNS)})")
    cur.executemany(f"INSERT INTO edge VALUES ({', '.join(['%s'] * len(EDGE_TYPES))})", EDGE_ROWS)
    conn.close()
    return Table("edge", [])


def _select(conn, table: Table, types=EDGE_TYPES, key=("id",)) -> Select:
    table = conn.introspect(include=[table.name]).table(table.name)
    return Select(table, tuple((conn.dialect.quote(c), t) for c, t in types), key)


def _read_all(conn, select: Select, krange=KeyRange()) -> list[tuple]:
    return [row for batch in conn.read(select, krange, 4) for row in batch]


@pytest.fixture
def source(mysql_url):
    conn = open_connector(mysql_url, read_only=True)
    yield conn
    conn.close()


@pytest.fixture
def target(mysql_url):
    conn = open_connector(mysql_url, read_only=False)
    yield conn
    conn.close()


# -- connection ------------------------------------------------------------------

def test_connect_errors_are_connection_failed_without_the_password(target):
    u, user = target.url, "ferry_c_" + target.url.database[-12:]
    target.execute(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{CANARY}'")
    try:
        target.execute(f"GRANT ALL ON `{u.database}`.* TO '{user}'@'%'")
        good = MySQLConnector(DatabaseURL("mysql", u.host, u.port, user, CANARY, u.database), read_only=True)
        assert good.query("SELECT CURRENT_USER()")[0][0].startswith(user) and CANARY not in repr(good)
        good.close()
        for database, code in ((u.database, "1045"), ("ferry_no_such_db", "")):
            password = CANARY + "x" if code else CANARY            # wrong password / unknown database
            url = DatabaseURL("mysql", u.host, u.port, user, password, database)
            with pytest.raises(ConnectionFailed) as info:
                MySQLConnector(url, read_only=True)
            err = info.value
            assert CANARY not in f"{err} {err!r} {err.message} {err.hint} {url} {err.__cause__}"
            assert ("user and password" in err.hint) if code else ("ferry_no_such_db" in err.message)
    finally:
        target.execute(f"DROP USER IF EXISTS '{user}'@'%'")
    with pytest.raises(ConnectionFailed) as info:
        MySQLConnector(DatabaseURL("mysql", u.host, u.port, u.user, u.password, "ferry_no_such_db"),
                       read_only=True)
    assert "ferry_no_such_db" in info.value.message and "CREATE DATABASE" in info.value.hint
    with pytest.raises(ConnectionFailed, match="cannot reach MySQL at 127.0.0.1:1"):
        MySQLConnector(DatabaseURL("mysql", "127.0.0.1", 1, "root", CANARY, "x"), read_only=True)


def test_session_settings_and_read_only_refuses_writes(source, target):
    tz, mode = target.query("SELECT @@time_zone, @@sql_mode")[0]
    assert tz == "+00:00" and "STRICT_ALL_TABLES" in mode and "NO_AUTO_VALUE_ON_ZERO" in mode
    assert "NO_ZERO_DATE" not in source.query("SELECT @@sql_mode")[0][0]
    target.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    with pytest.raises(TerminalError, match="1792"):
        source.execute("INSERT INTO t VALUES (1)")
    with pytest.raises(TerminalError):
        source.execute("CREATE TABLE t2 (id INT)")
    assert target.query("SELECT COUNT(*) FROM t") == [(0,)]
    # each read-only query, and each stream, sees what was committed before it started
    table = Table("t", [], schema=None)
    assert source.count(table) == 0
    for n in (1, 2):
        target.execute(f"INSERT INTO t VALUES ({n})")
        target.commit()
        assert source.count(table) == n
    rows = _read_all(source, Select(table, (("id", DataType(Kind.INTEGER)),), ("id",)))
    target.execute("INSERT INTO t VALUES (3)")
    target.commit()
    assert rows == [(1,), (2,)] and source.query("SELECT COUNT(*) FROM t") == [(3,)]


def test_killed_session_raises_transient_and_clone_works(target, mysql_url):
    victim = target.clone()
    admin = _raw(mysql_url)
    admin.cursor().execute(f"KILL {victim.connection_id}")
    admin.close()
    with pytest.raises(TransientError):
        victim.query("SELECT 1")
    victim.close()
    victim.close()
    with pytest.raises(TransientError):
        victim.query("SELECT 1")
    assert target.clone().query("SELECT 1") == [(1,)]


def test_lock_wait_timeout_is_transient(target):
    target.execute("CREATE TABLE t (id INT PRIMARY KEY)")
    target.execute("INSERT INTO t VALUES (1)")
    target.commit()
    other = target.clone()
    try:
        target.execute("UPDATE t SET id = 2 WHERE id = 1")
        other.execute("SET SESSION innodb_lock_wait_timeout = 1")
        with pytest.raises(TransientError, match="1205"):
            other.execute("UPDATE t SET id = 3 WHERE id = 1")
    finally:
        other.close()
        target.rollback()


# -- introspection ---------------------------------------------------------------

def test_introspect_every_type(target, mysql_url):
    _script(mysql_url, ALL_TYPES_DDL)
    catalog = target.introspect()
    assert [t.name for t in catalog.tables] == ["parent", "all_types"]
    t = catalog.table("all_types")
    kinds = {c.name: (c.type.kind, c.type.native) for c in t.columns}
    assert kinds["flag"] == (Kind.SMALLINT, "tinyint(1)")
    assert kinds["uint"] == (Kind.INTEGER, "int(10) unsigned") and t.column("uint").type.unsigned
    assert kinds["usmall"] == (Kind.SMALLINT, "smallint(5) unsigned")
    assert kinds["med"][0] == Kind.INTEGER and kinds["big"][0] == Kind.BIGINT
    assert (t.column("money").type.precision, t.column("money").type.scale) == (10, 2)
    assert kinds["f"][0] == Kind.FLOAT and kinds["d"][0] == Kind.DOUBLE
    assert kinds["b1"][0] == Kind.BOOLEAN and kinds["b9"] == (Kind.BYTES, "bit(9)")
    assert t.column("code").type == DataType(Kind.CHAR, length=5, native="char(5)")
    assert t.column("name").type.kind == Kind.VARCHAR and t.column("name").type.length == 40
    assert kinds["body"][0] == Kind.TEXT and kinds["pic"][0] == Kind.BYTES
    assert t.column("bin").type.length == 4 and kinds["vbin"][0] == Kind.BYTES
    assert kinds["day"][0] == Kind.DATE and t.column("tm").type.precision == 6
    assert kinds["at"] == (Kind.TIMESTAMP, "datetime(6)") and kinds["ts"] == (Kind.TIMESTAMPTZ, "timestamp(3)")
    assert kinds["yr"][0] == Kind.YEAR and kinds["doc"][0] == Kind.JSON
    assert t.column("rating").type.values == ("G", "PG", "it's")
    assert kinds["feats"] == (Kind.SET, "set('a','b','c')") and kinds["geo"] == (Kind.BYTES, "geometry")
    assert "doubled" not in kinds
    assert t.column("id").identity and not t.column("flag").identity
    assert (t.column("flag").default, t.column("name").default) == ("1", "'x y'")
    assert t.column("ts").default == "CURRENT_TIMESTAMP(3)" and t.column("money").default == "0.00"
    assert not t.column("flag").nullable and t.column("tiny").nullable
    assert t.primary_key == ("id",)
    assert [(u.name, u.columns) for u in t.uniques] == [("uq_name", ("name",))]
    assert sorted((i.name, i.columns) for i in t.indexes) == \
        [("fk_parent", ("parent_id",)), ("ix_big_med", ("big", "med"))]
    fk = t.foreign_keys[0]
    assert (fk.columns, fk.ref_table, fk.ref_columns, fk.on_delete, fk.on_update) == \
        (("parent_id",), "parent", ("id",), "SET NULL", "CASCADE")
    skipped = {(s.kind, s.name) for s in catalog.skipped}
    assert {("index", "all_types.ix_prefix"), ("index", "all_types.ft_body"), ("view", "v_all"),
            ("trigger", "trg"), ("procedure", "proc"), ("function", "fn"),
            ("generated column", "all_types.doubled"), ("check", "all_types.positive")} <= skipped
    assert [x.name for x in target.introspect(exclude=["all_*"]).tables] == ["parent"]
    target.execute("INSERT INTO all_types (id, geo, b9, f, doc) VALUES (1, ST_GeomFromText('POINT(1 2)'), "
                   "b'101', 0.5, '{\"k\": [1.50]}')")
    select = Select(t, tuple((target.dialect.quote(c.name), c.type) for c in t.columns), ("id",))
    row = _read_all(target, select)[0]
    wkb = b"\x01" + struct.pack("<Idd", 1, 1.0, 2.0)
    geo = [c.name for c in t.columns].index("geo")
    assert row[geo] == struct.pack("<I", 0) + wkb       # going to a geometry column: SRID and WKB
    plain = Select(t, tuple((e, DataType(Kind.BYTES) if i == geo else dt) for i, (e, dt) in enumerate(select.exprs)),
                   ("id",))
    assert _read_all(target, plain)[0][geo] == wkb       # elsewhere: WKB
    assert target.checksum(select) == Checksum(1, canonical.row_hash(row, [c.type for c in t.columns]))


def test_introspect_and_checksum_sakila(target, mysql_url):
    _load_sakila(mysql_url)
    catalog = target.introspect()
    names = [t.name for t in catalog.tables]
    assert sorted(names) == sorted(["actor", "address", "category", "city", "country", "customer", "film",
                                    "film_actor", "film_category", "film_text", "inventory", "language",
                                    "payment", "rental", "staff", "store"])
    position = {n: i for i, n in enumerate(names)}
    cycle = {("store", "staff"), ("staff", "store")}
    for t in catalog.tables:
        for fk in t.foreign_keys:
            if (t.name, fk.ref_table) not in cycle:
                assert position[fk.ref_table] < position[t.name], (t.name, fk.ref_table)
    kinds = {(s.kind) for s in catalog.skipped}
    count = {k: sum(s.kind == k for s in catalog.skipped) for k in kinds}
    assert (count["view"], count["trigger"], count["procedure"], count["function"]) == (7, 6, 3, 3)
    film = catalog.table("film")
    assert film.column("rating").type.values == ("G", "PG", "PG-13", "R", "NC-17")
    assert film.column("last_update").type.kind == Kind.TIMESTAMPTZ
    assert film.column("last_update").default == "CURRENT_TIMESTAMP"
    assert catalog.table("customer").column("active").type.native == "tinyint(1)"
    for name in ("film", "staff", "payment", "address"):
        _assert_checksum_matches_reference(target, catalog.table(name))


def _assert_checksum_matches_reference(conn, table: Table) -> None:
    select = Select(table, tuple((conn.dialect.quote(c.name), c.type) for c in table.columns),
                    table.primary_key)
    rows = [r for batch in conn.read(select, KeyRange(), 5000) for r in batch]
    types = [c.type for c in table.columns]
    expected = sum(canonical.row_hash(r, types) for r in rows)
    assert conn.checksum(select) == Checksum(len(rows), expected) and rows


# -- canonical text and checksums -----------------------------------------------

def test_normalize_matches_the_python_reference(target, mysql_url):
    select = _select(target, _edge_table(mysql_url))
    rows = _read_all(target, select)
    assert len(rows) == len(EDGE_ROWS)
    norms = ", ".join(target.dialect.normalize(target.dialect.source_expr(select.table, e), t)
                      for e, t in select.exprs)
    server = target.query(f"SELECT {norms} FROM edge ORDER BY id")
    for row, texts in zip(rows, server):
        expected = tuple(canonical.canonical_text(v, t) for v, (_, t) in zip(row, EDGE_TYPES))
        for (name, _), got, want in zip(EDGE_TYPES, texts, expected):
            assert got == want, (row[0], name, got, want)


def test_read_values_are_portable(target, mysql_url):
    rows = {r[0]: r for r in _read_all(target, _select(target, _edge_table(mysql_url)))}
    assert rows[1][1:3] == (False, False) and rows[2][1:3] == (True, True) and rows[3][1] is True
    assert rows[1][3] == Decimal("1.500") and rows[2][5] == pytest.approx(1234567.0, abs=0)
    assert rows[1][6] == "ab" and rows[1][7] == "trail  " and rows[2][8].endswith("caf\u00e9")
    assert rows[1][9] == b"\x00a\x00" and rows[1][18] == b"\x00\x01"
    assert rows[1][13] == dt.datetime(2024, 1, 2, 3, 4, 5, 1, tzinfo=dt.timezone.utc)
    assert rows[1][12] == dt.datetime(2024, 2, 29, 23, 59, 59, 123456)
    assert rows[1][15].startswith('{"b"') and rows[1][17] == ["a", "c"]
    assert rows[2][11] == dt.timedelta(hours=838, minutes=59, seconds=59, microseconds=500000)


def test_checksum_equals_sum_of_reference_hashes_and_sees_one_change(target, mysql_url):
    select = _select(target, _edge_table(mysql_url))
    rows = _read_all(target, select)
    types = [t for _, t in EDGE_TYPES]
    hashes = {r[0]: canonical.row_hash(r, types) for r in rows if r[0] < 5}
    krange = KeyRange(None, (5,))
    assert target.checksum(select, krange) == Checksum(4, sum(hashes.values()))
    assert target.row_hashes(select, krange) == {(k,): v for k, v in hashes.items()}
    before = target.checksum(select)
    target.execute("UPDATE edge SET d = 0.10000000000000002 WHERE id = 1")
    after = target.checksum(select)
    assert after.count == before.count and after.total != before.total
    target.execute("UPDATE edge SET d = 0.1 WHERE id = 1")
    assert target.checksum(select) == before


def test_zero_dates_read_as_none_and_are_counted(target, mysql_url):
    _script(mysql_url, "SET SESSION sql_mode = '';\n"
            "CREATE TABLE z (id INT PRIMARY KEY, d DATE, t DATETIME, s TIMESTAMP NULL);\n"
            "INSERT INTO z VALUES (1, '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00'),"
            " (2, '2024-00-00', '2024-05-00 10:00:00', NULL), (3, '2024-05-01', '2024-05-01 10:00:00', NULL),"
            " (4, '0000-05-01', '0000-05-01 10:00:00', NULL);")
    types = [("id", DataType(Kind.INTEGER)), ("d", DataType(Kind.DATE)),
             ("t", DataType(Kind.TIMESTAMP)), ("s", DataType(Kind.TIMESTAMPTZ))]
    select = _select(target, Table("z", []), types)
    rows = _read_all(target, select)
    assert [r[1:] for r in rows[:2]] == [(None, None, None), (None, None, None)]
    assert rows[2][1] == dt.date(2024, 5, 1) and rows[3][1:] == (None, None, None)     # year 0
    pred = target.dialect.zero_date_predicate
    assert target.query(f"SELECT SUM({pred('d')}), SUM({pred('t')}), SUM({pred('s')}) FROM z") == \
        [(Decimal(3), Decimal(3), Decimal(1))]
    expected = sum(canonical.row_hash(r, [t for _, t in types]) for r in rows)
    assert target.checksum(select) == Checksum(4, expected)


def test_double_and_float_rendering_on_many_values(target):
    target.execute("CREATE TABLE n (id INT PRIMARY KEY, d DOUBLE, f FLOAT)")
    values = [1e15, 1e20, 1.5e-7, 0.0001, 123456789012345678.0, 1223383794756801.2, 5e-324,
              1.7976931348623157e308, -2.5e-5, 0.30000000000000004, 1e-5, 999999999999999.9, 0.0, 100.0]
    floats = [1.401298464324817e-45, 1.1754943508222875e-38, 3.4028234663852886e38, 16777217.0, 0.1,
              1e-5, 999999986991104.0, 1234567.0, 7.0e-41]
    rows = [(i, v, floats[i] if i < len(floats) else None) for i, v in enumerate(values)]
    target.write(Table("n", []), ["id", "d", "f"], rows)
    types = [("id", DataType(Kind.INTEGER)), ("d", DataType(Kind.DOUBLE)), ("f", DataType(Kind.FLOAT))]
    select = _select(target, Table("n", []), types)
    read = _read_all(target, select)
    d, f = select.exprs[1][0], target.dialect.source_expr(select.table, select.exprs[2][0])
    server = target.query(f"SELECT {target.dialect.normalize(d, types[1][1])}, "
                          f"{target.dialect.normalize(f, types[2][1])} FROM n ORDER BY id")
    for (i, dv, fv), (dt_, ft) in zip(read, server):
        assert dv == values[i] and dt_ == canonical.canonical_float(values[i])
        assert ft == (None if fv is None else canonical.canonical_float(fv, single=True)), (i, fv, ft)


# -- writing -----------------------------------------------------------------------

WRITE_TYPES = [
    ("id", DataType(Kind.INTEGER)), ("flag", DataType(Kind.BOOLEAN)), ("small", DataType(Kind.SMALLINT)),
    ("amount", DataType(Kind.DECIMAL, precision=80, scale=40)), ("ratio", DataType(Kind.DOUBLE)),
    ("ratio32", DataType(Kind.FLOAT)), ("code", DataType(Kind.CHAR, length=4)),
    ("name", DataType(Kind.VARCHAR, length=20)), ("body", DataType(Kind.TEXT)),
    ("raw", DataType(Kind.BYTES)), ("fixed", DataType(Kind.BYTES, length=3)), ("day", DataType(Kind.DATE)),
    ("tm", DataType(Kind.TIME, precision=6)), ("at", DataType(Kind.TIMESTAMP, precision=6)),
    ("atz", DataType(Kind.TIMESTAMPTZ)), ("doc", DataType(Kind.JSON)), ("uid", DataType(Kind.UUID)),
    ("mood", DataType(Kind.ENUM, values=("ok", "sad"))), ("tags", DataType(Kind.SET, values=("x", "y"))),
    ("span", DataType(Kind.INTERVAL)), ("yr", DataType(Kind.YEAR)),
    ("items", DataType(Kind.ARRAY, item=DataType(Kind.TEXT))),
]
WRITE_ROWS = [
    (1, True, -32768, Decimal("1.50"), 0.1, 0.15, "ab", "caf\u00e9", "\U0001F600", b"\x00\xff", b"abc",
     dt.date(2024, 2, 29), dt.time(13, 14, 15, 16), dt.datetime(2024, 1, 1, 1, 2, 3, 4),
     dt.datetime(2024, 1, 1, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=2))),
     '{"b": 1, "a": 57.550}', "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11", "sad", ["y", "x"],
     "1 day 02:00:00", 2024, ["a", None, "b c"]),
    (2, False, 32767, Decimal("-0.001"), 1e20, 1e-5, "abcd", "", "", b"", b"\x00\x00\x00",
     dt.date(1, 1, 1), dt.time(0, 0), dt.datetime(1970, 1, 1), dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc),
     "[]", "00000000-0000-0000-0000-000000000000", "ok", [], "00:00:00", 1901, []),
    tuple([3] + [None] * (len(WRITE_TYPES) - 1)),
]


def _create(conn, name: str, types) -> Table:
    meta = sa.MetaData()
    cols = [sa.Column(c, conn.dialect.sa_type(t), primary_key=(c == "id"), autoincrement=False)
            for c, t in types]
    conn.execute(str(CreateTable(sa.Table(name, meta, *cols)).compile(dialect=conn.dialect.sa_dialect())))
    return Table(name, [])


def test_write_round_trip_through_sa_types(target):
    table = _create(target, "w", WRITE_TYPES)
    target.savepoint("before")
    target.write(table, [c for c, _ in WRITE_TYPES], WRITE_ROWS)
    target.commit()
    select = _select(target, table, WRITE_TYPES)
    read = _read_all(target, select)
    types = [t for _, t in WRITE_TYPES]
    expected = [[canonical.canonical_text(v, t) for v, t in zip(r, types)] for r in WRITE_ROWS]
    expected[0][18] = "x,y"       # SET labels come back in definition order
    assert [[canonical.canonical_text(v, t) for v, t in zip(r, types)] for r in read] == expected
    assert read[0][14] == dt.datetime(2024, 1, 1, 10, 0)      # aware -> UTC
    assert target.checksum(select) == Checksum(3, sum(canonical.row_hash(r, types) for r in read))
    assert target.table_exists(table) and not target.table_exists(Table("nope", []))


@pytest.mark.parametrize("column, value, code", [
    ("small", 40000, 1264), ("name", "x" * 21, 1406), ("day", "2024-13-01", 1292),
    ("doc", "{not json", 4025), ("id", None, 1048), ("id", 1, 1062), ("mood", "happy", 1265),
])
def test_write_refusal_is_reject_error_and_undoes_the_batch(target, column, value, code):
    table = _create(target, "w", WRITE_TYPES)
    target.write(table, ["id"], [(1,)])
    names = [c for c, _ in WRITE_TYPES]
    good = tuple([10] + [None] * (len(names) - 1))
    bad = [None] * len(names)
    bad[0], bad[names.index(column)] = 11, value
    with pytest.raises(RejectError) as info:
        target.write(table, names, [good, tuple(bad)])
    assert info.value.code == code
    if code not in (1062, 4025):
        assert info.value.column == column
    assert target.query("SELECT id FROM w ORDER BY id") == [(1,)]


def test_large_batches_split_into_statements_and_oversized_rows_are_rejected(target):
    target.execute("CREATE TABLE l (id INT PRIMARY KEY, body LONGTEXT)")
    table = Table("l", [])
    rows = [(i, "\u00e9" * 10_000) for i in range(300)]          # 3 M characters: two statements
    target.write(table, ["id", "body"], rows)
    types = [("id", DataType(Kind.INTEGER)), ("body", DataType(Kind.TEXT))]
    assert target.checksum(_select(target, table, types)) == \
        Checksum(300, sum(canonical.row_hash(r, [t for _, t in types]) for r in rows))
    target._max_packet = 1_000_000
    with pytest.raises(RejectError, match="max_allowed_packet"):
        target.write(table, ["id", "body"], [(1000, "x"), (1001, "y" * 2_000_000)])
    assert target.count(table) == 300


def test_classify_missing_table_and_permission(target):
    with pytest.raises(TerminalError, match="1146"):
        target.query("SELECT * FROM no_such_table")
    try:
        target.execute("CREATE USER IF NOT EXISTS 'ferry_noperm'@'%'")
        target.execute("GRANT SELECT ON mysql.db TO 'ferry_noperm'@'%'")   # no rights on test db
        u = target.url
        weak = MySQLConnector(DatabaseURL("mysql", u.host, u.port, "ferry_noperm", "", "mysql"), read_only=False)
        with pytest.raises(TerminalError, match="permission"):
            weak.execute(f"CREATE TABLE `{u.database}`.x (id INT)")
        weak.close()
    finally:
        target.execute("DROP USER IF EXISTS 'ferry_noperm'@'%'")


def test_savepoint_reset_identity_and_delete_range(target):
    target.execute("CREATE TABLE s (id INT AUTO_INCREMENT PRIMARY KEY, v INT)")
    table = Table("s", [])
    target.write(table, ["id", "v"], [(i, i) for i in range(1, 11)])
    target.savepoint("sp")
    target.write(table, ["id", "v"], [(100, 0)])
    target.rollback_to("sp")
    target.delete_range(table, ["id"], KeyRange((3,), (5,)))
    assert target.count(table) == 8
    target.reset_identity(table, "id")
    target.execute("INSERT INTO s (v) VALUES (0)")
    assert target.query("SELECT MAX(id) FROM s") == [(11,)]
    target.write(table, ["id", "v"], [(0, 0)])              # NO_AUTO_VALUE_ON_ZERO keeps id 0
    assert target.query("SELECT COUNT(*) FROM s WHERE id = 0") == [(1,)]


def test_read_streams_in_batches_and_stops_early(target):
    target.execute("CREATE TABLE big (id INT PRIMARY KEY, pad CHAR(20))")
    table = Table("big", [])
    target.write(table, ["id", "pad"], [(i, "x") for i in range(5000)])
    target.commit()
    select = Select(Table("big", []), (("`id`", DataType(Kind.INTEGER)),), ("id",))
    batches = list(target.read(select, KeyRange((100,), (4100,)), 1000))
    assert [len(b) for b in batches] == [1000] * 4 and batches[0][0] == (100,)
    stream = target.read(select, KeyRange(), 10)
    assert next(stream)[0] == (0,)
    stream.close()
    assert target.query("SELECT 1") == [(1,)]
    assert target.sample_keys(table, ["id"], 1000) == [(999,), (1999,), (2999,), (3999,), (4999,)]
    assert target.key_bounds(table, ["id"]) == (0, 4999)


def test_sa_type_covers_every_kind():
    d = MySQLDialect()
    for kind in Kind:
        dtype = DataType(kind, values=("a",), item=DataType(Kind.TEXT))
        assert d.sa_type(dtype) is not None
    spell = lambda t: str(d.sa_type(t).compile(dialect=d.sa_dialect()))   # noqa: E731
    assert spell(DataType(Kind.VARCHAR, length=20000)) == "LONGTEXT"
    assert spell(DataType(Kind.DECIMAL, precision=100, scale=40)) == "DECIMAL(65, 30)"
    assert spell(DataType(Kind.TIMESTAMPTZ)) == "DATETIME(6)" and spell(DataType(Kind.BOOLEAN)) == "TINYINT(1)"
    assert d.quote("a`b") == "`a``b`"


def test_parallel_clones_read_concurrently(target):
    target.execute("CREATE TABLE p (id INT PRIMARY KEY)")
    target.write(Table("p", []), ["id"], [(i,) for i in range(2000)])
    target.commit()
    select = Select(Table("p", []), (("`id`", DataType(Kind.INTEGER)),), ("id",))
    counts = []

    def work(lo):
        conn = target.clone()
        counts.append(sum(len(b) for b in conn.read(select, KeyRange((lo,), (lo + 500,)), 100)))
        conn.close()

    threads = [threading.Thread(target=work, args=(lo,)) for lo in range(0, 2000, 500)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counts == [500] * 4
