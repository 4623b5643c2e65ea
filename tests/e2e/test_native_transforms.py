"""PostgreSQL -> PostgreSQL tables with transforms stay on the native COPY path.

The transforms (rename, cast, expression column, filter) run in the source's
``COPY (SELECT ...) TO STDOUT``; the journal's ``CopyPath`` event says which
path each table took. The same plan run with ``options.native_copy: false``
(the row path) must give identical target rows, and ``ferry verify`` must
pass on both. A value the target refuses sends its chunk back to the row
path, which isolates the reject (``NativeCopyRefused`` event).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from tests.e2e import generate as g

ACCOUNTS = ("CREATE TABLE accounts (aid integer PRIMARY KEY, bid integer, abalance integer, "
            "filler char(20), code text)")
TRANSFORMED = {"source": "accounts", "filter": "aid > 10", "columns": [
    {"name": "aid"}, {"name": "bid"},
    {"name": "abalance", "type": "bigint"},
    {"name": "filler", "target": "note"},
    {"target": "bid10", "type": "bigint", "expression": "bid * 10"},
    {"name": "code", "target": "code_n", "type": "integer"}]}
COLUMNS = ("aid", "bid", "abalance", "note", "bid10", "code_n")


def make_accounts(url: str, n: int = 3000, bad_code_at: int | None = None) -> None:
    """``n`` accounts; ``code`` holds digits except at ``bad_code_at`` ('x1')."""
    bad = f"WHEN i = {bad_code_at} THEN 'x1' " if bad_code_at else ""
    g.execute(url, ACCOUNTS, f"""INSERT INTO accounts SELECT i, CASE WHEN i % 11 = 0 THEN NULL ELSE i % 7 END,
        (i * 37) % 2001 - 1000, 'f' || i, CASE {bad}WHEN i % 5 = 0 THEN NULL ELSE (i * 3)::text END
        FROM generate_series(1, {n}) AS i""")


def run(tmp_path: Path, name: str, source: str, target: str, table: dict, casting=(), **options):
    """Run a plan copying ``table`` in chunks of 500 rows with 2 workers;
    returns (result, plan path, journal path)."""
    plan = {"version": 1, "source": source, "target": target, "tables": [table], "casting": list(casting),
            "options": {"jobs": 2, "chunk_rows": 500, "max_rejects": 10, **options}}
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return g.cli("run", str(path)), path, tmp_path / f"{name}.state.db"


def events(journal: Path, kind: str) -> list[dict]:
    found = g.journal_query(journal, "SELECT data FROM events WHERE kind = ? ORDER BY at", (kind,))
    return [json.loads(d) for (d,) in found]


@pytest.fixture
def pg_url3(pg_url2):
    """A third new PostgreSQL database."""
    from tests.conftest import _fresh_pg

    yield from _fresh_pg()


def test_transformed_table_takes_native_path_and_equals_row_path(tmp_path, pg_url, pg_url2, pg_url3):
    source, native_target, rows_target = pg_url, pg_url2, pg_url3
    make_accounts(source)
    native, native_plan, native_journal = run(tmp_path, "native", source, native_target, TRANSFORMED)
    rows, rows_plan, rows_journal = run(tmp_path, "rows", source, rows_target, TRANSFORMED, native_copy=False)
    assert native.exit_code == 0 and rows.exit_code == 0, native.output + rows.output
    assert [e["path"] for e in events(native_journal, "CopyPath")] == ["text"]
    assert [e["path"] for e in events(rows_journal, "CopyPath")] == ["rows"]
    assert events(native_journal, "NativeCopyRefused") == []
    assert "transforms run in the source's COPY (native COPY, text)" in native.output
    assert "row path instead of native COPY (options.native_copy is false)" in rows.output
    got = g.rows(native_target, "accounts", COLUMNS, key="aid")
    assert got == g.rows(rows_target, "accounts", COLUMNS, key="aid")
    assert got == [expected_row(i) for i in range(11, 3001)]
    for plan in (native_plan, rows_plan):
        verified = g.cli("verify", str(plan), "--json")
        assert verified.exit_code == 0, verified.output
        assert [(r["ok"], r["source_rows"]) for r in json.loads(verified.stdout)["tables"]] == [(True, 2990)]


def test_same_or_widened_types_take_binary_native_path(tmp_path, pg_url, pg_url2):
    """integer -> bigint is cast in the source's SELECT: every produced type
    then equals the target's and the COPY is binary."""
    make_accounts(pg_url, n=1200)
    table = {"source": "accounts", "filter": "bid <> 3", "columns": [
        {"name": "aid"}, {"name": "bid"}, {"name": "abalance", "type": "bigint"},
        {"name": "filler", "target": "note"}, {"target": "bid10", "type": "integer", "expression": "bid * 10"}]}
    result, plan, journal = run(tmp_path, "binary", pg_url, pg_url2, table)
    assert result.exit_code == 0, result.output
    assert [e["path"] for e in events(journal, "CopyPath")] == ["binary"]
    got = g.rows(pg_url2, "accounts", ("aid", "bid", "abalance", "note", "bid10"), key="aid")
    assert got == [r[:5] for r in map(expected_row, range(1, 1201)) if r[1] is not None and r[1] != 3]
    assert g.query(pg_url2, "SELECT data_type FROM information_schema.columns "
                            "WHERE table_name = 'accounts' AND column_name = 'abalance'") == [("bigint",)]
    assert g.cli("verify", str(plan)).exit_code == 0


