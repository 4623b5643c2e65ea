"""MariaDB integer columns hash as their decimal digits on every path: plain
integers bare, YEAR and ZEROFILL through ``+ 0`` (YEAR prints 0 as ``0000``,
ZEROFILL pads). Verify of a MariaDB -> PostgreSQL copy must pass clean and name
a changed value in each kind of column; so must a PostgreSQL -> MariaDB verify
into YEAR and ZEROFILL columns that the user created (the target's own types
are introspected, not the planned ones)."""

from __future__ import annotations

from ferry import api
from ferry.connectors import open_connector
from ferry.runbook.phases.validate import with_target_natives
from ferry.transform.mapping import resolve
from tests.e2e import generate as g


def test_year_zerofill_and_plain_integers_verify_clean_and_name_changes(mysql_url, pg_url, tmp_path):
    g.execute(mysql_url, "CREATE TABLE n (id int PRIMARY KEY, y year, z int(6) zerofill, "
                         "t tinyint, u bigint unsigned)",
              "INSERT INTO n SELECT seq, IF(seq % 7 = 0, 0, 1990 + seq % 30), seq % 1000, CAST(seq % 100 AS SIGNED) - 50, "
              "seq * 1000003 FROM seq_1_to_3000")
    plan = api.plan_from_urls(mysql_url, pg_url)
    plan = plan.model_copy(update={"state": str(tmp_path / "state.db")})
    api.run(plan)
    clean = api.verify(plan)[0]
    assert clean.ok and clean.source_rows == 3000 and clean.differing == 0, clean

    g.execute(pg_url, "UPDATE n SET y = 2001 WHERE id = 10", "UPDATE n SET z = 7 WHERE id = 20",
              "UPDATE n SET t = 0 WHERE id = 30", "UPDATE n SET u = 1 WHERE id = 40")
    found = api.verify(plan)[0]
    assert sorted(found.modified) == [(10,), (20,), (30,), (40,)], found
    columns = {d["key"][0]: [c["column"] for c in d["columns"]] for d in found.modified_details}
    assert columns == {10: ["y"], 20: ["z"], 30: ["t"], 40: ["u"]}


def test_target_year_and_zerofill_created_by_the_user_verify_clean(pg_url, mysql_url):
    g.execute(pg_url, "CREATE TABLE n (id integer PRIMARY KEY, y smallint, z integer, p integer)",
              "INSERT INTO n SELECT i, CASE WHEN i % 7 = 0 THEN 0 ELSE 1990 + i % 30 END, i % 1000, -i "
              "FROM generate_series(1, 3000) AS i")
    g.execute(mysql_url, "CREATE TABLE n (id int PRIMARY KEY, y year, z int(6) zerofill, p int)",
              "INSERT INTO n SELECT seq, IF(seq % 7 = 0, 0, 1990 + seq % 30), seq % 1000, -seq FROM seq_1_to_3000")
    plan = api.plan_from_urls(pg_url, mysql_url)
    text = _target_row_text(plan)
    assert "COALESCE(`p`, " in text and "CAST(`y` + 0 AS CHAR)" in text and "CAST(`z` + 0 AS CHAR)" in text
    clean = api.verify(plan)[0]
    assert clean.ok and clean.target_rows == 3000 and clean.differing == 0, clean
    g.execute(mysql_url, "UPDATE n SET z = 7 WHERE id = 20", "UPDATE n SET p = 5 WHERE id = 30")
    found = api.verify(plan)[0]
    assert sorted(found.modified) == [(20,), (30,)], found


def _target_row_text(plan) -> str:
    """The target's row text SQL as the validate phase hashes it."""
    src, tgt = open_connector(plan.source, read_only=True), open_connector(plan.target, read_only=True)
    try:
        tables = resolve(plan, src.introspect(plan.include, plan.exclude), src.dialect, tgt.dialect)
        return tgt.dialect.row_text_sql(with_target_natives(tgt, tables)[0].hash_target)
    finally:
        src.close()
        tgt.close()
