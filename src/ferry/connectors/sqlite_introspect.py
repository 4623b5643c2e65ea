"""SQLite introspection through PRAGMAs, and declared type -> neutral type.

SQLite types are affinities chosen from the declared name
(https://www.sqlite.org/datatype3.html, section 3.1); well-known names
(``DATETIME``, ``BOOLEAN``, ``NVARCHAR(120)``) keep the meaning their author gave them.
"""

from __future__ import annotations

import fnmatch
import re
import sqlite3
from typing import Sequence

from ferry.catalog.model import Catalog, Column, DataType, ForeignKey, Index, Kind, SkippedObject, Table

_NAMED = {
    "BOOLEAN": Kind.BOOLEAN, "BOOL": Kind.BOOLEAN, "TINYINT": Kind.SMALLINT, "SMALLINT": Kind.SMALLINT,
    "INT2": Kind.SMALLINT, "INT": Kind.INTEGER, "INT4": Kind.INTEGER, "MEDIUMINT": Kind.INTEGER,
    "INTEGER": Kind.BIGINT, "BIGINT": Kind.BIGINT, "INT8": Kind.BIGINT,
    "UNSIGNED BIG INT": Kind.BIGINT, "REAL": Kind.DOUBLE, "DOUBLE": Kind.DOUBLE,
    "DOUBLE PRECISION": Kind.DOUBLE, "FLOAT": Kind.DOUBLE, "DATE": Kind.DATE, "TIME": Kind.TIME,
    "DATETIME": Kind.TIMESTAMP, "TIMESTAMP": Kind.TIMESTAMP, "TIMESTAMPTZ": Kind.TIMESTAMPTZ,
    "INTERVAL": Kind.INTERVAL, "JSON": Kind.JSON, "JSONB": Kind.JSON, "UUID": Kind.UUID,
    "BLOB": Kind.BYTES, "BYTEA": Kind.BYTES, "TEXT": Kind.TEXT, "CLOB": Kind.TEXT, "": Kind.TEXT,
}
_ARGS = re.compile(r"^\s*([A-Za-z ]+?)\s*(?:\(\s*(\d+)\s*(?:,\s*(\d+)\s*)?\))?\s*$")


def neutral_type(declared: str) -> DataType:
    """Map a declared SQLite type to a neutral :class:`DataType` (``native`` = declared)."""
    match = _ARGS.match(declared or "")
    name = match.group(1).upper() if match else (declared or "").upper()
    size = int(match.group(2)) if match and match.group(2) else None
    scale = int(match.group(3)) if match and match.group(3) else None
    if name in ("NUMERIC", "DECIMAL"):
        return DataType(Kind.DECIMAL, precision=size, scale=scale if size else None, native=declared)
    if name in _NAMED:
        return DataType(_NAMED[name], native=declared)
    if "CHAR" in name:
        kind = Kind.VARCHAR if "VAR" in name else Kind.CHAR
        return DataType(kind if size else Kind.TEXT, length=size, native=declared)
    return DataType(_affinity(name), native=declared)


def _affinity(name: str) -> Kind:
    if "INT" in name:
        return Kind.BIGINT
    if any(s in name for s in ("CHAR", "CLOB", "TEXT")):
        return Kind.TEXT
    if "BLOB" in name:
        return Kind.BYTES
    if any(s in name for s in ("REAL", "FLOA", "DOUB")):
        return Kind.DOUBLE
    return Kind.DECIMAL


def _selected(name: str, include: Sequence[str], exclude: Sequence[str]) -> bool:
    if include and not any(fnmatch.fnmatchcase(name, p) for p in include):
        return False
    return not any(fnmatch.fnmatchcase(name, p) for p in exclude)


def introspect(conn: sqlite3.Connection, include: Sequence[str], exclude: Sequence[str]) -> Catalog:
    """Read tables, keys, indexes and foreign keys; views and triggers are skipped."""
    rows = conn.execute("SELECT type, name, sql FROM sqlite_master "
                        "WHERE name NOT LIKE 'sqlite_%' ORDER BY name").fetchall()
    tables, skipped = [], []
    for kind, name, sql in rows:
        if kind == "table" and _selected(name, include, exclude):
            tables.append(_table(conn, name, sql or ""))
        elif kind in ("view", "trigger"):
            skipped.append(SkippedObject(kind, name))
    return Catalog(tables=dependency_order(tables), skipped=skipped)


