"""The Python façade: one function per CLI verb.

>>> from ferry import api
>>> plan = api.plan_from_urls("sqlite:///a.db", "sqlite:///b.db")   # doctest: +SKIP
>>> summary = api.run(plan)                                          # doctest: +SKIP
"""

from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from pydantic import ValidationError

from ferry.connectors import open_connector
from ferry.engines.validate import TableResult
from ferry.errors import InputError
from ferry.plan.model import Plan
from ferry.runbook.phase import RunContext
from ferry.runbook.phases.copy import CopyPhase
from ferry.runbook.phases.preflight import PreflightPhase
from ferry.runbook.phases.schema import SchemaPhase
from ferry.runbook.phases.validate import ValidatePhase
from ferry.runbook.runner import Runner
from ferry.secrets import parse_url
from ferry.state.events import Events
from ferry.state.journal import Journal

# events worth keeping in the journal (chunks and checks have their own tables)
JOURNALED = {"PhaseStarted", "PhaseDone", "PhaseFailed", "PhaseSkipped", "Retrying", "RollbackStarted"}

__all__ = ["load_plan", "plan_from_urls", "run", "verify", "status", "state_path", "RunSummary"]


@dataclass
class TableSummary:
    """Per table: rows copied, rejects, seconds spent in its chunks, chunks done/total."""

    table: str
    rows: int = 0
    rejects: int = 0
    seconds: float = 0.0
    chunks_done: int = 0
    chunks_total: int = 0

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0


