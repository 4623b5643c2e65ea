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
from typing import Iterator

import psycopg
from psycopg import pq


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


def _blocks(pgconn, statement: str, readable: _Readable, block_bytes: int) -> Iterator[bytes]:
    pgconn.send_query(statement.encode())
    result = _next_result(pgconn, readable)
    if result.status != pq.ExecStatus.COPY_OUT:
        _drain(pgconn, readable)
        raise psycopg.errors.error_from_result(result, encoding="utf-8")
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
    result = _drain(pgconn, readable)
    if result is not None and result.status != pq.ExecStatus.COMMAND_OK:
        raise psycopg.errors.error_from_result(result, encoding="utf-8")
    if size == -2:
        raise psycopg.OperationalError(pgconn.get_error_message().decode(errors="replace"))
    if buffer:
        yield bytes(buffer)


def _drain(pgconn, readable: _Readable):
    """Consume the remaining results of a query; the last non-None one."""
    last = None
    while (result := _next_result(pgconn, readable)) is not None:
        last = result
    return last
