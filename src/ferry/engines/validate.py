"""Validation: row counts and checksums computed inside each database, and
bisection down to the differing rows.

Each table is checksummed per chunk (key range) on both sides: the source *as
transformed* (the plan's read expressions, hashed by target type) and the
target, with the fastest segment checksum both engines share
(:func:`checksum_mode`; a variant the engine could not finish exactly is
computed again as ``md5-sum``; ``pg-raw`` sums that match in no chunk are
computed again as ``pg-hash``). The row counts are the sums of the chunks'
counts (the chunks cover the table) unless casting checks filter the source
read, when the source is counted apart.

A chunk whose checksums differ is split into ``factor`` sub-ranges by
key (integer keys by value; text, UUID and composite keys at boundary keys
fetched inside the range, every N-th key in key order on the side holding
more rows, so each split narrows by ``factor`` as integer splits do),
each sub-range is checksummed again, and only the differing ones are split
further, until a segment holds at most ``threshold`` rows on both sides. There
the row hashes of both sides (key -> 60-bit hash) are downloaded and compared:
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

import math
import queue
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from ferry.catalog.model import INTEGER_KINDS, DataType, Kind
from ferry.connectors.base import ORDERED_MD5, PG_HASH, PG_RAW, SEGMENT_MD5, SUM_MD5, Connector, Dialect, KeyRange, Select
from ferry.connectors.canonical import lenient_text
from ferry.engines.functions import with_functions
from ferry.transform.mapping import ResolvedTable

FIRST_KEYS = 20
DEFAULT_FACTOR = 16
DEFAULT_THRESHOLD = 1000
MAX_DEPTH = 16


@dataclass
class BisectOptions:
    """How mismatching chunks are searched.

    Attributes:
        factor: sub-ranges per split (>= 2).
        threshold: rows (on the larger side) at or under which a segment's row
            hashes are downloaded and compared.
        details: how many modified rows get their differing columns listed.
    """

    factor: int = DEFAULT_FACTOR
    threshold: int = DEFAULT_THRESHOLD
    details: int = FIRST_KEYS


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
        checksum_queries, leaves, hashed_rows: bisection work (checksums run per
            side, segments compared row by row, row hashes downloaded).
        checksum_compared: False when the table has no key and rejects exist.
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


@dataclass
class _Diff:
    """Per-table accumulator: one-sided rows (key -> hash) and modified keys per leaf."""

    src_only: dict = field(default_factory=dict)
    tgt_only: dict = field(default_factory=dict)
    modified: list = field(default_factory=list)      # (key, source leaf, target leaf)


def verify_table(source: Connector, target: Connector, table: ResolvedTable,
                 ranges: list[KeyRange], rejected_keys: set[tuple],
                 options: BisectOptions | None = None, lanes: tuple = ()) -> TableResult:
    """Compare one table on the given key ranges (they must cover the table).

    Args:
        rejected_keys: normalised keys (:func:`normalize_key`) of rejected rows.
        lanes: further ``(source, target)`` connection pairs; the ranges' first
            checksums run on all pairs at once (a table alone on a machine
            keeps every core busy even when one engine hashes slower).

    Returns:
        :class:`TableResult`; ``error`` is set for a keyless table whose
        checksums differ (rows cannot be named).
    """
    options = options or BisectOptions()
    result = TableResult(table.name, table.target.qualified, rejects=len(rejected_keys))
    if not table.key:
        _count(source, target, table, result)
        _compare_whole(source, target, table, result)
        return result
    result.source_keys, result.target_keys = _key_bounds(source, target, table)
    diff = _Diff()
    searcher = _Bisector(source, target, table, rejected_keys, options, result, diff)
    try:
        differing = []
        for krange, src, tgt in _first_checksums(searcher, ranges, lanes):
            result.source_rows += src.count
            result.target_rows += tgt.count
            if not src.matches(tgt):
                differing.append((krange, src, tgt))
        searcher.settle(differing, matched=len(differing) < len(ranges))
    finally:
        searcher.pool.shutdown()
    result.checksum_mode = searcher.mode
    result.read_rows = result.source_rows
    if table.reject_filters:    # casting checks leave refused rows out of the read: count them in
        result.source_rows = source.count(table.source, where=table.source_where)
    _conclude(searcher, diff, result)
    return result


def _first_checksums(searcher: "_Bisector", ranges: list[KeyRange], lanes: tuple) -> list[tuple]:
    """``[(range, source checksum, target checksum)]`` in ``ranges`` order,
    computed on ``searcher``'s connections and on each pair of ``lanes`` at once."""
    if not lanes or len(ranges) < 2:
        return [(k, *searcher.checksums(k, searcher.mode)) for k in ranges]
    idle: queue.SimpleQueue = queue.SimpleQueue()
    idle.put(searcher)
    for src, tgt in lanes:
        idle.put(_Bisector(src, tgt, searcher.table, searcher.rejected, searcher.options,
                           TableResult(searcher.result.table, searcher.result.target), _Diff()))

    def one(krange: KeyRange) -> tuple:
        lane = idle.get()
        try:
            return (krange, *lane.checksums(krange, lane.mode))
        finally:
            idle.put(lane)

    try:
        with ThreadPoolExecutor(max_workers=len(lanes) + 1) as pool:
            return list(pool.map(one, ranges))
    finally:
        while not idle.empty():
            lane = idle.get()
            if lane is not searcher:
                searcher.result.checksum_queries += lane.result.checksum_queries
                if searcher.mode == SEGMENT_MD5:       # a lane's segment text was cut: so would the next
                    searcher.mode = lane.mode
                lane.pool.shutdown()


