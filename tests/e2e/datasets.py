"""Load the real sample databases of ``shared/datasets`` into test databases.

Each ``load_*`` function takes the URL of an empty database (made by the
``pg_url`` / ``mysql_url`` fixtures of ``tests/conftest.py``), runs the
dataset's own SQL scripts into it with the engine's command-line client
(``psql`` with ``ON_ERROR_STOP``, ``mariadb`` which stops at the first error)
and returns the expected row count of every table, copied from the dataset's
``SOURCE.md`` (the documented truth, not recomputed).

The scripts name their own database (``CREATE DATABASE``, ``DROP SCHEMA``,
``USE sakila``, ``\\c chinook``, ``sakila.film`` in view bodies). They are
streamed through a small line filter that drops or rewrites those statements
so that everything lands in the fixture's database, and that inlines the files
they include (``source x.sql`` / ``\\i x.sql``).

PostgreSQL counts are of the rows stored in the table itself
(``SELECT count(*) FROM ONLY t``): a partitioned parent counts 0.

The datasets directory is ``$FERRY_DATASETS``, by default ``shared/datasets``
beside the repository.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from ferry.secrets import parse_url

SAKILA_COUNTS = {
    "actor": 200, "address": 603, "category": 16, "city": 600, "country": 109,
    "customer": 599, "film": 1000, "film_actor": 5462, "film_category": 1000,
    "film_text": 1000, "inventory": 4581, "language": 6, "payment": 16044,
    "rental": 16044, "staff": 2, "store": 2,
}
PAGILA_COUNTS = {
    "actor": 200, "address": 603, "category": 16, "city": 600, "country": 109,
    "customer": 599, "film": 1000, "film_actor": 5462, "film_category": 2367,
    "inventory": 4581, "language": 6, "payment": 0, "payment_p2022_01": 723,
    "payment_p2022_02": 2401, "payment_p2022_03": 2713, "payment_p2022_04": 2547,
    "payment_p2022_05": 2677, "payment_p2022_06": 2654, "payment_p2022_07": 2334,
    "rental": 16044, "staff": 1500, "store": 500,
}
CHINOOK_COUNTS = {
    "Album": 347, "Artist": 275, "Customer": 59, "Employee": 8, "Genre": 25,
    "Invoice": 412, "InvoiceLine": 2240, "MediaType": 5, "Playlist": 18,
    "PlaylistTrack": 8715, "Track": 3503,
}
CHINOOK_PG_COUNTS = {
    "album": 347, "artist": 275, "customer": 59, "employee": 8, "genre": 25,
    "invoice": 412, "invoice_line": 2240, "media_type": 5, "playlist": 18,
    "playlist_track": 8715, "track": 3503,
}
NORTHWIND_PG_COUNTS = {
    "categories": 8, "customer_customer_demo": 0, "customer_demographics": 0,
    "customers": 91, "employee_territories": 49, "employees": 9, "order_details": 2155,
    "orders": 830, "products": 77, "region": 4, "shippers": 6, "suppliers": 29,
    "territories": 53, "us_states": 51,
}
NORTHWIND_MYSQL_COUNTS = {
    "customers": 29, "employees": 9, "employee_privileges": 1,
    "inventory_transactions": 102, "inventory_transaction_types": 4, "invoices": 35,
    "orders": 48, "orders_status": 4, "orders_tax_status": 2, "order_details": 58,
    "order_details_status": 6, "privileges": 1, "products": 45, "purchase_orders": 28,
    "purchase_order_details": 55, "purchase_order_status": 4, "sales_reports": 5,
    "shippers": 3, "strings": 62, "suppliers": 10,
}
NORTHWIND_SQLITE_COUNTS = {
    "Categories": 8, "CustomerCustomerDemo": 0, "CustomerDemographics": 0,
    "Customers": 93, "EmployeeTerritories": 49, "Employees": 9, "Order Details": 2155,
    "Orders": 830, "Products": 77, "Regions": 4, "Shippers": 3, "Suppliers": 29,
    "Territories": 53,
}
EMPLOYEES_MYSQL_COUNTS = {
    "employee": 10000, "department": 9, "dept_emp": 11051, "dept_manager": 24,
    "title": 14782, "salary": 94917,
}
EMPLOYEES_PG_COUNTS = {**EMPLOYEES_MYSQL_COUNTS, "audit": 0}
# the shipped 1,000-employee SQLite file, with the upstream checksum run's leftover tables
EMPLOYEES_SQLITE_COUNTS = {
    "employee": 1000, "department": 9, "dept_emp": 1103, "dept_manager": 16,
    "title": 1470, "salary": 9488, "expected_value": 6, "found_value": 0, "tchecksum": 0,
}

# pgloader's edge-case files (pgloader-testdata/SOURCE.md, "Observed row counts")
PGLOADER_SQLITE_COUNTS = {
    "sqlite.db": {"TableName": 0, "appointments": 0, "autoinc": 3, "blobs": 1, "character": 4, "currentdate": 1,
                  "datetime_default": 3, "def": 2, "double": 1, "intege": 3, "ints": 3, "item": 2, "long": 2,
                  "reals": 3, "references": 0, "stamps": 3, "t548": 0, "typenames": 0, "unsigned": 2, "user": 4},
    "storage.sqlite": {"auth_cas": 0, "auth_event": 15, "auth_group": 5, "auth_membership": 6,
                       "auth_permission": 0, "auth_user": 3, "config": 3, "config_category": 1, "files": 2},
    "test_pk.db": {"division": 0, "division_kind": 0},
}
PGLOADER_MYSQL_COUNTS = {
    "my.sql": {"base64": 1, "bits": 2, "CamelCase": 0, "countdata_template": 2, "domain_filter": 0, "empty": 0,
               "encryption_key_canary": 1, "fcm_batches": 1, "funny_string": 1, "geom": 1, "onupdate": 0,
               "pgloader_test_unsigned": 1, "propertydecimal": 0, "races": 0,
               "utilisateurs__Yvelines2013-06-28": 0, "uw_defined_meaning": 0},
    "hex.sql": {"encryption_key_canary": 1},
    "history.sql": {"history": 0},
    "f1db.circuits.my.sql": {"circuits": 73},
}


class DatasetLoadError(RuntimeError):
    """A dataset script failed to load; the message holds the client's error output."""


