"""Rejects: rows the target refuses are isolated from their batch and kept in
the journal (table, key, column, value excerpt, reason); the rest of the batch
loads; source rows = target rows + rejects; ``--max-rejects`` decides whether
the run fails; ``ferry verify`` accounts for the rejects instead of reporting
them missing.

Every case runs the ``ferry`` command (in-process, click's runner) on real
databases; counts are checked again through the plain drivers.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from ferry import api
from tests.e2e import datasets
from tests.e2e import generate as g


@dataclass
class Expected:
    """One expected reject: its key, the column the engine names (None when it
    names none), text in the value excerpt and text in the reason (lowercase)."""

    key: list
    column: str | None
    value: str
    reason: str


def rejects_in(journal: Path, table: str) -> list[dict]:
    """The journal's rejects of ``table`` (newest run), ordered by key."""
    found = g.journal_query(journal, "SELECT key, col, value, reason FROM rejects WHERE tbl = ? AND run_id = "
                                     "(SELECT id FROM runs ORDER BY started DESC LIMIT 1)", (table,))
    rows = [{"key": json.loads(k), "column": c, "value": v, "reason": r} for k, c, v, r in found]
    return sorted(rows, key=lambda r: json.dumps(r["key"]))


def assert_rejects(journal: Path, table: str, expected: list[Expected]) -> None:
    got = rejects_in(journal, table)
    assert [r["key"] for r in got] == [e.key for e in expected], got
    for r, e in zip(got, expected):
        assert r["column"] == e.column, r
        assert e.value in r["value"], r
        assert e.reason in r["reason"].lower(), r


def assert_accounted(source: str, target: str, table: str, target_table: str, journal: Path) -> None:
    """Source rows = target rows + rejects, counted through the drivers and the journal."""
    assert g.count(source, table) == g.count(target, target_table) + len(rejects_in(journal, table))


def assert_verify_ok(*args: str, rejects: dict[str, int]) -> None:
    """``ferry verify`` exits 0 and reports the expected rejects per table."""
    result = g.cli("verify", *args, "--json")
    assert result.exit_code == 0, result.output
    found = {r["table"]: r for r in json.loads(result.stdout)["tables"]}
    for table, n in rejects.items():
        assert found[table]["ok"] and found[table]["rejects"] == n, found[table]
        assert found[table]["missing"] == 0


def assert_status_shows(*args: str, table: str, rejects: int) -> str:
    """``ferry status`` lists ``rejects`` for ``table`` (in its table and reject lines)."""
    result = g.cli("status", *args)
    assert result.exit_code == 0, result.output
    line = next(ln for ln in result.stdout.splitlines() if f" {table} " in ln)
    assert line.split("│")[4].strip() == f"{rejects:,}", line
    assert result.stdout.count(f"reject {table} key=") == min(rejects, 20)
    return result.stdout


def write_plan(path: Path, source: str, target: str, max_rejects: int = 100, **extra) -> Path:
    """A plan file (jobs 2, the given max_rejects) with ``extra`` top-level keys (``casting``)."""
    plan = {"version": 1, "source": source, "target": target,
            "options": {"jobs": 2, "max_rejects": max_rejects}} | extra
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def sqlite_source(tmp_path: Path, name: str, *statements: str, rows=(), insert: str = "") -> str:
    """A new SQLite file in ``tmp_path``: ``statements`` run, then ``insert`` for each of ``rows``."""
    path = tmp_path / name
    conn = sqlite3.connect(path)
    for sql in statements:
        conn.execute(sql)
    if rows:
        conn.executemany(insert, rows)
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


