"""One table verified on several connection pairs at once (``jobs`` above the
number of tables), with ``md5-ordered`` checksums between PostgreSQL and
MariaDB over a CHAR column (its trailing spaces trimmed the same way on both
engines, multibyte text included): the injected differences are found exactly,
and the chunks' row counts add up."""

from __future__ import annotations

import pytest

from ferry import api
from ferry.connectors import open_connector
from ferry.errors import TransientError
from tests.e2e import generate as g

N = 20000
_FILL = {
    "postgresql": "INSERT INTO c SELECT i, 'é-' || (i % 97), i % 5 FROM generate_series(1, {n}) AS i",
    "mysql": "INSERT INTO c SELECT seq, CONCAT('é-', seq % 97), seq % 5 FROM seq_1_to_{n}",
}


@pytest.mark.parametrize("pair", [("pg_url", "mysql_url"), ("mysql_url", "pg_url")],
                         ids=lambda p: f"{p[0][:-4]}->{p[1][:-4]}")
def test_one_table_on_several_lanes_finds_exactly_the_changes(pair, request, tmp_path):
    copy_change_verify(*(request.getfixturevalue(name) for name in pair), tmp_path)


def copy_change_verify(source: str, target: str, tmp_path) -> None:
    """Copy ``c`` (20,000 rows, 4 jobs, 1,000-row chunks), verify it clean in
    1,000-row segments, change three rows on the target and verify that
    exactly those are named."""
    g.execute(source, "CREATE TABLE c (id integer PRIMARY KEY, code char(12), n integer)",
              _FILL[g.engine(source)].format(n=N))
    plan = api.plan_from_urls(source, target)
    options = plan.options.model_copy(update={"chunk_rows": 1000, "jobs": 4})
    checks = plan.checks.model_copy(update={"segment_rows": 1000})
    plan = plan.model_copy(update={"state": str(tmp_path / "state.db"), "options": options, "checks": checks})
    api.run(plan)
    clean = api.verify(plan)[0]
    assert clean.ok and (clean.source_rows, clean.target_rows) == (N, N), clean
    assert clean.segments >= 15, "about 20 segments: MariaDB's row estimate varies"
    assert (clean.checksum_queries, clean.leaves) == (clean.segments, 0), "every segment matched at once"

    g.execute(target, "UPDATE c SET code = 'é-changed' WHERE id = 7",
              "UPDATE c SET n = NULL WHERE id = 12345", "DELETE FROM c WHERE id = 19999")
    found = api.verify(plan)[0]
    assert sorted(found.modified) == [(7,), (12345,)] and found.missing == [(19999,)], found
    assert found.checksum_queries >= found.segments, "every segment's checksum is counted, whichever lane ran it"
    assert (found.source_rows, found.target_rows, found.extra_count) == (N, N - 1, 0)


def test_utf8_database_is_detected(pg_url):
    """A UTF8 server hashes its texts as they are (no conversion per row)."""
    conn = open_connector(pg_url, read_only=True)
    try:
        assert conn.dialect.utf8 is True
    finally:
        conn.close()



@pytest.fixture
def latin1_pg_url():
    """A new PostgreSQL database in LATIN1, dropped after the test."""
    from tests.conftest import PG_ADMIN_URL, _pg_admin, _with_db, fresh_name
    name = fresh_name()
    _pg_admin(f"CREATE DATABASE \"{name}\" ENCODING 'LATIN1' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    yield _with_db(PG_ADMIN_URL, name)
    _pg_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_latin1_source_hashes_its_texts_as_utf8(latin1_pg_url, mysql_url, tmp_path):
    """A LATIN1 server converts each row text to UTF-8 before md5-ordered hashes
    it, so 'é' in a CHAR column hashes as MariaDB's utf8mb4 text does."""
    conn = open_connector(latin1_pg_url, read_only=True)
    try:
        assert conn.dialect.utf8 is False
    finally:
        conn.close()
    copy_change_verify(latin1_pg_url, mysql_url, tmp_path)


def test_serial_sessions_keep_their_setting_across_a_reconnect(pg_url):
    """Checksum sessions run without parallel workers (``--jobs`` cores per
    server), also after the connection is lost and opened again."""
    conn = open_connector(pg_url, read_only=True)
    try:
        conn.serial_queries()
        assert conn.query("SHOW max_parallel_workers_per_gather") == [("0",)]
        pid = conn.query("SELECT pg_backend_pid()")[0][0]
        g.execute(pg_url, f"SELECT pg_terminate_backend({pid})")
        with pytest.raises(TransientError):         # reported once; the retry reconnects
            conn.query("SELECT 1")
        assert conn.query("SHOW max_parallel_workers_per_gather") == [("0",)]
        assert conn.query("SELECT pg_backend_pid()")[0][0] != pid
    finally:
        conn.close()
