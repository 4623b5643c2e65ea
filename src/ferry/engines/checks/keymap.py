"""``keymap``: the key maps of remapped keys are complete and used.

Run with ``counts`` for every table mapping with a ``remap`` or rewritten references (see
:mod:`ferry.transform.keymap`):

* ``keymap:count``: the key map holds one row per source row the copy read
  (:attr:`~ferry.engines.validate.TableResult.read_rows`: rows a casting check
  rejects before the copy get no new key; its old keys are its primary key
  and its new keys are unique, so every such key is mapped exactly once);
* ``keymap:<column>``: no target row holds a value in a rewritten column
  that is not a new key of the parent's key map (every reference rewritten).
"""

from __future__ import annotations

from ferry.engines.checks import CheckResult, verdict


def keymap_checks(target, tables: list, results: list) -> list[CheckResult]:
    """One result per key map and per rewritten column; ``results`` are the
    tables' :class:`~ferry.engines.validate.TableResult`."""
    read = {r.table: r.read_rows for r in results}
    out = []
    for t in tables:
        if t.remap:
            out.append(_complete(target, t, read[t.name]))
        out += [_rewritten(target, t, rewrite) for rewrite in t.rewrites]
    return out


def _complete(target, table, expected: int) -> CheckResult:
    mapped = target.count(table.remap.keymap)
    return CheckResult(table.name, "keymap:count", verdict(mapped == expected),
                       f"{table.remap.keymap.qualified} maps every source key once ({expected})",
                       f"{mapped} mapping(s)", side="both", value=mapped)


def _rewritten(target, table, rewrite) -> CheckResult:
    d = target.dialect
    q = d.quote
    sql = (f"SELECT COUNT(*) FROM {d.qualify(table.target)} t WHERE t.{q(rewrite.column)} IS NOT NULL "
           f"AND NOT EXISTS (SELECT 1 FROM {d.qualify(rewrite.keymap)} k WHERE k.{q('new_key')} = t.{q(rewrite.column)})")
    stray = int(target.query(sql)[0][0])
    return CheckResult(table.name, f"keymap:{rewrite.column}", verdict(stray == 0),
                       f"every {rewrite.column} is a new key of {rewrite.keymap.qualified}",
                       f"{stray} value(s) not rewritten", side="target", value=stray)
