"""Neutral type spellings: parse, format, aliases, errors."""

from __future__ import annotations

import pytest

from ferry.catalog.model import DataType, Kind
from ferry.catalog.types import format_type, parse_labels, parse_type, split_spelling
from ferry.errors import InputError

CANONICAL = {
    "boolean": DataType(Kind.BOOLEAN),
    "smallint": DataType(Kind.SMALLINT),
    "integer": DataType(Kind.INTEGER),
    "bigint": DataType(Kind.BIGINT),
    "bigint unsigned": DataType(Kind.BIGINT, unsigned=True),
    "decimal": DataType(Kind.DECIMAL),
    "decimal(20,0)": DataType(Kind.DECIMAL, precision=20, scale=0),
    "decimal(10,2)": DataType(Kind.DECIMAL, precision=10, scale=2),
    "float": DataType(Kind.FLOAT),
    "double": DataType(Kind.DOUBLE),
    "char(10)": DataType(Kind.CHAR, length=10),
    "varchar(255)": DataType(Kind.VARCHAR, length=255),
    "varchar": DataType(Kind.VARCHAR),
    "text": DataType(Kind.TEXT),
    "bytes": DataType(Kind.BYTES),
    "bytes(16)": DataType(Kind.BYTES, length=16),
    "date": DataType(Kind.DATE),
    "time": DataType(Kind.TIME),
    "time(3)": DataType(Kind.TIME, precision=3),
    "timestamp": DataType(Kind.TIMESTAMP),
    "timestamp(0)": DataType(Kind.TIMESTAMP, precision=0),
    "timestamp(6)": DataType(Kind.TIMESTAMP, precision=6),
    "timestamptz": DataType(Kind.TIMESTAMPTZ),
    "timestamptz(3)": DataType(Kind.TIMESTAMPTZ, precision=3),
    "interval": DataType(Kind.INTERVAL),
    "json": DataType(Kind.JSON),
    "uuid": DataType(Kind.UUID),
    "enum('a','b')": DataType(Kind.ENUM, values=("a", "b")),
    "enum('it''s','x,y',' sp ')": DataType(Kind.ENUM, values=("it's", "x,y", " sp ")),
    "enum": DataType(Kind.ENUM),
    "set('x','y')": DataType(Kind.SET, values=("x", "y")),
    "integer[]": DataType(Kind.ARRAY, item=DataType(Kind.INTEGER)),
    "text[]": DataType(Kind.ARRAY, item=DataType(Kind.TEXT)),
    "varchar(20)[][]": DataType(Kind.ARRAY, item=DataType(Kind.ARRAY, item=DataType(Kind.VARCHAR, length=20))),
    "year": DataType(Kind.YEAR),
}


@pytest.mark.parametrize("spelling", sorted(CANONICAL))
def test_parse_and_format_round_trip(spelling):
    dtype = parse_type(spelling)
    assert dtype == CANONICAL[spelling]
    assert format_type(dtype) == spelling
    assert str(dtype) == spelling


def test_every_kind_has_a_spelling_that_reads_back():
    spelled = {parse_type(s).kind for s in CANONICAL}
    assert spelled == set(Kind)


ALIASES = {
    "int": "integer", "INT4": "integer", "int(11)": "integer", "int2": "smallint", "int8": "bigint",
    "bool": "boolean", "BOOLEAN": "boolean",
    "numeric(12,3)": "decimal(12,3)", "numeric": "decimal", "decimal(10)": "decimal(10,0)",
    "real": "float", "float4": "float", "float(24)": "float", "float(25)": "double",
    "double precision": "double", "float8": "double",
    "character(3)": "char(3)", "character varying(50)": "varchar(50)", "VARCHAR( 40 )": "varchar(40)",
    "jsonb": "json", "bytea": "bytes", "blob": "bytes",
    "datetime": "timestamp", "datetime(3)": "timestamp(3)",
    "timestamp without time zone": "timestamp", "timestamp(3) without time zone": "timestamp(3)",
    "timestamp with time zone": "timestamptz", "timestamp(6) with time zone": "timestamptz(6)",
    "time without time zone": "time", "year(4)": "year",
    "int unsigned": "integer unsigned", "character varying(8)[]": "varchar(8)[]",
    "enum( 'a' , 'b' )": "enum('a','b')",
}


@pytest.mark.parametrize("alias", sorted(ALIASES))
def test_aliases_read_as_the_canonical_spelling(alias):
    assert format_type(parse_type(alias)) == ALIASES[alias]


def test_labels_keep_their_case_and_the_result_has_no_native():
    dtype = parse_type("ENUM('Small','LARGE')")
    assert dtype.values == ("Small", "LARGE")
    assert dtype.native == ""


@pytest.mark.parametrize("bad", ["foo", "", "varchar(x)", "varchar(0)", "time(7)", "decimal(1,2,3)",
                                 "enum(a)", "enum()", "enum('a'", "varchar(10", "text unsigned",
                                 "int zerofill", "year(2)", "float(54)", "json(1)", "var-char"])
def test_bad_spellings_raise_input_error_naming_them(bad):
    with pytest.raises(InputError) as info:
        parse_type(bad)
    assert repr(bad) in info.value.message
    assert info.value.exit_code == 2


def test_unknown_spelling_lists_the_valid_ones():
    with pytest.raises(InputError) as info:
        parse_type("money")
    assert "'money'" in info.value.message
    for valid in ("boolean", "decimal(p,s)", "timestamptz(p)", "enum('a',...)", "<type>[]"):
        assert valid in info.value.hint


def test_split_spelling_of_native_spellings():
    s = split_spelling("INT(10) UNSIGNED ZEROFILL")
    assert (s.base, s.args, s.unsigned, "zerofill" in s.flags, s.dims) == ("int", "10", True, True, 0)
    s = split_spelling("timestamp(3) with time zone")
    assert (s.base, s.args) == ("timestamp with time zone", "3")
    s = split_spelling("enum('a)b','c')")
    assert (s.base, s.args) == ("enum", "'a)b','c'")
    assert split_spelling("text[]").dims == 1


def test_parse_labels_undoubles_quotes():
    assert parse_labels("'a','it''s',''") == ("a", "it's", "")


def test_format_ignores_native_and_arrays_without_item():
    assert format_type(DataType(Kind.INTEGER, native="int(11)")) == "integer"
    assert format_type(DataType(Kind.ARRAY)) == "array"
