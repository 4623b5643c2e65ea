"""The reconciliation report of a verification, as Markdown, HTML or JSON.

One document per verification: the overall status (Pass / Fail / Needs
review), then per table the source and target row totals and key ranges, the
missing / extra / modified counts with their first keys and differing
columns, the NULL / duplicate / orphan counts against their acceptable levels,
and every check with its criteria and measured value. The three formats hold
the same numbers; :func:`to_dict` is the single source for all of them.
"""

from __future__ import annotations

import datetime as dt
import html
import json
from pathlib import Path

from ferry.errors import InputError

STATUS_WORDS = {"pass": "Pass", "fail": "Fail", "review": "Needs review"}
FORMATS = {".md": "md", ".markdown": "md", ".html": "html", ".htm": "html", ".json": "json"}


def report_format(path: str | Path) -> str:
    """``md``, ``html`` or ``json`` from the file extension.

    Raises:
        InputError: any other extension (exit 2).
    """
    fmt = FORMATS.get(Path(path).suffix.lower())
    if fmt is None:
        raise InputError(f"cannot write a report to {path}: unknown extension",
                         "use a .md, .html or .json file name")
    return fmt


def to_dict(verification, plan) -> dict:
    """Everything the report shows, JSON-able."""
    tables = {r.table: _table(r) for r in verification}
    for c in verification.checks:
        entry = tables.setdefault(c.table, {"table": c.table})
        entry.setdefault("checks", []).append(_check(c))
    return {"status": STATUS_WORDS[verification.status], "status_code": verification.status,
            "plan": plan.name or "", "source": _redacted(plan.source), "target": _redacted(plan.target),
            "generated": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(verification.elapsed, 3), "checks_run": verification.names,
            "source_only": verification.source_only,
            "summary": {s: sum(1 for c in verification.checks if c.status == s) for s in STATUS_WORDS},
            "tables": list(tables.values())}


def _redacted(url: str) -> str:
    from ferry.secrets import redact

    return redact(url)


def _table(r) -> dict:
    return {"table": r.table, "target_table": r.target, "source_rows": r.source_rows,
            "target_rows": r.target_rows, "rejects": r.rejects,
            "source_key_range": _jsonable(r.source_keys), "target_key_range": _jsonable(r.target_keys),
            "missing": r.missing_count, "extra": r.extra_count, "modified": r.modified_count,
            "first_missing": _jsonable(r.missing), "first_extra": _jsonable(r.extra),
            "first_modified": _jsonable(r.modified), "modified_details": r.modified_details,
            "segments": r.segments, "checksum_queries": r.checksum_queries, "leaves": r.leaves,
            "checksum_mode": r.checksum_mode,
            "checksum_compared": r.checksum_compared, "ok": r.ok, "error": r.error, "checks": []}


def _check(c) -> dict:
    return {"name": c.name, "status": STATUS_WORDS[c.status], "side": c.side, "criteria": c.criteria,
            "measured": c.measured, "value": c.value, "detail": c.detail}


def _jsonable(value):
    return json.loads(json.dumps(value, default=str)) if value is not None else None


def to_json(verification, plan) -> str:
    """The report as one JSON document (what ``ferry verify --json`` prints and
    a ``--report x.json`` file holds)."""
    return json.dumps(to_dict(verification, plan), indent=2, default=str)


def write(path: str | Path, verification, plan) -> Path:
    """Write the report in the format of ``path``'s extension; returns the path."""
    fmt = report_format(path)
    data = to_dict(verification, plan)
    text = {"json": lambda: to_json(verification, plan), "md": lambda: markdown(data),
            "html": lambda: render_html(data)}[fmt]()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def _table_rows(t: dict) -> list[tuple[str, str]]:
    """(label, value) lines of one table's totals and differences."""
    rows = []
    if "source_rows" in t:
        rows += [("source rows", f"{t['source_rows']:,}"), ("target rows", f"{t['target_rows']:,}"),
                 ("rejects", f"{t['rejects']:,}"),
                 ("source key range", _range(t["source_key_range"])),
                 ("target key range", _range(t["target_key_range"])),
                 ("missing", _first(t["missing"], t["first_missing"])),
                 ("extra", _first(t["extra"], t["first_extra"])),
                 ("modified", _first(t["modified"], t["first_modified"]))]
    return rows


def _range(bounds) -> str:
    return "-" if not bounds or bounds[0] is None else f"{bounds[0]} .. {bounds[1]}"


