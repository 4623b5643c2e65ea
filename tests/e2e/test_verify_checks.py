"""``ferry verify --checks ...`` on real databases: every check passes on a
faithful copy, the right ones fail (with the measured numbers) after the
target is changed, data-quality checks count NULLs, duplicates and orphans on
the target or (``--source-only``) on the source, and ``--report`` writes the
same numbers as JSON, Markdown and HTML. Exit codes: 0 pass, 1 fail, 2 bad input.
"""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from ferry import api
from tests.e2e import generate as g
from tests.e2e.test_cli import ferry
from tests.e2e.test_verify_bisect import make_table

ALL = "counts,checksum,sample,aggregates,not_null,unique,foreign_keys,sql"


def write_plan(path: Path, source: str, target: str, **extra) -> Path:
    path.write_text(yaml.safe_dump({"source": source, "target": target, **extra}))
    return path


SQL_CHECKS = {"sql": [
    {"name": "no_negative", "must_return_zero": "SELECT COUNT(*) FROM t WHERE amount < 0"},
    {"name": "total", "query": "SELECT COUNT(*), SUM(id) FROM t"},
    {"name": "total_loose", "query": "SELECT SUM(id) FROM t", "tolerance": "10%"},
]}


def by_name(checks: list[dict]) -> dict:
    return {c["name"]: c for c in checks}


def test_every_check_passes_then_fails_where_the_target_changed(pg_url, mysql_url, tmp_path):
    make_table(pg_url)
    plan = write_plan(tmp_path / "plan.yaml", pg_url, mysql_url, checks=SQL_CHECKS)
    assert ferry("run", plan).exit_code == 0
    ok = ferry("verify", plan, "--checks", ALL, "--report", tmp_path / "ok.json")
    assert ok.exit_code == 0, ok.output
    data = json.loads((tmp_path / "ok.json").read_text())
    assert data["status"] == "Pass" and data["summary"]["fail"] == 0
    names = {c["name"] for t in data["tables"] for c in t["checks"]}
    assert {"counts", "checksum", "sample", "aggregates:amount", "not_null:name", "unique:id",
            "sql:no_negative", "sql:total"} <= names

    g.execute(mysql_url, "UPDATE t SET amount = -1 WHERE id = 7", "INSERT INTO t VALUES (6001, 'x', 1, NULL)")
    bad = ferry("verify", plan, "--checks", "aggregates,sql", "--report", tmp_path / "bad.json")
    assert bad.exit_code == 1, bad.output
    data = json.loads((tmp_path / "bad.json").read_text())
    assert data["status"] == "Fail"
    t = by_name(next(x for x in data["tables"] if x["table"].endswith("t"))["checks"])
    assert t["aggregates:amount"]["status"] == "Fail" and "min" in t["aggregates:amount"]["measured"]
    assert t["aggregates"]["status"] == "Fail"                       # row count 5000 != 5001
    assert t["aggregates:name"]["status"] == "Fail"                  # length sum grew by 1
    sql = by_name(next(x for x in data["tables"] if x["table"] == "*")["checks"])
    assert (sql["sql:no_negative"]["status"], sql["sql:no_negative"]["measured"]) == ("Fail", "1")
    assert sql["sql:total"]["status"] == "Fail"
    assert sql["sql:total_loose"]["status"] == "Pass"                # 0.05 % off, 10 % allowed


def test_sample_finds_a_changed_field(sqlite_url, sqlite_url2, tmp_path):
    make_table(sqlite_url, 300)
    plan = write_plan(tmp_path / "plan.yaml", sqlite_url, sqlite_url2, checks={"sample_size": 300, "default": ["sample"]})
    assert ferry("run", plan).exit_code == 0
    g.execute(sqlite_url2, "UPDATE t SET name = 'other' WHERE id = 123")
    result = api.verify(api.load_plan(plan), plan_file=plan)        # the plan's default: sample only
    (check,) = result.checks
    assert (check.status, check.value) == ("fail", 1)
    assert "[123] name: 'name-123' != 'other'" in check.detail
    again = api.verify(api.load_plan(plan), plan_file=plan, checks=["sample"])
    assert again.checks[0].detail == check.detail                      # seeded: same draw


