"""``timezone: {from: Europe/Paris}``: a naive timestamp becomes the instant it
names, computed by the source (PostgreSQL ``AT TIME ZONE``, MySQL
``CONVERT_TZ``, SQLite: ferry's zoneinfo functions); ``{to: zone}`` the reverse.
DST edges give the same instants on SQLite as on PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
import yaml

from tests.e2e import generate as g
from tests.e2e.test_transform_columns import pair_id

PARIS = {"columns": [{"name": "id"}, {"name": "at", "timezone": {"from": "Europe/Paris"}}]}
UTC_WANT = [(1, datetime(2024, 7, 1, 10, 0)), (2, datetime(2024, 1, 15, 7, 30)), (3, None)]


def make_events(url: str) -> None:
    """Table ``events`` (id, at: naive timestamp): summer time, winter time, NULL."""
    kind = "datetime" if g.engine(url) == "mysql" else "timestamp"
    g.execute(url, f"CREATE TABLE events (id integer PRIMARY KEY, at {kind})",
              "INSERT INTO events VALUES (1, '2024-07-01 12:00:00'), (2, '2024-01-15 08:30:00'), (3, NULL)")


@pytest.mark.parametrize("names", [("pg_url", "pg_url2"), ("pg_url", "mysql_url"), ("pg_url", "sqlite_url")],
                         ids=pair_id)
def test_postgresql_source_converts(names, request, tmp_path):
    source, target = (request.getfixturevalue(n) for n in names)
    make_events(source)
    result = _run(tmp_path, source, target)
    assert result.exit_code == 0, result.output
    got = g.query(target, "SELECT id, at FROM events ORDER BY id")
    naive = [(i, None if v is None else _utc_naive(v)) for i, v in got]
    assert naive == UTC_WANT


def _utc_naive(value):
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.astimezone(timezone.utc).replace(tzinfo=None) if value.tzinfo else value


def _run(tmp_path, source, target, mapping=PARIS):
    plan = {"version": 1, "source": source, "target": target, "options": {"jobs": 1, "if_exists": "drop"},
            "tables": [{"source": "events", **mapping}]}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    return g.cli("run", str(path))


def test_mysql_source_needs_time_zone_tables(mysql_url, pg_url, tmp_path):
    make_events(mysql_url)
    loaded = g.query(mysql_url, "SELECT COUNT(*) FROM mysql.time_zone_name")[0][0] > 0
    result = _run(tmp_path, mysql_url, pg_url)
    if loaded:
        assert result.exit_code == 0, result.output
        assert [(i, _utc_naive(v) if v else None) for i, v in
                g.query(pg_url, "SELECT id, at FROM events ORDER BY id")] == UTC_WANT
    else:
        assert result.exit_code == 2, result.output
        assert "does not know zone 'Europe/Paris'" in result.output and "mysql_tzinfo_to_sql" in result.output


# wall-clock times at Europe/Paris DST edges: in the spring gap, in the autumn overlap, around them
EDGES = ["2024-03-31 01:59:59", "2024-03-31 02:30:00", "2024-03-31 03:00:00",
         "2024-10-27 01:59:00", "2024-10-27 02:30:00", "2024-10-27 03:00:00"]


def make_edges(url: str) -> None:
    values = ", ".join(f"({i}, '{v}')" for i, v in enumerate(EDGES, 1))
    g.execute(url, "CREATE TABLE events (id integer PRIMARY KEY, at timestamp)", f"INSERT INTO events VALUES {values}")


@pytest.mark.parametrize("target", ["sqlite_url2", "pg_url"])
def test_sqlite_source_converts_like_postgresql(target, sqlite_url, pg_url2, request, tmp_path):
    """The same DST-edge wall-clock times, converted by a SQLite source and by
    PostgreSQL itself, name the same instants; verify passes."""
    make_edges(sqlite_url)
    make_edges(pg_url2)
    target = request.getfixturevalue(target)
    result = _run(tmp_path, sqlite_url, target)
    assert result.exit_code == 0, result.output
    got = [(i, _utc_naive(v)) for i, v in g.query(target, "SELECT id, at FROM events ORDER BY id")]
    want = g.query(pg_url2, "SELECT id, (at AT TIME ZONE 'Europe/Paris') AT TIME ZONE 'UTC' FROM events ORDER BY id")
    assert got == [tuple(r) for r in want]
    assert got[1][1] == datetime(2024, 3, 31, 1, 30) and got[4][1] == datetime(2024, 10, 27, 1, 30)


@pytest.mark.parametrize("names", [("pg_url", "pg_url2"), ("sqlite_url", "sqlite_url2")], ids=pair_id)
def test_to_zone_gives_wall_clock_time(names, request, tmp_path):
    """``{to: Asia/Tokyo}``: a timestamptz becomes Tokyo's naive wall-clock time."""
    source, target = (request.getfixturevalue(n) for n in names)
    g.execute(source, "CREATE TABLE events (id integer PRIMARY KEY, at timestamptz)",
              "INSERT INTO events VALUES (1, '2024-07-01 10:00:00+00:00'), (2, '2024-01-15 23:30:00+00:00'), (3, NULL)")
    result = _run(tmp_path, source, target, {"columns": [{"name": "id"}, {"name": "at", "timezone": {"to": "Asia/Tokyo"}}]})
    assert result.exit_code == 0, result.output
    got = [(i, v if v is None or isinstance(v, datetime) else datetime.fromisoformat(v))
           for i, v in g.query(target, "SELECT id, at FROM events ORDER BY id")]
    assert got == [(1, datetime(2024, 7, 1, 19, 0)), (2, datetime(2024, 1, 16, 8, 30)), (3, None)]


def test_unknown_zone_and_wrong_type_are_plan_errors(pg_url, pg_url2, tmp_path):
    make_events(pg_url)
    result = _run(tmp_path, pg_url, pg_url2, {"columns": [{"name": "at", "timezone": {"from": "Mars/Olympus"}}]})
    assert result.exit_code == 2 and "unknown time zone 'Mars/Olympus'" in result.output
    result = _run(tmp_path, pg_url, pg_url2, {"columns": [{"name": "id"}, {"name": "id", "target": "n",
                                                          "timezone": {"from": "UTC"}}]})
    assert result.exit_code == 2 and "'id' is integer, not a timestamp without time zone" in result.output
