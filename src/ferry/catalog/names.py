"""Identifiers that fit the target engine's length limit, and stay distinct.

PostgreSQL silently truncates identifiers to 63 bytes
(https://www.postgresql.org/docs/current/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS),
so two long column names that share their first 63 bytes collide (pgloader's
``test/sqlite/collision.db``). ferry shortens long names itself, the same way
on every run: a prefix, ``_`` and 8 hex digits of the MD5 of the full name.
"""

from __future__ import annotations

import hashlib

SUFFIX_BYTES = 9  # "_" + 8 hex digits


def shorten_identifier(name: str, max_bytes: int) -> str:
    """``name`` if its UTF-8 form fits in ``max_bytes``, else a prefix (cut on a
    character boundary) + ``_`` + the first 8 hex digits of ``md5(name)``.

    Deterministic: the same name and limit always give the same result.

    Raises:
        ValueError: ``max_bytes`` leaves no room for the suffix (< 10).
    """
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    return _with_suffix(name, _md5_hex8(name), max_bytes)


def _md5_hex8(text: str) -> str:
    return hashlib.md5(text.encode("utf-8")).hexdigest()[:8]


def _with_suffix(name: str, digest: str, max_bytes: int) -> str:
    if max_bytes <= SUFFIX_BYTES:
        raise ValueError(f"max_bytes={max_bytes} leaves no room for a prefix and a hash suffix")
    return _prefix(name, max_bytes - SUFFIX_BYTES) + "_" + digest


def _prefix(name: str, budget: int) -> str:
    """The longest prefix of ``name`` whose UTF-8 form fits in ``budget`` bytes."""
    used = 0
    for i, ch in enumerate(name):
        used += len(ch.encode("utf-8"))
        if used > budget:
            return name[:i]
    return name


def unique_names(names: list[str], max_bytes: int) -> dict[str, str]:
    """Shorten every name of one namespace (the columns of a table, the tables
    of a schema) so that all fit in ``max_bytes`` and stay distinct.

    Names that fit keep their spelling and win; a shortened name that equals
    one of them or another shortened name (an MD5 prefix clash) is hashed
    again with a counter (``md5(name + "#1")``, ...) until it is free. The
    result does not depend on the order of ``names``.

    Returns:
        ``{original: shortened}`` for the names that changed only.

    Raises:
        ValueError: ``max_bytes`` < 10 while some name is too long.
    """
    taken = {n for n in names if len(n.encode("utf-8")) <= max_bytes}
    return {name: free_name(name, taken, max_bytes) for name in sorted(set(names) - taken)}


def free_name(name: str, taken: set[str], max_bytes: int) -> str:
    """:func:`shorten_identifier` of ``name``, or, when that is in ``taken``,
    ``name`` hashed again with a counter (``md5(name + "#1")``, ...) until the
    result is free; the result is added to ``taken``.

    Raises:
        ValueError: ``max_bytes`` < 10 while a suffix is needed.
    """
    short, attempt = shorten_identifier(name, max_bytes), 0
    while short in taken:
        attempt += 1
        short = _with_suffix(name, _md5_hex8(f"{name}#{attempt}"), max_bytes)
    taken.add(short)
    return short


def index_names(tables: list, max_bytes: int) -> dict[tuple[str, str], str]:
    """Target names of the unique keys and indexes of ``tables``
    (:class:`ferry.catalog.model.Table`), ``{(table qualified name, index
    name): name}``: ``<table>_<index>``, shortened to ``max_bytes``.

    Index names are per table on MySQL but share one namespace with the
    tables of their schema on PostgreSQL ("relation already exists",
    https://www.postgresql.org/docs/15/sql-createindex.html) and SQLite, so
    MySQL's ``orders.tax_status`` would become a second
    ``orders_tax_status`` beside that table (Northwind's MyWind schema). A
    name that equals a table of the same schema, a primary key index
    (``<table>_pkey``) or a name given before gets an MD5 suffix (see
    :func:`free_name`); tables are taken in name order, so the names are the
    same on every run of a plan.
    """
    taken: dict[str | None, set[str]] = {}
    for t in tables:
        taken.setdefault(t.schema, set()).update((t.name, f"{t.name}_pkey"))
    names = {}
    for t in sorted(tables, key=lambda t: t.qualified):
        for idx in t.uniques + t.indexes:
            names[(t.qualified, idx.name)] = free_name(f"{t.name}_{idx.name}", taken[t.schema], max_bytes)
    return names
