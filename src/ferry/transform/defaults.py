"""Translate a column default from the source dialect to the target's (sqlglot)."""

from __future__ import annotations

import sqlglot

_SQLGLOT = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


def translate_default(text: str, source: str, target: str) -> str | None:
    """The default ``text`` rewritten for ``target``, or None when it cannot be
    carried over (sequence calls, engine-specific functions, parse errors)."""
    text = text.strip()
    if "nextval(" in text.lower():
        return None
    if source == target:
        return text
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
