"""Shared fixtures: real database servers, one fresh database per test.

Servers are found through the environment (defaults in brackets):
``FERRY_TEST_PG_URL`` [postgresql://postgres@127.0.0.1:5432/postgres] and
``FERRY_TEST_MYSQL_URL`` [mysql://root@127.0.0.1:3306/mysql]. A test that needs a
server that does not answer fails (it is never skipped): ``scripts/test``
starts throwaway servers when none answer.
"""

from __future__ import annotations

import os
import uuid

import pytest

PG_ADMIN_URL = os.environ.get("FERRY_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
MYSQL_ADMIN_URL = os.environ.get("FERRY_TEST_MYSQL_URL", "mysql://root@127.0.0.1:3306/mysql")


def _with_db(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _pg_admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


def _mysql_admin(sql: str) -> None:
    import MySQLdb

    from ferry.secrets import parse_url

    u = parse_url(MYSQL_ADMIN_URL)
    conn = MySQLdb.connect(host=u.host, port=u.port, user=u.user, password=u.password)
    try:
        conn.cursor().execute(sql)
    finally:
        conn.close()


def fresh_name(prefix: str = "ferry_t") -> str:
    """A random database name, safe on every engine."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


def _fresh_pg():
    name = fresh_name()
    _pg_admin(f'CREATE DATABASE "{name}"')
    yield _with_db(PG_ADMIN_URL, name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _fresh_mysql():
    name = fresh_name()
    _mysql_admin(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    yield _with_db(MYSQL_ADMIN_URL, name)
    _mysql_admin(f"DROP DATABASE IF EXISTS `{name}`")


@pytest.fixture
def pg_url():
    """URL of a new, empty PostgreSQL database, dropped after the test."""
    yield from _fresh_pg()


@pytest.fixture
def pg_url2(pg_url):
    """A second new PostgreSQL database (for PostgreSQL -> PostgreSQL)."""
    yield from _fresh_pg()


@pytest.fixture
def mysql_url():
    """URL of a new, empty MariaDB/MySQL database, dropped after the test."""
    yield from _fresh_mysql()


@pytest.fixture
def mysql_url2(mysql_url):
    """A second new MariaDB/MySQL database (for MySQL -> MySQL)."""
    yield from _fresh_mysql()


@pytest.fixture
def sqlite_url(tmp_path):
    """URL of a new SQLite file in the test's temporary directory."""
    return f"sqlite:///{tmp_path / 'ferry_test.db'}"


@pytest.fixture
def sqlite_url2(tmp_path):
    """A second SQLite file."""
    return f"sqlite:///{tmp_path / 'ferry_test2.db'}"


@pytest.fixture(params=["sqlite", "postgresql", "mysql"])
def any_url(request):
    """A fresh database URL on each engine in turn."""
    return request.getfixturevalue({"sqlite": "sqlite_url", "postgresql": "pg_url",
                                    "mysql": "mysql_url"}[request.param])
