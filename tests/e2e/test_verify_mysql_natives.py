"""MariaDB columns hash by their native types: integers as their decimal
digits (plain integers bare, YEAR and ZEROFILL through ``+ 0``: YEAR prints 0
as ``0000``, ZEROFILL pads), DECIMAL(p,s) and DATETIME(6) without a cast when
they already are the target's type. Verify of a MariaDB -> PostgreSQL copy
must pass clean and name a changed value in each kind of column; so must a
PostgreSQL -> MariaDB verify into columns that the user created (the target's
own types are introspected, not the planned ones)."""

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


def test_native_decimal_and_datetime_verify_clean_both_ways(mysql_url, pg_url, tmp_path):
    """Zero, trailing zeros, negative fractions, NULL and a zero date (NULL on
    both sides after the copy) hash alike; a change in each column is named.
    A DATETIME(6) is hashed with its fraction trimmed, a DATETIME bare."""
    g.execute(mysql_url, "CREATE TABLE d (id int PRIMARY KEY, a decimal(12,2), s datetime(6), p datetime)",
              "INSERT INTO d VALUES (1, 0.00, '2024-02-29 23:59:59.123456', '2024-02-29 23:59:50'), "
              "(2, 100.00, '1970-01-01 00:00:00', '1970-01-01 00:00:00'), "
              "(3, -0.50, '2000-06-15 12:30:00.5', NULL), (4, 5.10, '0000-00-00 00:00:00', '0000-00-00 00:00:00'), "
              "(5, NULL, NULL, NULL)",
              "INSERT INTO d SELECT seq + 5, seq / 8, '2020-01-01' + INTERVAL seq SECOND, "
              "'2020-01-01' + INTERVAL seq MINUTE FROM seq_1_to_2000")
    plan = api.plan_from_urls(mysql_url, pg_url).model_copy(update={"state": str(tmp_path / "state.db")})
    api.run(plan)
    text = _target_row_text(api.plan_from_urls(pg_url, mysql_url))
    assert "IF(`a` = 0, '0', TRIM(" in text and "TRIM(TRAILING '0' FROM `s`)" in text, text
    assert "NULL, `p`)" in text and "CAST(`s`" not in text and "CAST(`p`" not in text, text
    for source, target in ((mysql_url, pg_url), (pg_url, mysql_url)):
        back = api.plan_from_urls(source, target)
        clean = api.verify(back)[0]
        assert clean.ok and clean.differing == 0 and clean.target_rows == 2005, clean
    g.execute(mysql_url, "UPDATE d SET a = 100.01 WHERE id = 2", "UPDATE d SET s = '2000-06-15 12:30:00.6' WHERE id = 3",
              "UPDATE d SET p = '2020-01-01 01:40:00' WHERE id = 6")
    found = api.verify(api.plan_from_urls(pg_url, mysql_url))[0]
    assert sorted(found.modified) == [(2,), (3,), (6,)], found
    columns = {d["key"][0]: [c["column"] for c in d["columns"]] for d in found.modified_details}
    assert columns == {2: ["a"], 3: ["s"], 6: ["p"]}


def test_utf8mb4_text_hashes_bare_and_other_charsets_converted(pg_url, mysql_url):
    """A text column in the collation ``CONVERT(x USING utf8mb4)`` gives is
    hashed bare (and without COALESCE when NOT NULL and the row text is the
    column itself), and so is a utf8mb4_bin column; latin1 keeps the conversion. All
    hash equal to PostgreSQL's UTF-8 text, non-ASCII letters included, and a
    change in each is named."""
    g.execute(pg_url, "CREATE TABLE u (id integer PRIMARY KEY, a text NOT NULL, b text, l text, c text)",
              "INSERT INTO u SELECT i, 'é' || i, CASE WHEN i % 3 = 0 THEN NULL ELSE 'ü ß ' || i END, "
              "'à' || i, 'Ω' || i FROM generate_series(1, 2000) AS i")
    g.execute(mysql_url, "CREATE TABLE u (id int PRIMARY KEY, a text NOT NULL, b text, "
                         "l text CHARACTER SET latin1, c text COLLATE utf8mb4_bin) DEFAULT CHARSET utf8mb4",
              "INSERT INTO u SELECT seq, CONCAT('é', seq), IF(seq % 3 = 0, NULL, CONCAT('ü ß ', seq)), "
              "CONCAT('à', seq), CONCAT('Ω', seq) FROM seq_1_to_2000")
    default = g.query(mysql_url, "SELECT COLLATION(CONVERT('' USING utf8mb4))")[0][0]
    g.execute(mysql_url, f"ALTER TABLE u MODIFY a text COLLATE {default} NOT NULL, MODIFY b text COLLATE {default}")
    plan = api.plan_from_urls(pg_url, mysql_url)
    text = _target_row_text(plan)
    assert "CONCAT_WS('|', `id`, `a`, COALESCE(`b`, " in text, text
    assert "CONVERT(`l` USING utf8mb4)" in text and "CONVERT(`c`" not in text and "COALESCE(`c`, " in text, text
    clean = api.verify(plan)[0]
    assert clean.ok and clean.target_rows == 2000 and clean.differing == 0, clean
    g.execute(mysql_url, "UPDATE u SET a = 'e10' WHERE id = 10", "UPDATE u SET b = NULL WHERE id = 20",
              "UPDATE u SET l = 'a30' WHERE id = 30", "UPDATE u SET c = 'ω40' WHERE id = 40")
    found = api.verify(plan)[0]
    assert sorted(found.modified) == [(10,), (20,), (30,), (40,)], found
