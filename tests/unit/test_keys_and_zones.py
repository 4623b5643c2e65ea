"""UUID v7 generation and the time-zone shifts of SQLite sources (pure logic)."""

from __future__ import annotations

import time
import uuid
from datetime import datetime, timezone

from ferry.connectors.timezones import local_to_utc, sqlite_tz_from, sqlite_tz_to, utc_to_local
from ferry.engines.keymap import uuid7


def test_uuid7_layout_and_order():
    before = time.time_ns() // 1_000_000
    values = [uuid.UUID(uuid7()) for _ in range(200)]
    after = time.time_ns() // 1_000_000
    assert {v.version for v in values} == {7} and {v.variant for v in values} == {uuid.RFC_4122}
    stamps = [v.int >> 80 for v in values]
    assert before <= min(stamps) and max(stamps) <= after and stamps == sorted(stamps)
    assert len(set(values)) == 200


def test_local_to_utc_follows_postgresql_at_dst_edges():
    paris = "Europe/Paris"
    assert local_to_utc(datetime(2024, 7, 1, 12, 0), paris) == datetime(2024, 7, 1, 10, 0, tzinfo=timezone.utc)
    # spring gap: 02:30 does not exist; read with the offset before the change (+01:00)
    assert local_to_utc(datetime(2024, 3, 31, 2, 30), paris) == datetime(2024, 3, 31, 1, 30, tzinfo=timezone.utc)
    # autumn overlap: 02:30 exists twice; read with the offset after the change (+01:00)
    assert local_to_utc(datetime(2024, 10, 27, 2, 30), paris) == datetime(2024, 10, 27, 1, 30, tzinfo=timezone.utc)
    assert local_to_utc(datetime(2024, 10, 27, 1, 59), paris) == datetime(2024, 10, 26, 23, 59, tzinfo=timezone.utc)


def test_utc_to_local_and_sqlite_text():
    assert utc_to_local(datetime(2024, 1, 15, 23, 30), "Asia/Tokyo") == datetime(2024, 1, 16, 8, 30)
    assert sqlite_tz_from("2024-07-01 12:00:00.250000", "Europe/Paris") == "2024-07-01 10:00:00.250000+00:00"
    assert sqlite_tz_to("2024-07-01 10:00:00+00:00", "Europe/Paris") == "2024-07-01 12:00:00"
    assert sqlite_tz_from(None, "UTC") is None and sqlite_tz_from("not a time", "UTC") == "not a time"