def _table(conn: sqlite3.Connection, name: str, sql: str) -> Table:
    q = '"' + name.replace('"', '""') + '"'
    info = conn.execute(f"PRAGMA table_xinfo({q})").fetchall()
    pk = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
    strict_key = bool(_WITHOUT_ROWID.search(sql))
    columns = [_column(r, _is_rowid_alias(r, pk, sql), strict_key) for r in info if r[6] == 0]
    uniques, indexes = _indexes(conn, q)
    count = conn.execute(f"SELECT COUNT(*) FROM {q}").fetchone()[0]
    return Table(name=name, columns=columns, primary_key=pk, uniques=uniques, indexes=indexes,
                 foreign_keys=_foreign_keys(conn, q), row_estimate=count)


# A primary key column may hold NULL unless it is NOT NULL, the rowid or in a
# WITHOUT ROWID table (https://www.sqlite.org/lang_createtable.html#the_primary_key)
_WITHOUT_ROWID = re.compile(r"\)\s*(?:STRICT\s*,\s*)?WITHOUT\s+ROWID\b", re.IGNORECASE)


def _column(row, rowid: bool, strict_key: bool) -> Column:
    """The column of a ``table_xinfo`` row; NOT NULL as declared, or as the
    rowid's alias or a WITHOUT ROWID table's key column."""
    in_key = bool(row[5])
    return Column(name=row[1], type=neutral_type(row[2]), default=row[4], identity=rowid,
                  nullable=not row[3] and not (in_key and (strict_key or rowid)))


def _is_rowid_alias(row, pk: tuple, sql: str) -> bool:
    return len(pk) == 1 and row[1] == pk[0] and (row[2] or "").upper() == "INTEGER"


def _indexes(conn, q: str) -> tuple[list[Index], list[Index]]:
    uniques, indexes = [], []
    for _, iname, unique, origin, _partial in conn.execute(f"PRAGMA index_list({q})").fetchall():
        if origin == "pk":
            continue
        cols = tuple(r[2] for r in conn.execute(f"PRAGMA index_info(\"{iname}\")").fetchall())
        if None in cols:
            continue
        target = uniques if origin == "u" else indexes
        target.append(Index(name=iname, columns=cols, unique=bool(unique)))
    return uniques, indexes


def _foreign_keys(conn, q: str) -> list[ForeignKey]:
    groups: dict[int, list] = {}
    for row in conn.execute(f"PRAGMA foreign_key_list({q})").fetchall():
        groups.setdefault(row[0], []).append(row)
    fks = []
    for fk_id, rows in sorted(groups.items()):
        rows.sort(key=lambda r: r[1])
        ref_cols = tuple(r[4] for r in rows) if all(r[4] for r in rows) else ()
        fks.append(ForeignKey(name=f"fk_{q.strip(chr(34))}_{fk_id}", columns=tuple(r[3] for r in rows),
                              ref_table=rows[0][2], ref_columns=ref_cols,
                              on_delete=_action(rows[0][6]), on_update=_action(rows[0][5])))
    return fks


def _action(text: str | None) -> str | None:
    return None if not text or text.upper() == "NO ACTION" else text.upper()


def dependency_order(tables: list[Table]) -> list[Table]:
    """Tables with parents (referenced tables) before children; cycles keep input order."""
    by_name = {t.name: t for t in tables}
    done: dict[str, Table] = {}

    def visit(t: Table, path: set[str]) -> None:
        if t.name in done or t.name in path:
            return
        for fk in t.foreign_keys:
            parent = by_name.get(fk.ref_table)
            if parent is not None and parent is not t:
                visit(parent, path | {t.name})
        done[t.name] = t

    for t in tables:
        visit(t, set())
    return list(done.values())
