"""Preflight: introspect the source, resolve the plan, check the target."""

from __future__ import annotations

from ferry.errors import InputError
from ferry.runbook.phase import Phase, RunContext
from ferry.transform.mapping import introspection_filter, resolve
from ferry.transform.probe import probe_reads


class PreflightPhase(Phase):
    """Read the source schema and turn the plan into per-table copy specifications."""

    name = "preflight"

    def start(self, ctx: RunContext) -> None:
        plan = ctx.plan
        ctx.catalog = ctx.source.introspect(*introspection_filter(plan))
        ctx.tables = resolve(plan, ctx.catalog, ctx.source.dialect, ctx.target.dialect)
        if not ctx.tables:
            raise InputError("no table to copy: the source has none or the patterns exclude all",
                             "check --tables / --exclude and the source database")
        for obj in ctx.catalog.skipped:
            ctx.note(f"not migrated: {obj.kind} {obj.name} ({obj.reason})")
        for table in ctx.tables:
            for kind, old, new in table.renamed:
                ctx.note(f"renamed {kind} {old!r} to {new!r} (longer than the target allows)")
            for text in table.notes:
                ctx.note(text)
            if not table.key:
                ctx.note(f"table {table.name} has no primary key: copied as one stream, "
                         "restarted whole on resume")
        probe_reads(ctx.source, ctx.tables)
        self._note_transforms(ctx)
        if not ctx.source.dialect.shared_snapshot:
            ctx.note(f"{ctx.source.dialect.name} cannot share one snapshot between workers: "
                     "the copy is consistent per chunk only")

    @staticmethod
    def _note_transforms(ctx: RunContext) -> None:
        """Say which tables transforms change (the copy phase says which path
        copies them)."""
        for table in ctx.tables:
            why = table.transforms + ([f"filter: {table.filter}"] if table.filter else []) + _key_notes(table)
            if why:
                ctx.note(f"transforms on {table.name}: {'; '.join(why)}")

    def describe(self, ctx: RunContext) -> list[str]:
        return [f"introspect {ctx.source.url.redacted()} and resolve {len(ctx.tables)} table mapping(s)"]


def _key_notes(table) -> list[str]:
    """``id: new keys (uuid7), old -> new in users_keymap`` and the rewritten references."""
    notes = [f"{table.remap.column}: new keys ({table.remap.kind}), old -> new in "
             f"{table.remap.keymap.qualified}"] if table.remap else []
    return notes + [f"{lk.column}: rewritten through {lk.keymap.qualified}" for lk in table.rewrites]
