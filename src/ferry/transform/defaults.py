"""Translate a column default from the source dialect to the target's (sqlglot)."""

from __future__ import annotations

import re

from ferry.catalog.model import NUMBER_KINDS, DataType, Kind

# a PostgreSQL cast suffix (``'G'::mpaa_rating``, ``'{}'::text[]``): the target column may
# have another type (enums become text), and assignment casts do the rest
_CAST = re.compile(r"::(?:\"[^\"]+\"|[A-Za-z_][\w.]*)(?:\s+(?:varying|precision|with(?:out)? time zone))?"
                   r"(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])*")
_SQLGLOT = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}

# SQLite's clock defaults: date('now'), datetime('now', 'localtime'), strftime('%Y-%m-%d %H:%M:%f', 'now')
# (https://www.sqlite.org/lang_datefunc.html); 'now' is UTC unless the 'localtime' modifier is given
_SQLITE_NOW = re.compile(r"\(*\s*(date|time|datetime|strftime)\s*\((?=[^)]*['\"]now['\"])([^)]*)\)\s*\)*",
                         re.IGNORECASE)
_BITS = re.compile(r"b'([01]*)'", re.IGNORECASE)    # MySQL's bit-value literal, a BIT default
_TEMPORAL = (Kind.DATE, Kind.TIME, Kind.TIMESTAMP, Kind.TIMESTAMPTZ)
_NUMERIC = (*NUMBER_KINDS, Kind.YEAR)
# the target's clock for a column of each kind: (UTC, local time)
_NOW = {
    "postgresql": {Kind.DATE: ("((now() AT TIME ZONE 'UTC')::date)", "CURRENT_DATE"),
                   Kind.TIME: ("((now() AT TIME ZONE 'UTC')::time)", "LOCALTIME"),
                   Kind.TIMESTAMP: ("(now() AT TIME ZONE 'UTC')", "LOCALTIMESTAMP"),
                   Kind.TIMESTAMPTZ: ("CURRENT_TIMESTAMP", "CURRENT_TIMESTAMP")},
    "mysql": {Kind.DATE: ("(UTC_DATE())", "(CURRENT_DATE())"), Kind.TIME: ("(UTC_TIME())", "(CURRENT_TIME())"),
              Kind.TIMESTAMP: ("(UTC_TIMESTAMP())", "CURRENT_TIMESTAMP"),
              Kind.TIMESTAMPTZ: ("(UTC_TIMESTAMP())", "(UTC_TIMESTAMP())")},   # TIMESTAMPTZ is held in UTC
}


def translate_default(text: str, source: str, target: str, dtype: DataType) -> str | None:
    """The default ``text`` rewritten for ``target`` (a column of neutral
    type ``dtype``), or None when it cannot be carried over (sequence calls,
    zero dates, engine-specific functions, parse errors, a literal the
    column's type does not take)."""
    kind = dtype.kind
    text = text.strip()
    if "nextval(" in text.lower() or text.strip("'").startswith("0000-00-00"):
        return None
    if kind == Kind.BOOLEAN and text.strip("'") in ("0", "1", "b'0", "b'1"):
        truth = text.strip("'").endswith("1")
        return ("TRUE" if truth else "FALSE") if target == "postgresql" else ("1" if truth else "0")
    retyped = kind in (Kind.ENUM, Kind.SET, Kind.TEXT, Kind.VARCHAR, Kind.CHAR)
    if source == "postgresql" and retyped:
        text = _CAST.sub("", text)
    if source == target:
        return text
    if not _fits_kind(text, kind):
        return None
    if source == "mysql" and (bits := _BITS.fullmatch(text)):
        return _bits_default(int(bits.group(1) or "0", 2), dtype, target)
    if source == "sqlite" and (now := _SQLITE_NOW.fullmatch(text)):
        return _clock(now, kind, target)
    if source == "sqlite" and len(text) >= 2 and text[0] == text[-1] == '"':
        # a string literal in double quotes, which SQLite accepts where no column fits
        # (https://www.sqlite.org/quirks.html#double_quoted_string_literals_are_accepted)
        text = "'" + text[1:-1].replace('""', '"').replace("'", "''") + "'"
    import sqlglot  # on first use: most defaults never reach it

    try:
        out = sqlglot.transpile(text, read=_SQLGLOT[source], write=_SQLGLOT[target])[0]
    except Exception:  # sqlglot raises several error types for dialect gaps
        return None
    if target in ("mysql", "sqlite") and not _is_literal(out):
        return f"({out})" if out.upper() not in ("CURRENT_TIMESTAMP", "NULL") else out
    return out


def _fits_kind(text: str, kind) -> bool:
    """False for a literal no column of ``kind`` takes: a number for a date
    or time (SQLite's ``DATETIME DEFAULT 0``), a quoted non-number for a
    number (``integer default '"0"'``)."""
    t = text.strip()
    if kind in _TEMPORAL and _is_number(t):
        return False
    if kind in _NUMERIC and t.startswith("'") and not _is_number(t.strip("'")):
        return False
    return True


def _clock(now: re.Match, kind, target: str) -> str | None:
    """The ``target``'s current date/time for a column of ``kind`` in place
    of SQLite's ``now`` call ``now`` (None for another kind, or a
    ``strftime`` format that is not one of the ISO forms, which a date or
    time column would not take)."""
    args = now.group(2).lower()
    if now.group(1).lower() == "strftime" and not re.match(r"\s*['\"]%y-%m-%d", args):
        return None
    pair = _NOW.get(target, {}).get(kind)
    return pair and pair["localtime" in args]


def _bits_default(value: int, dtype: DataType, target: str) -> str | None:
    """A MySQL BIT default of integer ``value`` for a column of ``dtype`` on
    ``target``: the number for a number, the big-endian bytes of the
    column's width for bytes (BIT(16) ``b'0'`` is two zero bytes)."""
    if dtype.kind in _NUMERIC:
        return str(value)
    if dtype.kind != Kind.BYTES:
        return None
    data = value.to_bytes(max(dtype.length or 0, (value.bit_length() + 7) // 8, 1), "big")
    return f"'\\x{data.hex()}'::bytea" if target == "postgresql" else f"X'{data.hex()}'"


def _is_literal(text: str) -> bool:
    t = text.strip()
    return t.startswith("'") or t.upper() in ("NULL", "TRUE", "FALSE") or _is_number(t)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
