"""Validate: the selected checks over every table, recorded in the journal.

By default (and in ``ferry run``) the checks are the plan's ``checks.default``
(counts and checksum); ``ferry verify --checks`` chooses others. Results go to
``ctx.results["verify"]`` (table verdicts) and ``ctx.results["checks"]``
(every :class:`~ferry.engines.checks.CheckResult`), and one journal row per
check.
"""

from __future__ import annotations

from dataclasses import replace

from ferry.connectors.base import KeyRange
from ferry.engines.checks import QUALITY_CHECKS, CheckResult, overall_status, parse_names
from ferry.engines.checks.keymap import keymap_checks
from ferry.engines.checks.sqlcheck import run_sql_checks
from ferry.engines.checks.suite import run_per_table, table_checks
from ferry.engines.chunks import decode_range, decode_value, is_integer_key, plan_chunks
from ferry.engines.validate import BisectOptions, RejectedRows, normalize_key, verify_tables
from ferry.errors import ChecksFailed
from ferry.runbook.phase import Phase, RunContext


class ValidatePhase(Phase):
    """Compare every table, source (as transformed) against target.

    Args:
        raise_on_failure: raise :class:`ChecksFailed` when a check fails.
        checks: check names (see :data:`ferry.engines.checks.CHECK_NAMES`);
            None for the plan's ``checks.default``.
        source_only: run only not_null / unique / foreign_keys (all three unless
            ``checks`` names some of them), on the source.
    """

    name = "validate"

    def __init__(self, raise_on_failure: bool = True, checks: list[str] | None = None,
                 source_only: bool = False) -> None:
        self.raise_on_failure = raise_on_failure
        self.checks = checks
        self.source_only = source_only

    def names(self, ctx: RunContext) -> list[str]:
        """The checks this phase runs (validated names, in canonical order)."""
        if self.source_only:
            names = parse_names(self.checks, list(QUALITY_CHECKS))
            return [n for n in names if n in QUALITY_CHECKS] or list(QUALITY_CHECKS)
        return parse_names(self.checks, ctx.plan.checks.default)

    def describe(self, ctx: RunContext) -> list[str]:
        names = ", ".join(self.names(ctx))
        return [f"verify {t.name}: {names}" for t in ctx.tables]

    def start(self, ctx: RunContext) -> None:
        names = self.names(ctx)
        rejected = {t.name: self._rejected(ctx, t) for t in ctx.tables}
        # what the target's columns really are (a MariaDB geometry copied as WKB is a LONGBLOB there)
        tables = ctx.tables if self.source_only else with_target_natives(ctx.target, ctx.tables)
        results, checks = [], []
        if not self.source_only and ("counts" in names or "checksum" in names):
            results = self._verify(ctx, tables, rejected)
            checks = [c for r in results for c in table_checks(r, names)]
        if not self.source_only and "counts" in names:
            checks += keymap_checks(ctx.target, ctx.tables, results)
        cfg = ctx.plan.checks
        checks += run_per_table(ctx.source, ctx.target, tables, names, cfg, rejected,
                                self.source_only, ctx.jobs)
        if "sql" in names:
            checks += run_sql_checks(ctx.source, ctx.target, cfg.sql)
        ctx.results["verify"], ctx.results["checks"] = results, checks
        for c in checks:
            ctx.journal.add_check(ctx.run_id, c.table, c.name, c.status, c.criteria, c.measured, c.detail)
        self._raise(checks)

    def _verify(self, ctx: RunContext, tables: list, rejected: dict) -> list:
        work = [(t, self._ranges(ctx, t), rejected[t.name]) for t in tables]
        cfg = ctx.plan.checks
        options = BisectOptions(cfg.bisect_factor, cfg.bisect_threshold, segment_rows=cfg.segment_rows)
        return verify_tables(ctx.source, ctx.target, work, ctx.jobs, options=options,
                             on_table=lambda r: ctx.events.emit("TableVerified", result=r))

    def _raise(self, checks: list[CheckResult]) -> None:
        failed = sorted({c.table for c in checks if c.status == "fail"})
        if failed and self.raise_on_failure:
            raise ChecksFailed(f"verification failed for {len(failed)} table(s): {', '.join(failed[:10])}",
                               "see the report for the differing keys")

    @staticmethod
    def status(ctx: RunContext) -> str:
        """``pass``, ``fail`` or ``review`` over the checks of the last start."""
        return overall_status(ctx.results.get("checks", []))

    def _ranges(self, ctx: RunContext, table) -> list[KeyRange]:
        """Checksum segments of about ``checks.segment_rows`` rows: split by
        key value for a single integer key (no scan), else the copy's chunks
        when the journal has them (other keys are split by sampling, a scan
        of the key)."""
        rows = ctx.plan.checks.segment_rows
        if is_integer_key(table):
            return plan_chunks(ctx.source, table, rows)
        actions = [a for a in ctx.journal.actions(ctx.run_id, "copy") if a.table == table.name]
        if actions:
            return [decode_range(a.spec) for a in actions]
        return plan_chunks(ctx.source, table, rows)

    def _rejected(self, ctx: RunContext, table) -> RejectedRows:
        """The keys of ``table``'s rejected rows (the journal holds one reject per row)."""
        rejects = ctx.journal.rejects(ctx.run_id, table.name)
        keys = [normalize_key(tuple(decode_value(v) for v in r["key"])) for r in rejects if r["key"] is not None]
        hashes = [r["row_hash"] for r in rejects]
        return RejectedRows(keys, rows=len(rejects), hashes=None if None in hashes else hashes)


def with_target_natives(target, tables: list) -> list:
    """``tables`` with each ``hash_target`` column given the native type,
    collation and nullability introspected from the target (the neutral type
    stays the planned one: the source's values are hashed as that type), for a
    dialect that hashes by native type (:attr:`Dialect.hash_by_native`): a
    plain MariaDB ``int`` is hashed as its digits, a ``YEAR`` or ``ZEROFILL``
    column through ``+ 0``, whoever created the table. Other tables, and
    targets hashed through a view, are returned as they are."""
    if not target.dialect.hash_by_native or not tables:
        return tables
    found = target.introspect([t.hash_target.table.name for t in tables])
    out = []
    for t in tables:
        introspected = found.find(t.hash_target.table.qualified)
        if introspected is None:
            out.append(t)
            continue
        actual = {c.name: c for c in introspected.columns}
        columns = [_as_found(c, actual[c.name]) if c.name in actual else c for c in t.hash_target.table.columns]
        table = replace(t.hash_target.table, columns=columns)
        out.append(replace(t, hash_target=replace(t.hash_target, table=table)))
    return out


def _as_found(planned, found):
    """The planned column with the native type, collation and (when either
    allows NULL) nullability of the column ``found`` on the target."""
    return replace(planned, type=planned.type.with_(native=found.type.native), collation=found.collation,
                   nullable=planned.nullable or found.nullable)
