"""Key remapping and table split end to end, on the generated legacy schema
(``examples/legacy/generate.py``: users with orders, sessions and audit logs).

Every run ends with ferry's own verification (checksums through the old-key
views, key map checks); the tests then check the target independently through
the plain drivers: key maps complete, every reference pointing at the new key
of the same user as in the source, split tables linked one to one.
"""

from __future__ import annotations

import re
import uuid

import pytest
import yaml

from examples.legacy.generate import create
from tests.e2e import generate as g
from tests.e2e.test_resume import Ferry, wait_until
from tests.e2e.test_transform_columns import make_people, pair_id

PAIRS = [("sqlite_url", "sqlite_url2"), ("sqlite_url", "pg_url"), ("pg_url", "mysql_url"),
         ("mysql_url", "pg_url"), ("pg_url", "pg_url2")]
USERS = 40
UUID7 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


@pytest.fixture(params=PAIRS, ids=pair_id)
def legacy(request):
    """(source URL with the legacy schema, empty target URL)."""
    source = request.getfixturevalue(request.param[0])
    create(source, USERS)
    return source, request.getfixturevalue(request.param[1])


def run_plan(tmp_path, source: str, target: str, tables: list[dict], **options):
    plan = {"version": 1, "source": source, "target": target,
            "options": {"jobs": 2, "if_exists": "drop", "chunk_rows": 25, **options}, "tables": tables}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return g.cli("run", str(path)), path


def remapped_users(kind: str) -> list[dict]:
    return [{"source": "users", "columns": [{"name": "id", "remap": kind}, {"name": "name", "target": "full_name"},
                                            {"name": "email"}, {"name": "created_at"}]},
            {"source": "orders"}, {"source": "sessions"}, {"source": "audit_logs"}]


def old_to_new(url: str, keymap: str = "users_keymap") -> dict:
    return {old: str(new) for old, new in g.query(url, f"SELECT old_key, new_key FROM {keymap}")}


def assert_rewritten(source: str, target: str, table: str, mapping: dict) -> None:
    """``table.user_id`` on the target is the new key of the source row's user."""
    want = {i: None if u is None else mapping[u] for i, u in g.query(source, f"SELECT id, user_id FROM {table}")}
    got = {i: None if u is None else str(u) for i, u in g.query(target, f"SELECT id, user_id FROM {table}")}
    assert got == want


def test_remap_uuid7_rewrites_every_reference(legacy, tmp_path):
    source, target = legacy
    result, _ = run_plan(tmp_path, source, target, remapped_users("uuid7"))
    assert result.exit_code == 0, result.output
    assert re.search(r"user_id: rewritten through (public\.)?users_keymap", result.output)
    mapping = old_to_new(target)
    assert sorted(mapping) == [r[0] for r in g.query(source, "SELECT id FROM users ORDER BY id")]
    assert len(set(mapping.values())) == USERS and all(UUID7.match(v) for v in mapping.values())
    emails = dict(g.query(source, "SELECT id, email FROM users"))
    assert {str(k): e for k, e in g.query(target, "SELECT id, email FROM users")} == {
        mapping[old]: email for old, email in emails.items()}
    for table in ("orders", "sessions", "audit_logs"):
        assert_rewritten(source, target, table, mapping)
    nulls = g.query(target, "SELECT COUNT(*) FROM audit_logs WHERE user_id IS NULL")[0][0]
    assert nulls == g.query(source, "SELECT COUNT(*) FROM audit_logs WHERE user_id IS NULL")[0][0] > 0


@pytest.mark.parametrize("kind", ["uuid4", "sequence"])
def test_remap_kinds(kind, legacy, tmp_path):
    source, target = legacy
    result, _ = run_plan(tmp_path, source, target, remapped_users(kind))
    assert result.exit_code == 0, result.output
    mapping = old_to_new(target)
    if kind == "sequence":
        assert sorted(int(v) for v in mapping.values()) == list(range(1, USERS + 1))
        mapping = {old: int(new) for old, new in mapping.items()}
        g.execute(target, "INSERT INTO users (full_name, email, created_at) VALUES ('New', 'new@x.org', "
                          "'2025-01-01 00:00:00')")   # the target's sequence continues after the new keys
        assert g.query(target, "SELECT id FROM users WHERE email = 'new@x.org'")[0][0] == USERS + 1
    else:
        assert {uuid.UUID(v).version for v in mapping.values()} == {4}
    want = {i: mapping[u] for i, u in g.query(source, "SELECT id, user_id FROM orders")}
    got = {i: u if kind == "sequence" else str(u) for i, u in g.query(target, "SELECT id, user_id FROM orders")}
    assert got == want


