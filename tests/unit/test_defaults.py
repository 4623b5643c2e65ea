"""Column defaults carried to another engine (pgloader's sqlite.db and my.sql hold the odd ones)."""

from __future__ import annotations

import pytest

from ferry.catalog.model import DataType, Kind
from ferry.connectors.mysql_introspect import column_default
from ferry.transform.defaults import translate_default

TS, DATE, TEXT, INT = DataType(Kind.TIMESTAMP), DataType(Kind.DATE), DataType(Kind.TEXT), DataType(Kind.INTEGER)


@pytest.mark.parametrize("text, dtype, postgresql, mysql", [
    ("strftime('%Y-%m-%d %H:%M:%f', 'now')", TS, "(now() AT TIME ZONE 'UTC')", "(UTC_TIMESTAMP())"),
    ("(DATETIME('now', 'localtime'))", TS, "LOCALTIMESTAMP", "CURRENT_TIMESTAMP"),
    ("date('now')", DATE, "((now() AT TIME ZONE 'UTC')::date)", "(UTC_DATE())"),
    ("datetime('now')", DataType(Kind.TIMESTAMPTZ), "CURRENT_TIMESTAMP", "(UTC_TIMESTAMP())"),
])
def test_sqlite_clock_defaults_become_the_targets_clock(text, dtype, postgresql, mysql):
    """SQLite's 'now' is UTC unless 'localtime' is given (https://www.sqlite.org/lang_datefunc.html)."""
    assert translate_default(text, "sqlite", "postgresql", dtype) == postgresql
    assert translate_default(text, "sqlite", "mysql", dtype) == mysql


@pytest.mark.parametrize("text, dtype", [
    ("0", TS),                                      # stamps: DATETIME DEFAULT 0
    ("'\"0\"'", INT),                               # typenames: integer default '"0"'
    ("datetime('now')", TEXT),                      # a clock into a text column: no portable text form
    ("strftime('%s', 'now')", INT),                 # epoch seconds
])
def test_defaults_the_column_cannot_take_are_left_out(text, dtype):
    assert translate_default(text, "sqlite", "postgresql", dtype) is None
    assert translate_default(text, "sqlite", "mysql", dtype) is None


def test_sqlite_double_quoted_default_is_a_string():
    """def.f1 text default "" (https://www.sqlite.org/quirks.html#double_quoted_string_literals_are_accepted)."""
    assert translate_default('""', "sqlite", "postgresql", TEXT) == "''"
    assert translate_default('"it\'s"', "sqlite", "mysql", TEXT) == "'it''s'"
    assert translate_default("'0'", "sqlite", "postgresql", DataType(Kind.SMALLINT)) == "'0'"


def test_mysql_bit_defaults():
    """my.sql countdata_template.flags bit(16) NOT NULL DEFAULT b'0': two zero bytes elsewhere."""
    two = DataType(Kind.BYTES, length=2)
    assert column_default("b'0'", "", two) == "b'0'"
    assert translate_default("b'0'", "mysql", "mysql", two) == "b'0'"
    assert translate_default("b'1000'", "mysql", "postgresql", two) == "'\\x0008'::bytea"
    assert translate_default("b'0'", "mysql", "sqlite", two) == "X'0000'"
    assert translate_default("b'101'", "mysql", "postgresql", INT) == "5"
    assert translate_default("b'1'", "mysql", "postgresql", DataType(Kind.BOOLEAN)) == "TRUE"
