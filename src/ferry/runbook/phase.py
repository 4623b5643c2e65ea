"""The phase lifecycle and the context every phase works in.

Every phase has the same small lifecycle: ``validate`` (static checks, no
change anywhere), ``start`` (do the work, as journaled actions), ``complete``
(make it final), ``rollback`` (undo ``start`` where that is still possible;
say so when it is not). ``describe`` lists the actions for dry runs and the
human runbook, from the same objects ``start`` executes.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ferry.catalog.model import Catalog
from ferry.connectors.base import Connector
from ferry.plan.model import Plan
from ferry.state.events import Events
from ferry.state.journal import Journal
from ferry.transform.mapping import ResolvedTable


@dataclass
class RunContext:
    """What a run's phases share.

    Attributes:
        plan: the migration plan; options already merged with CLI flags.
        source, target: prototype connectors (source read-only).
        journal, run_id: where actions are recorded.
        resumed: True when this run continues an interrupted one.
        catalog, tables: filled by the preflight phase.
        notes: human sentences for the summary (skipped objects, renames, ...).
        results: per phase, whatever the phase wants reports to show.
    """

    plan: Plan
    source: Connector
    target: Connector
    journal: Journal
    run_id: str
    events: Events
    resumed: bool = False
    catalog: Catalog | None = None
    tables: list[ResolvedTable] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    results: dict = field(default_factory=dict)

    @property
    def jobs(self) -> int:
        import os

        return self.plan.options.jobs or os.cpu_count() or 1

    def on_target(self, what: str, fn):
        """Run ``fn(target)`` with retries; a transient error (the server killed
        the session) reopens the target connection before the next attempt."""
        from ferry.engines.retry import with_retries
        from ferry.errors import TransientError

        def attempt():
            try:
                return fn(self.target)
            except TransientError:
                old, self.target = self.target, self.target.clone()
                old.close()
                raise

        return with_retries(attempt, what=what, events=self.events)

    def note(self, text: str) -> None:
        """Add a sentence for the summary and the journal."""
        self.notes.append(text)
        self.journal.event(self.run_id, "Note", text=text)
        self.events.emit("Note", text=text)


class Phase:
    """Base class: a stage of the runbook. Subclasses set ``name``."""

    name = "phase"

    def validate(self, ctx: RunContext) -> list[str]:
        """Problems that forbid starting (empty list = fine). Changes nothing."""
        return []

    def describe(self, ctx: RunContext) -> list[str]:
        """One line per action this phase will take."""
        return []

    def start(self, ctx: RunContext) -> None:
        """Do the work."""

    def complete(self, ctx: RunContext) -> None:
        """Make the work final."""

    def rollback(self, ctx: RunContext) -> str:
        """Undo :meth:`start`; returns a sentence saying what was done or why not."""
        return f"{self.name}: nothing to undo"
