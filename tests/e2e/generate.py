"""Build test source databases of N rows fast, and look at databases directly.

The ``items`` table has the same shape and the same rows on every engine, so a
copy between any two engines can be compared value by value::

    id     integer primary key   1..N
    grp    integer not null      id % 97
    label  varchar(40) not null  'item-<id>'
    note   text, nullable        NULL when id % 10 = 0, else 'note <id*7 % 1000>' (+ ' é' when odd)

Rows are generated inside each database (a recursive CTE on SQLite,
``generate_series`` on PostgreSQL, the Sequence engine's ``seq_1_to_N`` on
MariaDB), so 300,000 rows take well under a second.

Every check here uses the engine's own driver (``sqlite3``, ``psycopg``,
``MySQLdb``), never ferry's connectors, so the tests do not trust the code they
test. :func:`ferry_cli` runs the ``ferry`` command in a subprocess.
"""

from __future__ import annotations

import glob
import os
import sqlite3
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner

from ferry.cli import main as ferry_main
from ferry.secrets import parse_url

ITEMS_COLUMNS = ("id", "grp", "label", "note")

_SQLITE_ITEMS = """CREATE TABLE items (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL,
  label VARCHAR(40) NOT NULL, note TEXT)"""
_SQLITE_FILL = """WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?)
INSERT INTO items SELECT i, i % 97, 'item-' || i,
  CASE WHEN i % 10 = 0 THEN NULL ELSE 'note ' || (i * 7 % 1000) || CASE WHEN i % 2 = 1 THEN ' é' ELSE '' END END
FROM s"""
_PG_ITEMS = """CREATE TABLE items (id integer PRIMARY KEY, grp integer NOT NULL,
  label varchar(40) NOT NULL, note text)"""
_PG_FILL = """INSERT INTO items SELECT i, i % 97, 'item-' || i,
  CASE WHEN i % 10 = 0 THEN NULL ELSE 'note ' || (i * 7 % 1000) || CASE WHEN i % 2 = 1 THEN ' é' ELSE '' END END
FROM generate_series(1, {n}) AS i"""
_MYSQL_ITEMS = """CREATE TABLE items (id int PRIMARY KEY, grp int NOT NULL,
  label varchar(40) NOT NULL, note text) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4"""
_MYSQL_FILL = """INSERT INTO items SELECT seq, seq % 97, CONCAT('item-', seq),
  CASE WHEN seq % 10 = 0 THEN NULL ELSE CONCAT('note ', seq * 7 % 1000, IF(seq % 2 = 1, ' é', '')) END
FROM seq_1_to_{n}"""


# -- raw connections ---------------------------------------------------------------
def engine(url: str) -> str:
    """``postgresql``, ``mysql`` or ``sqlite``."""
    return parse_url(url).engine


@contextmanager
def connect(url: str):
    """A driver connection (autocommit) to ``url``; closed on exit."""
    u = parse_url(url)
    if u.engine == "sqlite":
        conn = sqlite3.connect(u.database, isolation_level=None)
    elif u.engine == "postgresql":
        import psycopg

        conn = psycopg.connect(host=u.host, port=u.port, user=u.user, password=u.password or None,
                               dbname=u.database, autocommit=True)
    else:
        import MySQLdb

        conn = MySQLdb.connect(host=u.host, port=u.port, user=u.user, password=u.password,
                               database=u.database, charset="utf8mb4", autocommit=True)
    try:
        yield conn
    finally:
        conn.close()


def execute(url: str, *statements: str) -> None:
    """Run statements (no parameters) on ``url``."""
    with connect(url) as conn:
        cur = conn.cursor()
        for sql in statements:
            cur.execute(sql)


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    """All rows of ``sql`` (parameters in the driver's style: ``?`` for SQLite, ``%s`` else)."""
    with connect(url) as conn:
        cur = conn.cursor()
        cur.execute(sql, params or None) if engine(url) == "mysql" else cur.execute(sql, params)
        return [tuple(r) for r in cur.fetchall()]


def _q(url: str, name: str) -> str:
    return f"`{name}`" if engine(url) == "mysql" else f'"{name}"'


def count(url: str, table: str) -> int:
    """COUNT(*) of ``table``."""
    return query(url, f"SELECT COUNT(*) FROM {_q(url, table)}")[0][0]


def duplicate_keys(url: str, table: str, key: str = "id") -> int:
    """How many key values occur more than once (0 when the key is unique)."""
    k = _q(url, key)
    sql = f"SELECT COUNT(*) FROM (SELECT {k} FROM {_q(url, table)} GROUP BY {k} HAVING COUNT(*) > 1) d"
    return query(url, sql)[0][0]


