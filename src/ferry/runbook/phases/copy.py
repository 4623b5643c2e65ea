"""Copy (backfill): every table in chunks; then keys, indexes, foreign keys, sequences."""

from __future__ import annotations

import time

from ferry.catalog.ddl import foreign_key_sql, index_sql, primary_key_sql
from ferry.catalog.names import index_names, shorten_identifier
from ferry.engines.chunks import encode_range, plan_chunks
from ferry.engines.copy import CopyEngine, CopySettings
from ferry.errors import TooManyRejects
from ferry.runbook.phase import Phase, RunContext

PHASE = "copy"


def _plain(ctx: RunContext, table) -> tuple:
    """The projection of ``table`` when no column is transformed."""
    quote = ctx.source.dialect.quote
    return tuple((quote(c.source), e[1]) for c, e in zip(table.casts, table.read.exprs))


def _build(target, sql: str) -> None:
    """Run one key, index or foreign key statement in its own transaction,
    after the dialect's ``index_build_sql`` (PostgreSQL: more sort memory)."""
    if target.dialect.index_build_sql:
        target.execute(target.dialect.index_build_sql)
    target.execute(sql)
    target.commit()


def chunk_id(table: str, index: int) -> str:
    """The stable action id of a chunk: ``copy:<table>:chunk:000042``."""
    return f"copy:{table}:chunk:{index:06d}"


def copy_waves(tables: list, pending: list[tuple]) -> list[list[tuple]]:
    """``pending`` ``(table, action)`` split into waves run one after the other:
    a table whose columns are rewritten through a parent's key map (rewrites)
    waits for the wave that fills that key map; the other tables go first."""
    by_name = {t.name: t for t in tables}
    levels: dict[str, int] = {}

    def level(t) -> int:
        if t.name not in levels:
            levels[t.name] = 1 + max((level(by_name[lk.parent]) for lk in t.rewrites), default=-1)
        return levels[t.name]

    waves: dict[int, list[tuple]] = {}
    for item in pending:
        waves.setdefault(level(item[0]), []).append(item)
    return [waves[k] for k in sorted(waves)]