def datasets_dir() -> Path:
    """The sample datasets directory (``$FERRY_DATASETS`` or ``shared/datasets``)."""
    default = Path(__file__).resolve().parents[3] / "shared" / "datasets"
    path = Path(os.environ.get("FERRY_DATASETS") or default)
    if not (path / "README.md").is_file():
        raise FileNotFoundError(f"sample datasets not found in {path}: "
                                "set FERRY_DATASETS to the shared/datasets directory")
    return path


def dataset_file(*parts: str) -> Path:
    """Path of one file of the datasets directory; it must exist."""
    path = datasets_dir().joinpath(*parts)
    if not path.is_file():
        raise FileNotFoundError(f"dataset file missing: {path}")
    return path


# --- MySQL / MariaDB -------------------------------------------------------------

_MY_CREATE_DB = re.compile(
    rb"^\s*CREATE\s+(?:DATABASE|SCHEMA)\s+(?:IF\s+NOT\s+EXISTS\s+)?(?:`[^`]+`|\w+)\s*(.*?)\s*;\s*$",
    re.IGNORECASE)
_MY_DROP_DB = re.compile(rb"^\s*DROP\s+(?:DATABASE|SCHEMA)\b[^;]*;\s*$", re.IGNORECASE)
_MY_USE = re.compile(rb"^\s*USE\s+(?:`[^`]+`|\w+)\s*;\s*$", re.IGNORECASE)
_MY_SOURCE = re.compile(rb"^\s*(?:source|\\\.)\s+(\S+?)\s*;?\s*$", re.IGNORECASE)
_MY_FLUSH = re.compile(rb"^\s*FLUSH\b[^;]*;\s*$", re.IGNORECASE)
# scripts only the original load prints: timing of the load, read back by schema name
_MY_SKIPPED_SOURCES = {b"show_elapsed.sql"}


def mysql_script_lines(path: Path, database: str, own_names: Iterable[str] = ()) -> Iterator[bytes]:
    """Lines of the MySQL script ``path``, retargeted at ``database``.

    ``CREATE DATABASE x <options>`` becomes ``ALTER DATABASE <database> <options>``
    (dropped when there are no options), ``DROP DATABASE`` and ``FLUSH`` are dropped,
    ``USE x`` names ``database``, ``source f.sql`` is inlined, and ``name.`` qualifiers
    for each of ``own_names`` are rewritten to the target database.
    """
    target = database.replace("`", "``").encode()
    qualifier = _qualifier_pattern(own_names)
    with open(path, "rb") as handle:
        for line in handle:
            yield from _mysql_line(line, path, database, own_names, target, qualifier)


def _mysql_line(line, path, database, own_names, target, qualifier) -> Iterator[bytes]:
    if _MY_DROP_DB.match(line) or _MY_FLUSH.match(line):
        return
    if m := _MY_CREATE_DB.match(line):
        if m.group(1):
            yield b"ALTER DATABASE `" + target + b"` " + m.group(1) + b";\n"
        return
    if _MY_USE.match(line):
        yield b"USE `" + target + b"`;\n"
    elif m := _MY_SOURCE.match(line):
        if m.group(1) not in _MY_SKIPPED_SOURCES:
            yield from mysql_script_lines(path.parent / m.group(1).decode(), database, own_names)
    else:
        yield qualifier.sub(b"`" + target + b"`.", line) if qualifier else line


