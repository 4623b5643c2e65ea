"""Validation: row counts and checksums computed inside each database.

Each table is checksummed per chunk (key range) on both sides: the source *as
transformed* (the plan's read expressions, hashed by target type) and the
target. A chunk whose checksums differ is compared row by row (key -> row
hash) to name the missing, extra and modified keys. Rejected rows are known
by key and are taken out of the source side, so they count as rejected, not
missing.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ferry.connectors.base import Connector, KeyRange
from ferry.transform.mapping import ResolvedTable

FIRST_KEYS = 20


@dataclass
class TableResult:
    """The verdict for one table.

    Attributes:
        source_rows, target_rows: counted rows (source after the plan's filters).
        rejects: rows stored as rejects for this table.
        missing, extra, modified: the first keys of each kind (at most ``FIRST_KEYS``).
        missing_count, extra_count, modified_count: how many of each.
        checksum_compared: False when the table has no key and rejects exist.
    """

    table: str
    target: str
    source_rows: int = 0
    target_rows: int = 0
    rejects: int = 0
    missing: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    modified: list = field(default_factory=list)
    missing_count: int = 0
    extra_count: int = 0
    modified_count: int = 0
    checksum_compared: bool = True
    error: str | None = None

    @property
    def counts_match(self) -> bool:
        return self.source_rows == self.target_rows + self.rejects

    @property
    def ok(self) -> bool:
        """True when counts match and no row differs."""
        differ = self.missing_count + self.extra_count + self.modified_count
        return self.error is None and self.counts_match and differ == 0


def verify_table(source: Connector, target: Connector, table: ResolvedTable,
                 ranges: list[KeyRange], rejected_keys: set[tuple]) -> TableResult:
    """Compare one table on the given key ranges (they must cover the table)."""
    result = TableResult(table.name, table.target.qualified, rejects=len(rejected_keys))
    result.source_rows = source.count(table.source)
    result.target_rows = target.count(table.target)
    if not table.key:
        _compare_whole(source, target, table, result)
        return result
    for krange in ranges:
        _compare_range(source, target, table, krange, rejected_keys, result)
    return result


def _compare_whole(source, target, table, result: TableResult) -> None:
    if result.rejects:
        result.checksum_compared = False
        return
    if source.checksum(table.read) != target.checksum(table.hash_target):
        result.modified_count = max(1, abs(result.source_rows - result.target_rows))
        result.error = "checksums differ on a table without key: rows cannot be named"


def _compare_range(source, target, table, krange, rejected_keys, result: TableResult) -> None:
    src_sum = source.checksum(table.read, krange)
    if not rejected_keys and src_sum == target.checksum(table.hash_target, krange):
        return
    src = {k: h for k, h in source.row_hashes(table.read, krange).items() if k not in rejected_keys}
    tgt = target.row_hashes(table.hash_target, krange)
    src = {normalize_key(k): h for k, h in src.items()}
    tgt = {normalize_key(k): h for k, h in tgt.items()}
    _add(result, "missing", [k for k in src if k not in tgt])
    _add(result, "extra", [k for k in tgt if k not in src])
    _add(result, "modified", [k for k in src if k in tgt and src[k] != tgt[k]])


def normalize_key(key: tuple) -> tuple:
    """A key comparable across engines and journal round trips (ints and text kept,
    anything else as text)."""
    return tuple(str(v) if not isinstance(v, (int, str)) else v for v in key)


def _add(result: TableResult, kind: str, keys: list) -> None:
    setattr(result, f"{kind}_count", getattr(result, f"{kind}_count") + len(keys))
    first = getattr(result, kind)
    first.extend(sorted(keys, key=repr)[: FIRST_KEYS - len(first)])


def verify_tables(source: Connector, target: Connector, work: list[tuple[ResolvedTable, list[KeyRange],
                  set[tuple]]], jobs: int, on_table=None) -> list[TableResult]:
    """Verify several tables in parallel (one connection pair per worker)."""

    def one(item) -> TableResult:
        table, ranges, rejected = item
        src, tgt = source.clone(), target.clone()
        try:
            result = verify_table(src, tgt, table, ranges, rejected)
        finally:
            src.close()
            tgt.close()
        if on_table:
            on_table(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, work))
