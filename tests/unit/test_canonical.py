"""The Python reference of canonical text and row hashes
(:mod:`ferry.connectors.canonical`), held to the table in
:mod:`ferry.connectors.base`."""

from __future__ import annotations

import datetime as dt
import hashlib
import struct
from decimal import Decimal

import pytest

from ferry.catalog.model import DataType, Kind
from ferry.connectors.canonical import (
    canonical_decimal,
    canonical_float,
    canonical_json,
    canonical_text,
    row_hash,
    row_text,
    text_hash,
)


def t(kind: Kind, **kw) -> DataType:
    return DataType(kind, **kw)


def float32(value: float) -> float:
    """``value`` rounded to the nearest float32, read back as a double."""
    return struct.unpack("f", struct.pack("f", value))[0]


# -- decimal -------------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (Decimal("1.50"), "1.5"),
    (Decimal("2.00"), "2"),
    (Decimal("100"), "100"),            # integer zeros are digits, not padding
    (Decimal("-0"), "0"),
    (Decimal("-0.00"), "0"),
    (Decimal("0.000"), "0"),
    (Decimal("1E+3"), "1000"),          # never an exponent
    (Decimal("1E-10"), "0.0000000001"),
    (Decimal("-12.3400"), "-12.34"),
    (Decimal("12345678901234567890.1234567890"), "12345678901234567890.123456789"),
    ("57.550", "57.55"),                # strings and ints are accepted too
    (7, "7"),
])
def test_decimal(value, text):
    assert canonical_decimal(value) == text
    assert canonical_text(value, t(Kind.DECIMAL, precision=30, scale=10)) == text


# -- float / double --------------------------------------------------------------


@pytest.mark.parametrize("value, text", [
    (1e15, "1e15"),                     # exponent 15: first exponent form
    (123456789012345.0, "123456789012345"),   # exponent 14: still plain
    (1234567890123456.0, "1.234567890123456e15"),
    (1e20, "1e20"),
    (-1e15, "-1e15"),
    (1.5e-7, "1.5e-7"),
    (1e-5, "1e-5"),
    (9.99e-5, "9.99e-5"),
    (0.0001, "0.0001"),                 # exponent -4: plain
    (0.001, "0.001"),
    (12.5, "12.5"),
    (100.0, "100"),
    (0.1 + 0.2, "0.30000000000000004"),  # shortest round trip, not rounded
    (0.0, "0"),
    (-0.0, "-0"),                       # as PostgreSQL float8out and MySQL print it
    (5e-324, "5e-324"),
    (1.7976931348623157e308, "1.7976931348623157e308"),
    (float("inf"), "Infinity"),
    (float("-inf"), "-Infinity"),
    (float("nan"), "NaN"),
])
def test_double(value, text):
    assert canonical_float(value) == text
    assert canonical_text(value, t(Kind.DOUBLE)) == text


def test_double_text_reads_back_as_the_same_value():
    for value in (1e15, 1e20, 1.5e-7, 0.0001, 2 / 3, 1234567890123456.0, -9.99e-5):
        assert float(canonical_float(value)) == value


@pytest.mark.parametrize("value, text", [
    (float32(0.15), "0.15"),            # stored float32, read as 0.15000000596046448
    (0.15, "0.15"),
    (float32(1e20), "1e20"),
    (float32(3.4028235e38), "3.4028235e38"),
    (16777217.0, "16777216"),           # 2**24 + 1 is not a float32
    (float32(1.5e-7), "1.5e-7"),
    (float32(0.0001), "0.0001"),
])
def test_float32(value, text):
    assert canonical_float(value, single=True) == text
    assert canonical_text(value, t(Kind.FLOAT)) == text


def test_float32_and_double_of_one_value_differ():
    value = float32(0.15)
    assert canonical_float(value) == "0.15000000596046448"
    assert canonical_float(value, single=True) == "0.15"


# -- JSON ------------------------------------------------------------------------


def test_json_sorts_keys_recursively_and_drops_spaces():
    text = '{"b": 1, "a": [57.550, 1e2, true, null, "x"], "aa": {"z": -0, "y": 1.0}}'
    assert canonical_json(text) == '{"a":[57.55,100,true,null,"x"],"aa":{"y":1,"z":0},"b":1}'


def test_json_key_order_of_input_does_not_matter():
    assert canonical_json('{"x": 1, "y": 2}') == canonical_json('{"y":2,"x":1}')


def test_json_numbers_are_canonical_decimals():
    assert canonical_json("57.550") == "57.55"
    assert canonical_json('{"n": 12345678901234567890}') == '{"n":12345678901234567890}'
    assert canonical_json('{"f": 1.5E-7}') == '{"f":0.00000015}'
    assert canonical_json("[1.0, -0.0, 2.50]") == "[1,0,2.5]"