def checksum_mode(source: Dialect, target: Dialect, table: ResolvedTable) -> str:
    """The segment checksum variant (:data:`ferry.connectors.base.CHECKSUM_MODES`)
    for ``table``: ``pg-raw`` (or ``pg-hash``) when both engines offer it, else
    ``md5-segment`` (or ``md5-ordered``) for a single integer key on both sides
    when both offer it, else ``md5-sum``."""
    shared = set(source.checksum_modes) & set(target.checksum_modes)
    for mode in (PG_RAW, PG_HASH):
        if mode in shared:
            return mode
    integer = len(table.key) == 1 and table.source.column(table.key[0]).type.kind in INTEGER_KINDS and \
        table.target.column(table.hash_target.key[0]).type.kind in INTEGER_KINDS
    return next((m for m in (SEGMENT_MD5, ORDERED_MD5) if integer and m in shared), SUM_MD5)


def json_as_text(select: Select) -> Select:
    """``select`` with its JSON values hashed as their stored text (a JSON
    document copied as text is equal on both sides without the costly
    canonical rendering; canonical JSON is computed only when such sums
    differ)."""
    exprs = tuple((e, DataType(Kind.TEXT) if t.kind == Kind.JSON else t) for e, t in select.exprs)
    return select if exprs == select.exprs else Select(select.table, exprs, select.key, select.where)


def _count(source, target, table: ResolvedTable, result: TableResult) -> None:
    result.source_rows = source.count(table.source, where=table.source_where)
    result.target_rows = target.count(table.target, where=table.hash_target.where)


def _key_bounds(source, target, table: ResolvedTable):
    if len(table.key) != 1:
        return None, None
    return _first_last(source, table.read), _first_last(target, table.hash_target)


def _first_last(conn: Connector, select: Select) -> tuple:
    """``(first, last)`` key of ``select.table`` in key order (``ORDER BY ... LIMIT 1``
    both ways: any ordered type, e.g. PostgreSQL's uuid, which has no MIN/MAX)."""
    d = conn.dialect
    col, table = d.quote(select.key[0]), d.qualify(select.table)
    where = f" WHERE {select.where}" if select.where else ""
    ends = [conn.query(f"SELECT {col} FROM {table}{where} ORDER BY {col} {way} LIMIT 1") for way in ("ASC", "DESC")]
    return tuple(rows[0][0] if rows else None for rows in ends)


def _compare_whole(source, target, table, result: TableResult) -> None:
    if result.rejects:
        result.checksum_compared = False
        return
    if source.checksum(table.read) != target.checksum(table.hash_target):
        result.modified_count = max(1, abs(result.source_rows - result.target_rows))
        result.error = "checksums differ on a table without key: rows cannot be named"


