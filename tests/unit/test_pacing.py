"""The first checksums' pieces (:mod:`ferry.engines.pacing`): cover the range, follow the square-root rule."""

from __future__ import annotations

import math

from ferry.connectors.base import KeyRange
from ferry.engines.pacing import OVERHEAD_ROWS, Pacer


def _seen(pacer: Pacer, differing: int, matching: int, rows: int = 100_000) -> None:
    for i in range(differing + matching):
        pacer.record(KeyRange((i * rows,), ((i + 1) * rows,)), rows, i < differing)


def test_planned_ranges_stay_whole_until_one_differs_and_one_matches():
    for differing, matching in ((0, 3), (3, 0)):
        pacer = Pacer((0, 999_999), 100_000, 4000)
        _seen(pacer, differing, matching)
        assert pacer.piece_rows() == 100_000
        assert pacer.pieces(KeyRange((300_000,), (400_000,))) == [KeyRange((300_000,), (400_000,))]


def test_pieces_follow_the_square_root_rule_and_cover_the_range():
    pacer = Pacer((1, 2_000_000), 100_000, 4000)
    _seen(pacer, 1, 1)                   # one difference in 200,000 rows
    rows = pacer.piece_rows()
    assert rows == int(math.sqrt(OVERHEAD_ROWS * 200_000))
    for krange, span in ((KeyRange((400_000,), (500_000,)), 100_000), (KeyRange(None, (100_001,)), 100_000),
                         (KeyRange((1_900_000,), None), 100_001)):
        parts = pacer.pieces(krange)
        assert len(parts) == math.ceil(span / rows)      # one row per key value so far
        assert parts[0].lower == krange.lower and parts[-1].upper == krange.upper
        assert all(a.upper == b.lower for a, b in zip(parts, parts[1:]))


def test_many_differences_stop_at_the_smallest_piece():
    pacer = Pacer((0, 999_999), 100_000, 4000)
    _seen(pacer, 50, 1, rows=1000)
    assert pacer.piece_rows() == 4000
    assert Pacer(None, 100_000, 4000).pieces(KeyRange()) == [KeyRange()]