def test_json_numbers_beyond_exponent_40_keep_an_exponent():
    assert canonical_json("[1e100, -2.50e-45, 1e40, 1e-40, 1.5e41]") == \
        "[1.0E100,-2.5E-45,10000000000000000000000000000000000000000,0." + "0" * 39 + "1,1.5E41]"
    long = "123456789012345678901234567890123456789012.5"          # 43 digits: no rounding to 28
    assert canonical_json(f"[{long}]") == f"[1.{long[1:].replace('.', '')}E41]"


def test_json_strings_are_decoded_and_unescaped_unicode():
    assert canonical_json('{"\\u00e9": "a\\"b", "k": "x/y"}') == '{"k":"x/y","é":"a\\"b"}'


def test_json_accepts_bytes_and_parsed_values():
    assert canonical_json(b'{"b":[1],"a":2}') == '{"a":2,"b":[1]}'
    assert canonical_json({"b": [1], "a": Decimal("2.0")}) == '{"a":2,"b":[1]}'
    assert canonical_text('{"v": 57.550}', t(Kind.JSON)) == '{"v":57.55}'


# -- date and time ---------------------------------------------------------------


def test_timestamp_naive():
    value = dt.datetime(2024, 1, 2, 3, 4, 5)
    assert canonical_text(value, t(Kind.TIMESTAMP)) == "2024-01-02 03:04:05"
    assert canonical_text(value.replace(microsecond=123), t(Kind.TIMESTAMP)) == "2024-01-02 03:04:05.000123"
    assert canonical_text("2024-01-02 03:04:05.5", t(Kind.TIMESTAMP)) == "2024-01-02 03:04:05.5"
    assert canonical_text(dt.date(2024, 1, 2), t(Kind.TIMESTAMP)) == "2024-01-02 00:00:00"
    # only fractional zeros go: the seconds' own zeros stay
    assert canonical_text(dt.datetime(2020, 10, 10, 10, 0, 50, 120000), t(Kind.TIMESTAMP)) == "2020-10-10 10:00:50.12"
    assert canonical_text(dt.datetime(2020, 10, 10, 10, 0, 0), t(Kind.TIMESTAMP)) == "2020-10-10 10:00:00"


def test_timestamptz_is_the_instant_in_utc():
    plus2 = dt.timezone(dt.timedelta(hours=2))
    value = dt.datetime(2024, 1, 2, 1, 30, tzinfo=plus2)
    assert canonical_text(value, t(Kind.TIMESTAMPTZ)) == "2024-01-01 23:30:00"
    same_instant = dt.datetime(2024, 1, 1, 23, 30, tzinfo=dt.timezone.utc)
    assert canonical_text(same_instant, t(Kind.TIMESTAMPTZ)) == "2024-01-01 23:30:00"
    assert canonical_text("2024-01-01T23:30:00Z", t(Kind.TIMESTAMPTZ)) == "2024-01-01 23:30:00"
    assert canonical_text("2024-01-02T01:30:00+02:00", t(Kind.TIMESTAMPTZ)) == "2024-01-01 23:30:00"


def test_naive_timestamptz_is_taken_as_utc():
    value = dt.datetime(2024, 1, 2, 1, 30)
    assert canonical_text(value, t(Kind.TIMESTAMPTZ)) == "2024-01-02 01:30:00"


def test_date():
    assert canonical_text(dt.date(2024, 2, 29), t(Kind.DATE)) == "2024-02-29"
    assert canonical_text(dt.datetime(2024, 2, 29, 23, 59), t(Kind.DATE)) == "2024-02-29"
    assert canonical_text("2024-02-29 00:00:00", t(Kind.DATE)) == "2024-02-29"


def test_time():
    assert canonical_text(dt.time(1, 2, 3), t(Kind.TIME)) == "01:02:03.000000"
    assert canonical_text(dt.time(23, 59, 59, 999999), t(Kind.TIME)) == "23:59:59.999999"
    assert canonical_text("10:11:12.5", t(Kind.TIME)) == "10:11:12.500000"


def test_time_from_timedelta_beyond_24_hours():
    # mysqlclient reads MySQL TIME as a timedelta; its range is +-838:59:59
    assert canonical_text(dt.timedelta(hours=1, minutes=2, seconds=3), t(Kind.TIME)) == "01:02:03.000000"
    assert canonical_text(dt.timedelta(days=1, hours=2, microseconds=5), t(Kind.TIME)) == "26:00:00.000005"
    assert canonical_text(dt.timedelta(hours=838, minutes=59, seconds=59), t(Kind.TIME)) == "838:59:59.000000"


def test_negative_time_from_timedelta():
    value = dt.timedelta(hours=-1, minutes=-30)
    assert canonical_text(value, t(Kind.TIME)) == "-01:30:00.000000"


