"""Bisection with non-integer keys: a UUID-keyed and a composite-keyed table
(integer + text) are copied with ``api.run``, verify clean, then the target
loses two rows, gains two and has three modified; ``api.verify`` must name
exactly those keys, no more and no fewer, on SQLite, PostgreSQL, MariaDB and
PostgreSQL -> MariaDB (where MariaDB orders CHAR(36) UUIDs and text keys by its
own collation). A small threshold checks that splitting by fetched boundary
keys narrows a segment down as integer splitting does.
"""

from __future__ import annotations

import uuid

import pytest

from ferry import api
from ferry.connectors.base import KeyRange
from ferry.engines.validate import BisectOptions, verify_table
from tests.e2e import generate as g

N = 3000
_UUID_TYPE = {"sqlite": "TEXT", "postgresql": "uuid", "mysql": "char(36)"}


def _uid(i: int) -> str:
    return str(uuid.UUID(int=(i * 0x9E3779B97F4A7C15 << 32) % (1 << 128)))


def _insert(url: str, sql: str, rows: list[tuple]) -> None:
    lite = g.engine(url) == "sqlite"
    with g.connect(url) as conn:
        cur = conn.cursor()
        cur.execute("BEGIN") if lite else None          # one transaction, not one fsync per row
        cur.executemany(sql.replace("%s", "?") if lite else sql, rows)
        cur.execute("COMMIT")


def make_keyed(url: str) -> None:
    """``u(id uuid pk, n integer, label varchar(20))`` and
    ``c(region integer, code varchar(12), qty integer, note text, pk (region, code))``."""
    e = g.engine(url)
    g.execute(url, f"CREATE TABLE u (id {_UUID_TYPE[e]} PRIMARY KEY, n integer, label varchar(20))",
              "CREATE TABLE c (region integer NOT NULL, code varchar(12) NOT NULL, qty integer, note text, "
              "PRIMARY KEY (region, code))")
    _insert(url, "INSERT INTO u VALUES (%s, %s, %s)", [(_uid(i), i, f"u{i}") for i in range(N)])
    _insert(url, "INSERT INTO c VALUES (%s, %s, %s, %s)",
            [(i % 7, f"Code-{i:05d}", i, None if i % 9 == 0 else f"n{i}") for i in range(N)])


def inject(url: str) -> dict:
    """The differences, and what verify must report for them (normalised keys)."""
    u = [_uid(i) for i in (10, 2000, 77, 1500, 2999)]
    g.execute(url, f"DELETE FROM u WHERE id IN ('{u[0]}', '{u[1]}')",
              f"INSERT INTO u VALUES ('{_uid(N + 1)}', 1, 'new'), ('{_uid(N + 2)}', 2, 'new')",
              f"UPDATE u SET n = -1 WHERE id = '{u[2]}'", f"UPDATE u SET label = NULL WHERE id = '{u[3]}'",
              f"UPDATE u SET label = 'u2999 ' WHERE id = '{u[4]}'",
              "DELETE FROM c WHERE (region, code) IN ((3, 'Code-00010'), (0, 'Code-02100'))",
              "INSERT INTO c VALUES (1, 'Code-99999', 1, NULL), (6, 'aaa-lower', 6, 'lower case')",
              "UPDATE c SET qty = 0 WHERE region = 5 AND code = 'Code-00005'",
              "UPDATE c SET note = 'x' WHERE region = 0 AND code = 'Code-00063'",
              "UPDATE c SET note = NULL WHERE region = 6 AND code = 'Code-02001'")
    return {"u": ({(u[0],), (u[1],)}, {(_uid(N + 1),), (_uid(N + 2),)}, {(k,) for k in u[2:]}),
            "c": ({(3, "Code-00010"), (0, "Code-02100")}, {(1, "Code-99999"), (6, "aaa-lower")},
                  {(5, "Code-00005"), (0, "Code-00063"), (6, "Code-02001")})}


def _found(r) -> tuple:
    return ({tuple(k) for k in r.missing}, {tuple(k) for k in r.extra}, {tuple(k) for k in r.modified},
            (r.missing_count, r.extra_count, r.modified_count))


PAIRS = [("sqlite_url", "sqlite_url2"), ("pg_url", "pg_url2"), ("mysql_url", "mysql_url2"),
         ("pg_url", "mysql_url")]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0][:-4]}->{p[1][:-4]}".replace("_url", ""))
def test_uuid_and_composite_keys_exact_differences(pair, request, tmp_path):
    source, target = (request.getfixturevalue(name) for name in pair)
    make_keyed(source)
    plan = api.plan_from_urls(source, target).model_copy(update={"state": str(tmp_path / "state.db")})
    api.run(plan)
    clean = list(api.verify(plan))
    assert len(clean) == 2 and all(r.ok and r.differing == 0 for r in clean), clean

    expected = inject(target)
    found = {r.table.split(".")[-1]: r for r in api.verify(plan)}
    for name, (missing, extra, modified) in expected.items():
        r = found[name]
        assert _found(r) == (missing, extra, modified, (len(missing), len(extra), len(modified))), name
        assert r.leaves < 12, f"{name}: bisection should download only the differing segments"
    labels = {d["key"][0]: d["columns"] for d in found["u"].modified_details}
    assert labels[_uid(1500)] == [{"column": "label", "source": "u1500", "target": None}]


@pytest.mark.parametrize("name, change", [
    ("u", f"UPDATE u SET n = n + 1 WHERE id = '{_uid(1234)}'"),
    ("c", "UPDATE c SET qty = 1 WHERE region = 2 AND code = 'Code-01234'")])
def test_boundary_key_splits_narrow_to_one_small_leaf(name, change, pg_url, pg_url2):
    """Factor 4, threshold 10: boundary keys fetched every N-th key split
    3,000 rows down to one leaf of at most 10 rows per side."""
    from ferry.connectors import open_connector
    from ferry.transform.mapping import resolve

    make_keyed(pg_url)
    make_keyed(pg_url2)
    g.execute(pg_url2, change)
    src, tgt = open_connector(pg_url, read_only=True), open_connector(pg_url2, read_only=True)
    try:
        plan = api.plan_from_urls(pg_url, pg_url2)
        table = next(t for t in resolve(plan, src.introspect(), src.dialect, tgt.dialect) if t.name.endswith(name))
        r = verify_table(src, tgt, table, [KeyRange()], set(), BisectOptions(factor=4, threshold=10))
    finally:
        src.close()
        tgt.close()
    assert r.modified_count == 1 and r.missing_count == r.extra_count == 0
    assert r.leaves == 1 and r.hashed_rows <= 20 and r.checksum_queries >= 5
