"""``ferry init``: a commented plan written from introspection."""

from __future__ import annotations

import json
import re

from ferry.connectors import dialect_for, open_connector
from ferry.plan.model import Plan
from ferry.transform.mapping import introspection_filter, resolve

_PASSWORD = re.compile(r"^([a-z][a-z0-9+]*://[^:/@\s]*):([^\s/]*)@", re.IGNORECASE)


# the transform options of a table mapping, as comments above `tables:`
TRANSFORM_HELP = [
    "# Table mappings (all run inside the source's SELECT; `ferry plan-schema` documents each key):",
    "#   target: new_name                  rename the table",
    "#   filter: \"status <> 'deleted'\"     copy matching rows only (portable SQL); the rest are counted",
    "#   columns: the target columns in order; a source column left out (or drop: true) is not copied",
    "#     - {name: email, target: mail}                          rename a column",
    "#     - {name: qty, type: smallint, on_invalid: clamp}        cast; values that do not fit:",
    "#                                                              reject (row) | null | clamp (counted)",
    "#     - {name: city, trim: true, upper: true}                 also lower, normalize_whitespace",
    "#     - {name: state, type: varchar(10), value_map: {A: active, I: inactive}}",
    "#     - {name: phone, null_default: unknown}                  NULL -> a constant",
    "#     - {name: card, mask: {first: 0, last: 4}}               keep the first/last N characters",
    "#     - {name: email, hash: true}                             MD5 hex (not on SQLite sources)",
    "#     - {name: price, expression: \"price * 100\"}              portable SQL over source columns",
    "#     - {target: full_name, type: text, expression: \"first || ' ' || last\"}   added column",
    "#     - {target: origin, default: legacy}                     added column, constant",
    "#     - {name: name, python: \"mymodule:clean\"}               Python function per value (row path, slower)",
    "#     - {name: created, timezone: {from: Europe/Paris}}       naive timestamp -> timestamptz",
    "#     - {name: seen, timezone: {to: Europe/Paris}}            timestamptz -> naive wall-clock time",
    "#     - {name: id, remap: uuid7}                              new keys (uuid4 | uuid7 | sequence); old -> new",
    "#                                                              kept in <target>_keymap; references follow",
    "#     - {name: owner, references: users}                      a foreign key the source does not declare",
    "#     - {target: phone, lookup: {table: details, column: phone, key: {user_id: id}}}   from another table",
    "#   split: several mappings with the same `source` and their own `target` (e.g. users -> accounts",
    "#          + profiles, each with `{name: id, target: legacy_user_id}` or a reference to the remapped key)",
    "#   merge: several mappings with the same `target`, each with its own `origin: <value>` (a union)",
]


def _scalar(value: str) -> str:
    """``value`` as a double-quoted YAML scalar (JSON strings are valid YAML,
    safe in flow mappings where ``,`` and ``:`` are special)."""
    return json.dumps(value, ensure_ascii=False)


def _without_password(url: str, side: str) -> str:
    """``url`` with a literal password replaced by a ``${FERRY_<SIDE>_PASSWORD}``
    reference (``${ENV}`` references are kept as written)."""
    match = _PASSWORD.match(url)
    if not match or match.group(2).startswith("${"):
        return url
    return _PASSWORD.sub(rf"\1:${{FERRY_{side}_PASSWORD}}@", url, count=1)


def render_plan(plan: Plan, source_url: str, target_url: str) -> str:
    """The YAML text of a plan listing every table, its key, and each column's
    target type with the casting rule that chose it (as a comment)."""
    source = open_connector(plan.source, read_only=True)
    try:
        catalog = source.introspect(*introspection_filter(plan))
        tables = resolve(plan, catalog, source.dialect, dialect_for(plan.target))
    finally:
        source.close()
    lines = [
        "# ferry migration plan, written by `ferry init`. Edit it, then: ferry run <this file>",
        "# Every key is documented by `ferry plan-schema`.",
        "version: 1",
        f"source: {_scalar(_without_password(source_url, 'SOURCE'))}   # passwords: ${{ENV}} references",
        f"target: {_scalar(_without_password(target_url, 'TARGET'))}",
        "options:",
        "  jobs: 0            # parallel workers; 0 = CPU cores",
        "  chunk_rows: 100000 # rows per chunk (unit of copy and resume)",
        "  max_rejects: 0     # fail the run when more rows than this are rejected",
        "  if_exists: fail    # fail | drop | truncate existing target tables",
        "casting: []          # your rules first, e.g. - {match: 'tinyint(1)', to: smallint}",
        *TRANSFORM_HELP,
        "tables:",
    ]
    for t in tables:
        lines += _table_lines(t)
    for obj in catalog.skipped:
        lines.append(f"# not migrated: {obj.kind} {obj.name} ({obj.reason})")
    return "\n".join(lines) + "\n"


def _table_lines(t) -> list[str]:
    lines = [f"  - source: {_scalar(t.name)}"]
    if t.target.name != t.source.name:
        lines.append(f"    target: {_scalar(t.target.name)}")
    key = "[" + ", ".join(_scalar(k) for k in t.key) + "]"
    lines.append(f"    key: {key}" + ("" if t.key else "   # no primary key: copied as one stream"))
    lines.append("    columns:")
    for c in t.casts:
        target = "" if c.target == c.source else f", target: {_scalar(c.target)}"
        note = f"; {c.note}" if c.note else ""
        lines.append(f"      - {{name: {_scalar(c.source)}{target}, type: {_scalar(c.type)}}}  # {c.rule}{note}")
    return lines
