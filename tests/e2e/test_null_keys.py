"""SQLite lets a primary key that is not the rowid hold NULLs. Such rows match
no key comparison, so they belong to the first key range: a table copied in
many chunks loses none of them (each is rejected on a target whose key is NOT
NULL, with its reason), and ``ferry verify`` counts them as rejected, not as
missing, and still finds a changed row among them.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from ferry import api
from ferry.connectors import open_connector
from ferry.connectors.base import KeyRange
from ferry.engines.chunks import plan_chunks
from ferry.transform.mapping import resolve
from tests.e2e import generate as g

N = 600
NULL_KEYS = {"s": [(None,), (None,)], "c": [(None, "x"), (7, None), (45, None)]}


def null_key_source(path: Path) -> str:
    """``s(k text pk, v)`` and ``c(a int, b text, v, pk (a, b))``: N rows each
    plus the rows of :data:`NULL_KEYS`."""
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE s (k TEXT PRIMARY KEY, v INTEGER)")
    conn.execute("CREATE TABLE c (a INTEGER, b TEXT, v INTEGER, PRIMARY KEY (a, b))")
    conn.executemany("INSERT INTO s VALUES (?, ?)", [(f"k{i:04d}", i) for i in range(N)])
    conn.executemany("INSERT INTO c VALUES (?, ?, ?)", [(i % 50, f"b{i:04d}", i) for i in range(N)])
    conn.executemany("INSERT INTO s VALUES (?, -1)", NULL_KEYS["s"])
    conn.executemany("INSERT INTO c VALUES (?, ?, -1)", NULL_KEYS["c"])
    conn.commit()
    conn.close()
    return f"sqlite:///{path}"


def test_chunks_cover_every_row_once_with_null_keys(tmp_path):
    """The chunk ranges of both tables, counted one by one, add up to every row."""
    source = null_key_source(tmp_path / "src.db")
    conn = open_connector(source, read_only=True)
    try:
        plan = api.plan_from_urls(source, f"sqlite:///{tmp_path / 'unused.db'}")
        for table in resolve(plan, conn.introspect(), conn.dialect, conn.dialect):
            ranges = plan_chunks(conn, table, 100)
            counts = [conn.count(table.source, table.key, r) for r in ranges]
            assert len(ranges) >= 6 and sum(counts) == N + len(NULL_KEYS[table.name]), (table.name, counts)
            assert counts[0] > len(NULL_KEYS[table.name])      # the NULL keys are in the first range
    finally:
        conn.close()


@pytest.mark.parametrize("target_fixture", ["sqlite_url2", "pg_url", "mysql_url"])
def test_null_keys_rejected_not_lost_in_a_chunked_copy(tmp_path, monkeypatch, target_fixture, request):
    monkeypatch.chdir(tmp_path)
    source, target = null_key_source(tmp_path / "src.db"), request.getfixturevalue(target_fixture)
    plan = api.plan_from_urls(source, target, chunk_rows=100, max_rejects=10)
    summary = api.run(plan)
    assert {t.table: (t.rows, t.rejects) for t in summary.tables} == {"s": (N, 2), "c": (N, 3)}
    journal = g.journal_file(tmp_path)
    for name, keys in NULL_KEYS.items():
        assert g.count(target, name) == N
        found = g.journal_query(journal, "SELECT key FROM rejects WHERE tbl = ?", (name,))
        assert sorted(map(json.loads, (k for (k,) in found)), key=str) == sorted(map(list, keys), key=str)
    results = {r.table: r for r in api.verify(plan)}
    assert {n: (r.ok, r.source_rows, r.target_rows, r.rejects) for n, r in results.items()} == \
        {"s": (True, N + 2, N, 2), "c": (True, N + 3, N, 3)}

    g.execute(target, "UPDATE c SET v = 99 WHERE a = 0 AND b = 'b0000'", "DELETE FROM s WHERE k = 'k0001'")
    results = {r.table: r for r in api.verify(plan)}
    assert [tuple(k) for k in results["c"].modified] == [(0, "b0000")]
    assert [tuple(k) for k in results["s"].missing] == [("k0001",)]
    assert results["c"].missing_count == results["s"].modified_count == 0


def test_a_null_key_range_predicate_keeps_ranges_disjoint(tmp_path):
    """Composite key (a, b) with NULLs in either column: the first range takes
    every row holding a NULL, the later ranges none, on a source that has them."""
    source = null_key_source(tmp_path / "src.db")
    conn = open_connector(source, read_only=True)
    try:
        table = next(t for t in conn.introspect().tables if t.name == "c")
        key = ("a", "b")
        first, rest = KeyRange(None, (10, "b0010")), KeyRange((10, "b0010"), None)
        pred, params = conn.table_predicate(table, key, first)
        null_rows = conn.query(f"SELECT COUNT(*) FROM c WHERE ({pred}) AND (a IS NULL OR b IS NULL)", params)
        pred, params = conn.table_predicate(table, key, rest)
        later = conn.query(f"SELECT COUNT(*) FROM c WHERE ({pred}) AND (a IS NULL OR b IS NULL)", params)
        assert (null_rows[0][0], later[0][0]) == (3, 0)
        assert conn.count(table, key, first) + conn.count(table, key, rest) == N + 3
    finally:
        conn.close()
