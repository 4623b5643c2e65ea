"""COPY TO STDOUT read with libpq's non-blocking calls, waiting with the GIL
released.

psycopg's ``PGconn.get_copy_data(0)`` and ``get_result()`` block inside libpq
while holding the GIL: a reader waiting for its server stops every other
thread of the process (measured: a thread spinning beside a 1 s blocking wait
ran 1 % of its loops; ``tests/conformance/test_postgresql.py``). Here libpq is
asked with ``async`` 1 (``PQgetCopyData``, ``PQisBusy``) and the wait happens in
a selector (https://www.postgresql.org/docs/15/libpq-async.html).
"""

from __future__ import annotations

import selectors
from typing import Callable, ContextManager, Iterator

import psycopg
from psycopg import pq

from ferry.connectors import pump
from ferry.connectors.base import CopyData


class _Readable:
    """Waits (GIL released) until the server sent more on ``pgconn``'s socket,
    then reads it into libpq. One selector per COPY (epoll/poll: no
    ``FD_SETSIZE`` limit on the socket number, as ``select()`` has)."""

    def __init__(self, pgconn) -> None:
        self.pgconn = pgconn
        self.selector = selectors.DefaultSelector()
        self.selector.register(pgconn.socket, selectors.EVENT_READ)

    def wait(self) -> None:
        self.selector.select()
        self.pgconn.consume_input()

    def close(self) -> None:
        self.selector.close()


def _finish_copy(pgconn, readable: _Readable) -> int:
    """Read a COPY OUT to its end, dropping the data; ``PQgetCopyData``'s
    last code (-1 done, -2 connection lost)."""
    while (size := pgconn.get_copy_data(1)[0]) >= 0:
        if size == 0:
            readable.wait()
    return size


def _next_result(pgconn, readable: _Readable):
    """``PQgetResult`` once libpq has the whole result (waiting as above)."""
    while pgconn.is_busy():
        readable.wait()
    return pgconn.get_result()


def copy_out_blocks(pgconn, statement: str, block_bytes: int) -> Iterator[bytes]:
    """The data of ``statement`` (a COPY TO STDOUT, no parameters) in blocks
    of about ``block_bytes`` bytes of whole rows, read without blocking.

    Raises:
        psycopg.Error: the server refused the statement or failed mid-COPY;
            OperationalError when the connection was lost.
    """
    readable = _Readable(pgconn)
    try:
        yield from _blocks(pgconn, statement, readable, block_bytes)
    finally:
        readable.close()


def _start(pgconn, statement: str, readable: _Readable) -> None:
    """Send ``statement`` and wait until the server is in COPY OUT.

    Raises:
        psycopg.Error: the server refused the statement.
    """
    pgconn.send_query(statement.encode())
    result = _next_result(pgconn, readable)
    if result.status != pq.ExecStatus.COPY_OUT:
        _drain(pgconn, readable)
        raise psycopg.errors.error_from_result(result, encoding="utf-8")


def _end(pgconn, readable: _Readable, code: int) -> None:
    """After the last ``PQgetCopyData`` (``code``: -1 done, -2 lost): the
    COPY's own result.

    Raises:
        psycopg.Error: the server failed mid-COPY; OperationalError when the
            connection was lost.
    """
    result = _drain(pgconn, readable)
    if result is not None and result.status != pq.ExecStatus.COMMAND_OK:
        raise psycopg.errors.error_from_result(result, encoding="utf-8")
    if code == -2:
        raise psycopg.OperationalError(pgconn.get_error_message().decode(errors="replace"))


def _blocks(pgconn, statement: str, readable: _Readable, block_bytes: int) -> Iterator[bytes]:
    _start(pgconn, statement, readable)
    buffer, get, size = bytearray(), pgconn.get_copy_data, 0
    try:
        while True:
            size, data = get(1)
            if size > 0:
                buffer += data
                if len(buffer) >= block_bytes:
                    yield bytes(buffer)
                    buffer.clear()
            elif size == 0:
                readable.wait()
            else:
                break
    finally:
        if size >= 0:  # the consumer stopped early: finish the COPY
            size = _finish_copy(pgconn, readable)
    _end(pgconn, readable, size)
    if buffer:
        yield bytes(buffer)


def _drain(pgconn, readable: _Readable):
    """Consume the remaining results of a query; the last non-None one."""
    last = None
    while (result := _next_result(pgconn, readable)) is not None:
        last = result
    return last


class CopyOut(CopyData):
    """A COPY TO STDOUT not started yet. Iterated, it gives its data in
    blocks of about ``block_bytes`` (:func:`copy_out_blocks`); :meth:`into`
    instead moves it into another connection's COPY FROM STDIN in C, one row
    at a time, no row passing through Python.

    Args:
        pgconn: gives the source's ``PGconn`` when the COPY starts (a
            connector's live connection, opened again if it was lost).
        guard: a new context manager around each use (the connector's error
            mapping, e.g. ``lambda: connector._errors("COPY TO STDOUT")``).
    """

    def __init__(self, pgconn: Callable[[], object], statement: str, block_bytes: int,
                 guard: Callable[[], ContextManager]) -> None:
        self.pgconn, self.statement, self.block_bytes, self.guard = pgconn, statement, block_bytes, guard

    def __iter__(self) -> Iterator[bytes]:
        with self.guard():
            yield from copy_out_blocks(self.pgconn(), self.statement, self.block_bytes)

    def can_pump(self) -> bool:
        return pump.functions(pump.LIBPQ) is not None

    def into(self, sink) -> bool:
        """Run the COPY and send its data into ``sink`` (see
        :meth:`CopyData.into`); the source is read by ``PQgetCopyData``.

        Raises:
            psycopg.Error: as :func:`copy_out_blocks`, through ``guard``.
        """
        with self.guard():
            source = self.pgconn()
            readable = _Readable(source)
            try:
                _start(source, self.statement, readable)
                code = pump.messages(source, sink)
                _end(source, readable, _finish_copy(source, readable) if code == pump.SINK_FAILED else code)
            finally:
                readable.close()
        return code != pump.SINK_FAILED
