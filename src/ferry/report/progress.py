"""Live progress: a bar per table (rows, rows/s, ETA) on a terminal, plain
lines otherwise."""

from __future__ import annotations

import time
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, Progress, ProgressColumn, TextColumn, TimeRemainingColumn
from rich.text import Text

from ferry.state.events import Events


class _Lines:
    """Plain log lines: phases, each finished chunk, retries, notes."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def __call__(self, name: str, data: dict) -> None:
        text = None
        if name in ("PhaseStarted", "PhaseDone", "PhaseFailed", "PhaseSkipped"):
            text = f"{name.removeprefix('Phase').lower()} phase {data['phase']}" + (
                f": {data['error']}" if "error" in data else "")
        elif name == "ChunkCopied":
            rate = data["rows"] / data["seconds"] if data["seconds"] else 0
            text = f"{data['action']}: {data['rows']} rows, {data['rejects']} rejects, {rate:,.0f} rows/s"
        elif name == "Retrying":
            text = f"retrying {data['action']} (attempt {data['attempt']}): {data['error']}"
        elif name == "TableVerified":
            r = data["result"]
            text = f"verified {r.table}: {'ok' if r.ok else 'DIFFERS'} ({r.source_rows} source rows)"
        if text:
            self.console.print(f"{time.strftime('%H:%M:%S')} {text}", highlight=False, markup=False)


class _Rate(ProgressColumn):
    """rows/s of a task."""

    def render(self, task) -> Text:
        return Text(f"{task.speed or 0:,.0f} rows/s")


class _Bars:
    """A rich progress bar per table, fed by ``TablePlanned`` and ``RowsCopied``."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, int] = {}

    def __call__(self, name: str, data: dict) -> None:
        if name == "TablePlanned":
            self.tasks[data["table"]] = self.progress.add_task(data["table"], total=data["rows"] or None)
        elif name == "RowsCopied" and data["table"] in self.tasks:
            self.progress.advance(self.tasks[data["table"]], data["rows"])
        elif name == "Retrying":
            self.progress.console.print(f"retrying {data['action']}: {data['error']}", markup=False)
        elif name == "TableVerified":
            r = data["result"]
            self.progress.console.print(f"verified {r.table}: {'ok' if r.ok else 'DIFFERS'}", markup=False)


@contextmanager
def progress_events(console: Console):
    """Events wired to a display on ``console``; bars only on a terminal."""
    events = Events()
    if not console.is_terminal:
        events.subscribe(_Lines(console))
        yield events
        return
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
               _Rate(), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=False) as progress:
        events.subscribe(_Bars(progress))
        yield events
