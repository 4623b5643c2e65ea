"""Merges end to end: a union of tables told apart by ``origin``, and a
lookup join (``lookup:`` columns from another source table); each verified
by ferry and checked through the plain drivers."""

from __future__ import annotations

import re

import pytest

from tests.e2e import generate as g
from tests.e2e.test_transform_columns import pair_id
from tests.e2e.test_transform_keys import run_plan


def make_regions(url: str) -> None:
    """``eu_customers`` and ``us_customers``: the same shape, overlapping ids."""
    for table, rows in (("eu_customers", "(1, 'Ann', 'Paris'), (2, 'Bob', 'Rome'), (3, 'Cy', NULL)"),
                        ("us_customers", "(1, 'Dee', 'Austin'), (2, 'Eve', 'Boston')")):
        g.execute(url, f"CREATE TABLE {table} (id integer PRIMARY KEY, name varchar(40) NOT NULL, city varchar(40))",
                  f"INSERT INTO {table} VALUES {rows}")


MERGE = [{"source": "eu_customers", "target": "customers", "origin": "eu"},
         {"source": "us_customers", "target": "customers", "origin": "us"}]


@pytest.mark.parametrize("names", [("sqlite_url", "sqlite_url2"), ("sqlite_url", "pg_url"), ("pg_url", "mysql_url"),
                                   ("pg_url", "pg_url2"), ("mysql_url", "pg_url")],
                         ids=pair_id)
def test_merge_two_tables_into_one(names, request, tmp_path):
    source, target = (request.getfixturevalue(n) for n in names)
    make_regions(source)
    result, path = run_plan(tmp_path, source, target, MERGE)
    assert result.exit_code == 0, result.output
    got = sorted(g.query(target, "SELECT origin, id, name, city FROM customers"))
    assert got == [("eu", 1, "Ann", "Paris"), ("eu", 2, "Bob", "Rome"), ("eu", 3, "Cy", None),
                   ("us", 1, "Dee", "Austin"), ("us", 2, "Eve", "Boston")]
    assert "eu_customers->customers" in result.output
    g.execute(target, "UPDATE customers SET name = 'Zed' WHERE origin = 'us' AND id = 2")
    checked = g.cli("verify", str(path))
    assert checked.exit_code == 1
    assert re.search(r"verified (public\.)?us_customers->customers: (?!ok)", checked.output), checked.output
    assert re.search(r"verified (public\.)?eu_customers->customers: ok", checked.output), checked.output


def test_merge_needs_origins_and_one_shape(sqlite_url, sqlite_url2, tmp_path):
    make_regions(sqlite_url)
    result, _ = run_plan(tmp_path, sqlite_url, sqlite_url2, [{k: v for k, v in m.items() if k != "origin"}
                                                             for m in MERGE])
    assert result.exit_code == 2 and "give each mapping its own `origin:`" in result.output
    other = [MERGE[0], {**MERGE[1], "columns": [{"name": "id"}, {"name": "name"}]}]
    result, _ = run_plan(tmp_path, sqlite_url, sqlite_url2, other)
    assert result.exit_code == 2 and "does not write the columns of" in result.output



def make_details(url: str) -> None:
    """``users`` (ids 1-6) and ``user_details`` keyed by ``user_id`` (no row for 3 and 6)."""
    g.execute(url, "CREATE TABLE users (id integer PRIMARY KEY, email varchar(40) NOT NULL)",
              "INSERT INTO users VALUES " + ", ".join(f"({i}, 'u{i}@x.org')" for i in range(1, 7)),
              "CREATE TABLE user_details (user_id integer PRIMARY KEY, phone varchar(20), score integer, "
              "note varchar(10))",
              "INSERT INTO user_details VALUES (1, '+33 1', 10, 'a'), (2, NULL, 20, 'a'), (4, '+1 4', 40, 'b'), "
              "(5, '+1 5', 50, 'b')")


LOOKUP = {"source": "users", "target": "customers", "columns": [
    {"name": "id"}, {"name": "email"},
    {"target": "phone", "lookup": {"table": "user_details", "column": "phone", "key": {"user_id": "id"}}},
    {"target": "score", "type": "bigint", "lookup": {"table": "user_details", "column": "score",
                                                     "key": {"user_id": "id"}}}]}


@pytest.mark.parametrize("names", [("sqlite_url", "sqlite_url2"), ("pg_url", "mysql_url"), ("mysql_url", "pg_url"),
                                   ("pg_url", "pg_url2")], ids=pair_id)
def test_lookup_join(names, request, tmp_path):
    source, target = (request.getfixturevalue(n) for n in names)
    make_details(source)
    result, path = run_plan(tmp_path, source, target, [LOOKUP])
    assert result.exit_code == 0, result.output
    got = sorted(g.query(target, "SELECT id, email, phone, score FROM customers"))
    assert got == [(1, "u1@x.org", "+33 1", 10), (2, "u2@x.org", None, 20), (3, "u3@x.org", None, None),
                   (4, "u4@x.org", "+1 4", 40), (5, "u5@x.org", "+1 5", 50), (6, "u6@x.org", None, None)]
    g.execute(source, "UPDATE user_details SET phone = '+44 2' WHERE user_id = 2")
    checked = g.cli("verify", str(path))
    assert checked.exit_code == 1 and "phone" in checked.output, checked.output


def test_lookup_must_match_one_row(sqlite_url, sqlite_url2, tmp_path):
    make_details(sqlite_url)
    by_note = {**LOOKUP, "columns": LOOKUP["columns"][:2] + [
        {"target": "score", "lookup": {"table": "user_details", "column": "score", "key": {"note": "email"}}}]}
    result, _ = run_plan(tmp_path, sqlite_url, sqlite_url2, [by_note])
    assert result.exit_code == 2 and "is not the primary key or a unique key of user_details" in result.output
    unknown = {**LOOKUP, "columns": LOOKUP["columns"][:2] + [
        {"target": "x", "lookup": {"table": "nowhere", "column": "x", "key": {"id": "id"}}}]}
    result, _ = run_plan(tmp_path, sqlite_url, sqlite_url2, [unknown])
    assert result.exit_code == 2 and "the source has no table 'nowhere'" in result.output
