"""The dataset loaders put every documented row into the fixture's database."""

from __future__ import annotations

import sqlite3

import pytest

from ferry.secrets import parse_url
from tests.e2e import datasets


def pg_counts(url: str, tables) -> dict[str, int]:
    import psycopg

    with psycopg.connect(url) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM ONLY public."{t}"').fetchone()[0]
                for t in tables}


def pg_query(url: str, sql: str):
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute(sql).fetchall()


def mysql_query(url: str, sql: str, *args):
    import MySQLdb

    u = parse_url(url)
    conn = MySQLdb.connect(host=u.host, port=u.port, user=u.user, password=u.password,
                           database=u.database, charset="utf8mb4")
    try:
        cur = conn.cursor()
        cur.execute(sql, args or None)
        return cur.fetchall()
    finally:
        conn.close()


def mysql_counts(url: str, tables) -> dict[str, int]:
    return {t: mysql_query(url, f"SELECT count(*) FROM `{t}`")[0][0] for t in tables}


def mysql_tables(url: str) -> set[str]:
    rows = mysql_query(url, "SELECT table_name FROM information_schema.tables "
                            "WHERE table_schema = DATABASE() AND table_type = 'BASE TABLE'")
    return {r[0] for r in rows}


def pg_tables(url: str) -> set[str]:
    rows = pg_query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r[0] for r in rows}


def sqlite_counts(url: str, tables) -> dict[str, int]:
    conn = sqlite3.connect(parse_url(url).database)
    try:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in tables}
    finally:
        conn.close()


# --- MySQL / MariaDB ----------------------------------------------------------------

def test_sakila_loads_into_the_fixture_database(mysql_url):
    expected = datasets.load_sakila(mysql_url)
    assert sum(expected.values()) == 47268
    assert mysql_tables(mysql_url) == set(expected)
    assert mysql_counts(mysql_url, expected) == expected
    # the views named sakila.film etc.: they must read the fixture's tables now
    definition = mysql_query(mysql_url, "SELECT view_definition FROM information_schema.views "
                                        "WHERE table_schema = DATABASE() AND table_name = 'actor_info'")
    assert definition and "`sakila`" not in definition[0][0]
    assert mysql_query(mysql_url, "SELECT count(*) FROM actor_info")[0][0] == 200
    assert mysql_query(mysql_url, "SELECT city FROM city WHERE city_id = 1")  # data, not just rows


def test_chinook_mysql_keeps_utf8_text(mysql_url):
    expected = datasets.load_chinook_mysql(mysql_url)
    assert sum(expected.values()) == 15607
    assert mysql_tables(mysql_url) == set(expected)
    assert mysql_counts(mysql_url, expected) == expected
    names = {r[0] for r in mysql_query(mysql_url, "SELECT Name FROM Artist")}
    assert "Antônio Carlos Jobim" in names
    non_ascii = [n for n in names if not n.isascii()]
    assert len(non_ascii) == 31


def test_northwind_mysql(mysql_url):
    expected = datasets.load_northwind_mysql(mysql_url)
    assert mysql_tables(mysql_url) == set(expected)
    assert mysql_counts(mysql_url, expected) == expected
    # the script's CREATE SCHEMA ... DEFAULT CHARACTER SET latin1 applies to the fixture database
    charset = mysql_query(mysql_url, "SELECT default_character_set_name FROM "
                                     "information_schema.schemata WHERE schema_name = DATABASE()")
    assert charset[0][0] == "latin1"


def test_employees_mysql_with_views_and_routines(mysql_url):
    expected = datasets.load_employees_mysql(mysql_url)
    assert sum(expected.values()) == 130783
    assert mysql_tables(mysql_url) == set(expected)
    assert mysql_counts(mysql_url, expected) == expected
    db = parse_url(mysql_url).database
    routines = mysql_query(mysql_url, "SELECT count(*) FROM information_schema.routines "
                                      "WHERE routine_schema = %s", db)
    assert routines[0][0] == 7
    views = mysql_query(mysql_url, "SELECT count(*) FROM information_schema.views "
                                   "WHERE table_schema = %s", db)
    assert views[0][0] == 4


# --- PostgreSQL ---------------------------------------------------------------------

def test_pagila_loads_partitions_and_copy_data(pg_url):
    expected = datasets.load_pagila(pg_url)
    assert pg_tables(pg_url) >= set(expected)
    assert pg_counts(pg_url, expected) == expected
    assert pg_query(pg_url, "SELECT count(*) FROM public.payment")[0][0] == 16049


