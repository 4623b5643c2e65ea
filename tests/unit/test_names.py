"""Identifier shortening and collision handling."""

from __future__ import annotations

import hashlib

import pytest

from ferry.catalog.model import Column, DataType, Index, Kind, Table
from ferry.catalog.names import index_names, shorten_identifier, unique_names

# The two column names of pgloader's test/sqlite/collision.db (table products):
# identical in their first 63 bytes, PostgreSQL's identifier limit.
COLLIDING = ["col_very_long_name_that_exceeds_postgresql_identifier_limit_aaax",
             "col_very_long_name_that_exceeds_postgresql_identifier_limit_aaay"]


def test_short_names_are_unchanged():
    assert shorten_identifier("id", 63) == "id"
    assert shorten_identifier("x" * 63, 63) == "x" * 63


def test_long_name_gets_prefix_and_md5_suffix():
    name = "a" * 70
    short = shorten_identifier(name, 63)
    assert len(short.encode()) == 63
    assert short == "a" * 54 + "_" + hashlib.md5(name.encode()).hexdigest()[:8]


def test_shortening_is_deterministic():
    assert shorten_identifier(COLLIDING[0], 63) == shorten_identifier(COLLIDING[0], 63)


def test_multibyte_names_are_cut_on_a_character_boundary():
    name = "é" * 40  # 80 bytes
    short = shorten_identifier(name, 63)
    assert len(short.encode()) <= 63
    assert short.startswith("é" * 27) and short[27] == "_"
    short.encode().decode()  # valid UTF-8


def test_too_small_limit_raises():
    with pytest.raises(ValueError):
        shorten_identifier("abcdefghijk", 9)


def test_collision_db_names_stay_distinct():
    mapping = unique_names(COLLIDING + ["id", "name"], 63)
    assert set(mapping) == set(COLLIDING)
    assert len(set(mapping.values())) == 2
    assert all(len(v.encode()) <= 63 for v in mapping.values())


def test_shortened_name_never_takes_an_existing_name():
    long = "b" * 80
    clash = shorten_identifier(long, 30)
    mapping = unique_names([long, clash], 30)
    assert mapping[long] != clash and len(mapping[long].encode()) <= 30
    assert clash not in mapping


def test_unique_names_is_order_independent_and_deduplicates():
    names = COLLIDING + ["c" * 100, "c" * 100]
    assert unique_names(names, 40) == unique_names(list(reversed(names)), 40)
    assert len(unique_names(names, 40)) == 3


def test_nothing_to_shorten_returns_empty_mapping():
    assert unique_names(["id", "name"], 63) == {}


def _table(name: str, *indexes: str, schema=None) -> Table:
    return Table(name=name, schema=schema, columns=[Column("id", DataType(Kind.INTEGER))],
                 indexes=[Index(i, ("id",)) for i in indexes])


def test_index_names_never_take_a_table_name_or_each_other():
    """MyWind's orders.tax_status next to its table orders_tax_status; a_b.c against a.b_c."""
    tables = [_table("orders", "tax_status", "id"), _table("orders_tax_status"), _table("a_b", "c"), _table("a", "b_c")]
    names = index_names(tables, 63)
    assert names[("orders", "id")] == "orders_id"
    assert names[("orders", "tax_status")].startswith("orders_tax_status_")
    assert len(set(names.values())) == len(names) == 4
    assert not set(names.values()) & {t.name for t in tables}
    assert index_names(list(reversed(tables)), 63) == names


def test_index_names_are_per_schema_and_avoid_primary_key_names():
    tables = [_table("t", "pkey", schema="s1"), _table("t_x", schema="s2"), _table("t", "x", schema="s2")]
    names = index_names(tables, 63)
    assert names[("s1.t", "pkey")] != "t_pkey"
    assert names[("s2.t", "x")] != "t_x"
