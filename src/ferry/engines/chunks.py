"""Split a table into chunks (key ranges) and encode their bounds for the journal.

Integer single-column keys are split by value range (no scan); other and
composite keys by keyset sampling (every ``chunk_rows``-th key in key order).
A table without a key is one chunk, copied as one stream.
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

from ferry.connectors.base import Connector, KeyRange
from ferry.transform.mapping import ResolvedTable


def plan_chunks(conn: Connector, table: ResolvedTable, chunk_rows: int) -> list[KeyRange]:
    """The key ranges that cover every row of ``table`` (ascending, disjoint).

    Args:
        conn: a source connector.
        chunk_rows: the aimed-at rows per chunk.
    """
    key = table.key
    if not key:
        return [KeyRange()]
    rows = conn.count(table.source) if table.source.row_estimate <= 0 else table.source.row_estimate
    if rows <= chunk_rows:
        return [KeyRange()]
    if is_integer_key(table):
        return _integer_ranges(conn, table, rows, chunk_rows)
    return ranges_between(KeyRange(), conn.sample_keys(table.source, key, chunk_rows))


def is_integer_key(table: ResolvedTable) -> bool:
    """True when ``table``'s key is one column of an integer type."""
    from ferry.catalog.model import INTEGER_KINDS

    return len(table.key) == 1 and table.source.column(table.key[0]).type.kind in INTEGER_KINDS


def _integer_ranges(conn, table, rows: int, chunk_rows: int) -> list[KeyRange]:
    low, high = conn.key_bounds(table.source, table.key)
    if low is None or not isinstance(low, int):
        return [KeyRange()]
    return ranges_between(KeyRange(), value_bounds(low, high + 1, max(1, math.ceil(rows / chunk_rows))))


def value_bounds(low: int, end: int, parts: int) -> list[tuple]:
    """Cut points ``(v,)`` that split the integer values ``[low, end)`` into
    ``parts`` ranges of equal width (fewer when the values run out)."""
    step = max(1, math.ceil((end - low) / parts))
    return [(low + i * step,) for i in range(1, parts) if low + i * step < end]


def ranges_between(krange: KeyRange, bounds: list[tuple]) -> list[KeyRange]:
    """Sub-ranges of ``krange`` cut at ``bounds`` (ascending, inside the range)."""
    edges = [krange.lower, *bounds, krange.upper]
    parts = [KeyRange(edges[i], edges[i + 1]) for i in range(len(edges) - 1)]
    return [p for p in parts if p.lower is None or p.upper is None or p.lower != p.upper]


def encode_value(value):
    """A JSON-able form of a key value (tagged for non-JSON types)."""
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, Decimal):
        return {"decimal": str(value)}
    if isinstance(value, dt.datetime):
        return {"datetime": value.isoformat()}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, bytes):
        return {"bytes": value.hex()}
    return {"str": str(value)}


def decode_value(value):
    """Inverse of :func:`encode_value`."""
    if not isinstance(value, dict):
        return value
    (tag, text), = value.items()
    return {"decimal": Decimal, "datetime": dt.datetime.fromisoformat, "date": dt.date.fromisoformat,
            "bytes": bytes.fromhex, "str": str}[tag](text)


def encode_range(krange: KeyRange) -> dict:
    """A JSON-able dict for the journal."""
    enc = (lambda b: None if b is None else [encode_value(v) for v in b])
    return {"lower": enc(krange.lower), "upper": enc(krange.upper)}


def decode_range(spec: dict) -> KeyRange:
    """Inverse of :func:`encode_range`."""
    dec = (lambda b: None if b is None else tuple(decode_value(v) for v in b))
    return KeyRange(dec(spec.get("lower")), dec(spec.get("upper")))