def test_chinook_pg(pg_url):
    expected = datasets.load_chinook_pg(pg_url)
    assert pg_tables(pg_url) == set(expected)
    assert pg_counts(pg_url, expected) == expected
    assert pg_query(pg_url, "SELECT count(*) FROM artist WHERE name ~ '[^\\x01-\\x7f]'")[0][0] == 31


def test_northwind_pg(pg_url):
    expected = datasets.load_northwind_pg(pg_url)
    assert pg_tables(pg_url) == set(expected)
    assert pg_counts(pg_url, expected) == expected


def test_employees_pg_follows_its_includes(pg_url):
    expected = datasets.load_employees_pg(pg_url)
    assert sum(expected.values()) == 130783
    assert pg_tables(pg_url) == set(expected)
    assert pg_counts(pg_url, expected) == expected
    policies = pg_query(pg_url, "SELECT count(*) FROM pg_policies WHERE tablename = 'audit'")
    assert policies[0][0] == 2


# --- SQLite -------------------------------------------------------------------------

def test_chinook_sqlite_is_a_writable_copy(tmp_path):
    url = datasets.chinook_sqlite(tmp_path)
    path = parse_url(url).database
    assert path.startswith(str(tmp_path))
    assert sqlite_counts(url, datasets.CHINOOK_COUNTS) == datasets.CHINOOK_COUNTS
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM PlaylistTrack")
    conn.commit()
    conn.close()
    original = datasets.dataset_file("chinook", "Chinook_Sqlite.sqlite")
    assert sqlite_counts(f"sqlite:///{original}", ["PlaylistTrack"]) == {"PlaylistTrack": 8715}


def test_northwind_sqlite(tmp_path):
    url = datasets.northwind_sqlite(tmp_path)
    expected = datasets.NORTHWIND_SQLITE_COUNTS
    assert sqlite_counts(url, expected) == expected


# --- the script filters -------------------------------------------------------------

def test_mysql_filter_retargets_database_statements(tmp_path):
    (tmp_path / "inc.sql").write_bytes(b"INSERT INTO t VALUES (1);\nsource show_elapsed.sql;\n")
    (tmp_path / "main.sql").write_bytes(
        b"DROP DATABASE IF EXISTS `shop`;\n"
        b"CREATE SCHEMA IF NOT EXISTS `shop` DEFAULT CHARACTER SET latin1 ;\n"
        b"CREATE DATABASE shop;\n"
        b"USE shop;\n"
        b"flush /*!50503 binary */ logs;\n"
        b"CREATE VIEW v AS SELECT * FROM shop.t JOIN `shop`.u;\n"
        b"SELECT 'mail@shop.example', shopping.x FROM t;\n"
        b"source inc.sql ;\n")
    out = b"".join(datasets.mysql_script_lines(tmp_path / "main.sql", "ferry_x", ["shop"]))
    assert out == (b"ALTER DATABASE `ferry_x` DEFAULT CHARACTER SET latin1;\n"
                   b"USE `ferry_x`;\n"
                   b"CREATE VIEW v AS SELECT * FROM `ferry_x`.t JOIN `ferry_x`.u;\n"
                   b"SELECT 'mail@shop.example', shopping.x FROM t;\n"
                   b"INSERT INTO t VALUES (1);\n")


def test_psql_filter_drops_database_switches_and_inlines(tmp_path):
    (tmp_path / "part.sql").write_bytes(b"INSERT INTO t VALUES (1);\n")
    (tmp_path / "main.sql").write_bytes(
        b"DROP DATABASE IF EXISTS chinook;\nCREATE DATABASE chinook;\n\\c chinook;\n"
        b"CREATE TABLE t (id int);\n\\i part.sql\n")
    out = b"".join(datasets.psql_script_lines(tmp_path / "main.sql"))
    assert out == b"CREATE TABLE t (id int);\nINSERT INTO t VALUES (1);\n"


def test_failed_load_raises_with_the_client_error(pg_url, tmp_path):
    bad = tmp_path / "bad.sql"
    bad.write_bytes(b"CREATE TABLE ok (id int);\nSELECT * FROM no_such_table;\nCREATE TABLE late (id int);\n")
    with pytest.raises(datasets.DatasetLoadError, match="no_such_table"):
        datasets.run_psql(pg_url, datasets.psql_script_lines(bad))
    assert pg_tables(pg_url) == {"ok"}
