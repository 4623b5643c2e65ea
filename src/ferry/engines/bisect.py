"""The bisection of one table's differing segments (see :mod:`ferry.engines.validate`):
segment checksums on both sides, splits, leaves whose row hashes are compared,
and the connection pairs (lanes) a table's work is spread over."""

from __future__ import annotations

import datetime as dt
import math
import queue
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ferry.catalog.model import INTEGER_KINDS, DataType, Kind
from ferry.connectors.base import (ORDERED_MD5, PG_HASH, PG_RAW, SEGMENT_SHA256, SUM_MD5, Connector, Dialect, KeyRange,
                                  Select)
from ferry.engines.chunks import is_integer_key, ranges_between, value_bounds
from ferry.transform.mapping import ResolvedTable

if TYPE_CHECKING:
    from ferry.engines.pacing import Pacer
    from ferry.engines.validate import BisectOptions, TableResult

MAX_DEPTH = 16


@dataclass
class Diff:
    """Per-table accumulator: one-sided rows (key -> hash) and modified keys per leaf."""

    src_only: dict = field(default_factory=dict)
    tgt_only: dict = field(default_factory=dict)
    modified: list = field(default_factory=list)      # (key, source leaf, target leaf)


def checksum_mode(source: Dialect, target: Dialect, table: ResolvedTable) -> str:
    """The segment checksum variant (:data:`ferry.connectors.base.CHECKSUM_MODES`)
    for ``table``: ``pg-raw`` (or ``pg-hash``) when both engines offer it, else
    ``sha256-segment`` (or ``md5-ordered``) for a single integer key on both sides
    when both offer it, else ``md5-sum``."""
    shared = set(source.checksum_modes) & set(target.checksum_modes)
    for mode in (PG_RAW, PG_HASH):
        if mode in shared:
            return mode
    integer = is_integer_key(table) and table.target.column(table.hash_target.key[0]).type.kind in INTEGER_KINDS
    return next((m for m in (SEGMENT_SHA256, ORDERED_MD5) if integer and m in shared), SUM_MD5)


def json_as_text(select: Select) -> Select:
    """``select`` with its JSON values hashed as their stored text (a JSON
    document copied as text is equal on both sides without the costly
    canonical rendering; canonical JSON is computed only when such sums
    differ)."""
    exprs = tuple((e, DataType(Kind.TEXT) if t.kind == Kind.JSON else t) for e, t in select.exprs)
    return select if exprs == select.exprs else Select(select.table, exprs, select.key, select.where)


