"""Segment checksum variants (``md5-sum``, ``md5-ordered``, ``sha256-segment``,
``pg-hash``, ``pg-raw``): which one a pair of engines uses, equal sums for
equal rows and different sums after one change, and the fall-backs: a
``GROUP_CONCAT`` that MariaDB cut at ``max_allowed_packet`` is computed again,
``sha256-segment`` as ``md5-ordered`` and ``md5-ordered`` as ``md5-sum`` (so a
change past the cut is still found); ``sha256-segment`` chunks that the two engines
read in different orders are confirmed with ``md5-ordered``; ``pg-raw`` sums
over different column types are computed again as ``pg-hash``.
"""

from __future__ import annotations

import hashlib

import pytest

from ferry import api
from ferry.connectors import open_connector
from ferry.connectors.base import NULL_TEXT, KeyRange
from ferry.engines.bisect import checksum_mode
from ferry.engines.validate import BisectOptions, verify_table
from ferry.transform.mapping import resolve
from tests.e2e import generate as g
from tests.e2e.test_verify_bisect import make_table, make_text_keyed


def _open(source: str, target: str, name: str):
    src, tgt = open_connector(source, read_only=True), open_connector(target, read_only=True)
    plan = api.plan_from_urls(source, target)
    table = next(t for t in resolve(plan, src.introspect(), src.dialect, tgt.dialect) if t.name.endswith(name))
    return src, tgt, table


def _verify(source: str, target: str, name: str, **options):
    src, tgt, table = _open(source, target, name)
    try:
        halves = [KeyRange(None, (2500,)), KeyRange((2500,), None)]
        return verify_table(src, tgt, table, halves, set(), BisectOptions(**options))
    finally:
        src.close()
        tgt.close()


@pytest.mark.parametrize("pair, name, mode", [
    (("pg_url", "pg_url2"), "t", "pg-raw"), (("pg_url", "mysql_url"), "t", "sha256-segment"),
    (("mysql_url", "pg_url"), "k", "md5-sum"), (("sqlite_url", "pg_url"), "t", "md5-sum")])
def test_mode_per_pair_equal_sums_then_different(pair, name, mode, request):
    source, target = (request.getfixturevalue(p) for p in pair)
    for url in (source, target):
        make_table(url, 3000)
        make_text_keyed(url, 200)
    src, tgt, table = _open(source, target, name)
    try:
        assert checksum_mode(src.dialect, tgt.dialect, table) == mode
        modes = [mode] + (["md5-ordered"] if mode == "sha256-segment" else [])     # its fall-back too
        same = {m: [c.checksum(s, KeyRange(), m) for c, s in ((src, table.read), (tgt, table.hash_target))]
                for m in modes}
        for m in modes:
            assert same[m][0].matches(same[m][1]) and same[m][0].count == (3000 if name == "t" else 200), m
        change = "UPDATE t SET note = 'x' WHERE id = 2999" if name == "t" else "UPDATE k SET v = 0 WHERE v = 7"
        g.execute(target, change)
        for m in modes:
            changed = tgt.checksum(table.hash_target, KeyRange(), m)
            assert not same[m][0].matches(changed) and changed.count == same[m][0].count, m
    finally:
        src.close()
        tgt.close()


def test_segment_checksum_is_the_sha256_of_the_row_texts_joined_by_0xff(pg_url, mysql_url):
    """Both engines' ``sha256-segment`` total is the first 60 bits of the
    SHA-256 of the canonical row texts in key order, joined by the byte 0xFF."""
    rows = [(3, "é"), (1, "a"), (2, None)]
    for url in (pg_url, mysql_url):
        g.execute(url, "CREATE TABLE s (id int PRIMARY KEY, note varchar(10))",
                  *[f"INSERT INTO s VALUES ({k}, {'NULL' if v is None else repr(v)})" for k, v in rows])
    texts = [f"{k}|{NULL_TEXT if v is None else v}".encode() for k, v in sorted(rows)]
    expected = int(hashlib.sha256(b"\xff".join(texts)).hexdigest()[:15], 16)
    src, tgt, table = _open(pg_url, mysql_url, "s")
    try:
        for conn, select in ((src, table.read), (tgt, table.hash_target)):
            got = conn.checksum(select, KeyRange(), "sha256-segment")
            assert (got.count, got.total) == (3, expected), conn.dialect.name
    finally:
        src.close()
        tgt.close()


