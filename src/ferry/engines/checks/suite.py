"""Run the selected checks over every table, in parallel (one connection pair
per worker), and turn table verdicts into :class:`CheckResult` rows."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from ferry.engines.checks import CheckResult, verdict
from ferry.engines.checks.aggregates import aggregates
from ferry.engines.checks.common import sides
from ferry.engines.checks.quality import foreign_keys, not_null, unique
from ferry.engines.checks.sample import sample
from ferry.engines.functions import with_functions
from ferry.engines.validate import RejectedRows, TableResult
from ferry.errors import FerryError
from ferry.transform.mapping import ResolvedTable


def table_checks(r: TableResult, names: list[str]) -> list[CheckResult]:
    """``counts`` and ``checksum`` results of one verified table."""
    out = []
    if "counts" in names:
        out.append(CheckResult(r.table, "counts", verdict(r.counts_match), "source = target + rejects",
                               f"{r.source_rows} source, {r.target_rows} target, {r.rejects} rejects",
                               value=r.source_rows - r.target_rows - r.rejects))
    if "checksum" in names:
        out.append(_checksum(r))
    return out


def _checksum(r: TableResult) -> CheckResult:
    if not r.checksum_compared:
        return CheckResult(r.table, "checksum", "review", "0 differing rows",
                           "not compared: table without key and with rejects")
    detail = "; ".join(f"{kind} {r.__dict__[kind][:5]}" for kind in ("missing", "extra", "modified")
                       if r.__dict__[kind])
    return CheckResult(r.table, "checksum", verdict(r.error is None and r.differing == 0), "0 differing rows",
                       f"{r.missing_count} missing, {r.extra_count} extra, {r.modified_count} modified",
                       r.error or detail, value=r.differing)


def per_table(source, target, table: ResolvedTable, names: list[str], cfg, rejected: set,
              source_only: bool) -> list[CheckResult]:
    """Every per-table check of ``names`` except counts and checksum."""
    src, tgt = sides(source, target, table)
    quality_side = src if source_only else tgt
    out: list[CheckResult] = []
    runs = [("not_null", lambda: not_null(quality_side, table, cfg.max_nulls)),
            ("unique", lambda: unique(quality_side, table, cfg.max_duplicates)),
            ("foreign_keys", lambda: foreign_keys(quality_side, table, cfg.max_orphans))]
    if not source_only:
        runs = [("sample", lambda: sample(src, tgt, table, cfg.sample_size, cfg.sample_seed, rejected)),
                ("aggregates", lambda: _aggregates(src, tgt, table, cfg, rejected))] + runs
    for name, fn in runs:
        if name in names:
            out.extend(_guarded(table, name, fn))
    return out


def _aggregates(src, tgt, table, cfg, rejected) -> list[CheckResult]:
    results = aggregates(src, tgt, table, cfg.float_tolerance)
    if rows := RejectedRows.of(rejected).rows:   # rejected rows are on the source only: differences need a human
        for r in results:
            if r.status == "fail":
                r.status, r.detail = "review", f"{rows} rejected rows are on the source only"
    return results


def _guarded(table, name: str, fn) -> list[CheckResult]:
    try:
        return fn()
    except FerryError as exc:
        return [CheckResult(table.name, name, "review", "runs", "error", exc.message)]


def run_per_table(source, target, tables: list[ResolvedTable], names: list[str], cfg,
                  rejected: dict[str, set], source_only: bool, jobs: int) -> list[CheckResult]:
    """:func:`per_table` for every table, ``jobs`` tables at a time."""

    def one(table):
        s, t = with_functions(source.clone(), table), target.clone()
        try:
            return per_table(s, t, table, names, cfg, rejected.get(table.name, set()), source_only)
        finally:
            s.close()
            t.close()

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return [c for batch in pool.map(one, tables) for c in batch]