# -- SQLite -> PostgreSQL ----------------------------------------------------------------
def test_text_in_integer_column_max_rejects_then_resume(tmp_path, monkeypatch, pg_url):
    """type-mismatch.db: 'lots-of-it' in products.qty INTEGER NOT NULL. Above
    --max-rejects the run fails; run again with the limit at the count, it resumes
    and passes."""
    monkeypatch.chdir(tmp_path)
    source = datasets.pgloader_sqlite(tmp_path, "type-mismatch.db")
    urls = ("--source", source, "--target", pg_url)
    expected = [Expected([2], "qty", "lots-of-it", "invalid input syntax")]

    failed = g.cli("run", *urls, "--batch-rows", "2", "--no-verify")
    assert failed.exit_code == 1, failed.output
    assert "1 row(s) rejected, more than --max-rejects 0" in failed.stderr
    journal = g.journal_file(tmp_path)
    assert g.journal_query(journal, "SELECT status FROM runs") == [("failed",)]
    assert_rejects(journal, "products", expected)
    assert g.query(pg_url, "SELECT id, name, qty FROM products ORDER BY id") == [(1, "apple", 10), (3, "cherry", 5)]
    assert_status_shows(*urls, table="products", rejects=1)

    passed = g.cli("run", *urls, "--batch-rows", "2", "--max-rejects", "1", "--no-verify")
    assert passed.exit_code == 0, passed.output
    assert "(resumed)" in passed.stdout
    assert g.journal_query(journal, "SELECT COUNT(*), MAX(status) FROM runs") == [(1, "done")]
    assert_rejects(journal, "products", expected)
    assert_accounted(source, pg_url, "products", "products", journal)


BUG_SQLITE_CANONICAL_RAISES = (
    "SQLite checksums fail on the very values that get rejected: ferry_canon (connectors/canonical.py "
    "canonical_text via connectors/sqlite.py) raises ValueError on text in an INTEGER column "
    "(int('lots-of-it')), so verify stops with 'SQLite error: user-defined function raised exception'")


def test_verify_accounts_for_mistyped_sqlite_value(tmp_path, monkeypatch, pg_url):
    monkeypatch.chdir(tmp_path)
    urls = ("--source", datasets.pgloader_sqlite(tmp_path, "type-mismatch.db"), "--target", pg_url)
    result = g.cli("run", *urls, "--max-rejects", "1", "--no-verify")
    assert result.exit_code == 0, result.output
    assert_verify_ok(*urls, rejects={"products": 1})


BUG_PG_BYTES_INTO_TEXT = (
    "connectors/postgresql.py writes a bytes value bound for a text column as its bytea escape: "
    "bad-utf8.db's b'file\\x96name.txt' is stored as the string '\\x66696c65966e616d652e747874' "
    "instead of being rejected as invalid UTF-8 (silent corruption, 0 rejects); verify then also "
    "needs ferry_canon to return no lone surrogates to SQLite (UnicodeEncodeError)")


def test_invalid_utf8_rejected_into_postgresql(tmp_path, monkeypatch, pg_url):
    """bad-utf8.db: files.filename holds b'file\\x96name.txt' (pgloader issue #1250)."""
    monkeypatch.chdir(tmp_path)
    source = datasets.pgloader_sqlite(tmp_path, "bad-utf8.db")
    urls = ("--source", source, "--target", pg_url)
    result = g.cli("run", *urls, "--max-rejects", "1", "--no-verify")
    assert result.exit_code == 0, result.output
    assert g.query(pg_url, "SELECT id, filename FROM files ORDER BY id") == [
        (1, "valid-file.txt"), (3, "another-valid.txt")]
    journal = g.journal_file(tmp_path)
    (reject,) = rejects_in(journal, "files")
    assert reject["key"] == [2] and reject["column"] == "filename"
    assert "name.txt" in reject["value"]
    assert any(word in reject["reason"].lower() for word in ("utf8", "utf-8", "encoding")), reject
    assert_accounted(source, pg_url, "files", "files", journal)
    assert_verify_ok(*urls, rejects={"files": 1})


def test_nul_byte_rejected_rest_of_batch_loads(tmp_path, monkeypatch, pg_url):
    """PostgreSQL text cannot hold NUL: the 2 rows with one are isolated from a
    batch of 500 and the other 498 load."""
    monkeypatch.chdir(tmp_path)
    rows = [(i, f"note {i}" + ("\x00tail" if i in (17, 342) else ""), i * 3) for i in range(1, 501)]
    source = sqlite_source(tmp_path, "nul.db", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT, n INTEGER)",
                           rows=rows, insert="INSERT INTO notes VALUES (?, ?, ?)")
    urls = ("--source", source, "--target", pg_url)
    result = g.cli("run", *urls, "--max-rejects", "2", "--batch-rows", "500")
    assert result.exit_code == 0, result.output
    journal = g.journal_file(tmp_path)
    assert_rejects(journal, "notes", [Expected([17], "body", "note 17", "nul (0x00)"),
                                      Expected([342], "body", "note 342", "nul (0x00)")])
    assert g.count(pg_url, "notes") == 498
    assert g.query(pg_url, "SELECT id FROM notes WHERE id IN (16, 17, 18, 341, 342, 343) ORDER BY id") == [
        (16,), (18,), (341,), (343,)]
    assert_accounted(source, pg_url, "notes", "notes", journal)
    assert_verify_ok(*urls, rejects={"notes": 2})
    assert_status_shows(*urls, table="notes", rejects=2)