def test_group_concat_cut_is_inexact_and_the_change_past_it_is_found(mysql_url, mysql_url2):
    """1,000 rows of 20 kB in one 1,024-key group pass ``max_allowed_packet``
    (16 MiB by default): both sides cut the same text, so only the warning
    check keeps the change at id 990 (past the cut) from hiding."""
    fill = "INSERT INTO w SELECT seq, REPEAT(CHAR(97 + seq % 26), 20000) FROM seq_1_to_1000"
    for url in (mysql_url, mysql_url2):
        g.execute(url, "CREATE TABLE w (id integer PRIMARY KEY, body longtext)", fill)
    g.execute(mysql_url2, "UPDATE w SET body = CONCAT(body, '!') WHERE id = 990")
    packet = g.query(mysql_url, "SELECT @@max_allowed_packet")[0][0]
    src, tgt, table = _open(mysql_url, mysql_url2, "w")
    try:
        ordered = src.checksum(table.read, KeyRange(), "md5-ordered")
        assert ordered.exact is (packet > 1000 * 20010), "a cut GROUP_CONCAT must be inexact"
    finally:
        src.close()
        tgt.close()
    r = _verify(mysql_url, mysql_url2, "w", threshold=100)
    assert (r.modified, r.missing_count, r.extra_count) == ([(990,)], 0, 0)


def test_pg_raw_over_different_column_types_goes_on_with_pg_hash(pg_url, pg_url2):
    """The target holds the same values as ``numeric`` where the source has
    ``integer``: no chunk's raw sums match, the canonical sums do, and the one
    real change is still named."""
    fill = "INSERT INTO t SELECT i, i * 3 FROM generate_series(1, 5000) AS i"
    g.execute(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, v integer)", fill)
    g.execute(pg_url2, "CREATE TABLE t (id integer PRIMARY KEY, v numeric(12, 0))", fill)
    same = _verify(pg_url, pg_url2, "t")
    assert same.ok and same.differing == 0 and same.checksum_queries == 4     # 2 raw + 2 canonical
    g.execute(pg_url2, "UPDATE t SET v = 0 WHERE id = 4000")
    one = _verify(pg_url, pg_url2, "t")
    assert (one.modified, one.missing_count, one.extra_count) == ([(4000,)], 0, 0)


def test_json_hashed_as_stored_text_first_canonical_where_texts_differ(pg_url, mysql_url, tmp_path):
    """PostgreSQL json -> MariaDB: the copy keeps the JSON texts, so the chunk
    sums over stored text match; a document rewritten with other spacing and
    key order is equal in canonical JSON (not reported), a changed value is."""
    fill = ("INSERT INTO j SELECT i, json_build_object('a', i, 'b', 'x' || i, 'c', i / 8.0) "
            "FROM generate_series(1, 5000) AS i")
    g.execute(pg_url, "CREATE TABLE j (id integer PRIMARY KEY, doc json)", fill)
    plan = api.plan_from_urls(pg_url, mysql_url).model_copy(update={"state": str(tmp_path / "state.db")})
    api.run(plan)
    assert _verify(pg_url, mysql_url, "j").ok
    g.execute(mysql_url, """UPDATE j SET doc = '{"c":0.625,  "b" : "x5", "a":5}' WHERE id = 5""",
              """UPDATE j SET doc = '{"a": 6, "b": "x6", "c": 0.76}' WHERE id = 6""")
    r = _verify(pg_url, mysql_url, "j")
    assert (r.modified, r.missing_count, r.extra_count) == ([(6,)], 0, 0)
    # 2 halves over stored text (the second matches: no canonical pass and no
    # md5-ordered confirmation), then 16 parts of the first
    assert (r.checksum_queries, r.leaves) == (18, 1)
    # the leaf (ids 1-157) over stored text, then canonical JSON for ids 5-6 only
    assert r.hashed_rows == 2 * 157 + 2 * 2


def test_pg_raw_hashes_unhashable_and_extension_types_as_text(pg_url, pg_url2, tmp_path):
    """money and tsvector have no hash function, citext hashes case-insensitively:
    ``pg-raw`` hashes them as text, so the copy verifies and a change of case
    in a citext value is found."""
    ddl = ("CREATE EXTENSION IF NOT EXISTS citext", "CREATE TYPE mood AS ENUM ('ok', 'sad')",
           "CREATE TABLE x (id integer PRIMARY KEY, m money, tv tsvector, ci citext, iv interval, "
           "md mood, f real)")
    g.execute(pg_url, *ddl, "INSERT INTO x SELECT i, i / 4.0, to_tsvector('simple', 'w' || i), 'Ci' || i, "
                            "i * interval '1 hour', 'ok', i / 3.0 FROM generate_series(1, 3000) AS i")
    g.execute(pg_url2, *ddl[:2])
    plan = api.plan_from_urls(pg_url, pg_url2).model_copy(update={"state": str(tmp_path / "state.db")})
    api.run(plan)
    assert _verify(pg_url, pg_url2, "x").ok
    g.execute(pg_url2, "UPDATE x SET ci = 'ci7' WHERE id = 7")
    r = _verify(pg_url, pg_url2, "x")
    assert (r.modified, r.missing_count, r.extra_count) == ([(7,)], 0, 0)


