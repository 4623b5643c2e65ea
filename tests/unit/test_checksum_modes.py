"""Which segment checksum variants a PostgreSQL server offers, by version."""

from ferry.connectors.base import ORDERED_MD5, PG_RAW, SEGMENT_SHA256
from ferry.connectors.pg_dialect import PostgresDialect


def test_sha256_segment_needs_postgresql_11_and_pg_raw_14():
    assert SEGMENT_SHA256 not in PostgresDialect(version=100023).checksum_modes
    assert ORDERED_MD5 in PostgresDialect(version=100023).checksum_modes
    assert SEGMENT_SHA256 in PostgresDialect(version=110000).checksum_modes
    assert PG_RAW not in PostgresDialect(version=130000).checksum_modes
    assert {SEGMENT_SHA256, PG_RAW} <= set(PostgresDialect(version=150019).checksum_modes)
    assert SEGMENT_SHA256 in PostgresDialect().checksum_modes      # version unknown