# -- into MariaDB ---------------------------------------------------------------------------
def _wide_source(tmp_path: Path) -> str:
    rows = [(i, "x" * (3 + i % 5), i * 10) for i in range(1, 41)]  # names of 3..7 chars, n up to 400
    return sqlite_source(tmp_path, "wide.db",
                         "CREATE TABLE readings (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, n INTEGER)",
                         rows=rows, insert="INSERT INTO readings VALUES (?, ?, ?)")


def test_too_long_and_out_of_range_into_existing_mariadb_table(tmp_path, monkeypatch, mysql_url):
    """The target table exists with narrower types (varchar(5), tinyint); MariaDB
    in strict mode refuses 6-7 character names and n > 127."""
    monkeypatch.chdir(tmp_path)
    source = _wide_source(tmp_path)
    g.execute(mysql_url, "CREATE TABLE readings (id int PRIMARY KEY, name varchar(5) NOT NULL, n tinyint)")
    long_names = {i for i in range(1, 41) if 3 + i % 5 > 5}
    too_big = {i for i in range(1, 41) if i * 10 > 127}
    refused = long_names | too_big
    urls = ("--source", source, "--target", mysql_url)

    over = g.cli("run", *urls, "--if-exists", "truncate", "--max-rejects", str(len(refused) - 1))
    assert over.exit_code == 1, over.output
    assert f"{len(refused)} row(s) rejected" in over.stderr
    journal = g.journal_file(tmp_path)
    got = {r["key"][0]: r for r in rejects_in(journal, "readings")}
    assert set(got) == refused
    for key in long_names - too_big:
        assert got[key]["column"] == "name" and "too long" in got[key]["reason"].lower(), got[key]
        assert "x" * (3 + key % 5) in got[key]["value"]
    for key in too_big - long_names:
        assert got[key]["column"] == "n" and "out of range" in got[key]["reason"].lower(), got[key]
        assert str(key * 10) in got[key]["value"]
    assert g.query(mysql_url, "SELECT id FROM readings ORDER BY id") == [(i,) for i in range(1, 41) if i not in refused]

    at_limit = g.cli("run", *urls, "--if-exists", "truncate", "--max-rejects", str(len(refused)))
    assert at_limit.exit_code == 0, at_limit.output
    assert_accounted(source, mysql_url, "readings", "readings", journal)
    assert_verify_ok(*urls, rejects={"readings": len(refused)})
    assert_status_shows(*urls, table="readings", rejects=len(refused))


def test_casting_rules_narrow_types_into_mariadb(tmp_path, monkeypatch, mysql_url):
    """Plan rules give name varchar(5) (MariaDB refuses longer values) and n
    smallint (the rule's predicate rejects values outside -32768..32767 before
    the target sees them)."""
    monkeypatch.chdir(tmp_path)
    rows = [(1, "ok", 5), (2, "toolong", 6), (3, "fine", 40_000), (4, "four", -40_000), (5, "five", 32_767)]
    source = sqlite_source(tmp_path, "narrow.db",
                           "CREATE TABLE readings (id INTEGER PRIMARY KEY, name VARCHAR(40) NOT NULL, n INTEGER)",
                           rows=rows, insert="INSERT INTO readings VALUES (?, ?, ?)")
    plan = write_plan(tmp_path / "plan.yaml", source, mysql_url, casting=[
        {"match": "varchar", "column": "readings.name", "to": "varchar(5)"},
        {"match": "integer", "column": "readings.n", "to": "smallint"}])
    result = g.cli("run", str(plan), "--max-rejects", "3")
    assert result.exit_code == 0, result.output
    journal = tmp_path / "plan.state.db"
    assert_rejects(journal, "readings", [
        Expected([2], "name", "toolong", "too long"),
        Expected([3], "n", "40000", "outside smallint"),
        Expected([4], "n", "-40000", "outside smallint")])
    assert g.query(mysql_url, "SELECT id, name, n FROM readings ORDER BY id") == [(1, "ok", 5), (5, "five", 32767)]
    assert g.query(mysql_url, "SELECT DATA_TYPE, CHARACTER_MAXIMUM_LENGTH FROM information_schema.COLUMNS "
                              "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'readings' AND COLUMN_NAME = 'name'"
                   ) == [("varchar", 5)]
    assert_accounted(source, mysql_url, "readings", "readings", journal)
    assert_verify_ok(str(plan), rejects={"readings": 3})
    assert_status_shows(str(plan), table="readings", rejects=3)