class Bisector:
    """Recursive search of one table's differing segments (see the module docstring)."""

    def __init__(self, source, target, table: ResolvedTable, rejected: set, options: "BisectOptions",
                 result: "TableResult", diff: "Diff") -> None:
        self.source, self.target, self.table = source, target, table
        self.rejected, self.options, self.result, self.diff = rejected, options, result, diff
        self.integer_key = is_integer_key(table)
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
        ``GROUP_CONCAT``) is computed again: a ``sha256-segment`` as
        ``md5-ordered``, which this table then keeps (its segments' texts are
        too long), an ``md5-ordered`` as ``md5-sum``."""
        while True:
            src, tgt = self.both("checksum", krange, mode, selects=self.hashed)
            self.result.checksum_queries += 1
            if (src.exact and tgt.exact) or mode == SUM_MD5:
                return src, tgt
            if mode == SEGMENT_SHA256:
                self.mode = mode = ORDERED_MD5
            else:
                mode = SUM_MD5

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
        bounds = conn.sample_keys(select.table, select.key, every, krange)
        return ranges_between(krange, bounds)

    def _split_integer(self, krange: KeyRange) -> list[KeyRange]:
        pending = self.pool.submit(_int_bounds, self.source, self.table.read, krange)
        tlow, thigh = _int_bounds(self.target, self.table.hash_target, krange)
        low, high = pending.result()
        lows = [v for v in (low, tlow) if v is not None]
        highs = [v for v in (high, thigh) if v is not None]
        if not lows:
            return []
        return ranges_between(krange, value_bounds(min(lows), max(highs) + 1, self.options.factor))

    def leaf(self, krange: KeyRange) -> None:
        """Download both sides' row hashes of ``krange`` and record the differences."""
        src, tgt = self._row_hashes(krange, self.hashed)
        self.result.leaves += 1
        if self.hashed != self.canonical:
            self._canonical_where_differing(krange, src, tgt)
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

    def _row_hashes(self, krange: KeyRange, selects: tuple) -> tuple[dict, dict]:
        """Both sides' ``{normalised key: row hash}`` of ``krange`` over ``selects``."""
        src_hashes, tgt_hashes = self.both("row_hashes", krange, selects=selects)
        self.result.hashed_rows += len(src_hashes) + len(tgt_hashes)
        return ({normalize_key(k): h for k, h in src_hashes.items()},
                {normalize_key(k): h for k, h in tgt_hashes.items()})

    def _canonical_where_differing(self, krange: KeyRange, src: dict, tgt: dict) -> None:
        """Replace, in place, the hashes of rows that differ over stored JSON
        text with their canonical hashes (equal documents stored differently
        are equal; canonical JSON costs about 30 us per document on MariaDB, so
        only the rows between the first and last differing integer key are
        hashed again, or the leaf for other keys). A key on one side only keeps
        its hash unless it may meet its twin in another leaf (text keys under
        collations that order them differently)."""
        differing = {k for k in src.keys() & tgt.keys() if src[k] != tgt[k]}
        if not self.integer_key:
            differing |= src.keys() ^ tgt.keys()
        if not differing:
            return
        if self.integer_key:
            keys = sorted(k[0] for k in differing)
            krange = KeyRange((keys[0],), (keys[-1] + 1,))
        csrc, ctgt = self._row_hashes(krange, self.canonical)
        for side, canonical in ((src, csrc), (tgt, ctgt)):
            for k in differing & side.keys():
                side[k] = canonical.get(k, side[k])


