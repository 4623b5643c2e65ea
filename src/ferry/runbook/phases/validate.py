"""Validate: row counts and checksums of every table, recorded as checks."""

from __future__ import annotations

from ferry.connectors.base import KeyRange
from ferry.engines.chunks import decode_range, decode_value, plan_chunks
from ferry.engines.validate import TableResult, normalize_key, verify_tables
from ferry.errors import ChecksFailed
from ferry.runbook.phase import Phase, RunContext


class ValidatePhase(Phase):
    """Compare every table, source (as transformed) against target.

    Args:
        raise_on_failure: raise :class:`ChecksFailed` when a table differs.
    """

    name = "validate"

    def __init__(self, raise_on_failure: bool = True) -> None:
        self.raise_on_failure = raise_on_failure

    def describe(self, ctx: RunContext) -> list[str]:
        return [f"verify {t.name}: row counts and checksums per chunk" for t in ctx.tables]

    def start(self, ctx: RunContext) -> None:
        work = [(t, self._ranges(ctx, t), self._rejected(ctx, t)) for t in ctx.tables]
        results = verify_tables(ctx.source, ctx.target, work, ctx.jobs,
                                on_table=lambda r: ctx.events.emit("TableVerified", result=r))
        ctx.results["verify"] = results
        for r in results:
            self._journal(ctx, r)
        failed = [r.table for r in results if not r.ok]
        if failed and self.raise_on_failure:
            raise ChecksFailed(f"verification failed for {len(failed)} table(s): {', '.join(failed[:10])}",
                               "see the report for the differing keys")

    def _ranges(self, ctx: RunContext, table) -> list[KeyRange]:
        actions = [a for a in ctx.journal.actions(ctx.run_id, "copy") if a.table == table.name]
        if actions:
            return [decode_range(a.spec) for a in actions]
        return plan_chunks(ctx.source, table, ctx.plan.options.chunk_rows)

    def _rejected(self, ctx: RunContext, table) -> set[tuple]:
        keys = set()
        for reject in ctx.journal.rejects(ctx.run_id, table.name):
            if reject["key"] is not None:
                keys.add(normalize_key(tuple(decode_value(v) for v in reject["key"])))
        return keys

    def _journal(self, ctx: RunContext, r: TableResult) -> None:
        status = "pass" if r.counts_match else "fail"
        ctx.journal.add_check(ctx.run_id, r.table, "counts", status,
                              f"{r.source_rows} source rows", f"{r.target_rows} target + {r.rejects} rejects")
        differ = r.missing_count + r.extra_count + r.modified_count
        detail = (f"missing {r.missing_count} {r.missing[:5]}, extra {r.extra_count} {r.extra[:5]}, "
                  f"modified {r.modified_count} {r.modified[:5]}" if differ else (r.error or ""))
        ctx.journal.add_check(ctx.run_id, r.table, "checksum", "pass" if r.ok else "fail",
                              "0 differing rows", f"{differ} differing rows", detail)