# -- MariaDB -> PostgreSQL ------------------------------------------------------------------
def _flags_source(mysql_url: str) -> None:
    g.execute(mysql_url,
              "CREATE TABLE flags (id int PRIMARY KEY, active tinyint(1) NOT NULL, label varchar(20))",
              "INSERT INTO flags VALUES (1, 0, 'off'), (2, 1, 'on'), (3, 2, 'two'), (4, 1, 'on again'), "
              "(5, -1, 'minus')")


def test_tinyint1_outside_boolean_rejected_by_default(tmp_path, monkeypatch, mysql_url, pg_url):
    monkeypatch.chdir(tmp_path)
    _flags_source(mysql_url)
    urls = ("--source", mysql_url, "--target", pg_url)
    result = g.cli("run", *urls, "--max-rejects", "2")
    assert result.exit_code == 0, result.output
    journal = g.journal_file(tmp_path)
    assert_rejects(journal, "flags", [Expected([3], "active", "", "values other than 0 and 1 rejected"),
                                      Expected([5], "active", "", "values other than 0 and 1 rejected")])
    assert g.query(pg_url, "SELECT data_type FROM information_schema.columns "
                           "WHERE table_name = 'flags' AND column_name = 'active'") == [("boolean",)]
    assert g.query(pg_url, "SELECT id, active FROM flags ORDER BY id") == [(1, False), (2, True), (4, True)]
    assert_accounted(mysql_url, pg_url, "flags", "flags", journal)
    assert_verify_ok(*urls, rejects={"flags": 2})


def test_mariadb_rows_postgresql_refuses_are_isolated(tmp_path, monkeypatch, mysql_url, pg_url):
    """MariaDB renders the chunks as COPY text; PostgreSQL's existing, narrower
    table refuses long names and n > 32767, so those chunks fall back to the
    row path, which isolates exactly the refused rows (several chunks, 2 jobs)."""
    monkeypatch.chdir(tmp_path)
    g.execute(mysql_url, "CREATE TABLE readings (id int PRIMARY KEY, name varchar(40) NOT NULL, n int)",
              "INSERT INTO readings SELECT seq, REPEAT('x', 3 + seq % 5), seq * 100 FROM seq_1_to_400")
    g.execute(pg_url, "CREATE TABLE readings (id int NOT NULL, name varchar(6) NOT NULL, n smallint)")
    refused = {i for i in range(1, 401) if 3 + i % 5 > 6 or i * 100 > 32767}
    urls = ("--source", mysql_url, "--target", pg_url)
    result = g.cli("run", *urls, "--if-exists", "truncate", "--chunk-rows", "50",
                   "--max-rejects", str(len(refused)))
    assert result.exit_code == 0, result.output
    journal = g.journal_file(tmp_path)
    got = {r["key"][0]: r for r in rejects_in(journal, "readings")}
    assert set(got) == refused
    assert all(r["column"] in ("name", "n") for r in got.values())
    assert g.query(pg_url, "SELECT count(*), sum(id) FROM readings") == [
        (400 - len(refused), sum(set(range(1, 401)) - refused))]
    assert_accounted(mysql_url, pg_url, "readings", "readings", journal)
    assert_verify_ok(*urls, rejects={"readings": len(refused)})