def _qualifier_pattern(names: Iterable[str]) -> re.Pattern[bytes] | None:
    alternatives = b"|".join(re.escape(n.encode()) for n in names)
    if not alternatives:
        return None
    return re.compile(rb"(?<![\w.@`])`?(?:" + alternatives + rb")`?\.(?=[`\w])")


def run_mysql(url: str, lines: Iterable[bytes]) -> None:
    """Stream ``lines`` into the ``mariadb`` client connected to ``url``'s database."""
    u = parse_url(url)
    client = shutil.which("mariadb") or shutil.which("mysql")
    if client is None:
        raise DatasetLoadError("the mariadb client is missing: apt-get install mariadb-client")
    cmd = [client, "--no-defaults", "--protocol=TCP", "-h", u.host, "-P", str(u.port),
           "-u", u.user, "--default-character-set=utf8mb4", u.database]
    env = {**os.environ, "MYSQL_PWD": u.password} if u.password else None
    _stream(cmd, lines, env)


# --- PostgreSQL ------------------------------------------------------------------

_PG_DB_DDL = re.compile(rb"^\s*(?:CREATE|DROP)\s+DATABASE\b[^;]*;\s*$", re.IGNORECASE)
_PG_CONNECT = re.compile(rb"^\s*\\(?:c|connect)(?:\s|$)")
_PG_INCLUDE = re.compile(rb"^\s*\\(?:i|ir|include|include_relative)\s+(\S+)\s*$")


def psql_script_lines(path: Path) -> Iterator[bytes]:
    """Lines of the psql script ``path`` with ``CREATE/DROP DATABASE`` and ``\\c``
    dropped and ``\\i file`` inlined (relative to the including file)."""
    with open(path, "rb") as handle:
        for line in handle:
            if _PG_DB_DDL.match(line) or _PG_CONNECT.match(line):
                continue
            if m := _PG_INCLUDE.match(line):
                yield from psql_script_lines(path.parent / m.group(1).decode())
            else:
                yield line


def run_psql(url: str, lines: Iterable[bytes]) -> None:
    """Stream ``lines`` into ``psql`` connected to ``url``; stop at the first error."""
    u = parse_url(url)
    client = shutil.which("psql")
    if client is None:
        raise DatasetLoadError("the psql client is missing: apt-get install postgresql-client")
    cmd = [client, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", u.host, "-p", str(u.port),
           "-U", u.user, "-d", u.database]
    env = {**os.environ, "PGCLIENTENCODING": "UTF8"}
    if u.password:
        env["PGPASSWORD"] = u.password
    _stream(cmd, lines, env)


def _stream(cmd: list[str], lines: Iterable[bytes], env: dict | None) -> None:
    with tempfile.TemporaryFile() as errors:
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=errors, env=env)
        try:
            for line in lines:
                proc.stdin.write(line)
            proc.stdin.close()
        except BrokenPipeError:
            pass  # the client stopped at an error: reported below
        if proc.wait() != 0:
            errors.seek(0)
            tail = errors.read()[-4000:].decode("utf-8", "replace")
            raise DatasetLoadError(f"{Path(cmd[0]).name} exited with {proc.returncode}:\n{tail}")


# --- the datasets ------------------------------------------------------------------

def load_sakila(mysql_url: str) -> dict[str, int]:
    """Sakila 1.5 (schema, data, views, triggers, routines) into ``mysql_url``."""
    db = parse_url(mysql_url).database
    for name in ("sakila-schema.sql", "sakila-data.sql"):
        run_mysql(mysql_url, mysql_script_lines(dataset_file("sakila", name), db, ["sakila"]))
    return dict(SAKILA_COUNTS)


def load_pagila(pg_url: str) -> dict[str, int]:
    """Pagila (pg_dump schema, then COPY data) into ``pg_url``."""
    for name in ("pagila-schema.sql", "pagila-data.sql"):
        run_psql(pg_url, psql_script_lines(dataset_file("pagila", name)))
    return dict(PAGILA_COUNTS)


def load_chinook_pg(pg_url: str) -> dict[str, int]:
    """Chinook (plain INT keys, snake_case names) into ``pg_url``."""
    run_psql(pg_url, psql_script_lines(dataset_file("chinook", "Chinook_PostgreSql.sql")))
    return dict(CHINOOK_PG_COUNTS)


