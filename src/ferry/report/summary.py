"""Render run summaries, verification results and status as terminal tables."""

from __future__ import annotations

import datetime as dt

from rich.console import Console
from rich.table import Table as RichTable


def run_summary(console: Console, summary) -> None:
    """The per-table summary of a run: rows, rejects, seconds, rows/s; then notes."""
    table = RichTable(title=f"run {summary.run_id}" + (" (resumed)" if summary.resumed else ""))
    for header in ("table", "rows", "rejects", "seconds", "rows/s"):
        table.add_column(header, justify="left" if header == "table" else "right")
    for t in summary.tables:
        table.add_row(t.table, f"{t.rows:,}", f"{t.rejects:,}", f"{t.seconds:.2f}", f"{t.rows_per_second:,.0f}")
    total_rows = sum(t.rows for t in summary.tables)
    total_rejects = sum(t.rejects for t in summary.tables)
    table.add_row("total", f"{total_rows:,}", f"{total_rejects:,}", f"{summary.elapsed:.2f}",
                  f"{total_rows / summary.elapsed:,.0f}" if summary.elapsed else "", style="bold")
    console.print(table)
    for note in summary.notes:
        console.print(f"note: {note}", highlight=False, markup=False)
    if summary.verify:
        verify_results(console, summary.verify)


def verify_results(console: Console, results) -> None:
    """One row per table: counts, differing rows, verdict."""
    table = RichTable(title="verify")
    for header in ("table", "source rows", "target rows", "rejects", "missing", "extra", "modified", "result"):
        table.add_column(header, justify="left" if header in ("table", "result") else "right")
    for r in results:
        verdict = "ok" if r.ok else "DIFFERS"
        table.add_row(r.table, f"{r.source_rows:,}", f"{r.target_rows:,}", f"{r.rejects:,}",
                      str(r.missing_count), str(r.extra_count), str(r.modified_count), verdict)
    console.print(table)
    for r in results:
        if not r.ok:
            _differences(console, r)


def _differences(console: Console, r) -> None:
    parts = [f"{kind} {getattr(r, kind)[:5]}" for kind in ("missing", "extra", "modified") if getattr(r, kind)]
    if r.error:
        parts.append(r.error)
    if not r.counts_match:
        parts.append(f"{r.source_rows} source rows != {r.target_rows} target rows + {r.rejects} rejects")
    console.print(f"{r.table}: " + "; ".join(parts), highlight=False, markup=False)


def _when(ts) -> str:
    return dt.datetime.fromtimestamp(ts).strftime("%Y-%m-%d %H:%M:%S") if ts else "-"


def status(console: Console, info: dict) -> None:
    """The last run from the journal: state, phases, tables with chunks, rejects."""
    run = info["run"]
    elapsed = (run["ended"] or dt.datetime.now().timestamp()) - run["started"]
    console.print(f"run {run['id']}: {run['status']}  started {_when(run['started'])}  "
                  f"elapsed {elapsed:.1f}s  {run['source']} -> {run['target']}", highlight=False, markup=False)
    if run.get("error"):
        console.print(f"error: {run['error']}", highlight=False, markup=False)
    for phase in info["phases"]:
        console.print(f"  phase {phase['name']}: {phase['status']}", highlight=False, markup=False)
    table = RichTable()
    for header in ("table", "chunks", "rows", "rejects", "seconds"):
        table.add_column(header, justify="left" if header == "table" else "right")
    for t in info["tables"]:
        table.add_row(t.table, f"{t.chunks_done}/{t.chunks_total}", f"{t.rows:,}", f"{t.rejects:,}",
                      f"{t.seconds:.2f}")
    console.print(table)
    for reject in info["rejects"][:20]:
        console.print(f"  reject {reject['table']} key={reject['key']} column={reject['column']}: "
                      f"{reject['reason']}", highlight=False, markup=False)
    if len(info["rejects"]) > 20:
        console.print(f"  ... {len(info['rejects']) - 20} more rejects", highlight=False)
