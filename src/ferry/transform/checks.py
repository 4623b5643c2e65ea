"""Static checks of a table mapping against the source table (before any data moves).

Each function returns a list of problem strings (``columns.<name>: ...``),
empty when all is well, so that every problem of a plan is reported at once.
"""

from __future__ import annotations

from ferry.catalog.model import Table
from ferry.plan.model import ColumnMapping


def check_mapping(table: Table, column_maps: list[ColumnMapping], key: tuple[str, ...]) -> list[str]:
    """Unknown source columns, target names used twice, key columns that are
    unknown or not copied."""
    names = [c.name for c in table.columns]
    problems = [f"columns: source table {table.qualified} has no column {m.name!r}"
                for m in column_maps if m.name is not None and m.name not in names]
    seen: set[str] = set()
    for m in column_maps:
        want = m.target or m.name
        if want in seen:
            problems.append(f"columns.{want}: two columns have the target name {want!r}")
        seen.add(want)
    if all(c.name in key for c in table.columns) and any(m.name is None for m in column_maps):
        problems.append("columns: added columns need the source table to have a non-key column")
    copied = {m.name for m in column_maps if m.name is not None}
    for k in key:
        if k not in names:
            problems.append(f"key: no column {k!r} in {table.qualified}")
        elif k not in copied:
            problems.append(f"key: key column {k!r} is not copied (chunks and checksums address "
                            "rows by key); copy it or choose another key")
    return problems


def check_compiled(compiled: list, key: tuple[str, ...]) -> list[str]:
    """Key columns whose values a transform changes: the target rows could not
    be found again by their source key (resume, checksums)."""
    return [f"columns.{target}: key column {c.source!r} cannot be transformed ({', '.join(c.transforms)}); "
            "rename and type changes only" for c, target in compiled if c.source in key and c.transforms]
