"""The Runner: walks the phases of a run, journaling each transition.

A phase the journal marks ``done`` is skipped on resume (preflight always runs:
it only reads). A failure inside ``start`` rolls that phase back; when the
rollback fails too, both errors are reported.
"""

from __future__ import annotations

from ferry.errors import FerryError
from ferry.runbook.phase import Phase, RunContext

ALWAYS_RUN = {"preflight", "validate"}


class Runner:
    """Runs ``phases`` in order in ``ctx``."""

    def __init__(self, phases: list[Phase]) -> None:
        self.phases = phases

    def run(self, ctx: RunContext) -> None:
        """Run every phase; raises the first phase error after journaling it."""
        done = {p["name"] for p in ctx.journal.phases(ctx.run_id) if p["status"] == "done"}
        for phase in self.phases:
            if phase.name in done and phase.name not in ALWAYS_RUN:
                ctx.events.emit("PhaseSkipped", phase=phase.name)
                continue
            self._run_phase(ctx, phase)

    def dry_run(self, ctx: RunContext) -> list[tuple[str, list[str]]]:
        """Each phase with the actions it would take and its validation problems."""
        out = []
        for phase in self.phases:
            lines = phase.describe(ctx)
            lines += [f"PROBLEM: {p}" for p in phase.validate(ctx)]
            out.append((phase.name, lines))
        return out

    def _run_phase(self, ctx: RunContext, phase: Phase) -> None:
        ctx.journal.phase(ctx.run_id, phase.name, "running")
        ctx.events.emit("PhaseStarted", phase=phase.name)
        try:
            phase.start(ctx)
            phase.complete(ctx)
        except BaseException as exc:
            message = exc.message if isinstance(exc, FerryError) else f"{type(exc).__name__}: {exc}"
            ctx.journal.phase(ctx.run_id, phase.name, "failed", message)
            ctx.events.emit("PhaseFailed", phase=phase.name, error=message)
            if phase.name != "copy" and isinstance(exc, Exception):
                self._rollback(ctx, phase, exc)
            raise
        ctx.journal.phase(ctx.run_id, phase.name, "done")
        ctx.events.emit("PhaseDone", phase=phase.name)

    def _rollback(self, ctx: RunContext, phase: Phase, cause: Exception) -> None:
        ctx.events.emit("RollbackStarted", phase=phase.name)
        try:
            said = phase.rollback(ctx)
            ctx.journal.event(ctx.run_id, "RollbackDone", phase=phase.name, text=said)
        except Exception as exc:  # report both errors
            text = f"rollback of {phase.name} failed too: {exc}"
            ctx.journal.event(ctx.run_id, "RollbackFailed", phase=phase.name, text=text)
            if isinstance(cause, FerryError):
                cause.hint = (cause.hint + "; " if cause.hint else "") + text
