"""Sizes of the first checksums of a table with a single integer key.

A differing segment is searched again (:class:`ferry.engines.bisect.Bisector`),
so the rows a search re-reads are the differing segments' rows: with 10
modified rows in 10 of 20 segments of 100,000 rows, about 1 M of a 2 M-row
table. Smaller segments re-read less and cost more queries when the tables
are equal (about 3-4 ms per pair of queries between PostgreSQL and MariaDB,
against 1.2-2.5 us per row: computed from paired runs of 10,000- against
100,000-row segments on two cores, see ``bench/RESULTS.md``).

So the first checksums keep their planned ranges (``checks.segment_rows``)
while no segment differs, or every one does (a systematic difference, such
as sums over stored JSON text, is checked again another way, see
:meth:`ferry.engines.bisect.Lanes.settle`), and once some differ and some
match, each planned range still to be
checked is cut by key value into pieces of about
``sqrt(OVERHEAD_ROWS * rows per differing segment)`` rows, the size at which
the queries' overhead and the re-read cost the same (the square-root rule of
a fixed cost per query against a cost per row re-read), never under
``4 * threshold`` rows. Equal tables are checked exactly as planned.
"""

from __future__ import annotations

import math
import threading

from ferry.connectors.base import KeyRange
from ferry.engines.chunks import ranges_between, value_bounds

# rows whose hashing costs what one more query pair costs (see the module docstring)
OVERHEAD_ROWS = 2000


class Pacer:
    """Cuts planned key ranges of one integer key into smaller first
    checksums once differences are seen (see the module docstring).
    Thread-safe: every lane of a table shares one.

    Args:
        bounds: ``(lowest, highest)`` key over both sides (ints), or None
            when both are empty; it closes the planned ranges' open ends.
        segment_rows: the planned rows per range (the largest piece).
        min_rows: the smallest piece, in rows.
    """

    def __init__(self, bounds: tuple[int, int] | None, segment_rows: int, min_rows: int) -> None:
        self.bounds, self.segment_rows, self.min_rows = bounds, segment_rows, min_rows
        self.rows = self.values = self.differing = self.matched = 0
        self._lock = threading.Lock()

    def piece_rows(self) -> int:
        """Rows per piece now: ``segment_rows`` until one segment differed and another matched."""
        with self._lock:
            if not self.differing or not self.matched:
                return self.segment_rows
            per_difference = self.rows / self.differing
        return int(min(self.segment_rows, max(self.min_rows, math.sqrt(OVERHEAD_ROWS * per_difference))))

    def pieces(self, krange: KeyRange) -> list[KeyRange]:
        """``krange`` cut by key value into pieces of about :meth:`piece_rows`
        rows (by the rows per key value seen so far), or ``[krange]``."""
        rows, span = self.piece_rows(), self._span(krange)
        with self._lock:
            density = self.rows / self.values if self.values else 0.0
        if rows >= self.segment_rows or span is None or not density:
            return [krange]
        lo, hi = span
        count = min(hi - lo, math.ceil((hi - lo) * density / rows))
        if count < 2:
            return [krange]
        return ranges_between(krange, value_bounds(lo, hi, count))

    def record(self, krange: KeyRange, rows: int, differs: bool) -> None:
        """Note one checked piece: its rows (the larger side) and whether it differed."""
        span = self._span(krange)
        with self._lock:
            self.rows += rows
            self.differing += differs
            self.matched += not differs
            if span is not None:
                self.values += span[1] - span[0]

    def _span(self, krange: KeyRange) -> tuple[int, int] | None:
        """``[lo, hi)`` key values of ``krange``, open ends closed by ``bounds``."""
        if self.bounds is None:
            return None
        lo = krange.lower[0] if krange.lower is not None else self.bounds[0]
        hi = krange.upper[0] if krange.upper is not None else self.bounds[1] + 1
        return (lo, hi) if hi > lo else None
