"""The two restructuring examples (``examples/legacy/``) run end to end on the
generated legacy schema, SQLite and PostgreSQL, with their own checks passing;
the results are then checked independently through the plain drivers."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from examples.legacy.generate import create
from tests.e2e import generate as g

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "legacy"
PAIRS = [("sqlite_url", "sqlite_url2"), ("sqlite_url", "pg_url"), ("pg_url", "pg_url2")]
USERS = 120


@pytest.fixture(params=PAIRS, ids=lambda p: "->".join(n.split("_")[0] for n in p))
def urls(request, monkeypatch):
    source, target = (request.getfixturevalue(n) for n in request.param)
    create(source, USERS)
    monkeypatch.setenv("LEGACY_SOURCE", source)
    monkeypatch.setenv("LEGACY_TARGET", target)
    return source, target


def run_example(name: str, tmp_path) -> dict:
    """Run ``examples/legacy/<name>.yaml`` (copied beside its journal) and
    return its JSON reconciliation report."""
    plan = tmp_path / f"{name}.yaml"
    plan.write_text((EXAMPLES / f"{name}.yaml").read_text())
    result = g.cli("run", str(plan))
    assert result.exit_code == 0, result.output
    report = tmp_path / "report.json"
    checked = g.cli("verify", str(plan), "--report", str(report))
    assert checked.exit_code == 0, checked.output
    return json.loads(report.read_text())


def _checks(report: dict) -> dict[str, str]:
    """``{"table:check": "Pass" | "Fail" | ...}`` from a JSON report."""
    return {f"{t['table']}:{c['name']}": c["status"] for t in report["tables"] for c in t["checks"]}


def _utc(value) -> datetime:
    value = datetime.fromisoformat(value) if isinstance(value, str) else value
    return value.astimezone(timezone.utc).replace(tzinfo=None)


def test_restructure(urls, tmp_path):
    source, target = urls
    report = run_example("restructure", tmp_path)
    checks = _checks(report)
    assert set(checks.values()) == {"Pass"}
    assert checks["*:sql:every order points at a migrated user"] == "Pass"
    assert any(k.endswith("users:keymap:count") for k in checks)
    mapping = {old: str(new) for old, new in g.query(target, "SELECT old_key, new_key FROM users_keymap")}
    assert len(mapping) == USERS
    # wall-clock times in the spring gap (users 35-42) take the offset before the change:
    # zoneinfo's fold=0, as PostgreSQL does
    paris = ZoneInfo("Europe/Paris")
    want = {mapping[i]: (e, datetime.fromisoformat(str(c)).replace(tzinfo=paris).astimezone(timezone.utc)
                         .replace(tzinfo=None)) for i, e, c in g.query(source, "SELECT id, email, created_at FROM users")}
    rows = g.query(target, "SELECT id, email, created_at, updated_at FROM users")
    assert {str(k): (e, _utc(c)) for k, e, c, _ in rows} == want
    assert all(_utc(c) == _utc(u) for _, _, c, u in rows)
    orders = g.query(target, "SELECT COUNT(*) FROM orders o JOIN users u ON u.id = o.user_id")[0][0]
    assert orders == g.count(source, "orders")


def test_split(urls, tmp_path):
    source, target = urls
    report = run_example("split", tmp_path)
    assert set(_checks(report).values()) == {"Pass"}
    unlinked = g.query(target, "SELECT COUNT(*) FROM accounts a LEFT JOIN profiles p ON p.account_id = a.id "
                               "WHERE p.account_id IS NULL")[0][0]
    assert unlinked == 0 and g.count(target, "accounts") == g.count(target, "profiles") == USERS
    src = {i: (e, n) for i, e, n in g.query(source, "SELECT id, email, name FROM users")}
    got = {i: (e, n) for i, e, n in g.query(target, "SELECT a.legacy_user_id, a.email, p.full_name FROM accounts a "
                                                    "JOIN profiles p ON p.account_id = a.id")}
    assert got == src
    orders = g.query(target, "SELECT o.id, a.legacy_user_id FROM orders o JOIN accounts a ON a.id = o.user_id")
    assert sorted(orders) == sorted(g.query(source, "SELECT id, user_id FROM orders"))
