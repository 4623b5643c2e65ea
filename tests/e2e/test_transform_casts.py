"""Casts with ``on_invalid``, ``hash``, ``filter`` and plans refused before any
data moves, end to end on real databases (see test_transform_columns)."""

from __future__ import annotations

import hashlib

import pytest

from ferry.connectors import open_connector
from ferry.plan.loader import load_plan
from ferry.transform.mapping import resolve
from tests.e2e import generate as g
from tests.e2e.test_transform_columns import PAIRS, PEOPLE, make_people, pair, pair_id, run_plan  # noqa: F401

TO_SERVER = [p for p in PAIRS if p[1] != "sqlite_url2"]


def events(plan_path, kind: str) -> list[str]:
    """The data of the journal's ``kind`` events (JSON text)."""
    journal = plan_path.with_name("plan.state.db")
    return [r[0] for r in g.journal_query(journal, "SELECT data FROM events WHERE kind = ?", (kind,))]


@pytest.mark.parametrize("names", TO_SERVER, ids=pair_id)
def test_cast_clamp_and_null(names, request, tmp_path):
    source, target = (request.getfixturevalue(n) for n in names)
    make_people(source)
    result, path = run_plan(tmp_path, source, target, {"columns": [
        {"name": "id"}, {"name": "score", "type": "smallint", "on_invalid": "clamp"},
        {"name": "score", "target": "score_or_null", "type": "smallint", "on_invalid": "null"},
        {"name": "secret", "type": "varchar(5)", "on_invalid": "clamp"},
        {"name": "email", "type": "varchar(9)", "on_invalid": "null"}]})
    assert result.exit_code == 0, result.output
    got = g.rows(target, "people", ("id", "score", "score_or_null", "secret", "email"))
    assert got == [(1, 5, 5, "abcde", "ann@x.org"), (2, 32767, None, "zz", "bob@y.org"),
                   (3, -32768, None, None, None), (4, None, None, "12345", "dee@z.org")]
    assert "people.score: 2 value(s) values clamped to smallint" in result.output
    assert "people.score_or_null: 2 value(s)" in result.output
    assert any('"values": 2' in e and "secret" in e for e in events(path, "TransformCounted"))


@pytest.mark.parametrize("names", TO_SERVER + [("sqlite_url", "sqlite_url2")], ids=pair_id)
def test_cast_reject(names, request, tmp_path):
    source, target = (request.getfixturevalue(n) for n in names)
    make_people(source)
    table = {"columns": [{"name": "id"}, {"name": "secret", "type": "varchar(4)", "on_invalid": "reject"}]}
    result, path = run_plan(tmp_path, source, target, table)
    assert result.exit_code == 1 and "2 row(s) rejected" in result.output
    result, path = run_plan(tmp_path, source, target, table, max_rejects=2)
    assert result.exit_code == 0, result.output
    assert g.rows(target, "people", ("id", "secret")) == [(2, "zz"), (3, None)]


@pytest.mark.parametrize("names", [("pg_url", "mysql_url"), ("mysql_url", "pg_url"),
                                   ("sqlite_url", "sqlite_url2"), ("sqlite_url", "pg_url")], ids=pair_id)
def test_hash(names, request, tmp_path):
    source, target = (request.getfixturevalue(n) for n in names)
    make_people(source)
    result, _ = run_plan(tmp_path, source, target, {"columns": [{"name": "id"}, {"name": "email", "hash": True}]})
    assert result.exit_code == 0, result.output
    want = [(r[0], None if r[3] is None else hashlib.md5(r[3].encode()).hexdigest()) for r in PEOPLE]
    assert g.rows(target, "people", ("id", "email")) == want


def test_filter(pair, tmp_path):
    """Rows outside the filter are not copied, counted once and journaled; the
    source as transformed (``read``, ``source_where``) equals the target."""
    source, target = pair
    result, path = run_plan(tmp_path, source, target, {"filter": "score > 0 OR status = 'X'", "columns": [
        {"name": "id"}, {"name": "status"}]})
    assert result.exit_code == 0, result.output
    assert g.rows(target, "people", ("id", "status")) == [(1, "A"), (2, "I"), (4, "X")]
    assert "people: 1 row(s) left out by the plan's filter" in result.output
    assert any('"rows": 1' in e for e in events(path, "TransformCounted"))
    plan = load_plan(path)
    src, tgt = open_connector(plan.source, read_only=True), open_connector(plan.target, read_only=True)
    try:
        (table,) = resolve(plan, src.introspect(), src.dialect, tgt.dialect)
        assert src.count(table.source, where=table.source_where) == tgt.count(table.target) == 3
        assert src.checksum(table.read) == tgt.checksum(table.hash_target)
    finally:
        src.close()
        tgt.close()


def test_plan_refused_with_every_problem(pair, tmp_path):
    source, target = pair
    result, _ = run_plan(tmp_path, source, target, {"filter": "nope = 1", "columns": [
        {"name": "id", "upper": True}, {"name": "ghost"}, {"name": "score", "type": "wibble(3)"},
        {"target": "x", "type": "text", "expression": "first || missing_col"},
        {"name": "status", "expression": "SELECT 1"}]})
    assert result.exit_code == 2, result.output
    for problem in ("no column 'ghost'", "'missing_col'", "'nope'", "wibble", "key column 'id' cannot be "
                    "transformed", "not a statement"):
        assert problem in result.output, (problem, result.output)
    assert "people" not in _tables(target)


def _tables(url: str) -> set[str]:
    if g.engine(url) == "sqlite":
        return {r[0] for r in g.query(url, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    schema = "public" if g.engine(url) == "postgresql" else url.rsplit("/", 1)[1]
    return {r[0] for r in g.query(url, "SELECT table_name FROM information_schema.tables "
                                       f"WHERE table_schema = '{schema}'")}


def test_source_refusing_a_transform_stops_before_any_data_moves(pair, tmp_path):
    """The compiled reads are tried with LIMIT 0 in preflight: an unknown function
    (every engine) and mismatched CASE types (PostgreSQL) are plan problems."""
    source, target = pair
    columns = [{"name": "id"}, {"target": "x", "type": "text", "expression": "no_such_function(first)"}]
    if g.engine(source) == "postgresql":
        columns.append({"target": "y", "type": "text", "expression": "CASE WHEN score > 0 THEN 'pos' ELSE score END"})
    result, _ = run_plan(tmp_path, source, target, {"columns": columns})
    assert result.exit_code == 2, result.output
    assert "people: the source refuses the transformed read" in result.output
    assert "no_such_function" in result.output.lower()
    assert "started phase schema" not in result.output and "people" not in _tables(target)
