"""Verify names exactly the differences injected into a copy of a real dataset,
on every engine pair: Chinook (written for all three engines) is migrated, then
the target is changed through the plain driver (a row deleted and one inserted
in InvoiceLine; in Track a name changed, a composer set to NULL, a trailing
space, a price up by 0.01; in Invoice a date one second later). Verify must
report those keys, no others, and for each modified row the one changed column."""

from __future__ import annotations

import pytest

from ferry import api
from tests.e2e import datasets
from tests.e2e import generate as g


SOURCES = {"sqlite": datasets.from_file(datasets.chinook_sqlite, datasets.CHINOOK_COUNTS),
           "mysql": datasets.on_server("mysql_url", datasets.load_chinook_mysql),
           "postgresql": datasets.on_server("pg_url", datasets.load_chinook_pg)}
TARGETS = {"sqlite": "sqlite_url2", "mysql": "mysql_url2", "postgresql": "pg_url2"}
# Chinook's names: PascalCase in its SQLite and MySQL scripts, snake_case in its PostgreSQL one
PASCAL = {"track": "Track", "track_id": "TrackId", "name": "Name", "composer": "Composer",
          "unit_price": "UnitPrice", "invoice_line": "InvoiceLine", "invoice_line_id": "InvoiceLineId",
          "invoice": "Invoice", "invoice_id": "InvoiceId", "invoice_date": "InvoiceDate", "quantity": "Quantity"}


def _names(source_engine: str):
    return (lambda n: n) if source_engine == "postgresql" else PASCAL.__getitem__


def inject(target: str, n) -> None:
    """The differences (names ``n``: the source's spelling, kept by the migration)."""
    e = g.engine(target)
    q = (lambda x: f"`{n(x)}`") if e == "mysql" else (lambda x: f'"{n(x)}"')
    later = {"postgresql": f"{q('invoice_date')} + interval '1 second'",
             "mysql": f"{q('invoice_date')} + INTERVAL 1 SECOND",
             "sqlite": f"datetime({q('invoice_date')}, '+1 second')"}[e]
    spaced = f"CONCAT({q('name')}, ' ')" if e == "mysql" else f"{q('name')} || ' '"
    line, track = q("invoice_line"), q("track")
    g.execute(target,
              f"DELETE FROM {line} WHERE {q('invoice_line_id')} = 5",
              f"INSERT INTO {line} ({q('invoice_line_id')}, {q('invoice_id')}, {q('track_id')}, "
              f"{q('unit_price')}, {q('quantity')}) VALUES (99999, 1, 1, 0.99, 1)",
              f"UPDATE {track} SET {q('name')} = 'changed' WHERE {q('track_id')} = 10",
              f"UPDATE {track} SET {q('composer')} = NULL WHERE {q('track_id')} = 1",
              f"UPDATE {track} SET {q('name')} = {spaced} WHERE {q('track_id')} = 20",
              f"UPDATE {track} SET {q('unit_price')} = {q('unit_price')} + 0.01 WHERE {q('track_id')} = 30",
              f"UPDATE {q('invoice')} SET {q('invoice_date')} = {later} WHERE {q('invoice_id')} = 7")


@pytest.mark.parametrize("target_engine", sorted(TARGETS))
@pytest.mark.parametrize("source_engine", sorted(SOURCES))
def test_injected_differences_in_chinook_are_found_exactly(source_engine, target_engine, request, tmp_path,
                                                           monkeypatch):
    monkeypatch.chdir(tmp_path)
    source, _ = SOURCES[source_engine](request, tmp_path)
    target = request.getfixturevalue(TARGETS[target_engine])
    plan = api.plan_from_urls(source, target, jobs=2)
    api.run(plan)
    n = _names(source_engine)
    inject(target, n)
    found = {r.table.split(".")[-1]: r for r in api.verify(plan)}
    differing = {t: r for t, r in found.items() if r.differing or not r.ok}
    assert sorted(differing) == sorted([n("invoice"), n("invoice_line"), n("track")])
    line = found[n("invoice_line")]
    assert (line.missing, line.extra, line.modified) == ([(5,)], [(99999,)], [])
    track = found[n("track")]
    assert (track.missing, track.extra, sorted(track.modified)) == ([], [], [(1,), (10,), (20,), (30,)])
    columns = {d["key"][0]: [c["column"] for c in d["columns"]] for d in track.modified_details}
    assert columns == {1: [n("composer")], 10: [n("name")], 20: [n("name")], 30: [n("unit_price")]}
    invoice = found[n("invoice")]
    assert (invoice.modified, [c["column"] for c in invoice.modified_details[0]["columns"]]) == \
        ([(7,)], [n("invoice_date")])
