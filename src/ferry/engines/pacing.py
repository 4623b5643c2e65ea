"""Sizes of the first checksums of a table with a single integer key.

A differing segment is searched again (:class:`ferry.engines.bisect.Bisector`),
so the rows a search re-reads are the differing segments' rows: with 10
modified rows in 10 of 20 segments of 100,000 rows, about 1 M of a 2 M-row
table. Smaller segments re-read less and cost more queries when the tables
are equal (about 3-4 ms per pair of queries between PostgreSQL and MariaDB,
against 1.2-2.5 us per row: computed from paired runs of 10,000- against
100,000-row segments on two cores, see ``bench/RESULTS.md``).

So each planned range (``checks.segment_rows``) is walked in pieces whose
size is chosen when the piece is taken, from what the pieces before it found:

- the first pieces of a table hold ``sqrt(OVERHEAD_ROWS * segment_rows)``
  rows, and while every piece matches the size doubles with each match, up
  to the planned range (an equal table costs a few more queries than planned,
  and a difference near the start is not searched in a whole segment);
- while every piece differs the size stays at the first size (a systematic
  difference, such as sums over stored JSON text, is checked again another
  way, see :meth:`ferry.engines.bisect.Lanes.settle`);
- once some differ and some match, pieces hold about
  ``sqrt(OVERHEAD_ROWS * rows per differing piece)`` rows, the size at which
  the queries' overhead and the re-read cost the same (the square-root rule of
  a fixed cost per query against a cost per row re-read).

A piece never holds fewer than ``min_rows`` rows nor more than ``segment_rows``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator

from ferry.connectors.base import KeyRange

# rows whose hashing costs what one more query pair costs (see the module docstring)
OVERHEAD_ROWS = 2000


class Pacer:
    """Walks planned key ranges of one integer key in pieces sized by what
    earlier pieces found (see the module docstring). Thread-safe: every lane
    of a table shares one.

    Args:
        bounds: ``(lowest, highest)`` key over both sides (ints), or None
            when both are empty; it closes the planned ranges' open ends.
        segment_rows: the planned rows per range (the largest piece).
        min_rows: the smallest piece, in rows.
        estimate: the engine's estimate of the table's rows (0: unknown);
            over ``bounds`` it gives the rows per key value until pieces are
            recorded. Unknown, a lane's first piece is its whole range.
    """

    def __init__(self, bounds: tuple[int, int] | None, segment_rows: int, min_rows: int,
                 estimate: int = 0) -> None:
        self.bounds, self.segment_rows, self.min_rows = bounds, segment_rows, min_rows
        self.rows = self.values = self.differing = self.matched = 0
        self._estimated_density = estimate / (bounds[1] - bounds[0] + 1) if bounds and estimate > 0 else 0.0
        self._lock = threading.Lock()

    def piece_rows(self) -> int:
        """Rows for the next piece (see the module docstring)."""
        first = math.sqrt(OVERHEAD_ROWS * self.segment_rows)
        with self._lock:
            if not self.differing:
                rows = first * 2 ** min(self.matched, 32)
            elif not self.matched:
                rows = first
            else:
                rows = math.sqrt(OVERHEAD_ROWS * self.rows / self.differing)
        return int(min(self.segment_rows, max(self.min_rows, rows)))

    def walk(self, krange: KeyRange) -> Iterator[KeyRange]:
        """The pieces of ``krange`` in key order, each cut when it is asked
        for, to about :meth:`piece_rows` rows (by the rows per key value seen
        so far, or, before any, by the estimate). Record each piece before
        asking for the next."""
        span = self._span(krange)
        if span is None:
            yield krange
            return
        lo, hi = span
        lower, at = krange.lower, lo
        while True:
            with self._lock:
                density = self.rows / self.values if self.values else self._estimated_density
            width = max(1, math.ceil(self.piece_rows() / density)) if density else hi - at
            if at + width + width // 2 >= hi:
                yield KeyRange(lower, krange.upper)
                return
            at += width
            yield KeyRange(lower, (at,))
            lower = (at,)

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
