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
  bytes, decoded here); SET -> the comma-separated ``str`` in stored order;
* BIT(1) -> ``bool``; BIT(n > 1) and binary strings -> ``bytes``.

Writing accepts portable values from any engine and turns the few types
mysqlclient cannot escape as MySQL wants into ones it can.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Callable, Sequence

from MySQLdb.constants import FIELD_TYPE
from MySQLdb.converters import conversions
from MySQLdb.times import DateTime_or_None

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


def row_fixer(description) -> Callable[[tuple], tuple] | None:
    """A function fixing one fetched row (BIT(1) -> bool), or None when no
    column needs it. ``description`` is the DB-API cursor description."""
    bits = [i for i, d in enumerate(description or ()) if d[1] == FIELD_TYPE.BIT and d[3] == 1]
    if not bits:
        return None

    def fix(row: tuple) -> tuple:
        out = list(row)
        for i in bits:
            if out[i] is not None:
                out[i] = out[i] != b"\x00"
        return tuple(out)

    return fix


def _aware_to_utc(value):
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(UTC).replace(tzinfo=None)
    if isinstance(value, dt.time) and value.tzinfo is not None:
        return value.replace(tzinfo=None)
    return value


def _to_set_text(value):
    return ",".join(str(v) for v in value) if isinstance(value, (list, tuple, set, frozenset)) else value


def _to_json_text(value):
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else value


_WRITE_FIXES: dict[type, Callable] = {
    dt.datetime: _aware_to_utc, dt.time: _aware_to_utc,
    list: _to_set_text, tuple: _to_set_text, set: _to_set_text, frozenset: _to_set_text,
    uuid.UUID: str, dict: _to_json_text, bytearray: bytes, memoryview: bytes,
}


def writable_rows(rows: Sequence[tuple]) -> Sequence[tuple]:
    """``rows`` with values mysqlclient would mis-escape converted: aware
    datetimes -> naive UTC, lists (SET labels) -> ``'a,b'``, ``uuid.UUID``
    -> str, dict -> JSON text, ``bytearray``/``memoryview`` -> bytes. Rows
    are returned untouched (no copy) when no column needs a fix."""
    if not rows:
        return rows
    fixed = {i for i, column in enumerate(zip(*rows)) if not _WRITE_FIXES.keys().isdisjoint(map(type, column))}
    if not fixed:
        return rows
    return [tuple(_fix_value(v) if i in fixed else v for i, v in enumerate(row)) for row in rows]


def _fix_value(value):
    fix = _WRITE_FIXES.get(type(value))
    return value if fix is None else fix(value)