def test_split_users_into_accounts_and_profiles(legacy, tmp_path):
    source, target = legacy
    result, _ = run_plan(tmp_path, source, target, [
        {"source": "users", "target": "accounts", "columns": [
            {"name": "id", "remap": "uuid7"}, {"name": "id", "target": "legacy_user_id"},
            {"name": "email"}, {"name": "created_at"}]},
        {"source": "users", "target": "profiles", "columns": [
            {"name": "id", "target": "account_id", "references": "users"},
            {"name": "name", "target": "full_name"}, {"name": "country"}]},
        {"source": "orders"}])
    assert result.exit_code == 0, result.output
    orphans = g.query(target, "SELECT COUNT(*) FROM accounts a LEFT JOIN profiles p ON p.account_id = a.id "
                              "WHERE p.account_id IS NULL")[0][0]
    assert orphans == 0 and g.count(target, "profiles") == USERS
    src = {i: (e, str(c)[:19]) for i, e, c in g.query(source, "SELECT id, email, created_at FROM users")}
    got = {i: (e, str(c)[:19]) for i, e, c in g.query(target, "SELECT legacy_user_id, email, created_at FROM accounts")}
    assert got == src
    names = dict(g.query(source, "SELECT id, name FROM users"))
    joined = g.query(target, "SELECT a.legacy_user_id, p.full_name FROM accounts a JOIN profiles p ON p.account_id = a.id")
    assert dict(joined) == names
    assert_rewritten(source, target, "orders", old_to_new(target, "accounts_keymap"))


def test_verify_finds_a_wrong_rewrite(sqlite_url, sqlite_url2, tmp_path):
    create(sqlite_url, USERS)
    result, path = run_plan(tmp_path, sqlite_url, sqlite_url2, remapped_users("uuid7"))
    assert result.exit_code == 0, result.output
    mapping = old_to_new(sqlite_url2)
    g.execute(sqlite_url2, f"UPDATE orders SET user_id = '{mapping[2]}' WHERE id = 1 AND user_id <> '{mapping[2]}'",
              f"UPDATE sessions SET user_id = '{uuid.uuid4()}' WHERE id = 1")
    checked = g.cli("verify", str(path), "--report", str(tmp_path / "r.json"))
    assert checked.exit_code == 1
    report = (tmp_path / "r.json").read_text()
    assert '"keymap:user_id"' in report
    failing = sorted(set(re.findall(r"verified (\w+): (?!ok)", checked.output)))
    assert failing == ["orders", "sessions"], checked.output


def test_orphan_reference_is_a_reject(sqlite_url, sqlite_url2, tmp_path):
    """A source order whose user does not exist cannot get a new key: it is a
    reject with that reason (source = target + rejects), never a NULL."""
    create(sqlite_url, USERS)
    g.execute(sqlite_url, "INSERT INTO orders VALUES (9999, 4242, 1.00, '2024-05-01 10:00:00')")
    tables = remapped_users("uuid7")[:2]
    result, path = run_plan(tmp_path, sqlite_url, sqlite_url2, tables, max_rejects=1, create_indexes=False)
    assert result.exit_code == 0, result.output
    assert g.count(sqlite_url2, "orders") == g.count(sqlite_url, "orders") - 1
    rejects = g.journal_query(str(path).replace(".yaml", ".state.db"),
                              "SELECT col, reason FROM rejects")
    assert len(rejects) == 1 and rejects[0][0] == "user_id" and "4242" in rejects[0][1]


