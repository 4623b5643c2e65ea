"""Between two databases of one engine every column keeps its own type: on
MariaDB every one (MySQL has no user types; a geometry keeps its SRID), on
SQLite every declared type; the rows copy unchanged and verify.
PostgreSQL's case is in test_native_transforms."""

from __future__ import annotations

import sqlite3

from ferry import api
from tests.e2e import datasets
from tests.e2e import generate as g

COLUMNS = {
    "id": "tinyint(3) unsigned", "flags": "bit(16)", "small": "mediumint(9)", "at": "timestamp",
    "y": "year(4)", "mood": "enum('sad','ok')", "tags": "set('a','b','c')", "ratio": "float",
    "active": "tinyint(1)", "body": "text", "pic": "blob", "place": "point", "shape": "geometry",
}


def test_mariadb_to_mariadb_keeps_column_types(tmp_path, monkeypatch, mysql_url, mysql_url2):
    monkeypatch.chdir(tmp_path)
    g.execute(mysql_url,
              "CREATE TABLE kept (id tinyint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY, flags bit(16) NOT NULL "
              "DEFAULT b'0', small mediumint, at timestamp NULL, y year, mood enum('sad','ok'), "
              "tags set('a','b','c'), ratio float, active tinyint(1), body text, pic blob, place point, shape geometry)",
              "INSERT INTO kept (flags, small, at, y, mood, tags, ratio, active, body, pic, place, shape) VALUES "
              "(b'1000', -5, '2024-05-06 07:08:09', 2024, 'ok', 'a,c', 0.1, 1, 'x', X'00ff', ST_GeomFromText('POINT(1 2)'), "
              "ST_GeomFromText('LINESTRING(0 0, 3 4)', 3857)),"
              "(b'0', NULL, NULL, NULL, NULL, '', NULL, 0, NULL, NULL, NULL, NULL)")
    plan = api.plan_from_urls(mysql_url, mysql_url2)
    summary = api.run(plan)
    assert summary.status == "done" and all(r.ok for r in summary.verify)
    types = dict(g.query(mysql_url2, "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
                                     "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'kept'"))
    assert types == COLUMNS
    extra = g.query(mysql_url2, "SELECT EXTRA FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                                "AND TABLE_NAME = 'kept' AND COLUMN_NAME = 'id'")
    assert extra == [("auto_increment",)]
    shown = "SELECT id, flags + 0, small, at, y, mood, tags, ratio, active, body, pic FROM kept ORDER BY id"
    assert g.query(mysql_url2, shown) == g.query(mysql_url, shown)
    geo = "SELECT ST_AsText(place), ST_SRID(place), ST_AsText(shape), ST_SRID(shape) FROM kept ORDER BY id"
    assert g.query(mysql_url2, geo) == g.query(mysql_url, geo) == [("POINT(1 2)", 0, "LINESTRING(0 0,3 4)", 3857),
                                                                 (None, None, None, None)]
    g.execute(mysql_url2, "UPDATE kept SET shape = ST_GeomFromText('LINESTRING(0 0, 3 4)', 4326) WHERE id = 1")
    assert [r.modified for r in api.verify(plan)] == [[(1,)]]      # the SRID is compared too


def test_a_plan_written_by_init_keeps_the_types_too(tmp_path, monkeypatch, mysql_url, mysql_url2, pg_url, pg_url2):
    """`ferry init` writes the neutral type of a kept column; the plan run as written keeps the column's own."""
    monkeypatch.chdir(tmp_path)
    g.execute(mysql_url, "CREATE TABLE t (id tinyint unsigned PRIMARY KEY, flags bit(16))")
    g.execute(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, doc json, host inet)")
    for source, target, query, want in [
        (mysql_url, mysql_url2, "SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS "
                                "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 't'",
         {"id": "tinyint(3) unsigned", "flags": "bit(16)"}),
        (pg_url, pg_url2, "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = 't'",
         {"id": "integer", "doc": "json", "host": "inet"})]:
        written = g.cli("init", "--source", source, "--target", target)
        assert written.exit_code == 0, written.output
        plan = tmp_path / f"{target.rsplit('/', 1)[1]}.yaml"
        plan.write_text(written.stdout)
        assert "kept (same engine)" in written.stdout
        ran = g.cli("run", str(plan))
        assert ran.exit_code == 0, ran.output
        assert dict(g.query(target, query)) == want


def test_sqlite_to_sqlite_keeps_declared_types(tmp_path, monkeypatch, sqlite_url2):
    """Chinook's NVARCHAR(200) and NUMERIC(10,2) stay as declared (the affinity follows the name)."""
    monkeypatch.chdir(tmp_path)
    summary = api.run(api.plan_from_urls(datasets.chinook_sqlite(tmp_path), sqlite_url2))
    assert summary.status == "done" and all(r.ok for r in summary.verify)
    with sqlite3.connect(g.sqlite_file(sqlite_url2)) as conn:
        declared = {name: kind for _, name, kind, *_ in conn.execute('PRAGMA table_info("Track")')}
    assert (declared["Name"], declared["UnitPrice"], declared["TrackId"]) == ("NVARCHAR(200)", "NUMERIC(10,2)",
                                                                            "INTEGER")
