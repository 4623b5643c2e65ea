"""Schema: create the target tables (keys and indexes come after the copy)."""

from __future__ import annotations

from ferry.catalog.ddl import create_table_sql
from ferry.errors import InputError
from ferry.runbook.phase import Phase, RunContext
from ferry.transform.defaults import translate_default


class SchemaPhase(Phase):
    """Create every target table; honour ``if_exists`` for tables already there."""

    name = "schema"

    def validate(self, ctx: RunContext) -> list[str]:
        if ctx.plan.options.if_exists != "fail":
            return []
        done = self._done(ctx)
        existing = [t.target.qualified for t in ctx.tables
                    if t.name not in done and ctx.target.table_exists(t.target)]
        if existing:
            return [f"target table(s) already exist: {', '.join(existing[:10])}"]
        return []

    def _done(self, ctx: RunContext) -> set[str]:
        """Tables whose creation this run already journaled."""
        return {a.table for a in ctx.journal.actions(ctx.run_id, self.name) if a.status == "done"}

    def describe(self, ctx: RunContext) -> list[str]:
        return [f"create table {t.target.qualified} ({len(t.target.columns)} columns)" for t in ctx.tables]

    def start(self, ctx: RunContext) -> None:
        problems = self.validate(ctx)
        if problems:
            raise InputError(problems[0], "use --if-exists drop or --if-exists truncate, or another target")
        done = self._done(ctx)
        for table in ctx.tables:
            if table.name in done:
                continue
            action = f"schema:{table.name}"
            ctx.journal.plan_actions(ctx.run_id, self.name, [(action, table.name, {})])
            self._create(ctx, table)
            ctx.target.commit()
            ctx.journal.action_done(ctx.run_id, action, 0, 0, 0.0)

    def _create(self, ctx: RunContext, table) -> None:
        tgt, policy = ctx.target, ctx.plan.options.if_exists
        if tgt.table_exists(table.target):
            if policy == "truncate":
                tgt.truncate(table.target)
                return
            tgt.execute(f"DROP TABLE {tgt.dialect.qualify(table.target)}"
                        + (" CASCADE" if tgt.dialect.name == "postgresql" else ""))
        if table.target.schema:
            tgt.execute(f"CREATE SCHEMA IF NOT EXISTS {tgt.dialect.quote(table.target.schema)}")
        with_pk = bool(table.target.primary_key) and not tgt.dialect.primary_key_after_load
        tgt.execute(create_table_sql(table.target, tgt.dialect, with_primary_key=with_pk,
                                     defaults=self._defaults(ctx, table)))

    def _defaults(self, ctx: RunContext, table) -> dict[str, str]:
        out = {}
        for col in table.target.columns:
            if col.default is None or col.identity:
                continue
            text = translate_default(col.default, ctx.source.dialect.name, ctx.target.dialect.name, col.type.kind)
            if text is None:
                ctx.note(f"default of {table.target.qualified}.{col.name} not migrated: {col.default}")
            else:
                out[col.name] = text
        return out

    def rollback(self, ctx: RunContext) -> str:
        """Drop the tables this run created (never tables that were there before)."""
        ctx.target.rollback()
        done = self._done(ctx)
        created = [t for t in ctx.tables if t.name in done]
        for table in created:
            ctx.target.execute(f"DROP TABLE IF EXISTS {ctx.target.dialect.qualify(table.target)}")
        ctx.target.commit()
        return f"schema: dropped {len(created)} table(s) created by this run"