# -- other kinds -----------------------------------------------------------------


def test_bytes_are_lowercase_hex():
    assert canonical_text(b"\x00\xff\x10", t(Kind.BYTES)) == "00ff10"
    assert canonical_text(bytearray(b"\xab"), t(Kind.BYTES)) == "ab"
    assert canonical_text(memoryview(b"\xab\xcd"), t(Kind.BYTES)) == "abcd"
    assert canonical_text("é", t(Kind.BYTES)) == "c3a9"
    assert canonical_text(b"", t(Kind.BYTES)) == ""


def test_text_kinds():
    assert canonical_text("ab  ", t(Kind.CHAR, length=4)) == "ab"
    assert canonical_text("ab  ", t(Kind.VARCHAR, length=4)) == "ab  "
    assert canonical_text("", t(Kind.TEXT)) == ""
    assert canonical_text(b"caf\xc3\xa9", t(Kind.TEXT)) == "café"


def test_booleans_integers_uuid():
    assert [canonical_text(v, t(Kind.BOOLEAN)) for v in (True, False, 1, 0, "t", "false")] == \
        ["1", "0", "1", "0", "1", "0"]
    assert canonical_text(-42, t(Kind.INTEGER)) == "-42"
    assert canonical_text(2**63 - 1, t(Kind.BIGINT)) == "9223372036854775807"
    assert canonical_text(1999, t(Kind.YEAR)) == "1999"
    uuid = "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11"
    assert canonical_text(uuid, t(Kind.UUID)) == uuid.lower()


def test_set_and_array():
    assert canonical_text(["a", "c"], t(Kind.SET, values=("a", "b", "c"))) == "a,c"
    assert canonical_text("a,c", t(Kind.SET, values=("a", "b", "c"))) == "a,c"
    ints = t(Kind.ARRAY, item=t(Kind.INTEGER))
    assert canonical_text([1, None, 3], ints) == "{1,\\N,3}"
    assert canonical_text([Decimal("1.50")], t(Kind.ARRAY, item=t(Kind.DECIMAL))) == "{1.5}"
    assert canonical_text([], ints) == "{}"


def test_array_stored_as_json_text_reads_as_its_items():
    """SQLite and MySQL targets store a PostgreSQL array as JSON text (pagila's film.special_features)."""
    texts = t(Kind.ARRAY, item=t(Kind.TEXT))
    assert canonical_text('["Trailers", "Deleted Scenes"]', texts) == canonical_text(["Trailers", "Deleted Scenes"], texts)
    assert canonical_text(b"[1.50, null]", t(Kind.ARRAY, item=t(Kind.DECIMAL))) == "{1.5,\\N}"


def test_null_is_none():
    for kind in (Kind.TEXT, Kind.INTEGER, Kind.JSON, Kind.BYTES, Kind.TIMESTAMPTZ):
        assert canonical_text(None, t(kind)) is None


# -- row text and hash -----------------------------------------------------------


def test_row_text_joins_with_bar_and_writes_null_as_backslash_n():
    assert row_text(["1", "a", None, ""]) == "1|a|\\N|"


def test_row_hash_is_60_bits_of_md5_of_the_row_text():
    types = [t(Kind.INTEGER), t(Kind.TEXT), t(Kind.TEXT)]
    expected = int(hashlib.md5(b"1|a|\\N").hexdigest()[:15], 16)
    assert row_hash([1, "a", None], types) == expected
    # a fixed value: the hash must never change between versions or engines
    assert row_hash([1, "a", None], types) == 287354499841401491
    assert 0 <= text_hash("anything") < 2**60


def test_row_hash_is_stable_across_value_spellings():
    types = [t(Kind.DECIMAL), t(Kind.DOUBLE), t(Kind.JSON), t(Kind.TIMESTAMPTZ)]
    plus1 = dt.timezone(dt.timedelta(hours=1))
    a = [Decimal("1.50"), 0.5, '{"b": 1, "a": 2.0}', dt.datetime(2024, 1, 1, 1, 0, tzinfo=plus1)]
    b = ["1.5", 0.5, '{"a":2,"b":1}', dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.timezone.utc)]
    assert row_hash(a, types) == row_hash(b, types)


def test_row_hash_sees_every_difference():
    types = [t(Kind.INTEGER), t(Kind.TEXT)]
    base = row_hash([1, "a"], types)
    assert row_hash([2, "a"], types) != base
    assert row_hash([1, "a "], types) != base
    assert row_hash([1, None], types) != row_hash([1, ""], types)


def test_text_hash_handles_non_utf8_text():
    # SQLite text read with surrogateescape keeps invalid bytes; hashing must not fail
    text = b"caf\xe9".decode("utf-8", "surrogateescape")
    assert text_hash(text) == int(hashlib.md5(b"caf\xe9").hexdigest()[:15], 16)
