"""Column transforms end to end: each plan runs (``ferry run``, whose validate
phase compares the target with the source *as transformed*) between real
databases, and the target values are read back through the plain drivers.

Pairs: SQLite -> SQLite, SQLite -> PostgreSQL, PostgreSQL -> MariaDB,
MariaDB -> PostgreSQL, PostgreSQL -> PostgreSQL (transformed tables stay on the
native COPY path, the transforms run in the source's ``COPY (SELECT ...)``).
"""

from __future__ import annotations

import pytest
import yaml

from tests.e2e import generate as g

PAIRS = [("sqlite_url", "sqlite_url2"), ("sqlite_url", "pg_url"), ("pg_url", "mysql_url"),
         ("mysql_url", "pg_url"), ("pg_url", "pg_url2")]
PEOPLE = [(1, " Ann ", "Lee  \t x", "ann@x.org", "A", 5, "abcdef"),
          (2, "bob", "Ray", "bob@y.org", "I", 70000, "zz"),
          (3, None, "Kim", None, None, -70000, None),
          (4, "Dee", "Doe", "dee@z.org", "X", None, "1234567890")]


def make_people(url: str) -> None:
    """Table ``people`` with the four rows of :data:`PEOPLE`."""
    q = "`" if g.engine(url) == "mysql" else '"'
    execute_rows = []
    for row in PEOPLE:
        vals = ", ".join("NULL" if v is None else str(v) if isinstance(v, int) else
                         "'" + v.replace("\t", "' || CHAR(9) || '") + "'" for v in row)
        execute_rows.append(vals)
    tab = {"sqlite": "char(9)", "postgresql": "chr(9)", "mysql": "CHAR(9)"}[g.engine(url)]
    rows = ", ".join(f"({r})" for r in execute_rows).replace("CHAR(9)", tab)
    if g.engine(url) == "mysql":
        rows = rows.replace("'Lee  ' || " + tab + " || ' x'", f"CONCAT('Lee  ', {tab}, ' x')")
    g.execute(url, f"CREATE TABLE people (id integer PRIMARY KEY, {q}first{q} varchar(40), "
                   f"{q}last{q} varchar(40), email varchar(80), status varchar(4), score integer, "
                   f"secret varchar(40))", f"INSERT INTO people VALUES {rows}")


def run_plan(tmp_path, source: str, target: str, table: dict, **options):
    """Write a plan copying ``people`` with mapping ``table`` and run it in-process."""
    plan = {"version": 1, "source": source, "target": target,
            "options": {"jobs": 1, "if_exists": "drop", **options}, "tables": [{"source": "people", **table}]}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return g.cli("run", str(path)), path


def pair_id(names: tuple[str, str]) -> str:
    """``sqlite->pg`` for ``("sqlite_url", "pg_url2")``."""
    return "->".join(n.split("_")[0] for n in names)


@pytest.fixture(params=PAIRS, ids=pair_id)
def pair(request):
    """(source URL with table people, empty target URL)."""
    source = request.getfixturevalue(request.param[0])
    target = request.getfixturevalue(request.param[1])
    make_people(source)
    return source, target


def test_rename_drop_add(pair, tmp_path):
    source, target = pair
    result, _ = run_plan(tmp_path, source, target, {"target": "persons", "columns": [
        {"name": "id"}, {"name": "first", "target": "given_name"}, {"name": "email", "drop": True},
        {"target": "origin", "default": "legacy"},
        {"target": "full_name", "type": "varchar(100)", "expression": "first || '/' || last"},
        {"target": "score2", "type": "bigint", "expression": "score * 2"}]})
    assert result.exit_code == 0, result.output
    got = g.rows(target, "persons", ("id", "given_name", "origin", "full_name", "score2"))
    assert got == [(1, " Ann ", "legacy", " Ann /Lee  \t x", 10), (2, "bob", "legacy", "bob/Ray", 140000),
                   (3, None, "legacy", None, -140000), (4, "Dee", "legacy", "Dee/Doe", None)]
    columns = _columns(target, "persons")
    assert "email" not in columns and "secret" not in columns and "first" not in columns
    native = g.engine(source) == g.engine(target) == "postgresql"
    assert ("transforms run in the source's COPY (native COPY, text)" in result.output) == native
    assert "row path instead of native COPY" not in result.output


def _columns(url: str, table: str) -> set[str]:
    if g.engine(url) == "sqlite":
        return {r[1] for r in g.query(url, f"PRAGMA table_info({table})")}
    return {r[0] for r in g.query(url, f"SELECT column_name FROM information_schema.columns "
                                       f"WHERE table_name = '{table}'")}


def test_value_transforms(pair, tmp_path):
    source, target = pair
    result, _ = run_plan(tmp_path, source, target, {"columns": [
        {"name": "id"}, {"name": "first", "trim": True, "upper": True},
        {"name": "last", "normalize_whitespace": True, "lower": True},
        {"name": "email", "null_default": "none"},
        {"name": "status", "type": "varchar(10)", "value_map": {"A": "active", "I": "inactive"}},
        {"name": "secret", "mask": {"first": 1, "last": 2}}]})
    assert result.exit_code == 0, result.output
    got = g.rows(target, "people", ("id", "first", "last", "email", "status", "secret"))
    assert got == [(1, "ANN", "lee x", "ann@x.org", "active", "a***ef"),
                   (2, "BOB", "ray", "bob@y.org", "inactive", "**"),
                   (3, None, "kim", "none", None, None),
                   (4, "DEE", "doe", "dee@z.org", "X", "1*******90")]


def test_cast_across_families(pair, tmp_path):
    """Integers become text (SQL CAST in the source) and decimals; verify passes."""
    source, target = pair
    result, _ = run_plan(tmp_path, source, target, {"columns": [
        {"name": "id"}, {"name": "score", "type": "varchar(20)"},
        {"name": "score", "target": "amount", "type": "decimal(12,2)"},
        {"name": "status", "target": "code", "type": "varchar(10)", "value_map": {"A": 1, "I": 2}}]})
    assert result.exit_code == 0, result.output
    got = g.rows(target, "people", ("id", "score", "amount", "code"))
    assert [(r[0], r[1], None if r[2] is None else float(r[2]), r[3]) for r in got] == [
        (1, "5", 5.0, "1"), (2, "70000", 70000.0, "2"), (3, "-70000", -70000.0, None), (4, None, None, "X")]
