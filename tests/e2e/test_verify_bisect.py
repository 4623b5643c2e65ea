"""Bisection: ``api.verify`` names exactly the injected differences.

A 5,000-row table (integer key, varchar, double, nullable text) is copied with
``api.run`` between two real databases; the copy must verify clean. Then the
target is changed through the plain driver: one row deleted, one inserted, and
four rows modified (a varchar changed, a value set to NULL, a double changed
in its 15th significant digit, a trailing space added). Verify must report
exactly those keys and, for modified rows, exactly the differing column.
A text-keyed table checks keyset-sampled splits the same way.
"""

from __future__ import annotations

import pytest

from ferry import api
from ferry.connectors.base import KeyRange
from ferry.engines.validate import BisectOptions
from tests.e2e import generate as g

N = 5000

_FILL = {
    "sqlite": """WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {n})
INSERT INTO t SELECT i, 'name-' || i, i * 1.0 / 7, CASE WHEN i % 10 = 0 THEN NULL ELSE 'n' || i END FROM s""",
    "postgresql": """INSERT INTO t SELECT i, 'name-' || i, i::float8 / 7,
CASE WHEN i % 10 = 0 THEN NULL ELSE 'n' || i END FROM generate_series(1, {n}) AS i""",
    "mysql": """INSERT INTO t SELECT seq, CONCAT('name-', seq), CAST(seq AS DOUBLE) / 7,
CASE WHEN seq % 10 = 0 THEN NULL ELSE CONCAT('n', seq) END FROM seq_1_to_{n}""",
}
_DOUBLE = {"sqlite": "DOUBLE", "postgresql": "double precision", "mysql": "double"}


def make_table(url: str, n: int = N) -> None:
    """``t(id int pk, name varchar(40), amount double, note text)``; row 42 has amount 6."""
    e = g.engine(url)
    g.execute(url, f"CREATE TABLE t (id integer PRIMARY KEY, name varchar(40) NOT NULL, "
                   f"amount {_DOUBLE[e]}, note text)", _FILL[e].format(n=n))


def make_text_keyed(url: str, n: int = 3000) -> None:
    """``k(code varchar(20) pk, v integer)`` with codes ``c00001`` .. (text keys)."""
    g.execute(url, "CREATE TABLE k (code varchar(20) PRIMARY KEY, v integer)")
    lite = g.engine(url) == "sqlite"
    with g.connect(url) as conn:
        cur = conn.cursor()
        cur.execute("BEGIN") if lite else None          # one transaction, not one fsync per row
        cur.executemany(f"INSERT INTO k VALUES ({'?, ?' if lite else '%s, %s'})",
                        [(f"c{i:05d}", i) for i in range(1, n + 1)])
        cur.execute("COMMIT")


def inject(url: str) -> None:
    """The differences every case must find (ids 100, 999999, 200, 301, 42, 400, and k.c00777)."""
    g.execute(url, "DELETE FROM t WHERE id = 100",
              "INSERT INTO t VALUES (999999, 'new', 1.5, 'x')",
              "UPDATE t SET name = 'changed' WHERE id = 200",
              "UPDATE t SET note = NULL WHERE id = 301",
              "UPDATE t SET amount = 6.00000000000001 WHERE id = 42",
              "UPDATE t SET name = 'name-400 ' WHERE id = 400",
              "UPDATE k SET v = -1 WHERE code = 'c00777'")


PAIRS = [("sqlite_url", "sqlite_url2"), ("pg_url", "pg_url2"), ("mysql_url", "mysql_url2"),
         ("pg_url", "mysql_url"), ("mysql_url", "pg_url"), ("sqlite_url", "pg_url"), ("sqlite_url", "mysql_url"),
         ("pg_url", "sqlite_url2"), ("mysql_url", "sqlite_url2")]


@pytest.mark.parametrize("pair", PAIRS, ids=lambda p: f"{p[0][:-4]}->{p[1][:-4]}".replace("_url", ""))
def test_bisection_finds_exactly_the_injected_rows(pair, request, tmp_path):
    source, target = (request.getfixturevalue(name) for name in pair)
    make_table(source)
    make_text_keyed(source)
    plan = api.plan_from_urls(source, target)
    plan = plan.model_copy(update={"state": str(tmp_path / "state.db")})
    api.run(plan)
    clean = {r.table.split(".")[-1]: r for r in api.verify(plan)}
    assert all(r.ok and r.differing == 0 for r in clean.values()), clean

    inject(target)
    found = {r.table.split(".")[-1]: r for r in api.verify(plan)}
    t = found["t"]
    assert (t.missing, t.extra, t.missing_count, t.extra_count) == ([(100,)], [(999999,)], 1, 1)
    assert sorted(t.modified) == [(42,), (200,), (301,), (400,)] and t.modified_count == 4
    columns = {d["key"][0]: [c["column"] for c in d["columns"]] for d in t.modified_details}
    assert columns == {42: ["amount"], 200: ["name"], 301: ["note"], 400: ["name"]}
    values = {d["key"][0]: d["columns"][0] for d in t.modified_details}
    assert (values[301]["source"], values[301]["target"]) == ("n301", None)
    assert (values[400]["source"], values[400]["target"]) == ("name-400", "name-400 ")
    assert (values[42]["source"], values[42]["target"]) == ("6", "6.00000000000001")
    assert t.leaves < 10, "bisection should download only the differing segments"
    k = found["k"]
    assert (k.modified, k.missing_count, k.extra_count) == ([("c00777",)], 0, 0)


