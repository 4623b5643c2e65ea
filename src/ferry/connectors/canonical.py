"""The reference implementation, in Python, of canonical text and row hashes.

Each dialect renders canonical text in SQL (``Dialect.normalize``); this module
is the yardstick the conformance tests hold every dialect to, and SQLite (which
has no MD5) uses it as its in-database functions. The rules are the table in
:mod:`ferry.connectors.base`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
from decimal import Decimal, InvalidOperation

from ferry.catalog.model import DataType, Kind
from ferry.connectors.base import HASH_HEX_DIGITS, NULL_TEXT, ROW_SEPARATOR

# JSON numbers whose decimal exponent lies beyond +-this are written d.dddEn
# (MariaDB's JSON_NORMALIZE form), the others as plain decimals
JSON_MAX_EXPONENT = 40


def canonical_decimal(value) -> str:
    """``1.50`` -> ``1.5``, ``2.00`` -> ``2``, ``-0`` -> ``0``, no exponent."""
    try:
        d = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return str(value)
    if d.is_nan() or d.is_infinite():
        return str(d)
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def canonical_float(value, single: bool = False) -> str:
    """Shortest round-trip decimal of a double (or a float32 when ``single``),
    plain when -4 <= exponent < 15, else ``d.ddde[-]N``."""
    v = float(value)
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "Infinity" if v > 0 else "-Infinity"
    if v == 0:
        return "-0" if math.copysign(1, v) < 0 else "0"
    digits = _shortest_float32(v) if single else repr(v)
    mantissa, exponent = _split_exponent(Decimal(digits))
    if -4 <= exponent < 15:
        return canonical_decimal(Decimal(digits))
    return f"{mantissa}e{exponent}"


def _shortest_float32(v: float) -> str:
    import struct

    target = struct.unpack("f", struct.pack("f", v))[0]
    for precision in range(1, 18):
        text = f"{target:.{precision}g}"
        if struct.unpack("f", struct.pack("f", float(text)))[0] == target:
            return text
    return repr(target)


def _split_exponent(d: Decimal) -> tuple[str, int]:
    sign, digits, exp = d.as_tuple()
    text = "".join(map(str, digits)).lstrip("0") or "0"
    stripped = text.rstrip("0") or "0"
    exp += len(text) - len(stripped)          # no rounding to the context's 28 digits (normalize() would)
    text = stripped
    exponent = exp + len(text) - 1
    mantissa = text[0] + ("." + text[1:] if len(text) > 1 else "")
    return ("-" if sign else "") + mantissa, exponent


def canonical_json(value) -> str:
    """JSON re-serialised with sorted keys (by code point), no spaces, strings
    with their escapes decoded (``\\u00e9`` -> ``é``; ``"``, ``\\``
    and control characters escaped again as ``json.dumps`` does), numbers as
    canonical decimals (``57.550`` -> ``57.55``, ``1e2`` -> ``100``) while their
    decimal exponent is within +-:data:`JSON_MAX_EXPONENT`, else as mantissa
    (at least one fractional digit) + ``E`` + exponent (``1e100`` ->
    ``1.0E100``, ``-2.25e-41`` -> ``-2.25E-41``).

    MariaDB renders the same text except for escapes in strings, which it
    keeps as stored (:func:`ferry.connectors.mysql_normalize.json_text`)."""
    data = json.loads(value, parse_float=Decimal, parse_int=Decimal) if isinstance(value, (str, bytes)) else value
    return _json_dump(data)


def _json_dump(data) -> str:
    if isinstance(data, dict):
        items = sorted(data.items())
        return "{" + ",".join(f"{json.dumps(k, ensure_ascii=False)}:{_json_dump(v)}" for k, v in items) + "}"
    if isinstance(data, list):
        return "[" + ",".join(_json_dump(v) for v in data) + "]"
    if isinstance(data, (Decimal, int, float)) and not isinstance(data, bool):
        return _json_number(Decimal(str(data)))
    return json.dumps(data, ensure_ascii=False)


def _json_number(d: Decimal) -> str:
    if d.is_zero():
        return "0"
    mantissa, exponent = _split_exponent(d)
    if abs(exponent) <= JSON_MAX_EXPONENT:
        return canonical_decimal(d)
    return f"{mantissa if '.' in mantissa else mantissa + '.0'}E{exponent}"


def _time_text(value) -> str:
    if isinstance(value, dt.timedelta):  # MySQL TIME: may be negative or over 24 h
        sign, value = ("-", -value) if value < dt.timedelta(0) else ("", value)
        total = value.days * 86400 + value.seconds
        return f"{sign}{total // 3600:02d}:{total % 3600 // 60:02d}:{total % 60:02d}.{value.microseconds:06d}"
    if isinstance(value, str):
        value = dt.time.fromisoformat(value)
    return value.strftime("%H:%M:%S.%f")


def _timestamp_text(value, aware: bool) -> str:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if aware and value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc)
    text = value.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds")
    return text.rstrip("0").rstrip(".")     # the '.' stops the zeros: 05.000000 -> 05


def _date_text(value) -> str:
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10]).isoformat()
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.isoformat()


def _bool_text(value) -> str:
    if isinstance(value, str):
        return "1" if value.strip().lower() in ("1", "t", "true", "y", "yes", "on") else "0"
    return "1" if value else "0"


def _bytes_text(value) -> str:
    if isinstance(value, str):
        value = value.encode("utf-8")
    return bytes(value).hex()


_RENDER = {
    Kind.BOOLEAN: _bool_text,
    Kind.SMALLINT: lambda v: str(int(v)), Kind.INTEGER: lambda v: str(int(v)),
    Kind.BIGINT: lambda v: str(int(v)), Kind.YEAR: lambda v: str(int(v)),
    Kind.DECIMAL: canonical_decimal,
    Kind.DOUBLE: canonical_float, Kind.FLOAT: lambda v: canonical_float(v, single=True),
    Kind.CHAR: lambda v: str(v).rstrip(" "),
    Kind.VARCHAR: str, Kind.TEXT: str, Kind.ENUM: str,
    Kind.BYTES: _bytes_text,
    Kind.DATE: _date_text, Kind.TIME: _time_text,
    Kind.TIMESTAMP: lambda v: _timestamp_text(v, False),
    Kind.TIMESTAMPTZ: lambda v: _timestamp_text(v, True),
    Kind.JSON: canonical_json,
    Kind.UUID: lambda v: str(v).lower(),
    Kind.INTERVAL: str,
}


def canonical_text(value, dtype: DataType) -> str | None:
    """Canonical text of ``value`` (a portable value) of neutral type ``dtype``;
    None for NULL."""
    if value is None:
        return None
    if dtype.kind == Kind.SET:
        if isinstance(value, str) and value.startswith("["):  # a list stored as JSON (SQLite)
            value = json.loads(value)
        return value if isinstance(value, str) else ",".join(value)
    if dtype.kind == Kind.ARRAY:
        if isinstance(value, (str, bytes)):   # an array stored as JSON (SQLite, MySQL), numbers exact
            value = json.loads(value, parse_float=Decimal)
        item = dtype.item or DataType(Kind.TEXT)
        parts = (canonical_text(v, item) for v in value)
        return "{" + ",".join(NULL_TEXT if p is None else p for p in parts) + "}"
    if isinstance(value, bytes) and dtype.kind not in (Kind.BYTES,):
        value = value.decode("utf-8", errors="surrogateescape")
    return _RENDER[dtype.kind](value)


def lenient_text(value, dtype: DataType) -> str | None:
    """:func:`canonical_text`, or the value's own text when its type cannot
    hold it (SQLite lets an INTEGER column store ``'lots-of-it'``); never raises."""
    try:
        return canonical_text(value, dtype)
    except (ValueError, TypeError, AttributeError, ArithmeticError):   # AttributeError: an int in a DATETIME
        return value.hex() if isinstance(value, bytes) else str(value)


def row_text(texts) -> str:
    """Join canonical texts of one row (NULL as ``\\N``) with ``|``."""
    return ROW_SEPARATOR.join(NULL_TEXT if t is None else t for t in texts)


def text_hash(text: str) -> int:
    """The 60-bit row hash of a row text: first 15 hex digits of its MD5."""
    digest = hashlib.md5(text.encode("utf-8", errors="surrogateescape")).hexdigest()
    return int(digest[:HASH_HEX_DIGITS], 16)


def row_hash(values, dtypes) -> int:
    """The row hash of ``values`` typed by ``dtypes`` (sequences of equal length)."""
    return text_hash(row_text(canonical_text(v, t) for v, t in zip(values, dtypes)))


def lenient_row_hash(values, dtypes) -> int:
    """:func:`row_hash` over :func:`lenient_text`: a value its type cannot hold hashes as its text."""
    return text_hash(row_text(lenient_text(v, t) for v, t in zip(values, dtypes)))