class Lanes:
    """One table's bisectors, one per connection pair: the first is the
    table's own (its result and diff are the table's), the others run its
    segments at the same time and hand their findings back on :meth:`close`.

    Args:
        main: the table's :class:`Bisector`.
        pairs: further ``(source, target)`` connection pairs.
    """

    def __init__(self, main: Bisector, pairs: tuple = ()) -> None:
        self.main = main
        self.all = [main] + [Bisector(src, tgt, main.table, main.rejected, main.options,
                                      type(main.result)(main.result.table, main.result.target), Diff())
                             for src, tgt in pairs]
        self.idle: queue.SimpleQueue = queue.SimpleQueue()
        for b in self.all:
            self.idle.put(b)

    def map(self, fn, items: list) -> list:
        """``[fn(bisector, item)]`` in ``items`` order, each on whichever bisector is idle."""
        if len(self.all) == 1 or len(items) < 2:
            return [fn(self.main, item) for item in items]

        def one(item):
            lane = self.idle.get()
            try:
                return fn(lane, item)
            finally:
                self.idle.put(lane)

        with ThreadPoolExecutor(max_workers=len(self.all)) as pool:
            return list(pool.map(one, items))

    def share_mode(self) -> None:
        """Every bisector goes on with the main one's mode and hashed selects;
        a lane's ``sha256-segment`` text that was cut moves the main one to
        ``md5-ordered`` first (the next segments' texts would be cut too)."""
        if self.main.mode == SEGMENT_SHA256:
            self.main.mode = next((b.mode for b in self.all if b.mode != SEGMENT_SHA256), SEGMENT_SHA256)
        for b in self.all[1:]:
            b.mode, b.hashed = self.main.mode, self.main.hashed

    def first_checksums(self, ranges: list[KeyRange], pacer: "Pacer | None" = None) -> list[tuple]:
        """``[(range, source checksum, target checksum)]`` in key order: one per
        range of ``ranges``, or per piece of the ``pacer``'s walk through each."""
        def one(lane: Bisector, krange: KeyRange) -> list[tuple]:
            checked = []
            for part in pacer.walk(krange) if pacer else (krange,):
                src, tgt = lane.checksums(part, lane.mode)
                if pacer:
                    pacer.record(part, max(src.count, tgt.count), not src.matches(tgt))
                checked.append((part, src, tgt))
            return checked
        return [c for checked in self.map(one, ranges) for c in checked]

    def settle(self, differing: list, matched: bool) -> None:
        """Search the segments whose first checksums differ, each on an idle lane.

        ``pg-raw`` sums, and sums over JSON as stored text, are equal only
        when both sides store alike (the same column types, JSON copied as
        text): when no segment matched they are checked again over canonical
        texts (``pg-hash`` for ``pg-raw``) and the search goes on with those."""
        main = self.main
        self.share_mode()
        if not matched and (main.mode == PG_RAW or main.hashed != main.canonical):
            main.mode = PG_HASH if main.mode == PG_RAW else main.mode
            main.hashed = main.canonical
            differing = self._again(differing, main.mode)
        if not matched:
            differing = self._confirm_order(differing)
        self.map(lambda lane, d: lane.descend(d[0], 0, d[1], d[2]), differing)

    def _again(self, differing: list, mode: str) -> list:
        """The segments of ``differing`` whose checksums still differ in ``mode``
        (every lane switched to it)."""
        self.share_mode()
        again = self.map(lambda lane, k: (k, *lane.checksums(k, mode)), [k for k, _, _ in differing])
        return [(k, src, tgt) for k, src, tgt in again if not src.matches(tgt)]

    def _confirm_order(self, differing: list) -> list:
        """``sha256-segment`` hashes rows in the order each engine reads them.
        When no segment matched, the first differing segment with equal counts is
        checked again with ``md5-ordered`` (which sorts); when that matches,
        the engines read in different orders (a MyISAM table scan returns rows
        as inserted): the table goes on with ``md5-ordered`` and every other
        differing segment is checked again. When some segments matched, the engines
        read in key order and a differing segment differs in its rows; were one
        read out of order all the same, its search would find no row and cost
        time, never a wrong result."""
        main = self.main
        if main.mode != SEGMENT_SHA256:
            return differing
        first = next((k for k, src, tgt in differing if src.count == tgt.count), None)
        if first is None:
            return differing
        src, tgt = main.checksums(first, ORDERED_MD5)
        if not src.matches(tgt):
            return differing
        main.mode = ORDERED_MD5
        return self._again([d for d in differing if d[0] != first], ORDERED_MD5)

    def close(self) -> None:
        """Add the lanes' work and findings to the main bisector's; release their threads."""
        main = self.main
        for b in self.all:
            if b is not main:
                for name in ("checksum_queries", "leaves", "hashed_rows", "rejected_seen"):
                    setattr(main.result, name, getattr(main.result, name) + getattr(b.result, name))
                main.diff.src_only.update(b.diff.src_only)
                main.diff.tgt_only.update(b.diff.tgt_only)
                main.diff.modified.extend(b.diff.modified)
            b.pool.shutdown()


def _int_bounds(conn: Connector, select: Select, krange: KeyRange) -> tuple:
    """(min, max) of the single integer key of ``select`` inside ``krange``."""
    low, high = conn.key_bounds(select.table, select.key, krange)
    return (None, None) if low is None else (int(low), int(high))


# a timestamp with a UTC offset as text (SQLite holds a timestamptz so: see ferry.connectors.sqlite)
_OFFSET_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\d[ T]\d\d:\d\d:\d\d(?:\.\d+)?[+-]\d\d:\d\d")


def normalize_key(key: tuple) -> tuple:
    """A key comparable across engines and journal round trips (ints and text kept,
    anything else as text). A timestamp with a time zone, as a datetime or as
    text with an offset, becomes its UTC wall time: PostgreSQL reads a
    ``timestamptz`` key with its zone, MySQL holds it as UTC without one,
    SQLite as text with ``+00:00``."""
    return tuple(_normal(v) for v in key)


def _normal(value):
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        if not _OFFSET_TIMESTAMP.fullmatch(value):
            return value
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return str(value)