class CopyPhase(Phase):
    """Plan chunks (once per run, kept in the journal), copy the pending ones in
    parallel, then build keys, indexes and foreign keys and reset sequences."""

    name = PHASE

    def describe(self, ctx: RunContext) -> list[str]:
        return [f"copy {t.name} -> {t.target.qualified} (~{t.source.row_estimate} rows, "
                f"key {', '.join(t.key) or 'none'})" for t in ctx.tables]

    def start(self, ctx: RunContext) -> None:
        self._note_kept(ctx)
        self._plan_actions(ctx)
        self._count_nulls(ctx)
        self._count_transforms(ctx)
        by_name = {t.name: t for t in ctx.tables}
        pending = [(by_name[a.table], a) for a in ctx.journal.actions(ctx.run_id, PHASE)
                   if a.status != "done" and a.table in by_name]
        pending.sort(key=lambda item: -item[0].source.row_estimate)
        settings = CopySettings(jobs=ctx.jobs, batch_rows=ctx.plan.options.batch_rows,
                                native_copy=ctx.plan.options.native_copy)
        engine = CopyEngine(ctx.source, ctx.target, ctx.journal, ctx.run_id, ctx.events, settings)
        self._note_paths(ctx, engine, {t.name: t for t, _ in pending}.values())
        snapshot = ctx.source.export_snapshot()
        if snapshot:
            ctx.note("all workers read one consistent snapshot of the source")
        for t in ctx.tables:
            ctx.events.emit("TablePlanned", table=t.name, rows=t.source.row_estimate)
        keys_now = (lambda table, tgt: self._keys_now(ctx, table, tgt)) if ctx.plan.options.create_indexes else None
        for wave in copy_waves(ctx.tables, pending):
            engine.run(wave, on_table_done=keys_now)
        self._check_rejects(ctx)

    def _keys_now(self, ctx: RunContext, table, tgt) -> None:
        """Build ``table``'s primary key and indexes as soon as its last chunk
        is copied, on that worker's target connection ``tgt``, while the other
        workers copy other tables. Any failure leaves the steps to
        :meth:`complete`, which retries them and reports the error."""
        if table.shares_target:   # merged: the mapping that created the table builds its keys
            return
        try:
            self._run_steps(ctx, table.name, self._key_steps(ctx, table),
                            run=lambda action, fn: fn(tgt))
        except Exception:  # noqa: BLE001 - complete() runs the step again and reports
            try:
                tgt.rollback()
            except Exception:  # noqa: BLE001
                pass

    @staticmethod
    def _note_paths(ctx: RunContext, engine: CopyEngine, tables) -> None:
        """PostgreSQL -> PostgreSQL: journal each table's copy path (``CopyPath``
        event) and say which tables leave the native COPY path, and which
        transformed tables stay on it."""
        if not (ctx.source.dialect.name == ctx.target.dialect.name == "postgresql"):
            return
        for table in tables:
            path = engine.path(table)
            ctx.journal.event(ctx.run_id, "CopyPath", table=table.name, path=path.format or "rows",
                              reason=path.reason)
            if not path.native:
                ctx.note(f"{table.name}: row path instead of native COPY ({path.reason})")
            elif table.transforms or table.filter or table.read.exprs != _plain(ctx, table):
                ctx.note(f"{table.name}: transforms run in the source's COPY (native COPY, {path.format})")

    def _plan_actions(self, ctx: RunContext) -> None:
        """Journal each table's chunks once per run; a resumed run keeps them."""
        actions = ctx.journal.actions(ctx.run_id, PHASE)
        known = {a.table for a in actions}
        unfinished = {a.table for a in actions if a.status != "done"}
        for table in ctx.tables:
            if table.name in known:
                if not table.key and table.name in unfinished:
                    ctx.note(f"table {table.name} has no key: its copy restarts from the beginning")
                continue
            ranges = plan_chunks(ctx.source, table, ctx.plan.options.chunk_rows)
            ctx.journal.plan_actions(ctx.run_id, PHASE, [
                (chunk_id(table.name, i), table.name, encode_range(r)) for i, r in enumerate(ranges)])

    def _count_nulls(self, ctx: RunContext) -> None:
        counts = ctx.results.setdefault("nulls", {})
        for table in ctx.tables:
            for column, note, predicate in table.null_counters:
                n = ctx.source.count(table.source, where=predicate)
                counts[f"{table.name}.{column}"] = n
                if n:
                    ctx.note(f"{table.name}.{column}: {n} value(s) {note}")

    def _count_transforms(self, ctx: RunContext) -> None:
        """Rows the plan's filter leaves out and values clamped, counted once per
        run on the source (``results["filtered"]``, ``results["clamped"]``),
        noted for the summary and journaled as ``TransformCounted`` events."""
        filtered = ctx.results.setdefault("filtered", {})
        clamped = ctx.results.setdefault("clamped", {})
        for table in ctx.tables:
            if table.source_where:
                out = f"(CASE WHEN ({table.source_where}) THEN 1 ELSE 0 END) = 0"
                n = filtered[table.name] = ctx.source.count(table.source, where=out)
                ctx.journal.event(ctx.run_id, "TransformCounted", table=table.name, transform="filter", rows=n)
                ctx.note(f"{table.name}: {n} row(s) left out by the plan's filter ({table.filter}), "
                         "not copied on purpose")
            for column, note, predicate in table.value_counters:
                n = clamped[f"{table.name}.{column}"] = ctx.source.count(table.source, where=predicate)
                ctx.journal.event(ctx.run_id, "TransformCounted", table=table.name, column=column,
                                  transform="clamp", values=n)
                if n:
                    ctx.note(f"{table.name}.{column}: {n} value(s) {note}")

    def _check_rejects(self, ctx: RunContext) -> None:
        total = sum(a.rejects for a in ctx.journal.actions(ctx.run_id, PHASE))
        limit = ctx.plan.options.max_rejects
        if total > limit:
            raise TooManyRejects(f"{total} row(s) rejected, more than --max-rejects {limit}",
                                 "see `ferry status` for the rejects; fix the data or raise --max-rejects")

    def complete(self, ctx: RunContext) -> None:
        if ctx.plan.options.create_indexes:
            for table in ctx.tables:  # every key first: foreign keys need their parent's
                if not table.shares_target:
                    self._run_steps(ctx, table.name, self._key_steps(ctx, table))
            for table in ctx.tables:
                self._run_steps(ctx, table.name, self._foreign_key_steps(ctx, table))
        for table in ctx.tables:
            for col in table.target.columns:
                if col.identity:
                    ctx.on_target(f"identity:{table.name}.{col.name}", lambda t, table=table, col=col: (
                        t.reset_identity(table.target, col.name), t.commit()))

    def _key_steps(self, ctx: RunContext, table) -> list[tuple[str, str]]:
        """Primary key and index statements; those a kept table already has are left out."""
        d, kept = ctx.target.dialect, ctx.results.get("kept", {}).get(table.name)
        steps = []
        if table.target.primary_key and d.primary_key_after_load and not (kept and kept.primary_key):
            steps.append(("pk", primary_key_sql(table.target, d)))
        for idx in table.target.uniques + table.target.indexes:
            if kept and any(set(k.columns) == set(idx.columns) for k in kept.uniques + kept.indexes):
                continue
            name = self._index_names(ctx)[(table.target.qualified, idx.name)]
            steps.append((f"index:{idx.name}", index_sql(table.target, idx, d, name)))
        return steps

    @staticmethod
    def _index_names(ctx: RunContext) -> dict[tuple[str, str], str]:
        """The target names of every table's indexes (:func:`ferry.catalog.names.index_names`), made once."""
        if "index_names" not in ctx.results:
            tables = [t.target for t in ctx.tables if not t.shares_target]
            ctx.results["index_names"] = index_names(tables, ctx.target.dialect.max_identifier_length)
        return ctx.results["index_names"]

    @staticmethod
    def _note_kept(ctx: RunContext) -> None:
        """``--if-exists truncate``: the target tables that existed keep their
        keys, indexes and foreign keys; ``results["kept"]`` holds them as
        introspected before the copy, so that none is created twice."""
        if ctx.plan.options.if_exists != "truncate":
            return
        found = ctx.target.introspect([t.target.name for t in ctx.tables])
        kept = {t.name: found.find(t.target.qualified) for t in ctx.tables}
        ctx.results["kept"] = {name: table for name, table in kept.items() if table is not None}

    def _foreign_key_steps(self, ctx: RunContext, table) -> list[tuple[str, str]]:
        d = ctx.target.dialect
        if getattr(d, "foreign_keys_inline", False):
            return []
        parents = {t.target.name: t.target for t in ctx.tables}
        kept = ctx.results.get("kept", {}).get(table.name)
        steps = []
        for fk in table.target.foreign_keys:
            if kept and any(set(k.columns) == set(fk.columns) for k in kept.foreign_keys):
                continue
            name = shorten_identifier(f"{table.target.name}_{fk.name}", d.max_identifier_length)
            steps.append((f"fk:{fk.name}", foreign_key_sql(table.target, fk, parents[fk.ref_table], d, name)))
        return steps

    def _run_steps(self, ctx: RunContext, table: str, steps: list[tuple[str, str]], run=None) -> None:
        """Execute and journal each step not done yet; ``run(action, fn)``
        calls ``fn(target)`` (default :meth:`RunContext.on_target`)."""
        run = run or ctx.on_target
        done = {a.id for a in ctx.journal.actions(ctx.run_id, "constraints") if a.status == "done"}
        for suffix, sql in steps:
            action = f"constraints:{table}:{suffix}"
            if action in done:
                continue
            ctx.journal.plan_actions(ctx.run_id, "constraints", [(action, table, {"sql": sql})])
            started = time.monotonic()
            run(action, lambda t, sql=sql: _build(t, sql))
            ctx.journal.action_done(ctx.run_id, action, 0, 0, time.monotonic() - started)

    def rollback(self, ctx: RunContext) -> str:
        return ("copy: left in place so that `ferry run` resumes it; "
                "`ferry rollback` (not supported yet) would drop the target tables")