@dataclass
class RunSummary:
    """What a run did: its id, status, tables, verification results and notes."""

    run_id: str
    status: str
    elapsed: float
    tables: list[TableSummary] = field(default_factory=list)
    verify: list[TableResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    resumed: bool = False
    error: str | None = None


def load_plan(path: str | Path) -> Plan:
    """:func:`ferry.plan.loader.load_plan`, imported on first use: a run from
    URLs never loads the YAML parser (~15 ms of every start)."""
    from ferry.plan.loader import load_plan as load

    return load(path)


def plan_from_urls(source: str, target: str, include=(), exclude=(), **options) -> Plan:
    """A plan copying every table (filtered by name patterns) with default rules.

    Raises:
        InputError: an option is out of range (e.g. ``chunk_rows=0``).
    """
    opts = {k: v for k, v in options.items() if v is not None}
    return validated(Plan, dict(source=source, target=target, include=list(include),
                                exclude=list(exclude), options=opts))


def validated(model, data: dict):
    """``model.model_validate(data)``, with errors as one-line :class:`InputError`."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
        raise InputError(f"invalid option: {problems}", "see `ferry run --help`") from None


def state_path(plan: Plan, plan_file: str | Path | None = None) -> Path:
    """Where the journal of ``plan`` lives (see :attr:`Plan.state`)."""
    if plan.state:
        return Path(plan.state)
    if plan_file:
        p = Path(plan_file)
        return p.with_name(p.stem + ".state.db")
    return Path(".ferry") / f"{plan.identity()}.state.db"


@contextmanager
def _connected(plan: Plan, *, target_read_only: bool = False):
    source = open_connector(plan.source, read_only=True)
    try:
        target = _open_target(plan.target, target_read_only)
    except BaseException:
        source.close()
        raise
    try:
        yield source, target
    finally:
        source.close()
        target.close()


def _open_target(url: str, read_only: bool):
    """The target connector; read-only ones (dry runs, verify) never create a
    missing SQLite file: they see an empty in-memory database instead."""
    parsed = parse_url(url)
    if read_only and parsed.engine == "sqlite" and not Path(parsed.database).exists():
        from ferry.connectors.sqlite import SQLiteConnector

        return SQLiteConnector(replace(parsed, database=":memory:"), read_only=False)
    return open_connector(parsed, read_only=read_only)


def _phases(plan: Plan) -> list:
    phases = [PreflightPhase(), SchemaPhase(), CopyPhase()]
    return phases + [ValidatePhase()] if plan.options.verify else phases


def run(plan: Plan, *, plan_file=None, events: Events | None = None, dry_run: bool = False):
    """Run (or resume) ``plan``.

    Returns:
        :class:`RunSummary`; with ``dry_run`` a list of ``(phase, [action lines])``.

    Raises:
        FerryError: bad input (exit 2), a failed phase, too many rejects,
            failed verification (exit 1). The journal records it either way.
    """
    events = events or Events()
    if dry_run:
        return _dry_run(plan, events)
    journal = Journal(state_path(plan, plan_file))
    try:
        journal.lock()
        with _connected(plan) as (source, target):
            return _run(plan, journal, source, target, events)
    finally:
        journal.close()


def _dry_run(plan: Plan, events: Events) -> list[tuple[str, list[str]]]:
    """Every phase's actions and problems; opens the target read-only, writes nothing."""
    journal = Journal(":memory:")
    try:
        with _connected(plan, target_read_only=True) as (source, target):
            ctx = RunContext(plan, source, target, journal, "dry-run", events)
            PreflightPhase().start(ctx)
            return Runner(_phases(plan)).dry_run(ctx)
    finally:
        journal.close()


def _run(plan, journal, source, target, events):
    resume_id = journal.resumable_run(plan.identity())
    run_id = resume_id or journal.start_run(plan.identity(), plan.name or "", source.url.redacted(),
                                            target.url.redacted())
    if resume_id:
        journal.reopen_run(run_id)
    ctx = RunContext(plan, source, target, journal, run_id, events, resumed=bool(resume_id))
    events.subscribe(lambda name, data: journal.event(run_id, name, **data) if name in JOURNALED else None)
    journal.event(run_id, "RunStarted", resumed=bool(resume_id))
    started = time.monotonic()
    try:
        Runner(_phases(plan)).run(ctx)
    except BaseException as exc:
        journal.end_run(run_id, "failed", str(exc))
        raise
    finally:
        if ctx.target is not target:  # reopened after a lost connection
            ctx.target.close()
    journal.end_run(run_id, "done")
    return _summary(ctx, journal, run_id, time.monotonic() - started)


def _summary(ctx: RunContext, journal: Journal, run_id: str, elapsed: float) -> RunSummary:
    summary = RunSummary(run_id, "done", elapsed, notes=list(ctx.notes), resumed=ctx.resumed,
                         verify=ctx.results.get("verify", []))
    summary.tables = table_summaries(journal, run_id)
    return summary


def table_summaries(journal: Journal, run_id: str) -> list[TableSummary]:
    """Per-table totals of a run's copy actions."""
    tables: dict[str, TableSummary] = {}
    for a in journal.actions(run_id, "copy"):
        t = tables.setdefault(a.table, TableSummary(a.table))
        t.chunks_total += 1
        if a.status == "done":
            t.chunks_done += 1
            t.rows += a.rows
            t.rejects += a.rejects
            t.seconds += a.seconds or 0.0
    return list(tables.values())


def verify(plan: Plan, *, plan_file=None, events: Events | None = None, checks=None,
           source_only: bool = False):
    """Run the verification checks of ``plan`` (no journal needed).

    Args:
        checks: check names (list or ``"counts,checksum"``); None for the
            plan's ``checks.default``.
        source_only: run not_null / unique / foreign_keys on the source only
            (a data-quality preflight).

    Returns:
        :class:`ferry.engines.checks.Verification`: the list of table results
        (counts and checksums) with ``checks`` (every check result) and
        ``status`` (``pass`` / ``fail`` / ``review``).

    Raises:
        InputError: an unknown check name, a bad plan or URL (exit 2).

    Rejects recorded by the plan's last run are accounted for when its journal
    exists; each check is recorded in that journal.
    """
    from ferry.engines.checks import Verification

    events = events or Events()
    path = state_path(plan, plan_file)
    journal = Journal(path if path.exists() else ":memory:")
    started = time.monotonic()
    try:
        with _connected(plan, target_read_only=True) as (source, target):
            last = journal.last_run() if path.exists() else None
            run_id = last["id"] if last else "verify"
            ctx = RunContext(plan, source, target, journal, run_id, events)
            phase = ValidatePhase(raise_on_failure=False, checks=checks, source_only=source_only)
            names = phase.names(ctx)
            PreflightPhase().start(ctx)
            phase.start(ctx)
            return Verification(ctx.results["verify"], ctx.results["checks"], names, source_only,
                                time.monotonic() - started)
    finally:
        journal.close()


def status(plan: Plan, plan_file=None) -> dict | None:
    """The last run of ``plan`` from its journal: run, phases, tables, rejects; None if never run."""
    path = state_path(plan, plan_file)
    if not path.exists():
        return None
    journal = Journal(path)
    try:
        last = journal.last_run()
        if last is None:
            return None
        run_id = last["id"]
        return {"run": last, "phases": journal.phases(run_id), "tables": table_summaries(journal, run_id),
                "rejects": journal.rejects(run_id), "checks": journal.checks(run_id)}
    finally:
        journal.close()


def check_urls(*urls: str) -> None:
    """Parse URLs early so that a bad scheme is reported before anything opens."""
    for url in urls:
        parse_url(url)