BUG_REJECT_VALUE_AS_TARGET_TYPE = (
    "a row rejected by a casting rule's predicate is read with the target-typed expressions "
    "(engines/copy.py CopyEngine._filtered_rejects uses table.read), so the MySQL reader turns "
    "tinyint(1) 2 and -1 into True and the reject's value excerpt says 'True', not the refused value")


def test_tinyint1_reject_keeps_the_source_value(tmp_path, monkeypatch, mysql_url, pg_url):
    monkeypatch.chdir(tmp_path)
    _flags_source(mysql_url)
    result = g.cli("run", "--source", mysql_url, "--target", pg_url, "--max-rejects", "2", "--no-verify")
    assert result.exit_code == 0, result.output
    values = [r["value"] for r in rejects_in(g.journal_file(tmp_path), "flags")]
    assert values == ["2", "-1"]


def test_tinyint1_kept_with_user_rule(tmp_path, monkeypatch, mysql_url, pg_url):
    monkeypatch.chdir(tmp_path)
    _flags_source(mysql_url)
    plan = write_plan(tmp_path / "plan.yaml", mysql_url, pg_url, max_rejects=0,
                      casting=[{"match": "tinyint(1)", "to": "smallint"}])
    result = g.cli("run", str(plan))
    assert result.exit_code == 0, result.output
    assert rejects_in(tmp_path / "plan.state.db", "flags") == []
    assert g.query(pg_url, "SELECT id, active FROM flags ORDER BY id") == [(1, 0), (2, 1), (3, 2), (4, 1), (5, -1)]
    assert_verify_ok(str(plan), rejects={"flags": 0})


def _events_source(mysql_url: str) -> None:
    g.execute(mysql_url,
              "SET SESSION sql_mode = ''",
              "CREATE TABLE happenings (id int PRIMARY KEY, happened date NOT NULL, title varchar(20))",
              "INSERT INTO happenings VALUES (1, '2024-05-01', 'may day'), (2, '0000-00-00', 'zero'), "
              "(3, '1999-12-31', 'eve'), (4, '0000-00-00', 'zero again'), (5, '2024-02-29', 'leap')")


def test_zero_dates_set_to_null_and_counted(tmp_path, monkeypatch, mysql_url, pg_url):
    monkeypatch.chdir(tmp_path)
    _events_source(mysql_url)
    urls = ("--source", mysql_url, "--target", pg_url)
    result = g.cli("run", *urls)
    assert result.exit_code == 0, result.output
    assert "happenings.happened: 2 value(s) zero dates set to NULL, counted" in result.stdout
    assert rejects_in(g.journal_file(tmp_path), "happenings") == []
    assert g.query(pg_url, "SELECT id, happened::text FROM happenings ORDER BY id") == [
        (1, "2024-05-01"), (2, None), (3, "1999-12-31"), (4, None), (5, "2024-02-29")]
    assert g.query(pg_url, "SELECT is_nullable FROM information_schema.columns "
                           "WHERE table_name = 'happenings' AND column_name = 'happened'") == [("YES",)]
    assert_verify_ok(*urls, rejects={"happenings": 0})


def test_zero_dates_rejected_with_rule(tmp_path, monkeypatch, mysql_url, pg_url):
    monkeypatch.chdir(tmp_path)
    _events_source(mysql_url)
    plan = write_plan(tmp_path / "plan.yaml", mysql_url, pg_url,
                      casting=[{"match": "date", "to": "date", "zero_dates": "reject"}])
    over = g.cli("run", str(plan), "--max-rejects", "1")
    assert over.exit_code == 1, over.output
    assert "2 row(s) rejected, more than --max-rejects 1" in over.stderr
    result = g.cli("run", str(plan), "--max-rejects", "2")
    assert result.exit_code == 0, result.output
    journal = tmp_path / "plan.state.db"
    assert_rejects(journal, "happenings", [Expected([2], "happened", "", "zero dates rejected"),
                                           Expected([4], "happened", "", "zero dates rejected")])
    assert g.query(pg_url, "SELECT id FROM happenings ORDER BY id") == [(1,), (3,), (5,)]
    assert_accounted(mysql_url, pg_url, "happenings", "happenings", journal)
    assert_verify_ok(str(plan), rejects={"happenings": 2})
    assert_status_shows(str(plan), table="happenings", rejects=2)