def _first(count: int, keys) -> str:
    shown = ", ".join(str(k[0] if len(k) == 1 else k) for k in (keys or [])[:10])
    return f"{count:,}" + (f" (first: {shown})" if shown else "")


def _details(t: dict) -> list[str]:
    lines = []
    for d in t.get("modified_details") or []:
        cols = "; ".join(f"{c['column']}: {c['source']!r} -> {c['target']!r}" for c in d["columns"])
        lines.append(f"key {d['key']}: {cols}")
    return lines


def markdown(data: dict) -> str:
    """The report as Markdown."""
    out = [f"# Reconciliation report: {data['status']}", "",
           f"- source: `{data['source']}`", f"- target: `{data['target']}`",
           f"- checks: {', '.join(data['checks_run'])}" + (" (source only)" if data["source_only"] else ""),
           f"- generated: {data['generated']}, {data['seconds']} s",
           f"- checks passed {data['summary']['pass']}, failed {data['summary']['fail']}, "
           f"need review {data['summary']['review']}", ""]
    for t in data["tables"]:
        out += [f"## {t['table']}", ""]
        if _table_rows(t):
            out += ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in _table_rows(t)] + [""]
        out += [f"- {line}" for line in _details(t)] + ([""] if _details(t) else [])
        out += ["| check | status | criteria | measured | detail |", "|---|---|---|---|---|"]
        out += [f"| {c['name']} | {c['status']} | {c['criteria']} | {c['measured']} | "
                f"{_md(c['detail'])} |" for c in t["checks"]] + [""]
    return "\n".join(out)


def _md(text: str) -> str:
    return (text or "").replace("|", "\\|").replace("\n", " ")


def render_html(data: dict) -> str:
    """The report as one self-contained HTML page (same numbers as :func:`markdown`)."""
    e = html.escape
    colour = {"Pass": "#1a7f37", "Fail": "#cf222e", "Needs review": "#9a6700"}
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>Reconciliation report</title>"
             "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin:1em 0}"
             "td,th{border:1px solid #ccc;padding:4px 8px;text-align:left}</style></head><body>",
             f"<h1>Reconciliation report: <span style='color:{colour[data['status']]}'>{e(data['status'])}"
             "</span></h1>",
             f"<p>source <code>{e(data['source'])}</code>, target <code>{e(data['target'])}</code>; "
             f"checks {e(', '.join(data['checks_run']))}; generated {e(data['generated'])}, "
             f"{data['seconds']} s; passed {data['summary']['pass']}, failed {data['summary']['fail']}, "
             f"need review {data['summary']['review']}</p>"]
    for t in data["tables"]:
        parts.append(f"<h2>{e(t['table'])}</h2>")
        if _table_rows(t):
            parts.append("<table>" + "".join(f"<tr><th>{e(k)}</th><td>{e(v)}</td></tr>"
                                             for k, v in _table_rows(t)) + "</table>")
        parts += [f"<p>{e(line)}</p>" for line in _details(t)]
        head = "".join(f"<th>{h}</th>" for h in ("check", "status", "criteria", "measured", "detail"))
        body = "".join(f"<tr><td>{e(c['name'])}</td><td style='color:{colour[c['status']]}'>{e(c['status'])}"
                       f"</td><td>{e(c['criteria'])}</td><td>{e(c['measured'])}</td><td>{e(c['detail'] or '')}"
                       "</td></tr>" for c in t["checks"])
        parts.append(f"<table><tr>{head}</tr>{body}</table>")
    return "".join(parts) + "</body></html>"


def print_checks(console, verification) -> None:
    """Checks other than counts/checksum (those are in the verify table), then
    the differing columns of modified rows, then the overall status."""
    from rich.table import Table as RichTable

    extra = [c for c in verification.checks if c.name not in ("counts", "checksum")]
    if extra:
        table = RichTable(title="checks")
        for header in ("table", "check", "status", "criteria", "measured"):
            table.add_column(header)
        for c in extra:
            table.add_row(c.table, c.name, STATUS_WORDS[c.status], c.criteria, c.measured)
        console.print(table)
    for r in verification:
        for d in r.modified_details[:5]:
            cols = "; ".join(f"{c['column']}: {c['source']!r} -> {c['target']!r}" for c in d["columns"])
            console.print(f"{r.table} key {d['key']}: {cols}", highlight=False, markup=False)
    console.print(f"status: {STATUS_WORDS[verification.status]}", highlight=False, markup=False)
