"""The sample datasets on the engine pairs `test_datasets_migrate` leaves out:
every dataset leaves its own engine for each of the two others (and MariaDB
and SQLite for a second database of their own engine), each migration proven
by `verify` (run's own and a second one) and by an independent COUNT(*) per table."""

from __future__ import annotations

import pytest

from tests.e2e import datasets
from tests.e2e.test_datasets_migrate import migrate_and_prove, pagila_parents

SOURCES = {
    "employees-mariadb": datasets.on_server("mysql_url", datasets.load_employees_mysql),
    "employees-postgresql": datasets.on_server("pg_url", datasets.load_employees_pg),
    "employees-sqlite": datasets.from_file(datasets.employees_sqlite, datasets.EMPLOYEES_SQLITE_COUNTS),
    "chinook-mariadb": datasets.on_server("mysql_url", datasets.load_chinook_mysql),
    "chinook-sqlite": datasets.from_file(datasets.chinook_sqlite, datasets.CHINOOK_COUNTS),
    "northwind-mariadb": datasets.on_server("mysql_url", datasets.load_northwind_mysql),
    "northwind-postgresql": datasets.on_server("pg_url", datasets.load_northwind_pg),
    "northwind-sqlite": datasets.from_file(datasets.northwind_sqlite, datasets.NORTHWIND_SQLITE_COUNTS),
    "sakila-mariadb": datasets.on_server("mysql_url", datasets.load_sakila),
    "pagila-postgresql": datasets.on_server("pg_url", lambda url: pagila_parents(datasets.load_pagila(url))),
}
# (source, target fixture): the pairs test_datasets_migrate does not run (Chinook's are all
# in test_verify_datasets)
PAIRS = [
    ("employees-mariadb", "pg_url"), ("employees-mariadb", "sqlite_url2"), ("employees-mariadb", "mysql_url2"),
    ("employees-postgresql", "mysql_url"), ("employees-postgresql", "sqlite_url2"), ("employees-postgresql", "pg_url2"),
    ("employees-sqlite", "pg_url"), ("employees-sqlite", "mysql_url"), ("employees-sqlite", "sqlite_url2"),
    ("chinook-mariadb", "pg_url"), ("chinook-mariadb", "sqlite_url2"), ("chinook-sqlite", "mysql_url"),
    ("northwind-mariadb", "pg_url"), ("northwind-mariadb", "sqlite_url2"), ("northwind-mariadb", "mysql_url2"),
    ("northwind-postgresql", "sqlite_url2"), ("northwind-postgresql", "pg_url2"),
    ("northwind-sqlite", "pg_url"), ("northwind-sqlite", "mysql_url"), ("northwind-sqlite", "sqlite_url2"),
    ("sakila-mariadb", "sqlite_url2"), ("sakila-mariadb", "mysql_url2"), ("pagila-postgresql", "sqlite_url2"),
]


@pytest.mark.parametrize("source, target_fixture", PAIRS, ids=[f"{s}-to-{t.removesuffix('_url2').removesuffix('_url')}"
                                                                 for s, t in PAIRS])
def test_dataset_migrates_and_verifies(tmp_path, monkeypatch, source, target_fixture, request):
    url, expected = SOURCES[source](request, tmp_path)
    migrate_and_prove(url, request.getfixturevalue(target_fixture), expected, tmp_path, monkeypatch)


# rows the targets refuse in sqlite.db, each counted as a reject and never as missing: autoinc's
# three NULL primary keys, intege's 'toto' and 12.3 in an integer, stamps' bare integers in a DATETIME
SQLITE_DB_REJECTS = {"postgresql": {"autoinc": 3, "intege": 2, "stamps": 2},
                     "mysql": {"autoinc": 3, "intege": 1, "stamps": 2}, "sqlite": {"autoinc": 3}}


@pytest.mark.parametrize("name", sorted(datasets.PGLOADER_SQLITE_COUNTS))
@pytest.mark.parametrize("target_fixture", ["pg_url", "mysql_url", "sqlite_url2"])
def test_pgloader_sqlite_files_to_each_engine(tmp_path, monkeypatch, name, target_fixture, request):
    """Odd declared types, expression defaults (strftime('%Y-%m-%d %H:%M:%f', 'now'), DEFAULT 0 on
    a DATETIME, default "" in double quotes), NULL primary keys, base64 text in a BLOB column."""
    target = request.getfixturevalue(target_fixture)
    summary = migrate_and_prove(datasets.pgloader_sqlite(tmp_path, name), target,
                                datasets.PGLOADER_SQLITE_COUNTS[name], tmp_path, monkeypatch, max_rejects=10)
    rejects = {t.table.split(".")[-1]: t.rejects for t in summary.tables if t.rejects}
    engine = target.split(":")[0]
    assert rejects == (SQLITE_DB_REJECTS[engine] if name == "sqlite.db" else {})


@pytest.mark.parametrize("script", sorted(datasets.PGLOADER_MYSQL_COUNTS))
@pytest.mark.parametrize("target_fixture", ["pg_url", "sqlite_url2", "mysql_url2"])
def test_pgloader_mysql_scripts_to_each_engine(tmp_path, monkeypatch, mysql_url, script, target_fixture, request):
    """BIT(16) with a bit-value default, geometry, GBK text, unsigned types, a zero date default."""
    expected = datasets.load_pgloader_mysql(mysql_url, script)
    summary = migrate_and_prove(mysql_url, request.getfixturevalue(target_fixture), expected, tmp_path, monkeypatch)
    assert all(t.rejects == 0 for t in summary.tables)