def test_small_threshold_descends_and_counts_match(sqlite_url, sqlite_url2):
    """With threshold 10 and factor 4 the search goes several levels deep and
    still downloads only a few hundred row hashes for one modified row."""
    from ferry.connectors import open_connector
    from ferry.engines.validate import verify_table
    from ferry.transform.mapping import resolve

    make_table(sqlite_url)
    make_table(sqlite_url2)
    g.execute(sqlite_url2, "UPDATE t SET amount = amount + 1 WHERE id = 4321")
    src, tgt = open_connector(sqlite_url, read_only=True), open_connector(sqlite_url2, read_only=True)
    try:
        plan = api.plan_from_urls(sqlite_url, sqlite_url2)
        table = resolve(plan, src.introspect(), src.dialect, tgt.dialect)[0]
        r = verify_table(src, tgt, table, [KeyRange()],
                         set(), BisectOptions(factor=4, threshold=10))
    finally:
        src.close()
        tgt.close()
    assert r.modified == [(4321,)] and r.missing_count == r.extra_count == 0
    assert r.leaves == 1 and r.hashed_rows <= 20 and r.checksum_queries > 5


def _verify_sqlite(source: str, target: str, rejected: set, **options):
    from ferry.connectors import open_connector
    from ferry.engines.validate import verify_table
    from ferry.transform.mapping import resolve

    src, tgt = open_connector(source, read_only=True), open_connector(target, read_only=True)
    try:
        plan = api.plan_from_urls(source, target)
        table = resolve(plan, src.introspect(), src.dialect, tgt.dialect)[0]
        return verify_table(src, tgt, table, [KeyRange(None, (2500,)), KeyRange((2500,), None)], rejected,
                            BisectOptions(**options))
    finally:
        src.close()
        tgt.close()


def test_missing_block_and_rejected_keys(sqlite_url, sqlite_url2):
    """1,500 deleted rows are all named missing; a deleted row whose key is a
    known reject counts as rejected, not missing."""
    make_table(sqlite_url)
    make_table(sqlite_url2)
    g.execute(sqlite_url2, "DELETE FROM t WHERE id BETWEEN 2001 AND 3500", "DELETE FROM t WHERE id = 10")
    r = _verify_sqlite(sqlite_url, sqlite_url2, {(10,)})
    assert (r.missing_count, r.extra_count, r.modified_count, r.rejected_seen) == (1500, 0, 0, 1)
    assert r.missing[:2] == [(2001,), (2002,)] and len(r.missing) == 20
    assert r.source_keys == (1, 5000) and r.target_keys == (1, 5000)


def test_segments_are_cut_smaller_once_some_differ_and_some_match(sqlite_url, sqlite_url2, monkeypatch):
    """20,000 rows in 8 planned segments of 2,500, a query's overhead set to 50
    rows (the pieces scale with it): an equal copy costs a few more first
    checksums than planned (the first pieces are small and double); with
    modified rows, one of them in the first piece, the pieces after the first
    differences are cut smaller and every modified row is still named."""
    from ferry.connectors import open_connector
    from ferry.engines import pacing
    from ferry.engines.validate import verify_table
    from ferry.transform.mapping import resolve

    monkeypatch.setattr(pacing, "OVERHEAD_ROWS", 50)
    make_table(sqlite_url, 20000)
    make_table(sqlite_url2, 20000)
    modified = [5, 3000, 5500, 8000, 16000]
    g.execute(sqlite_url2, f"UPDATE t SET note = 'x' WHERE id IN ({', '.join(map(str, modified))})")
    planned = [KeyRange(None if i == 0 else (i * 2500,), None if i == 7 else ((i + 1) * 2500,)) for i in range(8)]
    src, tgt = open_connector(sqlite_url, read_only=True), open_connector(sqlite_url2, read_only=True)
    twin = src.clone()
    try:
        table = resolve(api.plan_from_urls(sqlite_url, sqlite_url2), src.introspect(), src.dialect, tgt.dialect)[0]
        same = verify_table(src, twin, table, planned, set(), BisectOptions(threshold=10, segment_rows=2500))
        r = verify_table(src, tgt, table, planned, set(), BisectOptions(factor=4, threshold=10, segment_rows=2500))
    finally:
        for conn in (src, twin, tgt):
            conn.close()
    assert same.ok and 8 < same.segments <= 12, same.segments
    assert r.modified == [(k,) for k in modified] and r.missing_count == r.extra_count == 0
    assert r.segments > 2 * same.segments and r.source_rows == r.target_rows == 20000
