"""MariaDB integer columns hash as their decimal digits on every path: plain
integers bare, YEAR and ZEROFILL through ``+ 0`` (YEAR prints 0 as ``0000``,
ZEROFILL pads). Verify of a MariaDB -> PostgreSQL copy must pass clean and name
a changed value in each kind of column."""

from __future__ import annotations

from ferry import api
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
