"""Whole migrations of the real sample datasets between engines, each proven by
`verify` and by an independent COUNT(*) per table with the plain drivers."""

from __future__ import annotations

import sqlite3

import pytest

from ferry import api
from ferry.secrets import parse_url
from tests.e2e import datasets


def independent_count(url: str, table: str) -> int:
    """COUNT(*) of ``table`` through the bare driver (not through ferry)."""
    u = parse_url(url)
    if u.engine == "sqlite":
        with sqlite3.connect(u.database) as conn:
            return conn.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0]
    if u.engine == "postgresql":
        import psycopg

        with psycopg.connect(host=u.host, port=u.port, user=u.user, dbname=u.database) as conn:
            return conn.execute(f'SELECT COUNT(*) FROM ONLY "{table}"').fetchone()[0]
    import MySQLdb

    conn = MySQLdb.connect(host=u.host, port=u.port, user=u.user, password=u.password, database=u.database)
    try:
        cur = conn.cursor()
        cur.execute(f"SELECT COUNT(*) FROM `{table}`")
        return cur.fetchone()[0]
    finally:
        conn.close()


EVERY_CHECK = "counts,checksum,sample,aggregates,not_null,unique,foreign_keys"


def migrate_and_prove(source: str, target: str, expected: dict[str, int], tmp_path, monkeypatch,
                      exclude=(), max_rejects=0) -> api.RunSummary:
    monkeypatch.chdir(tmp_path)
    plan = api.plan_from_urls(source, target, exclude=exclude, jobs=2, chunk_rows=2000, max_rejects=max_rejects)
    summary = api.run(plan)
    assert summary.status == "done"
    bad = [r.table for r in summary.verify if not r.ok]
    assert bad == [], f"verify found differences in {bad}"
    verified = {r.table.split(".")[-1] for r in summary.verify}
    assert verified >= {t for t in expected if expected[t] and not t.startswith("payment_p")} - set(exclude)
    rerun = api.verify(plan, checks=EVERY_CHECK)   # every check on an identical copy passes
    assert all(r.ok for r in rerun)
    failed = [(c.table, c.name, c.measured, c.detail) for c in rerun.checks
              if c.status != "pass" and not _reviewed(c, summary)]
    assert failed == []
    copied = {t.table.split(".")[-1]: t.rows + t.rejects for t in summary.tables}
    for table, rows in expected.items():
        if table in copied:
            assert copied[table] == rows, table
            assert independent_count(target, table) == rows - _rejects(summary, table), table
    return summary


def pagila_parents(expected: dict[str, int]) -> dict[str, int]:
    """Pagila's counts as a migration sees them: the partitioned ``payment`` holds its partitions' rows."""
    parents = {t: n for t, n in expected.items() if not t.startswith("payment_p")}
    parents["payment"] = sum(n for t, n in expected.items() if t.startswith("payment"))
    return parents


def _reviewed(check, summary) -> bool:
    """A check that needs a human for a stated reason: rejected rows (on the source
    only), or a table without key (no sample to draw, no checksum beside rejects)."""
    return check.status == "review" and (_rejects(summary, check.table.split(".")[-1]) > 0
                                         or "no key" in check.measured or "without key" in check.measured)


def _rejects(summary, table: str) -> int:
    return sum(t.rejects for t in summary.tables if t.table.split(".")[-1] == table)


def test_chinook_sqlite_to_sqlite(tmp_path, monkeypatch, sqlite_url2):
    source = datasets.chinook_sqlite(tmp_path)
    migrate_and_prove(source, sqlite_url2, datasets.CHINOOK_COUNTS, tmp_path, monkeypatch)


def test_chinook_sqlite_to_postgresql(tmp_path, monkeypatch, pg_url):
    source = datasets.chinook_sqlite(tmp_path)
    migrate_and_prove(source, pg_url, datasets.CHINOOK_COUNTS, tmp_path, monkeypatch)


def test_sakila_mariadb_to_postgresql(tmp_path, monkeypatch, mysql_url, pg_url):
    expected = datasets.load_sakila(mysql_url)
    summary = migrate_and_prove(mysql_url, pg_url, expected, tmp_path, monkeypatch)
    assert any("not migrated" in n for n in summary.notes), "views/triggers/routines must be reported"


def test_pagila_postgresql_to_postgresql(tmp_path, monkeypatch, pg_url, pg_url2):
    parents = pagila_parents(datasets.load_pagila(pg_url))
    migrate_and_prove(pg_url, pg_url2, parents, tmp_path, monkeypatch)


def test_northwind_postgresql_to_mariadb(tmp_path, monkeypatch, pg_url, mysql_url):
    expected = datasets.load_northwind_pg(pg_url)
    migrate_and_prove(pg_url, mysql_url, expected, tmp_path, monkeypatch)


@pytest.mark.parametrize("target_fixture", ["sqlite_url2", "mysql_url"])
def test_chinook_postgresql_to_others(tmp_path, monkeypatch, pg_url, target_fixture, request):
    expected = datasets.load_chinook_pg(pg_url)
    target = request.getfixturevalue(target_fixture)
    migrate_and_prove(pg_url, target, expected, tmp_path, monkeypatch)


def test_pagila_postgresql_to_mariadb(tmp_path, monkeypatch, pg_url, mysql_url):
    """Enums, domains, text[] (as JSON), a partitioned table and bytea into MariaDB."""
    parents = pagila_parents(datasets.load_pagila(pg_url))
    migrate_and_prove(pg_url, mysql_url, parents, tmp_path, monkeypatch)
