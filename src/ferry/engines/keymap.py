"""Key remapping at copy time: new keys, key map rows, rewritten references.

For a table with a :class:`~ferry.transform.keymap.Remap`, every batch read
from the source gets new key values (UUID v4, UUID v7 per RFC 9562 section
5.7, or the next numbers of a sequence), and the ``(old_key, new_key)`` pairs
are written to the key map in the chunk's own target transaction, before the
rows: a chunk's rows and its mappings commit together or not at all. For a
table with :class:`~ferry.transform.keymap.Rewrite` columns, the batch's
distinct values are looked up in the parent's key map on the target (one query
per 500 values); a value with no mapping (an orphan reference in the source)
makes the row a reject with that reason, never a silent NULL.

Rewriting a chunk (resume, retry) deletes the target rows whose new keys the
key map holds for the chunk's old-key range, then those mappings; for a table
whose key is a rewritten reference, its rows whose key the parent's key map
holds for that range (:func:`clear_chunk`).
"""

from __future__ import annotations

import os
import threading
import time
import uuid

from ferry.catalog.model import Table
from ferry.connectors.base import Connector, KeyRange, Reject
from ferry.errors import TerminalError
from ferry.transform import sqlparts as sp
from ferry.transform.keymap import Remap, Rewrite

LOOKUP_BATCH = 500


def uuid7() -> str:
    """A UUID version 7 (RFC 9562, 5.7): 48-bit Unix time in milliseconds,
    then 74 random bits; time-ordered, so a btree index on it stays compact."""
    ms = time.time_ns() // 1_000_000 & (1 << 48) - 1
    rand = int.from_bytes(os.urandom(10), "big")
    value = ms << 80 | 0x7 << 76 | (rand >> 62 & 0xFFF) << 64 | 0b10 << 62 | rand & (1 << 62) - 1
    return str(uuid.UUID(int=value))


class KeyRewriter:
    """Rewrites batches of tables with remapped keys or rewritten references (one per copy
    engine, shared by its workers; the sequence counters are locked)."""

    def __init__(self) -> None:
        self._next: dict[str, int] = {}
        self._lock = threading.Lock()

    def rewrite(self, tgt: Connector, table, batch: list[tuple]) -> tuple[list[list], list[tuple], list[Reject]]:
        """``(rows to write, as lists, their source rows, rejects)`` for one
        batch read by ``table.read``. Writes the batch's key map rows on
        ``tgt`` (in the current transaction)."""
        rows, rejects = [list(r) for r in batch], []
        originals = list(batch)
        for rewrite in table.rewrites:
            rows, originals, missing = _rewrite_references(tgt, rewrite, rows, originals)
            rejects += missing
        if table.remap is not None and rows:
            pairs = self._new_keys(tgt, table.remap, rows)
            tgt.write(table.remap.keymap, ["old_key", "new_key"], pairs)
        return rows, originals, rejects

    def _new_keys(self, tgt: Connector, remap: Remap, rows: list[list]) -> list[tuple]:
        news = self._generate(tgt, remap, len(rows))
        pairs = []
        for row, new in zip(rows, news):
            pairs.append((row[remap.position], new))
            row[remap.position] = new
        return pairs

    def _generate(self, tgt: Connector, remap: Remap, n: int) -> list:
        if remap.kind == "uuid4":
            return [str(uuid.uuid4()) for _ in range(n)]
        if remap.kind == "uuid7":
            return [uuid7() for _ in range(n)]
        name = remap.keymap.qualified
        with self._lock:
            if name not in self._next:
                q = tgt.dialect.quote
                top = tgt.query(f"SELECT MAX({q('new_key')}) FROM {tgt.dialect.qualify(remap.keymap)}")[0][0]
                self._next[name] = int(top or 0) + 1
            start = self._next[name]
            self._next[name] = start + n
        return list(range(start, start + n))


def _rewrite_references(tgt: Connector, rewrite: Rewrite, rows: list[list], originals: list[tuple]):
    """Replace ``rows[i][rewrite.position]`` by its new key; rows whose value
    has no mapping leave the batch as rejects."""
    wanted = {r[rewrite.position] for r in rows if r[rewrite.position] is not None}
    found = fetch_mapping(tgt, rewrite.keymap, list(wanted))
    kept, kept_originals, missing = [], [], []
    for row, original in zip(rows, originals):
        value = row[rewrite.position]
        if value is not None and value not in found:
            missing.append(Reject(original, f"no {rewrite.parent} row has key {value!r}: the reference "
                                            "cannot be rewritten to the new key", rewrite.column))
            continue
        if value is not None:
            row[rewrite.position] = found[value]
        kept.append(row)
        kept_originals.append(original)
    return kept, kept_originals, missing


def fetch_mapping(tgt: Connector, keymap, old_keys: list) -> dict:
    """``{old_key: new_key}`` for ``old_keys`` from the key map on ``tgt``."""
    q, engine = tgt.dialect.quote, tgt.dialect.name
    out = {}
    for i in range(0, len(old_keys), LOOKUP_BATCH):
        values = ", ".join(sp.literal(v, engine) for v in old_keys[i:i + LOOKUP_BATCH])
        sql = (f"SELECT {q('old_key')}, {q('new_key')} FROM {tgt.dialect.qualify(keymap)} "
               f"WHERE {q('old_key')} IN ({values})")
        out.update(dict(tgt.query(sql)))
    return out


def key_in_keymap(table) -> tuple[str, Table] | None:
    """``(target column, key map)`` when ``table``'s target key holds new keys
    whose old ones are the chunk ranges' source keys: its own remapped key,
    or a key that is a reference rewritten through its parent's key map.

    Raises:
        TerminalError: the key is composite and holds a rewritten reference.
    """
    if table.remap is not None:
        return table.remap.column, table.remap.keymap
    key = table.hash_target.key
    rewritten = [w for w in table.rewrites if w.column in key]
    if not rewritten:
        return None
    if len(key) > 1:
        raise TerminalError(f"{table.name}: rewriting a chunk whose composite key holds rewritten "
                            "references is not supported yet",
                            "run the copy again from the start (--if-exists drop)")
    return rewritten[0].column, rewritten[0].keymap


def clear_chunk(tgt: Connector, table, krange: KeyRange, column: str, keymap: Table) -> None:
    """Delete the target rows of ``krange`` (old keys) of a table whose key
    ``column`` holds new keys of ``keymap`` (:func:`key_in_keymap`), through
    the key map: comparing new keys with old-key bounds would delete other
    chunks' rows. A remapped table's own mappings of the range go too; a
    parent's stay."""
    d = tgt.dialect
    pred, params = d.range_predicate(["old_key"], krange)
    q, mapping = d.quote, d.qualify(keymap)
    tgt.execute(f"DELETE FROM {d.qualify(table.target)} WHERE {q(column)} IN "
                f"(SELECT {q('new_key')} FROM {mapping} WHERE {pred})", params)
    if table.remap is not None:
        tgt.execute(f"DELETE FROM {mapping} WHERE {pred}", params)