class _Bisector:
    """Recursive search of one table's differing segments (see the module docstring)."""

    def __init__(self, source, target, table: ResolvedTable, rejected: set, options: BisectOptions,
                 result: TableResult, diff: _Diff) -> None:
        self.source, self.target, self.table = source, target, table
        self.rejected, self.options, self.result, self.diff = rejected, options, result, diff
        column = table.source.column(table.key[0])
        self.integer_key = len(table.key) == 1 and column.type.kind in INTEGER_KINDS
        self.pool = ThreadPoolExecutor(max_workers=1)   # the source side runs beside the target's
        self.mode = checksum_mode(source.dialect, target.dialect, table)
        self.canonical = (table.read, table.hash_target)
        self.hashed = self.canonical if self.mode == PG_RAW else tuple(json_as_text(x) for x in self.canonical)

    def both(self, method: str, krange: KeyRange, *args, selects: tuple | None = None) -> tuple:
        """``(source result, target result)`` of connector ``method`` on ``krange``
        over ``selects`` (default: the canonical pair), the two queries running
        at the same time."""
        read, hash_target = selects or self.canonical
        pending = self.pool.submit(getattr(self.source, method), read, krange, *args)
        try:
            tgt = getattr(self.target, method)(hash_target, krange, *args)
        finally:
            src = pending.result()
        return src, tgt

    def checksums(self, krange: KeyRange, mode: str) -> tuple:
        """Both sides' checksums of ``krange``. One that is inexact (a cut
        ``GROUP_CONCAT``) is computed again: an ``md5-segment`` as
        ``md5-ordered``, which this table then keeps (its segments' texts are
        too long), an ``md5-ordered`` as ``md5-sum``."""
        src, tgt = self.both("checksum", krange, mode, selects=self.hashed)
        self.result.checksum_queries += 1
        if not (src.exact and tgt.exact) and mode == SEGMENT_MD5:
            self.mode = mode = ORDERED_MD5
            src, tgt = self.both("checksum", krange, mode, selects=self.hashed)
            self.result.checksum_queries += 1
        if not (src.exact and tgt.exact):
            src, tgt = self.both("checksum", krange, SUM_MD5, selects=self.hashed)
            self.result.checksum_queries += 1
        return src, tgt

    def settle(self, differing: list, matched: bool) -> None:
        """Search the chunks whose first checksums differ. ``pg-raw`` sums, and
        sums over JSON as stored text, are equal only when both sides store
        alike (the same column types, JSON copied as text): when no chunk
        matched they are checked again over canonical texts (``pg-hash``
        for ``pg-raw``) and the search goes on with those."""
        if not matched and (self.mode == PG_RAW or self.hashed != self.canonical):
            self.mode = PG_HASH if self.mode == PG_RAW else self.mode
            self.hashed = self.canonical
            again = [(k, *self.checksums(k, self.mode)) for k, _, _ in differing]
            differing = [(k, src, tgt) for k, src, tgt in again if not src.matches(tgt)]
        differing = self._confirm_order(differing)
        for krange, src, tgt in differing:
            self.descend(krange, 0, src, tgt)

    def _confirm_order(self, differing: list) -> list:
        """``md5-segment`` hashes rows in the order each engine reads them: the
        first differing chunk with equal counts is checked again with
        ``md5-ordered`` (which sorts). When that matches, the engines read in
        different orders: the table goes on with ``md5-ordered`` and every
        differing chunk is checked again."""
        if self.mode != SEGMENT_MD5:
            return differing
        first = next((k for k, src, tgt in differing if src.count == tgt.count), None)
        if first is None:
            return differing
        src, tgt = self.checksums(first, ORDERED_MD5)
        if not src.matches(tgt):
            return differing
        self.mode = ORDERED_MD5
        again = [(k, *self.checksums(k, self.mode)) for k, _, _ in differing if k != first]
        return [(k, src, tgt) for k, src, tgt in again if not src.matches(tgt)]

    def compare(self, krange: KeyRange, depth: int) -> None:
        """Checksum ``krange`` on both sides; descend when they differ."""
        src, tgt = self.checksums(krange, self.mode)
        if not src.matches(tgt):
            self.descend(krange, depth, src, tgt)

    def descend(self, krange: KeyRange, depth: int, src, tgt) -> None:
        """Split a differing ``krange`` and compare the parts, or compare its rows."""
        rows = max(src.count, tgt.count)
        one_sided = min(src.count, tgt.count) == 0     # every row differs: no need to narrow down
        small = rows <= self.options.threshold or one_sided or depth >= MAX_DEPTH
        parts = [] if small else self.split(krange, src, tgt)
        if len(parts) < 2:
            self.leaf(krange)
            return
        for part in parts:
            self.compare(part, depth + 1)

    def split(self, krange: KeyRange, src, tgt) -> list[KeyRange]:
        """``factor`` sub-ranges covering ``krange`` ([] when it cannot be split)."""
        if self.integer_key:
            return self._split_integer(krange)
        conn, select = (self.source, self.table.read) if src.count >= tgt.count else \
            (self.target, self.table.hash_target)
        every = max(1, math.ceil(max(src.count, tgt.count) / self.options.factor))
        bounds = sample_keys_in_range(conn, select, krange, every)
        return _ranges_between(krange, bounds)

    def _split_integer(self, krange: KeyRange) -> list[KeyRange]:
        low, high = _int_bounds(self.source, self.table.read, krange)
        tlow, thigh = _int_bounds(self.target, self.table.hash_target, krange)
        lows = [v for v in (low, tlow) if v is not None]
        highs = [v for v in (high, thigh) if v is not None]
        if not lows:
            return []
        low, high = min(lows), max(highs)
        step = max(1, math.ceil((high - low + 1) / self.options.factor))
        bounds = [(low + i * step,) for i in range(1, self.options.factor) if low + i * step <= high]
        return _ranges_between(krange, bounds)

    def leaf(self, krange: KeyRange) -> None:
        """Download both sides' row hashes of ``krange`` and record the differences."""
        src_hashes, tgt_hashes = self.both("row_hashes", krange)
        src = {normalize_key(k): h for k, h in src_hashes.items()}
        tgt = {normalize_key(k): h for k, h in tgt_hashes.items()}
        self.result.leaves += 1
        self.result.hashed_rows += len(src) + len(tgt)
        for k in [k for k in src if k in self.rejected]:
            if k not in tgt:
                self.result.rejected_seen += 1
            del src[k]
        for k, h in src.items():
            if k not in tgt:
                self.diff.src_only[k] = (h, krange)
            elif tgt[k] != h:
                self.diff.modified.append((k, krange, krange))
        for k, h in tgt.items():
            if k not in src:
                self.diff.tgt_only[k] = (h, krange)


