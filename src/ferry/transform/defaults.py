"""Translate a column default from the source dialect to the target's (sqlglot)."""

from __future__ import annotations

import re

from ferry.catalog.model import Kind

# a PostgreSQL cast suffix (``'G'::mpaa_rating``, ``'{}'::text[]``): the target column may
# have another type (enums become text), and assignment casts do the rest
_CAST = re.compile(r"::(?:\"[^\"]+\"|[A-Za-z_][\w.]*)(?:\s+(?:varying|precision|with(?:out)? time zone))?"
                   r"(?:\(\d+(?:,\s*\d+)?\))?(?:\[\])*")
_SQLGLOT = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


def translate_default(text: str, source: str, target: str, kind=None) -> str | None:
    """The default ``text`` rewritten for ``target`` (a column of neutral
    ``kind``), or None when it cannot be carried over (sequence calls, zero
    dates, engine-specific functions, parse errors)."""
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
    import sqlglot  # on first use: most defaults never reach it

    try:
        out = sqlglot.transpile(text, read=_SQLGLOT[source], write=_SQLGLOT[target])[0]
    except Exception:  # sqlglot raises several error types for dialect gaps
        return None
    if target in ("mysql", "sqlite") and not _is_literal(out):
        return f"({out})" if out.upper() not in ("CURRENT_TIMESTAMP", "NULL") else out
    return out


def _is_literal(text: str) -> bool:
    t = text.strip()
    return t.startswith("'") or t.upper() in ("NULL", "TRUE", "FALSE") or _is_number(t)


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False
