"""Portable SQL written once in a plan, transpiled for the source engine (sqlglot).

Plans write expressions and filters in sqlglot's default dialect (close to
ANSI SQL: ``||`` concatenates, ``CASE``, ``COALESCE``, ``SUBSTRING``,
``LOWER`` ...). :func:`transpile` checks that every column the text names
exists in the source table, quotes those names for the source engine (so
mixed-case names such as Chinook's ``"FirstName"`` work) and writes the SQL
for PostgreSQL, MySQL/MariaDB or SQLite.

sqlglot is imported on first use (~0.05 s): a plan without expressions or
filters never needs it.
"""

from __future__ import annotations

from functools import cache

from ferry.errors import PlanError

_STATEMENT_NAMES = ("Query", "DML", "DDL", "Command", "Drop", "Create", "Alter", "Insert", "Update",
                    "Delete", "Merge", "Set", "Use", "Transaction", "Commit", "Rollback", "Pragma")
SQLGLOT_DIALECT = {"postgresql": "postgres", "mysql": "mysql", "sqlite": "sqlite"}


@cache
def _statements() -> tuple:
    from sqlglot import exp

    return tuple(getattr(exp, n) for n in _STATEMENT_NAMES if hasattr(exp, n))


def transpile(text: str, columns: list[str], engine: str, where: str) -> str:
    """``text`` (portable SQL over ``columns``) written for ``engine``.

    Args:
        text: one SQL expression or condition, no ``SELECT``.
        columns: the source table's column names (exact spelling).
        engine: ``postgresql``, ``mysql`` or ``sqlite``.
        where: the plan key, for messages (``columns.full_name.expression``).

    Returns:
        the SQL text in the source dialect, column names quoted.

    Raises:
        PlanError: the text does not parse, is a statement, or names columns
            the table does not have (all of them listed).
    """
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text)
    except sqlglot.errors.SqlglotError as exc:
        raise PlanError("bad SQL", [f"{where}: cannot parse {text!r}: {_first_line(exc)}"]) from None
    if not isinstance(tree, exp.Condition) or tree.find(*_statements()) is not None:
        raise PlanError("bad SQL", [f"{where}: {text!r} must be an expression over the row, "
                                    "not a statement or subquery"])
    unknown = _quote_columns(tree, columns)
    if unknown:
        raise PlanError("unknown columns", [f"{where}: no source column {', '.join(map(repr, unknown))} "
                                            f"(columns: {', '.join(columns)})"])
    return tree.sql(dialect=SQLGLOT_DIALECT[engine])


def referenced_columns(text: str) -> list[str]:
    """The column names ``text`` references, in order of appearance, without
    duplicates (``[]`` when it does not parse)."""
    import sqlglot
    from sqlglot import exp

    try:
        tree = sqlglot.parse_one(text)
    except sqlglot.errors.SqlglotError:
        return []
    seen: list[str] = []
    for col in tree.find_all(exp.Column):
        if col.name not in seen:
            seen.append(col.name)
    return seen


def _quote_columns(tree, columns: list[str]) -> list[str]:
    """Quote every column reference of ``tree`` in place, matching the table's
    spelling (exact first, else the one case-insensitive match); the names no
    column matches."""
    from sqlglot import exp

    by_lower: dict[str, list[str]] = {}
    for c in columns:
        by_lower.setdefault(c.lower(), []).append(c)
    unknown = []
    for col in list(tree.find_all(exp.Column)):
        name = col.name
        if col.table:
            unknown.append(f"{col.table}.{name}")
            continue
        match = name if name in columns else (by_lower.get(name.lower(), [None, None]) + [None])[0]
        if match is None or (name not in columns and len(by_lower.get(name.lower(), [])) > 1):
            unknown.append(name)
            continue
        col.set("this", exp.to_identifier(match, quoted=True))
    return sorted(set(unknown), key=unknown.index)


def _first_line(exc: Exception) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
