"""``--if-exists truncate`` into tables an earlier run created: the rows are
replaced, children emptied before their parents, and the keys, indexes and
foreign keys the tables already have are kept, not created twice."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e import generate as g

CHINOOK = Path(__file__).resolve().parents[2] / "examples" / "chinook" / "chinook.sqlite"


def _constraints(url: str, table: str) -> list[str]:
    return sorted(r[0] for r in g.query(
        url, "SELECT constraint_type FROM information_schema.table_constraints WHERE table_name = %s "
             "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY')", (table,)))


@pytest.mark.parametrize("target_name", ["pg_url", "mysql_url"])
def test_truncate_twice_keeps_keys(target_name, request, tmp_path, monkeypatch):
    target = request.getfixturevalue(target_name)
    monkeypatch.chdir(tmp_path)
    args = ["run", "--source", f"sqlite:///{CHINOOK}", "--target", target, "--tables", "Genre,Artist,Album"]
    first = g.cli(*args)
    assert first.exit_code == 0, first.output
    before = _constraints(target, "Album")
    g.execute(target, "DELETE FROM Album WHERE AlbumId > 300" if target_name == "mysql_url"
              else 'DELETE FROM "Album" WHERE "AlbumId" > 300')
    for _ in range(2):
        again = g.cli(*args, "--if-exists", "truncate")
        assert again.exit_code == 0, again.output
    assert g.count(target, "Album") == 347 and g.count(target, "Artist") == 275
    assert _constraints(target, "Album") == before == ["FOREIGN KEY", "PRIMARY KEY"]
