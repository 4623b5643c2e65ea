"""Schema: create the target tables (keys and indexes come after the copy)."""

from __future__ import annotations

from ferry.catalog.ddl import create_table_sql, index_sql
from ferry.catalog.names import shorten_identifier
from ferry.errors import InputError
from ferry.runbook.phase import Phase, RunContext
from ferry.transform.defaults import translate_default
from ferry.transform.keymap import view_sql


def _created(table) -> list:
    """The target tables a table mapping creates: its own and its key map."""
    return [table.target] + ([table.remap.keymap] if table.remap else [])


class SchemaPhase(Phase):
    """Create every target table; honour ``if_exists`` for tables already there."""

    name = "schema"

    def validate(self, ctx: RunContext) -> list[str]:
        if ctx.plan.options.if_exists != "fail":
            return []
        done = self._done(ctx)
        existing = [made.qualified for t in ctx.tables if t.name not in done and not t.shares_target
                    for made in _created(t) if ctx.target.table_exists(made)]
        if existing:
            return [f"target table(s) already exist: {', '.join(existing[:10])}"]
        return []

    def _done(self, ctx: RunContext) -> set[str]:
        """Tables whose creation this run already journaled."""
        return {a.table for a in ctx.journal.actions(ctx.run_id, self.name) if a.status == "done"}

    def describe(self, ctx: RunContext) -> list[str]:
        lines = []
        for t in ctx.tables:
            if not t.shares_target:
                lines.append(f"create table {t.target.qualified} ({len(t.target.columns)} columns)")
            if t.remap:
                lines.append(f"create table {t.remap.keymap.qualified} (old -> new keys of {t.target.qualified})")
            if t.keys_rewritten:
                lines.append(f"create view {t.hash_target.table.qualified} ({t.target.qualified} with old keys, "
                             "for verification)")
        return lines

    def start(self, ctx: RunContext) -> None:
        problems = self.validate(ctx)
        if problems:
            raise InputError(problems[0], "use --if-exists drop or --if-exists truncate, or another target")
        done = self._done(ctx)
        if ctx.plan.options.if_exists == "truncate":
            self._truncate(ctx, [t for t in ctx.tables if t.name not in done and not t.shares_target])
        for table in ctx.tables:
            if table.name in done or table.shares_target:
                continue
            action = f"schema:{table.name}"
            ctx.journal.plan_actions(ctx.run_id, self.name, [(action, table.name, {})])
            self._create(ctx, table.target)
            if table.remap:
                self._create(ctx, table.remap.keymap, keymap=True)
            ctx.target.commit()
            ctx.journal.action_done(ctx.run_id, action, 0, 0, 0.0)
        self._views(ctx)

    def _views(self, ctx: RunContext) -> None:
        """(Re)create the old-key views verification reads for remapped keys."""
        tgt = ctx.target
        for table in ctx.tables:
            if table.keys_rewritten:
                tgt.execute(f"DROP VIEW IF EXISTS {tgt.dialect.qualify(table.hash_target.table)}")
                tgt.execute(view_sql(table, tgt.dialect))
        tgt.commit()

    @staticmethod
    def _truncate(ctx: RunContext, tables: list) -> None:
        """Empty the existing target tables, children before parents (the plan
        lists parents first), so that their foreign keys never refuse it."""
        tgt = ctx.target
        for table in reversed(tables):
            for made in reversed(_created(table)):
                if tgt.table_exists(made):
                    tgt.truncate(made)

    def _create(self, ctx: RunContext, target, keymap: bool = False) -> None:
        """Create ``target`` (a table of the plan, or a ``keymap``) under the
        ``if_exists`` policy; a key map gets its keys at once."""
        tgt, policy = ctx.target, ctx.plan.options.if_exists
        if tgt.table_exists(target):
            if policy == "truncate":   # emptied by _truncate
                return
            tgt.execute(f"DROP TABLE {tgt.dialect.qualify(target)}"
                        + (" CASCADE" if tgt.dialect.name == "postgresql" else ""))
        if target.schema:
            tgt.execute(f"CREATE SCHEMA IF NOT EXISTS {tgt.dialect.quote(target.schema)}")
        with_pk = bool(target.primary_key) and (keymap or not tgt.dialect.primary_key_after_load)
        tgt.execute(create_table_sql(target, tgt.dialect, with_primary_key=with_pk,
                                     defaults=self._defaults(ctx, target), natives=self._natives(ctx, target)))
        if keymap:
            name = shorten_identifier(f"{target.name}_new_key", tgt.dialect.max_identifier_length)
            tgt.execute(index_sql(target, target.uniques[0], tgt.dialect, name))

    @staticmethod
    def _natives(ctx: RunContext, target) -> dict[str, str]:
        """Column -> the source's own type spelling, for columns whose type was
        kept between two databases of one engine and whose type the target
        knows (PostgreSQL: ``json`` stays ``json``, ``inet`` stays ``inet``;
        an enum whose type is not there becomes text with a CHECK)."""
        if ctx.source.dialect.name != ctx.target.dialect.name:
            return {}
        wanted = {c.name: c.type.native for c in target.columns if c.type.native}
        known = ctx.target.known_types(set(wanted.values()))
        return {name: native for name, native in wanted.items() if native in known}

    def _defaults(self, ctx: RunContext, target) -> dict[str, str]:
        out = {}
        for col in target.columns:
            if col.default is None or col.identity:
                continue
            text = translate_default(col.default, ctx.source.dialect.name, ctx.target.dialect.name, col.type)
            if text is None:
                ctx.note(f"default of {target.qualified}.{col.name} not migrated: {col.default}")
            else:
                out[col.name] = text
        return out

    def rollback(self, ctx: RunContext) -> str:
        """Drop the tables this run created (never tables that were there before)."""
        ctx.target.rollback()
        done = self._done(ctx)
        created = [t for t in ctx.tables if t.name in done]
        for table in created:
            if table.keys_rewritten:
                ctx.target.execute(f"DROP VIEW IF EXISTS {ctx.target.dialect.qualify(table.hash_target.table)}")
        for table in created:
            for made in _created(table):
                ctx.target.execute(f"DROP TABLE IF EXISTS {ctx.target.dialect.qualify(made)}")
        ctx.target.commit()
        return f"schema: dropped {len(created)} table(s) created by this run"