def _conclude(searcher: _Bisector, diff: _Diff, result: TableResult) -> None:
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
    for key, srange, trange in wanted:
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
    inside ``krange`` (a leaf: at most ``threshold`` rows are read), or None."""
    keyed = tuple((conn.dialect.quote(k), select.table.column(k).type) for k in select.key)
    full = Select(select.table, keyed + select.exprs, select.key, select.where)
    n, found = len(keyed), None
    for batch in conn.read(full, krange, 1000):    # read to the end: a stream must not stay open
        for row in batch:
            if normalize_key(tuple(row[:n])) == key:
                found = row[n:]
    return found


def _int_bounds(conn: Connector, select: Select, krange: KeyRange) -> tuple:
    """(min, max) of the single integer key of ``select`` inside ``krange``."""
    d = conn.dialect
    pred, params = d.range_predicate(select.key, krange)
    col = d.quote(select.key[0])
    row = conn.query(f"SELECT MIN({col}), MAX({col}) FROM {d.qualify(select.table)} WHERE {pred}", params)[0]
    return (None, None) if row[0] is None else (int(row[0]), int(row[1]))


def sample_keys_in_range(conn: Connector, select: Select, krange: KeyRange, every: int) -> list[tuple]:
    """Every ``every``-th key of ``select.table`` inside ``krange``, in key order
    (keyset sampling restricted to one range)."""
    d = conn.dialect
    pred, params = d.range_predicate(select.key, krange)
    cols = ", ".join(d.quote(k) for k in select.key)
    mod = f"ferry_rn % {int(every)}" if d.name == "sqlite" else f"MOD(ferry_rn, {int(every)})"
    sql = (f"SELECT {cols} FROM (SELECT {cols}, ROW_NUMBER() OVER (ORDER BY {cols}) AS ferry_rn "
           f"FROM {d.qualify(select.table)} WHERE {pred}) s WHERE {mod} = 0 ORDER BY {cols}")
    return [tuple(r) for r in conn.query(sql, params)]


def _ranges_between(krange: KeyRange, bounds: list[tuple]) -> list[KeyRange]:
    """Sub-ranges of ``krange`` cut at ``bounds`` (ascending, inside the range)."""
    edges = [krange.lower, *bounds, krange.upper]
    parts = [KeyRange(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
    return [p for p in parts if p.lower is None or p.upper is None or p.lower != p.upper]


def normalize_key(key: tuple) -> tuple:
    """A key comparable across engines and journal round trips (ints and text kept,
    anything else as text)."""
    return tuple(str(v) if not isinstance(v, (int, str)) else v for v in key)


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
    ``jobs // tables`` pairs per table when there are fewer tables than jobs."""
    per_table = max(1, jobs // max(1, len(work)))

    def one(item) -> TableResult:
        table, ranges, rejected = item
        pairs = [(with_functions(source.clone(), table), target.clone())
                 for _ in range(max(1, min(per_table, len(ranges))) if table.key else 1)]
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
