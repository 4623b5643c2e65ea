"""Validation: row counts and checksums computed inside each database, and
bisection down to the differing rows.

Each table is checksummed per segment (a key range of about
``checks.segment_rows`` rows: integer keys split by value, other keys at
the copy's chunks when the journal has them, else sampled) on both sides: the source *as
transformed* (the plan's read expressions, hashed by target type) and the
target, with the fastest segment checksum both engines share
(:func:`ferry.engines.bisect.checksum_mode`; a variant the engine could not
finish exactly is computed again, ``sha256-segment`` as ``md5-ordered`` and
``md5-ordered`` as ``md5-sum``; ``pg-raw`` sums that match in no segment are
computed again as ``pg-hash``; when no ``sha256-segment`` segment matches, one is
confirmed with ``md5-ordered``, which does not depend on the order the engines
read rows in). The row counts are the sums of the segments'
counts (the segments cover the table) unless casting checks filter the source
read, when the source is counted apart. Smaller segments search less again
when they differ and cost more queries when they match (50,000 rows against
the default 100,000: see ``bench/RESULTS.md``), so a single integer key's
segments are walked in pieces that start small, grow while they match and
shrink where rows differ (:mod:`ferry.engines.pacing`).

A segment whose checksums differ is split into ``factor`` sub-ranges by
key (integer keys by value; text, UUID and composite keys at boundary keys
fetched inside the range, every N-th key in key order on the side holding
more rows, so each split narrows by ``factor`` as integer splits do),
each sub-range is checksummed again, and only the differing ones are split
further, until a segment holds at most ``threshold`` rows on both sides. There
the row hashes of both sides (key -> 60-bit hash) are downloaded and compared
(JSON as stored text first, canonical JSON only for the rows that differ):
keys only on the source are *missing*, keys only on the target are *extra*,
keys on both with different hashes are *modified*. For the first modified rows
both rows are read (the source through the plan's expressions, the target
plain) and the differing columns are listed with both values.

Rejected rows are known by key and are taken out of the source side, so they
count as rejected, not missing. Keys that land in different segments on the
two sides (text keys under different collations) are matched again per table
before being reported, so collation order never invents a difference.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ferry.connectors.base import Checksum, Connector, KeyRange, Select
from ferry.connectors.canonical import lenient_text
from ferry.engines.bisect import Bisector, Diff, Lanes, normalize_key
from ferry.engines.chunks import is_integer_key
from ferry.engines.functions import with_functions
from ferry.engines.pacing import Pacer
from ferry.transform.mapping import ResolvedTable

FIRST_KEYS = 20
DEFAULT_FACTOR = 16
DEFAULT_THRESHOLD = 1000
DEFAULT_SEGMENT_ROWS = 100_000


@dataclass
class BisectOptions:
    """How mismatching segments are searched.

    Attributes:
        factor: sub-ranges per split (>= 2).
        threshold: rows (on the larger side) at or under which a segment's row
            hashes are downloaded and compared.
        details: how many modified rows get their differing columns listed.
        segment_rows: rows per planned first checksum (``checks.segment_rows``);
            a single integer key's are cut smaller once some differ
            (:mod:`ferry.engines.pacing`).
    """

    factor: int = DEFAULT_FACTOR
    threshold: int = DEFAULT_THRESHOLD
    details: int = FIRST_KEYS
    segment_rows: int = DEFAULT_SEGMENT_ROWS


@dataclass
class TableResult:
    """The verdict for one table.

    Attributes:
        source_rows, target_rows: counted rows (source after the plan's filters).
        read_rows: source rows the plan's read returns (without those casting
            checks reject before the copy), summed over the chunk checksums;
            None for a table without key.
        rejects: rows stored as rejects for this table.
        missing, extra, modified: the first keys of each kind (at most ``FIRST_KEYS``).
        missing_count, extra_count, modified_count: how many of each.
        rejected_seen: rejected keys met in the compared segments (not counted missing).
        modified_details: for the first modified keys, ``{"key": [...], "columns":
            [{"column", "source", "target"}]}`` (values as canonical text, None for NULL).
        source_keys, target_keys: ``(min, max)`` of a single-column key, else None.
        segments: key ranges of the first checksums (each ``checks.segment_rows``
            rows or so, or fewer: :mod:`ferry.engines.pacing`).
        checksum_queries, leaves, hashed_rows: bisection work (checksums run per
            side, segments compared row by row, row hashes downloaded).
        checksum_compared: False when the table has no key and rejects exist
            whose row hashes are unknown (a journal of an earlier ferry, casting
            rules that filter the read).
        checksum_mode: the segment checksum variant the search ended with
            (:data:`ferry.connectors.base.CHECKSUM_MODES`), "" without a key.
    """

    table: str
    target: str
    source_rows: int = 0
    target_rows: int = 0
    read_rows: int | None = None
    rejects: int = 0
    missing: list = field(default_factory=list)
    extra: list = field(default_factory=list)
    modified: list = field(default_factory=list)
    missing_count: int = 0
    extra_count: int = 0
    modified_count: int = 0
    rejected_seen: int = 0
    modified_details: list = field(default_factory=list)
    source_keys: tuple | None = None
    target_keys: tuple | None = None
    segments: int = 0
    checksum_queries: int = 0
    leaves: int = 0
    hashed_rows: int = 0
    checksum_compared: bool = True
    checksum_mode: str = ""
    error: str | None = None

    @property
    def counts_match(self) -> bool:
        return self.source_rows == self.target_rows + self.rejects

    @property
    def differing(self) -> int:
        """Missing + extra + modified rows."""
        return self.missing_count + self.extra_count + self.modified_count

    @property
    def ok(self) -> bool:
        """True when counts match and no row differs."""
        return self.error is None and self.counts_match and self.differing == 0


class RejectedRows(set):
    """The normalised keys (:func:`normalize_key`) of one table's rejected rows,
    with ``rows``, how many rows were rejected: rows that have no key to name
    them (a table without primary key, a NULL key, which SQLite allows in a
    primary key that is not the rowid) count in ``rows`` but not as keys.

    Args:
        keys: the normalised keys.
        rows: the rejected rows (default: one per key).
        hashes: the canonical row hashes of a keyless table's rejected rows
            (of the read's values, as the copy journals them), when every
            rejected row has one, else None.
    """

    def __init__(self, keys=(), rows: int | None = None, hashes: list[int] | None = None) -> None:
        super().__init__(keys)
        self.rows = len(self) if rows is None else rows
        self.hashes = hashes

    @classmethod
    def of(cls, keys: set) -> "RejectedRows":
        """``keys`` as they are when a :class:`RejectedRows`, else one rejected row per key."""
        return keys if isinstance(keys, cls) else cls(keys)


def verify_table(source: Connector, target: Connector, table: ResolvedTable,
                 ranges: list[KeyRange], rejected_keys: set[tuple],
                 options: BisectOptions | None = None, lanes: tuple = ()) -> TableResult:
    """Compare one table on the given key ranges (they must cover the table).

    Args:
        rejected_keys: normalised keys (:func:`normalize_key`) of rejected
            rows; a :class:`RejectedRows` also counts the rows without a key.
        lanes: further ``(source, target)`` connection pairs; the ranges' first
            checksums, and then the searches of the differing ones, run on
            all pairs at once (a table alone on a machine keeps every core
            busy even when one engine hashes slower).

    Returns:
        :class:`TableResult`; ``error`` is set for a keyless table whose
        checksums differ (rows cannot be named).
    """
    options = options or BisectOptions()
    rejected = RejectedRows.of(rejected_keys)
    result = TableResult(table.name, table.target.qualified, rejects=rejected.rows)
    if not table.key:
        _count(source, target, table, result)
        _compare_whole(source, target, table, result, rejected.hashes)
        return result
    result.source_keys, result.target_keys = _key_bounds(source, target, table)
    diff = Diff()
    searcher = Bisector(source, target, table, rejected, options, result, diff)
    lanes_ = Lanes(searcher, lanes)
    try:
        differing = []
        checked = lanes_.first_checksums(ranges, _pacer(table, result, options))
        result.segments = len(checked)
        for krange, src, tgt in checked:
            result.source_rows += src.count
            result.target_rows += tgt.count
            if not src.matches(tgt):
                differing.append((krange, src, tgt))
        lanes_.settle(differing, matched=len(differing) < len(checked))
    finally:
        lanes_.close()
    result.checksum_mode = searcher.mode
    result.read_rows = result.source_rows
    if table.reject_filters:    # casting checks leave refused rows out of the read: count them in
        result.source_rows = source.count(table.source, where=table.source_where)
    _conclude(searcher, diff, result)
    return result


def _pacer(table: ResolvedTable, result: TableResult, options: BisectOptions) -> Pacer | None:
    """The :class:`Pacer` of a single integer key (bounds over both sides), else None."""
    if not is_integer_key(table):
        return None
    ends = [int(v) for v in (*result.source_keys, *result.target_keys) if v is not None]
    bounds = (min(ends), max(ends)) if ends else None
    return Pacer(bounds, options.segment_rows, 4 * options.threshold, table.source.row_estimate)


def _count(source, target, table: ResolvedTable, result: TableResult) -> None:
    result.source_rows = source.count(table.source, where=table.source_where)
    result.target_rows = target.count(table.target, where=table.hash_target.where)


def _key_bounds(source, target, table: ResolvedTable):
    if len(table.key) != 1:
        return None, None
    return _first_last(source, table.read), _first_last(target, table.hash_target)


def _first_last(conn: Connector, select: Select) -> tuple:
    """``(first, last)`` key of ``select.table`` in key order (``ORDER BY ... LIMIT 1``
    both ways: any ordered type, e.g. PostgreSQL's uuid, which has no MIN/MAX);
    a NULL key is not one."""
    d = conn.dialect
    col, table = d.quote(select.key[0]), d.qualify(select.table)
    where = f" WHERE {col} IS NOT NULL" + (f" AND ({select.where})" if select.where else "")
    ends = [conn.query(f"SELECT {col} FROM {table}{where} ORDER BY {col} {way} LIMIT 1") for way in ("ASC", "DESC")]
    return tuple(rows[0][0] if rows else None for rows in ends)


def _compare_whole(source, target, table, result: TableResult, hashes: list[int] | None) -> None:
    """The checksums of a keyless table, the source's without its rejected rows
    (their hashes are known from the copy; without them, or when casting
    rules filter the read, the checksum is not compared)."""
    if result.rejects and (hashes is None or len(hashes) != result.rejects or table.reject_filters):
        result.checksum_compared = False
        return
    src = source.checksum(table.read)
    src = Checksum(src.count - result.rejects, src.total - sum(hashes or ()), src.exact)
    if not src.matches(target.checksum(table.hash_target)):
        result.modified_count = max(1, abs(result.source_rows - result.target_rows))
        result.error = "checksums differ on a table without key: rows cannot be named"


def _conclude(searcher: Bisector, diff: Diff, result: TableResult) -> None:
    """Match one-sided keys across segments, then count and detail the differences."""
    for k in [k for k in diff.src_only if k in diff.tgt_only]:
        (sh, srange), (th, trange) = diff.src_only.pop(k), diff.tgt_only.pop(k)
        if sh != th:
            diff.modified.append((k, srange, trange))
    _add(result, "missing", list(diff.src_only))
    _add(result, "extra", list(diff.tgt_only))
    _add(result, "modified", [k for k, _, _ in diff.modified])
    wanted = sorted(diff.modified, key=lambda m: key_order(m[0]))[: searcher.options.details]
    result.modified_details = modified_details(searcher.source, searcher.target, searcher.table, wanted)


def modified_details(source, target, table: ResolvedTable, wanted: list) -> list[dict]:
    """For ``(key, source range, target range)`` triples: the columns whose
    canonical texts differ, with both values.

    Returns:
        ``[{"key": [...], "columns": [{"column", "source", "target"}]}]``.
    """
    details = []
    names = [c.name for c in table.target.columns]
    types = [t for _, t in table.hash_target.exprs]
    point = is_integer_key(table)      # the row alone, not its leaf
    for key, srange, trange in wanted:
        if point:
            srange = trange = KeyRange(key, (key[0] + 1,))
        srow = _row_by_key(source, table.read, srange, key)
        trow = _row_by_key(target, table.hash_target, trange, key)
        if srow is None or trow is None:
            continue
        cols = [{"column": n, "source": s, "target": t} for n, s, t in differing_columns(names, types, srow, trow)]
        details.append({"key": list(key), "columns": cols})
    return details


def differing_columns(names, types, srow: tuple, trow: tuple) -> list[tuple[str, str, str]]:
    """``(column, source text, target text)`` for each column whose canonical
    texts differ between two rows (values of a type that cannot hold them are
    compared as their own text)."""
    out = []
    for name, dtype, sv, tv in zip(names, types, srow, trow):
        stext, ttext = lenient_text(sv, dtype), lenient_text(tv, dtype)
        if stext != ttext:
            out.append((name, stext, ttext))
    return out


def _row_by_key(conn: Connector, select: Select, krange: KeyRange, key: tuple):
    """The values of ``select.exprs`` for the row with normalised key ``key``
    inside ``krange`` (at most a leaf: ``threshold`` rows), or None."""
    keyed = tuple((conn.dialect.quote(k), select.table.column(k).type) for k in select.key)
    full = Select(select.table, keyed + select.exprs, select.key, select.where)
    n, found = len(keyed), None
    for batch in conn.read(full, krange, 1000):    # read to the end: a stream must not stay open
        for row in batch:
            if normalize_key(tuple(row[:n])) == key:
                found = row[n:]
    return found

def _add(result: TableResult, kind: str, keys: list) -> None:
    setattr(result, f"{kind}_count", getattr(result, f"{kind}_count") + len(keys))
    first = getattr(result, kind)
    first.extend(sorted(keys, key=key_order)[: FIRST_KEYS - len(first)])


def key_order(key: tuple) -> tuple:
    """A sort key for normalised keys: integers by value before text."""
    return tuple((0, v, "") if isinstance(v, int) else (1, 0, str(v)) for v in key)


def verify_tables(source: Connector, target: Connector, work: list[tuple[ResolvedTable, list[KeyRange],
                  set[tuple]]], jobs: int, on_table=None,
                  options: BisectOptions | None = None) -> list[TableResult]:
    """Verify several tables in parallel: one connection pair per worker, and
    ``jobs // tables`` pairs per table when there are fewer tables than jobs.
    Each session runs serially (:meth:`Connector.serial_queries`): ``jobs``
    is the number of cores the verification takes on each server (on 2
    cores, PostgreSQL's parallel workers on top took 1.12 times as long)."""
    per_table = max(1, jobs // max(1, len(work)))

    def one(item) -> TableResult:
        table, ranges, rejected = item
        pairs = [(with_functions(source.clone(), table), target.clone())
                 for _ in range(max(1, min(per_table, len(ranges))) if table.key else 1)]
        for conn in (c for pair in pairs for c in pair):
            conn.serial_queries()       # jobs sessions: jobs cores per server, no parallel workers on top
        try:
            result = verify_table(*pairs[0], table, ranges, rejected, options, lanes=tuple(pairs[1:]))
        finally:
            for src, tgt in pairs:
                src.close()
                tgt.close()
        if on_table:
            on_table(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, work))