def test_segment_text_cut_goes_on_with_md5_ordered(pg_url, mysql_url):
    """1,000 rows of 20 kB, keys 100 apart: the upper half's one ``sha256-segment``
    text (19.5 MB) passes ``max_allowed_packet`` (16 MiB by default) and is
    cut, its 1,024-key groups (10 rows) are not: the half is computed again as
    ``md5-ordered``, not as ``md5-sum``, and a change in it is still found."""
    fills = {pg_url: "INSERT INTO w SELECT i * 100, repeat(chr(97 + i % 26), 20000) "
                     "FROM generate_series(1, 1000) AS i",
             mysql_url: "INSERT INTO w SELECT seq * 100, REPEAT(CHAR(97 + seq % 26), 20000) FROM seq_1_to_1000"}
    for url, fill in fills.items():
        g.execute(url, "CREATE TABLE w (id integer PRIMARY KEY, body text)", fill)
    cut = g.query(mysql_url, "SELECT @@max_allowed_packet")[0][0] < 976 * 20006
    same = _verify(pg_url, mysql_url, "w")
    assert same.ok and same.leaves == 0
    assert same.checksum_queries == (3 if cut else 2), "the cut half once more"
    assert same.checksum_mode == ("md5-ordered" if cut else "sha256-segment"), "as md5-ordered, not md5-sum"
    g.execute(mysql_url, "UPDATE w SET body = CONCAT(body, '!') WHERE id = 99900")
    r = _verify(pg_url, mysql_url, "w", threshold=100)
    assert (r.modified, r.missing_count, r.extra_count) == ([(99900,)], 0, 0)


def test_rows_read_in_another_order_are_confirmed_with_md5_ordered(pg_url, mysql_url):
    """A MyISAM table scan returns rows in insertion order, here the reverse of
    the key order, so ``sha256-segment`` differs although the rows are equal: the
    differing chunk is checked again with ``md5-ordered``, which sorts, and
    matches, so the table is clean without a single row downloaded. A real
    change is then found with ``md5-ordered``."""
    g.execute(pg_url, "CREATE TABLE t (id integer PRIMARY KEY, v integer)",
              "INSERT INTO t SELECT i, i * 7 FROM generate_series(1, 3000) AS i")
    g.execute(mysql_url, "CREATE TABLE t (id integer PRIMARY KEY, v integer) ENGINE=MyISAM",
              "INSERT INTO t SELECT 3001 - seq, (3001 - seq) * 7 FROM seq_1_to_3000")
    src, tgt, table = _open(pg_url, mysql_url, "t")
    try:
        whole = [KeyRange()]
        clean = verify_table(src, tgt, table, whole, set())
        assert clean.ok and (clean.checksum_queries, clean.leaves, clean.hashed_rows) == (2, 0, 0), clean
        assert clean.checksum_mode == "md5-ordered"
        g.execute(mysql_url, "UPDATE t SET v = 0 WHERE id = 1234")
        r = verify_table(src, tgt, table, whole, set(), BisectOptions(threshold=100))
        assert (r.modified, r.missing_count, r.extra_count) == ([(1234,)], 0, 0)
    finally:
        src.close()
        tgt.close()


def test_pg_raw_stays_when_more_pieces_differ_than_ranges_were_planned(pg_url, pg_url2, monkeypatch):
    """Two planned halves walked in many pieces (a query's overhead set to 50
    rows), six of them holding a modified row: some pieces matched, so the
    ``pg-raw`` sums are trusted and no piece is checked again as ``pg-hash``."""
    from ferry.engines import pacing

    monkeypatch.setattr(pacing, "OVERHEAD_ROWS", 50)
    for url in (pg_url, pg_url2):
        make_table(url, 5000)
        g.execute(url, "ANALYZE t")                     # the row estimate sizes the first pieces
    modified = [10, 1000, 2000, 3000, 4000, 4990]
    g.execute(pg_url2, f"UPDATE t SET note = 'x' WHERE id IN ({', '.join(map(str, modified))})")
    r = _verify(pg_url, pg_url2, "t", threshold=10, segment_rows=2500)
    assert r.modified == [(k,) for k in modified] and r.segments > 2 * len(modified)
    assert r.checksum_mode == "pg-raw", r.checksum_mode
