"""``sample``: N random keys (seeded, so a rerun draws the same keys) read on
both sides and compared field by field on canonical text.

Integer keys are drawn as random values between the source's min and max key
(oversampled three times, kept in draw order); other keys by a seeded
reservoir over the source's keys (one key-only scan).
"""

from __future__ import annotations

import random

from ferry.catalog.model import INTEGER_KINDS
from ferry.connectors.base import KeyRange
from ferry.engines.checks import CheckResult, verdict
from ferry.engines.checks.common import Side, key_in, typed_select
from ferry.engines.validate import differing_columns, normalize_key
from ferry.transform.mapping import ResolvedTable

OVERSAMPLE = 3
SHOWN = 5


def sample(src: Side, tgt: Side, table: ResolvedTable, size: int, seed: int,
           rejected: set[tuple]) -> list[CheckResult]:
    """One result: 0 differing fields and 0 missing rows among ``size`` random keys.

    Returns [] for a table without key (nothing to draw).
    """
    if not table.key:
        return [CheckResult(table.name, "sample", "review", f"{size} random rows equal",
                            "not run: the table has no key", side="both")]
    keys = draw_keys(src, table, size, seed)
    srows = _rows(src, keys)
    trows = _rows(tgt, [raw for raw, _ in srows.values()])    # looked up by the source's own key values
    missing = [k for k in srows if k not in trows and k not in rejected]
    diffs = _field_diffs(srows, trows, src.columns, [t for _, t in tgt.select.exprs])
    bad = len(diffs) + len(missing)
    shown = [f"missing {list(k)}" for k in missing[:SHOWN]] + diffs[:SHOWN]
    return [CheckResult(table.name, "sample", verdict(bad == 0), f"0 differing fields in {len(srows)} random rows",
                        f"{len(diffs)} differing fields, {len(missing)} missing rows", "; ".join(shown),
                        side="both", value=bad)]


def draw_keys(side: Side, table: ResolvedTable, size: int, seed: int) -> list[tuple]:
    """Up to ``size`` keys of the source, the same ones for the same seed."""
    rng = random.Random(seed)
    column = table.source.column(table.key[0])
    if len(table.key) == 1 and column.type.kind in INTEGER_KINDS:
        low, high = side.conn.key_bounds(side.table, table.key)
        if low is None:
            return []
        wanted = list(dict.fromkeys((rng.randint(int(low), int(high)),) for _ in range(size * OVERSAMPLE)))
        found = set(_keys_present(side, wanted))
        keys = [k for k in wanted if k in found][:size]
        if len(keys) == size or len(found) == len(set(wanted)):
            return keys
    return _reservoir(side, size, rng)


def _keys_present(side: Side, keys: list[tuple]) -> list[tuple]:
    cols = ", ".join(side.quote(k) for k in side.select.key)
    sql = f"SELECT {cols} FROM {side.qualified()} WHERE {side.where(key_in(side.conn, side.select.key, keys))}"
    return [tuple(r) for r in side.conn.query(sql)]


def _reservoir(side: Side, size: int, rng: random.Random) -> list[tuple]:
    exprs = tuple((side.quote(k), side.table.column(k).type) for k in side.select.key)
    chosen: list[tuple] = []
    seen = 0
    for batch in side.conn.read(typed_select(side.select, exprs), KeyRange(), 50_000):
        for row in batch:
            if None in row:     # a NULL key names no row (SQLite allows them in a primary key)
                continue
            seen += 1
            if len(chosen) < size:
                chosen.append(tuple(row))
            elif (j := rng.randrange(seen)) < size:
                chosen[j] = tuple(row)
    return chosen


def _rows(side: Side, keys: list[tuple]) -> dict[tuple, tuple[tuple, tuple]]:
    """Normalised key -> (key as read, values of ``side.select.exprs``) for ``keys``."""
    if not keys:
        return {}
    keyed = tuple((side.quote(k), side.table.column(k).type) for k in side.select.key)
    select = typed_select(side.select, keyed + side.select.exprs)
    select = type(select)(select.table, select.exprs, select.key,
                          side.where(key_in(side.conn, side.select.key, keys)))
    n, rows = len(keyed), {}
    for batch in side.conn.read(select, KeyRange(), 1000):
        for row in batch:
            rows[normalize_key(tuple(row[:n]))] = (tuple(row[:n]), tuple(row[n:]))
    return rows


def _field_diffs(srows: dict, trows: dict, names: list[str], types: list) -> list[str]:
    diffs = []
    for key, (_, srow) in srows.items():
        if key not in trows:
            continue
        trow = trows[key][1]
        diffs += [f"{list(key)} {name}: {stext!r} != {ttext!r}"
                  for name, stext, ttext in differing_columns(names, types, srow, trow)]
    return diffs