def load_chinook_mysql(mysql_url: str) -> dict[str, int]:
    """Chinook (explicit ids, PascalCase names) into ``mysql_url``."""
    db = parse_url(mysql_url).database
    run_mysql(mysql_url, mysql_script_lines(dataset_file("chinook", "Chinook_MySql.sql"), db))
    return dict(CHINOOK_COUNTS)


def _sqlite_copy(tmp_path: Path, name: str, *parts: str) -> str:
    """URL of a writable copy, ``tmp_path/name``, of the dataset file ``parts``."""
    target = Path(tmp_path) / name
    shutil.copyfile(dataset_file(*parts), target)
    return f"sqlite:///{target}"


def chinook_sqlite(tmp_path: Path) -> str:
    """URL of a writable copy of ``Chinook_Sqlite.sqlite`` in ``tmp_path``
    (expected counts: :data:`CHINOOK_COUNTS`)."""
    return _sqlite_copy(tmp_path, "chinook.sqlite", "chinook", "Chinook_Sqlite.sqlite")


def employees_sqlite(tmp_path: Path) -> str:
    """URL of a writable copy of the 1,000-employee SQLite subset (:data:`EMPLOYEES_SQLITE_COUNTS`)."""
    return _sqlite_copy(tmp_path, "employee.db", "employees", "sqlite", "employee.db")


def load_northwind_pg(pg_url: str) -> dict[str, int]:
    """Northwind (classic schema, pthom port) into ``pg_url``."""
    run_psql(pg_url, psql_script_lines(dataset_file("northwind", "postgres", "northwind.sql")))
    return dict(NORTHWIND_PG_COUNTS)


def load_northwind_mysql(mysql_url: str) -> dict[str, int]:
    """Northwind 2007 (MyWind, Access 2010 schema; a different schema) into ``mysql_url``."""
    db = parse_url(mysql_url).database
    for name in ("northwind.sql", "northwind-data.sql"):
        path = dataset_file("northwind", "mysql", name)
        run_mysql(mysql_url, mysql_script_lines(path, db, ["northwind"]))
    return dict(NORTHWIND_MYSQL_COUNTS)


def northwind_sqlite(tmp_path: Path) -> str:
    """URL of a SQLite file built from the Northwind ``create.sql`` (expected counts:
    :data:`NORTHWIND_SQLITE_COUNTS`)."""
    target = Path(tmp_path) / "northwind.sqlite"
    script = dataset_file("northwind", "sqlite", "create.sql").read_text(encoding="utf-8")
    conn = sqlite3.connect(target)
    try:
        # one INSERT per row and no transaction: skip the per-statement fsync
        conn.execute("PRAGMA synchronous = OFF")
        conn.executescript(script)
    finally:
        conn.close()
    return f"sqlite:///{target}"


def load_employees_pg(pg_url: str) -> dict[str, int]:
    """Employees, 10,000-employee subset (with the RLS ``audit`` table) into ``pg_url``."""
    run_psql(pg_url, psql_script_lines(dataset_file("employees", "postgres", "employee.sql")))
    return dict(EMPLOYEES_PG_COUNTS)


def load_employees_mysql(mysql_url: str) -> dict[str, int]:
    """Employees, 10,000-employee subset, with its views and routines, into ``mysql_url``."""
    db = parse_url(mysql_url).database
    for name in ("employee.sql", "object.sql"):
        run_mysql(mysql_url, mysql_script_lines(dataset_file("employees", "mysql", name), db))
    return dict(EMPLOYEES_MYSQL_COUNTS)


def load_pgloader_mysql(mysql_url: str, script: str) -> dict[str, int]:
    """One of pgloader's MySQL edge-case scripts (:data:`PGLOADER_MYSQL_COUNTS`) into ``mysql_url``."""
    db = parse_url(mysql_url).database
    run_mysql(mysql_url, mysql_script_lines(dataset_file("pgloader-testdata", "mysql", script), db))
    return dict(PGLOADER_MYSQL_COUNTS[script])


def pgloader_sqlite(tmp_path: Path, name: str) -> str:
    """URL of a writable copy of one of pgloader's SQLite edge-case files (:data:`PGLOADER_SQLITE_COUNTS`)."""
    return _sqlite_copy(tmp_path, name, "pgloader-testdata", "sqlite", name)


def on_server(fixture: str, load):
    """A test's source: ``make(request, tmp_path) -> (url, expected counts)``
    loading a dataset with ``load`` into a fresh database of ``fixture``."""
    def make(request, tmp_path):
        url = request.getfixturevalue(fixture)
        return url, load(url)
    return make


def from_file(url_of, counts: dict):
    """A test's source, as :func:`on_server`, that is a copy of a dataset's SQLite file (``url_of(tmp_path)``)."""
    return lambda request, tmp_path: (url_of(tmp_path), dict(counts))
