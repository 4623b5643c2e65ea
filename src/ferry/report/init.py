"""``ferry init``: a commented plan written from introspection."""

from __future__ import annotations

import yaml

from ferry.connectors import open_connector
from ferry.plan.model import Plan
from ferry.transform.mapping import resolve


def _scalar(value: str) -> str:
    """``value`` as a one-line YAML scalar (quoted when YAML needs it)."""
    return yaml.safe_dump(value, default_flow_style=True, width=10_000).strip().removesuffix("...").strip()


def render_plan(plan: Plan, source_url: str, target_url: str) -> str:
    """The YAML text of a plan listing every table, its key, and each column's
    target type with the casting rule that chose it (as a comment)."""
    source = open_connector(plan.source, read_only=True)
    target = open_connector(plan.target, read_only=False)
    try:
        catalog = source.introspect(plan.include, plan.exclude)
        tables = resolve(plan, catalog, source.dialect, target.dialect)
    finally:
        source.close()
        target.close()
    lines = [
        "# ferry migration plan, written by `ferry init`. Edit it, then: ferry run <this file>",
        "# Every key is documented by `ferry plan-schema`.",
        "version: 1",
        f"source: {_scalar(source_url)}   # passwords: use ${{ENV}} references",
        f"target: {_scalar(target_url)}",
        "options:",
        "  jobs: 0            # parallel workers; 0 = CPU cores",
        "  chunk_rows: 100000 # rows per chunk (unit of copy, resume and checksum)",
        "  max_rejects: 0     # fail the run when more rows than this are rejected",
        "  if_exists: fail    # fail | drop | truncate existing target tables",
        "casting: []          # your rules first, e.g. - {match: 'tinyint(1)', to: smallint}",
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
