"""The copy engine: chunks copied in parallel, each idempotent and retried.

One chunk = one target transaction: (delete the key range when the chunk may
hold rows from an earlier attempt) -> read batches from the source -> write
them, isolating refused rows into rejects -> commit -> journal ``done``. A
crash anywhere before the journal write leaves the chunk ``started``; the next
run deletes its key range and writes it again, so the result equals an
uninterrupted run.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Callable

from ferry.connectors.base import Connector, KeyRange, Reject, Select
from ferry.engines.chunks import decode_range, encode_value
from ferry.engines.functions import apply_functions
from ferry.engines.keymap import KeyRewriter, clear_chunk, key_in_keymap
from ferry.engines.native import CopyPath, choose_path
from ferry.engines.retry import with_retries
from ferry.errors import RejectError
from ferry.state.events import Events
from ferry.state.journal import ActionRow, Journal
from ferry.transform.mapping import ResolvedTable


@dataclass
class CopySettings:
    """``jobs`` workers; ``batch_rows`` rows per read/write batch;
    ``native_copy`` False keeps PostgreSQL -> PostgreSQL on the row path."""

    jobs: int
    batch_rows: int
    native_copy: bool = True


class _Workers(threading.local):
    pair: tuple[Connector, Connector] | None = None


class CopyEngine:
    """Copies planned chunk actions from ``source`` to ``target``.

    ``source`` and ``target`` are prototype connectors; each worker thread
    clones its own pair (PostgreSQL clones join the exported snapshot).
    """

    def __init__(self, source: Connector, target: Connector, journal: Journal, run_id: str,
                 events: Events, settings: CopySettings) -> None:
        self.source, self.target = source, target
        self.journal, self.run_id, self.events = journal, run_id, events
        self.settings = settings
        self._local = _Workers()
        self._opened: list[Connector] = []
        self._paths: dict[str, CopyPath] = {}
        self._left: Counter = Counter()
        self._on_table_done = None
        self._opened_lock = threading.Lock()
        self._keys = KeyRewriter()

    def run(self, work: list[tuple[ResolvedTable, ActionRow]],
            on_table_done: Callable[[ResolvedTable, Connector], None] | None = None) -> None:
        """Copy every ``(table, action)``; raises the first terminal error.

        ``on_table_done(table, target)`` runs in the worker that copied a
        table's last chunk, with that worker's target connection (no open
        transaction), while the other workers go on with other tables.
        """
        self._left = Counter(t.name for t, _ in work)
        self._on_table_done = on_table_done
        try:
            with ThreadPoolExecutor(max_workers=max(1, self.settings.jobs)) as pool:
                futures = [pool.submit(self._copy_action, t, a) for t, a in work]
                for future in as_completed(futures):
                    future.result()
        finally:
            with self._opened_lock:
                for conn in self._opened:
                    conn.close()
                self._opened.clear()

    def _pair(self, fresh: bool = False) -> tuple[Connector, Connector]:
        if fresh and self._local.pair:
            for conn in self._local.pair:
                conn.close()
            self._local.pair = None
        if self._local.pair is None:
            pair = (self.source.clone(), self.target.clone())
            with self._opened_lock:
                self._opened.extend(pair)
            self._local.pair = pair
        return self._local.pair

    def _copy_action(self, table: ResolvedTable, action: ActionRow) -> None:
        started = time.monotonic()
        attempts = {"n": 0}

        def attempt() -> tuple[int, list[dict]]:
            attempts["n"] += 1
            rewrite = action.status != "planned" or attempts["n"] > 1 or not table.key
            return self._copy_chunk(table, action, rewrite, fresh=attempts["n"] > 1)

        rows, rejects = with_retries(attempt, what=action.id, events=self.events)
        self.journal.add_rejects(self.run_id, action.id, table.name, rejects)
        seconds = time.monotonic() - started
        self.journal.action_done(self.run_id, action.id, rows, len(rejects), seconds)
        self.events.emit("ChunkCopied", table=table.name, action=action.id, rows=rows,
                         rejects=len(rejects), seconds=seconds)
        with self._opened_lock:
            self._left[table.name] -= 1
            last = self._left[table.name] == 0
        if last and self._on_table_done is not None:
            self._on_table_done(table, self._pair()[1])

    def _copy_chunk(self, table: ResolvedTable, action: ActionRow, rewrite: bool,
                    fresh: bool) -> tuple[int, list[dict]]:
        src, tgt = self._pair(fresh)
        krange = decode_range(action.spec)
        self.journal.action_started(self.run_id, action.id)
        self.journal.clear_rejects(self.run_id, action.id)
        try:
            if rewrite:
                self._clear(tgt, table, krange)
            rejects = self._filtered_rejects(src, table, krange)
            rows = self._stream(src, tgt, table, krange, rejects)
            tgt.commit()
        except BaseException:
            _quietly(tgt.rollback)
            self._end_read(src)
            raise
        self._end_read(src)
        return rows, rejects

    @staticmethod
    def _end_read(src: Connector) -> None:
        """End the source's read transaction, unless it is the shared snapshot
        that the next chunks of this worker must still read from."""
        if not src.dialect.shared_snapshot:
            _quietly(src.rollback)

    def _clear(self, tgt: Connector, table: ResolvedTable, krange: KeyRange) -> None:
        if found := key_in_keymap(table):   # the target's key holds new keys: old-key bounds mean nothing there
            clear_chunk(tgt, table, krange, *found)
        elif table.key or table.hash_target.where:   # a merged table: this mapping's rows only
            tgt.delete_range(table.target, table.hash_target.key, krange, table.hash_target.where)
        else:
            tgt.truncate(table.target)

    def _stream(self, src, tgt, table: ResolvedTable, krange: KeyRange, rejects: list[dict]) -> int:
        copied = None if table.row_path_reason else self._stream_fast(src, tgt, table, krange)
        return copied if copied is not None else self._stream_rows(src, tgt, table, krange, rejects)

    def _stream_fast(self, src, tgt, table: ResolvedTable, krange: KeyRange) -> int | None:
        """The chunk through the first fast path that takes it (native COPY,
        server-rendered COPY text, one bulk write); None when none does or the
        target refused data: the row path then isolates the rejects."""
        path = self.path(table, src, tgt)
        copied = self._stream_native(src, tgt, table, krange, path) if path.native else None
        if copied is None and hasattr(src, "read_copy_text") and tgt.dialect.name == "postgresql":
            copied = self._stream_text(src, tgt, table, krange)
        if copied is None and hasattr(tgt, "write_stream"):
            copied = self._stream_whole(src, tgt, table, krange)
        return copied

    def _stream_rows(self, src, tgt, table: ResolvedTable, krange: KeyRange, rejects: list[dict]) -> int:
        """The row path: batch by batch, refused rows isolated into rejects.
        Keys are rewritten (:mod:`ferry.engines.keymap`) and Python functions
        applied (:mod:`ferry.engines.functions`) on the way when the table has
        them; the rejects then keep the source row (old keys), which
        verification knows."""
        columns = [c.name for c in table.target.columns]
        key_pos = _key_positions(table)
        hashed = None if key_pos else (src.hash_row, [t for _, t in table.read.exprs])   # no key: a hash names the row
        written = 0
        for batch in src.read(table.read, krange, self.settings.batch_rows):
            rows, sources, missing = self._prepare(tgt, table, batch) if table.row_path_reason else (batch, batch, [])
            refused = write_isolating(tgt, table.target, columns, rows)
            written += len(rows) - len(refused)
            if rows is not sources:
                source_of = dict(zip(map(id, rows), sources))
                for r in refused:
                    r.row = source_of[id(r.row)]
            rejects.extend(_reject_record(r, key_pos, columns, hashed) for r in missing + refused)
            self.events.emit("RowsCopied", table=table.name, rows=len(batch))
        return written

    def _prepare(self, tgt, table: ResolvedTable, batch: list[tuple]) -> tuple[list[tuple], list[tuple], list]:
        """``(rows to write, their source rows, rejects)``: keys rewritten, then
        Python functions applied."""
        rows, sources, rejects = self._keys.rewrite(tgt, table, batch)
        if table.functions:
            rows, sources, failed = apply_functions(table.functions, rows, sources)
            rejects += failed
        return [tuple(r) for r in rows], sources, rejects

    def path(self, table: ResolvedTable, src: Connector | None = None, tgt: Connector | None = None) -> CopyPath:
        """The :class:`~ferry.engines.native.CopyPath` of ``table``, chosen once
        per run (with ``src``/``tgt``, default the prototypes)."""
        with self._opened_lock:
            found = self._paths.get(table.name)
        if found is None:
            found = choose_path(table, src or self.source, tgt or self.target, self.settings.native_copy)
            with self._opened_lock:
                self._paths[table.name] = found
        return found

    def _stream_whole(self, src, tgt, table: ResolvedTable, krange: KeyRange) -> int | None:
        """The chunk as one bulk write (one COPY), reads overlapping writes.
        None when the target refused a row: the caller then writes batch by
        batch, isolating the rejects."""
        columns = [c.name for c in table.target.columns]

        def batches():
            for batch in src.read(table.read, krange, self.settings.batch_rows):
                self.events.emit("RowsCopied", table=table.name, rows=len(batch))
                yield batch

        tgt.savepoint("ferry_chunk")
        try:
            return tgt.write_stream(table.target, columns, batches())
        except (RejectError, UnicodeEncodeError):
            tgt.rollback_to("ferry_chunk")
            return None

    def _stream_text(self, src, tgt, table: ResolvedTable, krange: KeyRange) -> int | None:
        """MySQL -> PostgreSQL: COPY text lines rendered by the source server
        written as blocks (no row passes through Python). None when a column
        cannot be rendered exactly or the target refused data (the chunk is
        rolled back): the caller then takes the row path."""
        blocks = src.read_copy_text(table.read, krange)
        return None if blocks is None else self._write_blocks(tgt, table, blocks)

    def _stream_native(self, src, tgt, table: ResolvedTable, krange: KeyRange, path: CopyPath) -> int | None:
        """PostgreSQL -> PostgreSQL: stream COPY TO STDOUT (of the transforming
        projection, key range and filter) into COPY FROM STDIN (no row passes
        through Python). None when the target refused data: the chunk then
        takes the row path, which isolates the rejects (journaled as a
        ``NativeCopyRefused`` event)."""
        blocks = src.read_copy(path.select or table.read, krange, path.binary)
        return self._write_blocks(tgt, table, blocks, path.binary, refused_event="NativeCopyRefused")

    def _write_blocks(self, tgt, table: ResolvedTable, blocks, binary: bool = False,
                      refused_event: str | None = None) -> int | None:
        """``COPY ... FROM STDIN`` of raw COPY ``blocks`` under a savepoint:
        the rows written, or None when the target refused data (rolled back
        to the savepoint; journaled as ``refused_event`` when given)."""
        tgt.savepoint("ferry_blocks")
        try:
            count = tgt.write_copy(table.target, [c.name for c in table.target.columns], blocks, binary)
        except RejectError as exc:
            tgt.rollback_to("ferry_blocks")
            if refused_event:
                self.journal.event(self.run_id, refused_event, table=table.name, error=exc.message)
            return None
        self.events.emit("RowsCopied", table=table.name, rows=count)
        return count

    def _filtered_rejects(self, src, table: ResolvedTable, krange: KeyRange) -> list[dict]:
        """Rows a casting rule rejects (e.g. zero dates with ``zero_dates: reject``),
        read with their source values; a row two rules reject is stored once."""
        if not table.reject_filters:
            return []
        out: list[dict] = []
        key_pos = _key_positions(table)
        columns = [c.name for c in table.target.columns]
        raw = tuple(expr if c.added else (src.dialect.quote(c.source), table.source.column(c.source).type)
                    for c, expr in zip(table.casts, table.read.exprs))
        earlier: list[str] = []
        for column, reason, predicate in table.reject_filters:
            where = " AND ".join([f"({predicate})"] + [f"(CASE WHEN ({p}) THEN 1 ELSE 0 END) = 0" for p in earlier])
            for batch in src.read(Select(table.source, raw, table.read.key, where), krange, self.settings.batch_rows):
                out.extend(_reject_record(Reject(row, reason, column), key_pos, columns) for row in batch)
            earlier.append(predicate)
        return out


def write_isolating(tgt: Connector, table, columns: list[str], rows: list[tuple]) -> list[Reject]:
    """Write ``rows``; rows the target refuses are isolated by halving the batch
    (savepoints keep the rest) and returned as :class:`Reject`."""
    tgt.savepoint("ferry_batch")
    try:
        tgt.write(table, columns, rows)
        return []
    except (RejectError, UnicodeEncodeError) as exc:
        tgt.rollback_to("ferry_batch")
        if len(rows) == 1:
            return [_reject(rows[0], exc, columns)]
    mid = len(rows) // 2
    return write_isolating(tgt, table, columns, rows[:mid]) + write_isolating(tgt, table, columns, rows[mid:])


def _reject(row: tuple, exc: Exception, columns: list[str]) -> Reject:
    if isinstance(exc, UnicodeEncodeError):  # text read with its invalid bytes escaped
        bad = [c for c, v in zip(columns, row) if isinstance(v, str) and not _encodable(v)]
        return Reject(row, "invalid UTF-8 in a text value: the target accepts valid UTF-8 only",
                      bad[0] if bad else None)
    return Reject(row, exc.message, getattr(exc, "column", None))


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def _key_positions(table: ResolvedTable) -> list[int]:
    sources = [c.source for c in table.casts]
    return [sources.index(k) for k in table.key if k in sources]


def _reject_record(reject: Reject, key_pos: list[int], columns: list[str], hashed: tuple | None = None) -> dict:
    """The journal's record of ``reject``; with ``hashed`` (the source's
    :meth:`~ferry.connectors.base.Connector.hash_row` and the read's column
    types) also the row's ``row_hash``, so that a table without key can be
    checksummed without its rejected rows."""
    row = reject.row
    key = [encode_value(row[i]) for i in key_pos] if key_pos else None
    if reject.column in columns:
        value = row[columns.index(reject.column)]
    else:
        value = dict(zip(columns, row))
    record = {"key": key, "column": reject.column, "value": _excerpt(value), "reason": reject.reason}
    if hashed is not None:
        hash_row, types = hashed
        record["row_hash"] = hash_row(row, types)
    return record


def _excerpt(value) -> str:
    text = repr(value)
    return text if len(text) <= 200 else text[:197] + "..."


def _quietly(fn) -> None:
    try:
        fn()
    except Exception:
        pass