def rows(url: str, table: str, columns=ITEMS_COLUMNS, key: str = "id") -> list[tuple]:
    """Every row of ``table`` in key order, as Python values."""
    cols = ", ".join(_q(url, c) for c in columns)
    return query(url, f"SELECT {cols} FROM {_q(url, table)} ORDER BY {_q(url, key)}")


# -- sources -------------------------------------------------------------------------
def make_items(url: str, n: int) -> None:
    """Create table ``items`` with ``n`` rows (see the module docstring) in ``url``."""
    kind = engine(url)
    if kind == "sqlite":
        with connect(url) as conn:
            conn.execute(_SQLITE_ITEMS)
            conn.execute("BEGIN")
            conn.execute(_SQLITE_FILL, (n,))
            conn.execute("COMMIT")
    elif kind == "postgresql":
        with connect(url) as conn:
            conn.execute(_PG_ITEMS)
            conn.execute(_PG_FILL.format(n=int(n)))
            conn.execute("ANALYZE items")
    else:
        execute(url, _MYSQL_ITEMS, _MYSQL_FILL.format(n=int(n)), "ANALYZE TABLE items")


def make_keyless(url: str, n: int) -> None:
    """Create table ``events_log`` (no primary key: ``seq``, ``msg``) with ``n`` rows,
    every row twice when ``seq`` is a multiple of 1000 (duplicates a keyless table may hold)."""
    kind = engine(url)
    create = "CREATE TABLE events_log (seq integer NOT NULL, msg varchar(30))"
    if kind == "sqlite":
        fill = ("WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n}) "
                "INSERT INTO events_log SELECT i, 'event ' || i FROM s")
    elif kind == "postgresql":
        fill = "INSERT INTO events_log SELECT i, 'event ' || i FROM generate_series(1, {n}) AS i"
    else:
        fill = "INSERT INTO events_log SELECT seq, CONCAT('event ', seq) FROM seq_1_to_{n}"
    dup = "INSERT INTO events_log SELECT seq, msg FROM events_log WHERE seq % 1000 = 0"
    execute(url, create, fill.format(n=int(n)), dup)


def expected_item(i: int) -> tuple:
    """Row ``i`` of ``items`` as Python computes it (the reference for spot checks)."""
    note = None if i % 10 == 0 else f"note {i * 7 % 1000}" + (" é" if i % 2 == 1 else "")
    return (i, i % 97, f"item-{i}", note)


def sqlite_file(url: str) -> str:
    """The file path of a ``sqlite:///`` URL."""
    return parse_url(url).database


# -- the ferry command ---------------------------------------------------------------
def ferry_env(**extra: str) -> dict[str, str]:
    """The environment for a ``ferry`` subprocess: this one plus ``extra``."""
    env = dict(os.environ)
    env.update({k: str(v) for k, v in extra.items()})
    env.setdefault("COLUMNS", "200")
    return env


def ferry_cmd(*args: str) -> list[str]:
    """The argv running ``ferry args...`` with this interpreter."""
    return [sys.executable, "-m", "ferry.cli", *args]


def ferry_cli(*args: str, cwd: str | Path, timeout: float = 120, **env: str) -> subprocess.CompletedProcess:
    """Run ``ferry args...`` in ``cwd`` to its end; stdout and stderr captured as text."""
    return subprocess.run(ferry_cmd(*args), cwd=str(cwd), env=ferry_env(**env), capture_output=True,
                          text=True, timeout=timeout)


def journal_file(cwd: str | Path) -> Path | None:
    """The journal of a URL run started in ``cwd`` (``.ferry/<hash>.state.db``), or None."""
    found = glob.glob(str(Path(cwd) / ".ferry" / "*.state.db"))
    return Path(found[0]) if len(found) == 1 else None


def journal_query(path: str | Path, sql: str, params: tuple = ()) -> list[tuple]:
    """Read the journal (read-only; safe while a run writes it)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def chunk_states(path: str | Path) -> dict[str, int]:
    """Copy actions of the newest run by status (``planned``, ``started``, ``done``, ...)."""
    try:
        found = journal_query(path, "SELECT status, COUNT(*) FROM actions WHERE phase = 'copy' AND run_id = "
                                    "(SELECT id FROM runs ORDER BY started DESC LIMIT 1) GROUP BY status")
    except sqlite3.OperationalError:  # the run has not created its tables yet
        return {}
    return dict(found)


def cli(*args: str):
    """Run ``ferry args...`` inside this process (click's test runner): the same
    command code without a new interpreter's start-up time. Returns the click
    result (``exit_code``, ``stdout``, ``stderr``, ``output``)."""
    return CliRunner().invoke(ferry_main, list(args), catch_exceptions=False)
