"""Portable values in and out of mysqlclient.

Reading (text protocol, converters keyed by field type):

* DATETIME -> naive ``datetime``; TIMESTAMP -> aware ``datetime`` in UTC (the
  session time zone is ``+00:00``, so the server sends UTC wall time);
* zero and zero-in-date values (``0000-00-00``, ``2024-00-00``,
  ``2024-05-00``) and year-0 dates -> None: mysqlclient's ``Date_or_None`` /
  ``DateTime_or_None`` return None when Python cannot build the value. Casting
  rules count such rows with ``MySQLDialect.zero_date_predicate``;
* DECIMAL -> ``Decimal``; TIME -> ``timedelta`` (may exceed 24 h);
* JSON -> ``str`` (MariaDB stores JSON as LONGTEXT; MySQL 8 sends it as
  bytes, decoded here); SET -> the ``list`` of its labels in stored order;
* BIT(1), and integers selected as BOOLEAN (``tinyint(1)``) -> ``bool``;
  BIT(n > 1) and binary strings -> ``bytes``;
* a JSON array selected as an ARRAY (MySQL stores arrays as JSON) -> ``list``.

Writing accepts portable values from any engine and turns the few types
mysqlclient cannot escape as MySQL wants into ones it can.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from typing import Callable, Collection, Sequence

from MySQLdb.constants import FIELD_TYPE
from MySQLdb.converters import conversions
from MySQLdb.times import DateTime_or_None

from ferry.catalog.model import Kind

UTC = dt.timezone.utc


def _timestamp_utc(text):
    value = DateTime_or_None(text)
    return value.replace(tzinfo=UTC) if isinstance(value, dt.datetime) else value


def _json_text(value):
    return value.decode("utf-8") if isinstance(value, (bytes, bytearray)) else value


def read_conversions() -> dict:
    """The mysqlclient ``conv`` mapping for a connector's connection."""
    conv = dict(conversions)
    conv[FIELD_TYPE.TIMESTAMP] = _timestamp_utc
    conv[FIELD_TYPE.JSON] = _json_text
    return conv


def row_fixer(description, kinds: Sequence[Kind] = ()) -> Callable[[tuple], tuple] | None:
    """A function fixing one fetched row, or None when no column needs it:
    BIT(1) -> bool, integers read for a BOOLEAN ``kind`` (``tinyint(1)``) ->
    bool, and JSON text read for an ARRAY ``kind`` -> list (numbers with a
    fraction as Decimal). ``description`` is the DB-API cursor description,
    ``kinds`` the neutral kind of each column on the target."""
    fixes = {i: _to_bool for i, d in enumerate(description or ())
             if d[1] == FIELD_TYPE.BIT and d[3] == 1}
    fixes.update({i: _to_bool for i, k in enumerate(kinds) if k == Kind.BOOLEAN})
    fixes.update({i: _json_to_list for i, k in enumerate(kinds) if k == Kind.ARRAY})
    fixes.update({i: _set_to_list for i, k in enumerate(kinds) if k == Kind.SET})
    if not fixes:
        return None

    def fix(row: tuple) -> tuple:
        out = list(row)
        for i, f in fixes.items():
            if out[i] is not None:
                out[i] = f(out[i])
        return tuple(out)

    return fix


def _to_bool(value):
    if isinstance(value, bytes):
        return value.strip(b"\x00") != b""
    return bool(value) if isinstance(value, (int, Decimal)) else value


def _json_to_list(value):
    return json.loads(value, parse_float=Decimal) if isinstance(value, (str, bytes)) else value


def _set_to_list(value):
    """A SET's comma text as the portable list of labels (``''`` -> ``[]``)."""
    if isinstance(value, bytes):
        value = value.decode()
    return value.split(",") if isinstance(value, str) and value else ([] if value == "" else value)


def _aware_to_utc(value):
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dt.time) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _to_set_text(value):
    return ",".join(str(v) for v in value)


def json_array(value) -> str:
    """A list (PostgreSQL ARRAY value) as JSON text, numbers kept exact."""
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(json_array(v) for v in value) + "]"
    if value is None or isinstance(value, bool):
        return {None: "null", True: "true", False: "false"}[value]
    if isinstance(value, (int, Decimal)):
        return str(value)
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else json.dumps(str(value))
    if isinstance(value, (bytes, bytearray, memoryview)):
        return json.dumps(bytes(value).hex())
    if isinstance(value, (dt.date, dt.time)):
        return json.dumps(value.isoformat())
    return json.dumps(str(value), ensure_ascii=False)


def _to_json_text(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value


_WRITE_FIXES: dict[type, Callable] = {
    dt.datetime: _aware_to_utc, dt.time: _aware_to_utc,
    list: _to_set_text, tuple: _to_set_text, set: _to_set_text, frozenset: _to_set_text,
    uuid.UUID: str, dict: _to_json_text, bytearray: bytes, memoryview: bytes,
}


_SEQUENCES = (list, tuple, set, frozenset)


def writable_columns(rows: Sequence[tuple],
                     set_columns: Callable[[], Collection[int]] = tuple) -> list[Sequence]:
    """The values of ``rows`` column by column, with the values MySQL would
    mis-read converted: aware datetimes -> naive UTC, lists -> ``'a,b'`` in a
    SET column (indexes from ``set_columns()``, called only when a list is
    seen) else JSON text (an ARRAY stored as JSON), ``uuid.UUID`` -> str,
    dict -> JSON text, ``bytearray``/``memoryview`` -> bytes."""
    columns: list[Sequence] = list(zip(*rows))
    for i, column in enumerate(columns):
        types = set(map(type, column))
        if _WRITE_FIXES.keys().isdisjoint(types):
            continue
        fix = _fix_value
        if not types.isdisjoint(_SEQUENCES):
            fix = _fix_set if i in set_columns() else _fix_array
        columns[i] = [None if v is None else fix(v) for v in column]
    return columns


def _fix_value(value):
    fix = _WRITE_FIXES.get(type(value))
    return value if fix is None else fix(value)


def _fix_set(value):
    return _to_set_text(value) if isinstance(value, _SEQUENCES) else _fix_value(value)


def _fix_array(value):
    return json_array(list(value)) if isinstance(value, _SEQUENCES) else _fix_value(value)