def test_remap_resumes_after_kill(tmp_path, sqlite_url, sqlite_url2):
    """SIGKILL in the middle of the copy, then a second run: every user mapped
    once, every reference rewritten, verify passes."""
    create(sqlite_url, 6000)
    plan = {"version": 1, "source": sqlite_url, "target": sqlite_url2,
            "options": {"jobs": 2, "chunk_rows": 200, "batch_rows": 100}, "tables": remapped_users("uuid7")}
    (tmp_path / "plan.yaml").write_text(yaml.safe_dump(plan, sort_keys=False))
    first = Ferry(tmp_path, "first", ["run", "plan.yaml"])
    wait_until(first, lambda: _chunks_done(tmp_path) >= 12, "some chunks done")
    first.kill9()
    second = Ferry(tmp_path, "second", ["run", "plan.yaml"])
    assert second.wait() == 0, second.output()
    mapping = old_to_new(sqlite_url2)
    assert len(mapping) == 6000 == len(set(mapping.values())) == g.count(sqlite_url2, "users")
    for table in ("orders", "sessions", "audit_logs"):
        assert_rewritten(sqlite_url, sqlite_url2, table, mapping)


def _chunks_done(cwd) -> int:
    path = cwd / "plan.state.db"
    if not path.exists():
        return 0
    try:
        return g.journal_query(path, "SELECT COUNT(*) FROM actions WHERE status = 'done'")[0][0]
    except Exception:
        return 0


def test_bad_key_options_are_refused_before_any_copy(sqlite_url, sqlite_url2, tmp_path):
    create(sqlite_url, USERS)
    bad_remap = [{"source": "users", "columns": [{"name": "id"}, {"name": "email", "remap": "uuid4"}]}]
    result, _ = run_plan(tmp_path, sqlite_url, sqlite_url2, bad_remap)
    assert result.exit_code == 2 and "only the table's single-column key (id) can be remapped" in result.output
    bad_ref = [{"source": "orders", "columns": [{"name": "id"}, {"name": "user_id", "references": "customers"}]}]
    result, _ = run_plan(tmp_path, sqlite_url, sqlite_url2, bad_ref)
    assert result.exit_code == 2 and "'customers' is not a table of the plan" in result.output
    assert not g.query(sqlite_url2, "SELECT name FROM sqlite_master WHERE type = 'table'")


def test_remapped_rows_a_casting_check_rejects_have_no_mapping(sqlite_url, pg_url, tmp_path):
    """Rows a cast refuses before the copy (scores beyond smallint) are rejects,
    not mapped: the key map check counts the rows the copy read."""
    make_people(sqlite_url)
    result, path = run_plan(tmp_path, sqlite_url, pg_url, [{"source": "people", "columns": [
        {"name": "id", "remap": "uuid7"}, {"name": "score", "type": "smallint"}]}], max_rejects=2)
    assert result.exit_code == 0, result.output
    assert len(old_to_new(pg_url, "people_keymap")) == 2 == g.count(pg_url, "people")
    report = tmp_path / "r.json"
    checked = g.cli("verify", str(path), "--report", str(report))
    assert checked.exit_code == 0, checked.output
    assert '"keymap:count"' in report.read_text()


def test_retried_chunk_of_a_table_keyed_by_a_rewritten_reference_keeps_the_others(legacy, tmp_path, monkeypatch):
    """``profiles`` is keyed by ``account_id``, a reference rewritten to the
    new keys: a retried chunk clears its own rows through the key map, not by
    comparing new keys with old-key bounds (which deleted the other chunk's
    rows on SQLite). The failure is injected once, after the second chunk's
    rows were written."""
    from ferry.engines import copy as copy_engine
    from ferry.errors import TransientError

    source, target = legacy
    stream, calls = copy_engine.CopyEngine._stream, []

    def failing_once(self, src, tgt, table, krange, rejects):
        rows = stream(self, src, tgt, table, krange, rejects)
        if table.name.endswith("users->profiles") and krange.lower is not None and not calls:
            calls.append(krange)
            raise TransientError("injected after the rows were written")
        return rows

    monkeypatch.setattr(copy_engine.CopyEngine, "_stream", failing_once)
    monkeypatch.setenv("FERRY_RETRY_DELAY", "0.05")
    result, _ = run_plan(tmp_path, source, target, [
        {"source": "users", "target": "accounts", "columns": [
            {"name": "id", "remap": "uuid7"}, {"name": "id", "target": "legacy_user_id"}, {"name": "email"}]},
        {"source": "users", "target": "profiles", "columns": [
            {"name": "id", "target": "account_id", "references": "users"}, {"name": "name", "target": "full_name"}]}])
    assert calls and re.search(r"retrying copy:(public\.)?users->profiles:chunk:000001", result.output), result.output
    assert result.exit_code == 0, result.output
    assert g.count(target, "profiles") == USERS