def test_refused_value_falls_back_to_row_path_and_is_rejected(tmp_path, pg_url, pg_url2):
    """'x1' is no integer: the chunk holding key 1234 leaves the native COPY,
    its other rows load through the row path, the row is one reject."""
    make_accounts(pg_url, bad_code_at=1234)
    result, plan, journal = run(tmp_path, "reject", pg_url, pg_url2, TRANSFORMED)
    assert result.exit_code == 0, result.output
    assert [e["path"] for e in events(journal, "CopyPath")] == ["text"]
    refused = events(journal, "NativeCopyRefused")
    assert len(refused) == 1 and "x1" in refused[0]["error"], refused
    found = g.journal_query(journal, "SELECT key, col FROM rejects")
    assert [(json.loads(k), c) for k, c in found] == [([1234], "code_n")]
    assert g.count(pg_url2, "accounts") == 2990 - 1
    verified = g.cli("verify", str(plan), "--json")
    assert verified.exit_code == 0, verified.output
    assert json.loads(verified.stdout)["tables"][0]["rejects"] == 1


def expected_row(i: int) -> tuple:
    """Row ``i`` of :func:`make_accounts` as TRANSFORMED writes it."""
    bid = None if i % 11 == 0 else i % 7
    return (i, bid, (i * 37) % 2001 - 1000, f"f{i}".ljust(20), None if bid is None else bid * 10,
            None if i % 5 == 0 else i * 3)


def test_types_the_native_copy_cannot_carry_take_the_row_path_with_a_note(tmp_path, pg_url, pg_url2):
    """money prints with the locale's currency sign: cast to numeric, the table
    goes through the row path (which reads it as numeric), and the run says why."""
    g.execute(pg_url, "CREATE TABLE prices (id integer PRIMARY KEY, amount money, label text)",
              "INSERT INTO prices SELECT i, i * 1.25, 'p' || i FROM generate_series(1, 50) AS i")
    result, _, journal = run(tmp_path, "money", pg_url, pg_url2, {"source": "prices"},
                             casting=[{"match": "money", "to": "numeric"}])
    assert result.exit_code == 0, result.output
    assert events(journal, "CopyPath") == [{"table": "public.prices", "path": "rows",
                                            "reason": "column amount: money into numeric"}]
    assert "public.prices: row path instead of native COPY (column amount: money into numeric)" in result.output
    got = g.rows(pg_url2, "prices", ("id", "amount", "label"))
    assert [(i, float(a), t) for i, a, t in got] == [(i, i * 1.25, f"p{i}") for i in range(1, 51)]


def test_types_kept_between_postgresql_databases_copy_in_binary(tmp_path, pg_url, pg_url2):
    """json stays json (its text, duplicate keys and all, not jsonb's rewrite), money stays
    money (binary: its cents, whatever lc_monetary prints), inet stays inet."""
    g.execute(pg_url, "CREATE TABLE kept (id integer PRIMARY KEY, doc json, amount money, host inet)",
              """INSERT INTO kept SELECT i, '{"b": 1, "a": 2, "a": 3}', i * 1.25, '10.0.0.1/8'
                 FROM generate_series(1, 50) AS i""")
    result, _, journal = run(tmp_path, "kept", pg_url, pg_url2, {"source": "kept"})
    assert result.exit_code == 0, result.output
    assert events(journal, "CopyPath") == [{"table": "public.kept", "path": "binary", "reason": ""}]
    types = dict(g.query(pg_url2, "SELECT column_name, data_type FROM information_schema.columns "
                                  "WHERE table_name = 'kept'"))
    assert types == {"id": "integer", "doc": "json", "amount": "money", "host": "inet"}
    assert g.query(pg_url2, "SELECT doc::text, amount::numeric, host::text FROM kept WHERE id = 2") == [
        ('{"b": 1, "a": 2, "a": 3}', Decimal("2.50"), "10.0.0.1/8")]