_SQLITE_SOURCE = [
    "CREATE TABLE parent (id integer PRIMARY KEY)",
    "CREATE TABLE child (id integer PRIMARY KEY, parent_id integer REFERENCES parent(id), "
    "name text NOT NULL, code text UNIQUE)",
    "INSERT INTO parent VALUES (1), (2)",
    "INSERT INTO child VALUES (1, 1, 'a', 'x'), (2, 2, 'b', 'y'), (3, 9, 'c', 'z')",   # 9: orphan
]
_PG_TARGET = [
    "CREATE TABLE parent (id integer)",
    "CREATE TABLE child (id integer, parent_id integer, name text, code text)",
    "INSERT INTO parent VALUES (1), (2)",
    "INSERT INTO child VALUES (1, 1, NULL, 'x'), (2, 7, 'b', 'x'), (2, 8, 'c', 'w'), (4, NULL, 'd', NULL)",
]


def test_quality_checks_count_nulls_duplicates_and_orphans(sqlite_url, pg_url, tmp_path):
    g.execute(sqlite_url, *_SQLITE_SOURCE)
    g.execute(pg_url, *_PG_TARGET)
    plan = write_plan(tmp_path / "plan.yaml", sqlite_url, pg_url)
    result = ferry("verify", plan, "--checks", "not_null,unique,foreign_keys", "--report", tmp_path / "q.md")
    assert result.exit_code == 1, result.output
    checks = api.verify(api.load_plan(plan), plan_file=plan, checks="not_null,unique,foreign_keys").checks
    got = {(c.table, c.name): (c.status, c.value) for c in checks}
    assert got[("child", "not_null:name")] == ("fail", 1)
    assert got[("child", "unique:id")] == ("fail", 1)
    assert got[("child", "unique:code")] == ("fail", 1)
    assert got[("child", "foreign_keys:parent_id->parent(id)")] == ("fail", 2)
    assert got[("parent", "unique:id")] == ("pass", 0)
    md = (tmp_path / "q.md").read_text()
    assert "# Reconciliation report: Fail" in md and "| not_null:name | Fail | <= 0 NULL | 1 NULL |" in md

    pre = api.verify(api.load_plan(plan), plan_file=plan, checks=None, source_only=True)
    got = {(c.table, c.name): (c.status, c.value, c.side) for c in pre.checks}
    assert got[("child", "foreign_keys:parent_id->parent(id)")] == ("fail", 1, "source")
    assert got[("child", "not_null:name")] == ("pass", 0, "source")
    assert pre.status == "fail" and list(pre) == []


def test_report_formats_journal_and_exit_codes(sqlite_url, sqlite_url2, tmp_path):
    make_table(sqlite_url, 2000)
    plan = write_plan(tmp_path / "plan.yaml", sqlite_url, sqlite_url2)
    assert ferry("run", plan).exit_code == 0
    g.execute(sqlite_url2, "DELETE FROM t WHERE id = 5", "UPDATE t SET note = 'zz' WHERE id = 1500")
    for ext in ("json", "md", "html"):
        assert ferry("verify", plan, "--report", tmp_path / f"r.{ext}").exit_code == 1
    data = json.loads((tmp_path / "r.json").read_text())
    t = data["tables"][0]
    assert (t["source_rows"], t["target_rows"], t["missing"], t["modified"]) == (2000, 1999, 1, 1)
    assert (t["first_missing"], t["first_modified"], t["source_key_range"]) == ([[5]], [[1500]], [1, 2000])
    assert t["modified_details"] == [{"key": [1500], "columns": [
        {"column": "note", "source": "n1500" if 1500 % 10 else None, "target": "zz"}]}]
    printed = ferry("verify", plan, "--json", "--report", tmp_path / "again.json")
    assert printed.exit_code == 1
    again = json.loads((tmp_path / "again.json").read_text())
    stdout = json.loads(printed.stdout)                     # one document, nothing else on stdout
    assert {k: v for k, v in stdout.items() if k not in ("generated", "seconds")} == \
        {k: v for k, v in again.items() if k not in ("generated", "seconds")}
    assert stdout["status"] == "Fail" and stdout["tables"][0]["first_missing"] == [[5]]
    page = (tmp_path / "r.html").read_text()
    assert "Fail" in page and "2,000" in page and "1,999" in page and "first: 5" in page
    assert "first: 1500" in (tmp_path / "r.md").read_text()
    rows = g.journal_query(tmp_path / "plan.state.db", "SELECT name, status FROM checks "
                           "WHERE run_id = (SELECT id FROM runs ORDER BY started DESC LIMIT 1) "
                           "ORDER BY at DESC LIMIT 2")
    assert sorted(rows) == [("checksum", "fail"), ("counts", "fail")]
    assert ferry("verify", plan, "--checks", "counts,bogus").exit_code == 2
    assert ferry("verify", plan, "--report", tmp_path / "r.pdf").exit_code == 2
