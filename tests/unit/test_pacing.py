"""The first checksums' pieces (:mod:`ferry.engines.pacing`): cover the range,
start small, double while they match, follow the square-root rule once some differ."""

from __future__ import annotations

import math

from ferry.connectors.base import KeyRange
from ferry.engines.pacing import OVERHEAD_ROWS, Pacer


def _seen(pacer: Pacer, differing: int, matching: int, rows: int = 100_000) -> None:
    for i in range(differing + matching):
        pacer.record(KeyRange((i * rows,), ((i + 1) * rows,)), rows, i < differing)


def _walk(pacer: Pacer, krange: KeyRange, differs=lambda piece: False) -> list[KeyRange]:
    """Every piece of ``krange``, each recorded (one row per key value) before the next."""
    pieces = []
    for piece in pacer.walk(krange):
        lo, hi = pacer._span(piece)
        pacer.record(piece, hi - lo, differs(piece))
        pieces.append(piece)
    return pieces


def _covers(pieces: list[KeyRange], krange: KeyRange) -> bool:
    return (pieces[0].lower == krange.lower and pieces[-1].upper == krange.upper
            and all(a.upper == b.lower for a, b in zip(pieces, pieces[1:])))


def test_equal_tables_start_small_and_double_up_to_the_planned_range():
    pacer = Pacer((0, 999_999), 100_000, 4000, estimate=1_000_000)
    first = int(math.sqrt(OVERHEAD_ROWS * 100_000))
    assert pacer.piece_rows() == first
    head = _walk(pacer, KeyRange(None, (100_000,)))
    sizes = [p.upper[0] - (p.lower[0] if p.lower else 0) for p in head]
    assert sizes == [first, 2 * first, 100_000 - 3 * first] and _covers(head, KeyRange(None, (100_000,)))
    assert _walk(pacer, KeyRange((100_000,), (200_000,))) == [KeyRange((100_000,), (200_000,))]
    assert pacer.piece_rows() == 100_000


def test_pieces_stay_small_while_every_one_differs():
    pacer = Pacer((0, 999_999), 100_000, 4000)
    _seen(pacer, 3, 0)
    assert pacer.piece_rows() == int(math.sqrt(OVERHEAD_ROWS * 100_000))


def test_pieces_follow_the_square_root_rule_and_cover_the_range():
    pacer = Pacer((1, 2_000_000), 100_000, 4000)
    _seen(pacer, 1, 1)                   # one difference in 200,000 rows
    rows = pacer.piece_rows()
    assert rows == int(math.sqrt(OVERHEAD_ROWS * 200_000))
    for krange in (KeyRange((400_000,), (500_000,)), KeyRange(None, (100_001,)), KeyRange((1_900_000,), None)):
        parts = _walk(pacer, krange)
        assert len(parts) >= 2 and _covers(parts, krange)


def test_a_difference_inside_a_range_shrinks_the_pieces_after_it():
    pacer = Pacer((0, 999_999), 100_000, 4000)
    _seen(pacer, 1, 2)
    before = pacer.piece_rows()
    parts = _walk(pacer, KeyRange((300_000,), (400_000,)), differs=lambda p: p.lower == (300_000,))
    after = [p.upper[0] - p.lower[0] for p in parts[1:-1]]
    assert len(parts) > 2 and _covers(parts, KeyRange((300_000,), (400_000,)))
    assert max(after) < parts[0].upper[0] - 300_000 and pacer.piece_rows() < before


def test_many_differences_stop_at_the_smallest_piece():
    pacer = Pacer((0, 999_999), 100_000, 4000)
    _seen(pacer, 50, 1, rows=1000)
    assert pacer.piece_rows() == 4000
    assert list(Pacer(None, 100_000, 4000).walk(KeyRange())) == [KeyRange()]


def test_without_an_estimate_the_first_piece_is_the_whole_range():
    pacer = Pacer((0, 999_999), 100_000, 4000)
    assert _walk(pacer, KeyRange(None, (100_000,))) == [KeyRange(None, (100_000,))]
    assert len(_walk(pacer, KeyRange((100_000,), (200_000,)))) == 2     # 28,284 rows, then the rest