BUG_EMOJI_IN_PROGRESS = (
    "report/progress.py prints action ids with rich's emoji codes on: the line for "
    "copy:notes:chunk:000000 reads 'copy\U0001f3b6chunk:000000' (':notes:' is an emoji code); "
    "print with emoji=False")


def test_progress_lines_name_the_chunk_verbatim(tmp_path, monkeypatch, sqlite_url2):
    monkeypatch.chdir(tmp_path)
    source = sqlite_source(tmp_path, "plain.db", "CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)",
                           rows=[(1, "a"), (2, "b")], insert="INSERT INTO notes VALUES (?, ?)")
    result = g.cli("run", "--source", source, "--target", sqlite_url2, "--no-verify")
    assert result.exit_code == 0, result.output
    assert "copy:notes:chunk:000000: 2 rows, 0 rejects" in result.stderr


def test_row_refused_by_two_rules_is_one_reject(tmp_path, monkeypatch, pg_url):
    """Two casting checks refusing the same row store it once: source = target + rejects."""
    import sqlite3

    from ferry import api
    from ferry.plan.model import Plan

    monkeypatch.chdir(tmp_path)
    src = tmp_path / "two.db"
    with sqlite3.connect(src) as conn:
        conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, a INTEGER, b INTEGER)")
        conn.executemany("INSERT INTO t VALUES (?, ?, ?)", [(1, 1, 1), (2, 70000, 70000), (3, 70000, 2)])
    plan = Plan.model_validate({"source": f"sqlite:///{src}", "target": pg_url, "options": {"max_rejects": 5},
                                "tables": [{"source": "t", "columns": [
                                    {"name": "id"}, {"name": "a", "type": "smallint", "on_invalid": "reject"},
                                    {"name": "b", "type": "smallint", "on_invalid": "reject"}]}]})
    summary = api.run(plan)
    assert [(t.rows, t.rejects) for t in summary.tables] == [(1, 2)]
    assert all(r.ok for r in summary.verify)


@pytest.mark.parametrize("target_fixture", ["pg_url", "mysql_url"])
def test_keyless_table_with_rejects_is_checksummed_without_them(tmp_path, monkeypatch, target_fixture, request):
    """A table without key keeps no key of its rejected rows: the copy stores each one's
    canonical row hash, so verify compares the checksum of the rest, and still sees a changed row."""
    monkeypatch.chdir(tmp_path)
    target = request.getfixturevalue(target_fixture)
    source = sqlite_source(tmp_path, "keyless.db", "CREATE TABLE log (n INTEGER, note TEXT)",
                           rows=[(1, "a"), ("not a number", "b"), (3, None), (4, "d")],
                           insert="INSERT INTO log VALUES (?, ?)")
    plan = api.plan_from_urls(source, target, max_rejects=5)
    summary = api.run(plan)
    assert [(t.rows, t.rejects) for t in summary.tables] == [(3, 1)]
    journal = g.journal_file(tmp_path)
    assert g.journal_query(journal, "SELECT COUNT(row_hash) FROM rejects") == [(1,)]
    checks = {c.name: c for c in api.verify(plan, checks="counts,checksum").checks}
    assert (checks["counts"].status, checks["checksum"].status) == ("pass", "pass"), checks

    g.execute(target, "UPDATE log SET note = 'changed' WHERE n = 4")
    checks = {c.name: c for c in api.verify(plan, checks="counts,checksum").checks}
    assert (checks["counts"].status, checks["checksum"].status) == ("pass", "fail")


def test_journal_of_an_earlier_ferry_gets_the_row_hash_column(tmp_path):
    from ferry.state.journal import Journal

    path = tmp_path / "old.state.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE rejects (run_id TEXT, action_id TEXT, tbl TEXT, key TEXT, col TEXT, "
                 "value TEXT, reason TEXT, at REAL)")
    conn.execute("INSERT INTO rejects VALUES ('r', 'a', 't', 'null', 'c', 'v', 'why', 0)")
    conn.commit()
    conn.close()
    journal = Journal(path)
    try:
        assert journal.rejects("r") == [{"table": "t", "key": None, "column": "c", "value": "v", "reason": "why",
                                         "row_hash": None}]
    finally:
        journal.close()
