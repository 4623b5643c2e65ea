"""What the C loops of ``ferry.connectors._pgpump`` need: the module (built at
install when a C compiler is there, else None) and the addresses of the client
libraries' functions in this process, so that the module links to no library
and calls exactly the libpq psycopg loaded and the libmariadb mysqlclient
loaded."""

from __future__ import annotations

import ctypes
import os

try:
    from ferry.connectors import _pgpump
except ImportError:     # built without a C compiler: the rows go through Python
    _pgpump = None

LIBPQ = ("PQgetCopyData", "PQputCopyData", "PQfreemem")
MYSQL = ("mysql_real_query", "mysql_use_result", "mysql_fetch_row", "mysql_fetch_lengths",
         "mysql_free_result", "mysql_errno", "mysql_error")
_PREFIXES = {LIBPQ: ("libpq.", "libpq-"), MYSQL: ("libmariadb.", "libmysqlclient.")}
# the loops' codes
QUERY_FAILED, SINK_FAILED, LINE_NULL = -1, -3, -4


_found: dict[tuple[str, ...], tuple[int, ...]] = {}


def functions(names: tuple[str, ...]) -> tuple[int, ...] | None:
    """The addresses of ``names`` (:data:`LIBPQ` or :data:`MYSQL`) in the one
    such client library this process has loaded, or None: no C module, not
    Linux (no ``/proc/self/maps``), none or more than one such library
    loaded, or a function missing. Ask once the library is loaded (after
    the driver's first connection); a found answer is kept."""
    if _pgpump is None:
        return None
    if names not in _found:
        try:
            with open("/proc/self/maps") as maps:
                paths = {line.split()[-1] for line in maps if "/" in line}
        except OSError:
            return None
        libraries = {p for p in paths if os.path.basename(p).startswith(_PREFIXES[names])}
        if len(libraries) != 1:
            return None
        lib = ctypes.CDLL(libraries.pop())
        try:
            _found[names] = tuple(ctypes.cast(getattr(lib, name), ctypes.c_void_p).value for name in names)
        except AttributeError:
            return None
    return _found[names]


def messages(source, sink) -> int:
    """Every CopyData message of ``source`` (a psycopg ``PGconn`` in COPY
    OUT) sent into ``sink`` (one in COPY IN, blocking); ``PQgetCopyData``'s
    last code (-1 done, -2 source failed) or :data:`SINK_FAILED`. Call only
    when ``functions(LIBPQ)`` is not None."""
    get, put, free = functions(LIBPQ)
    return _pgpump.pump(source.pgconn_ptr, sink.pgconn_ptr, get, put, free)


def lines(mysql, query: bytes, sink) -> tuple[int, int, str]:
    """``query`` (one column: a COPY text line per row) run on ``mysql``
    (mysqlclient's ``_get_native_connection()``), each line sent into
    ``sink`` as :func:`messages` does; ``(code, MySQL errno, message)``, code
    0 or :data:`QUERY_FAILED`, :data:`SINK_FAILED`, :data:`LINE_NULL`. Call
    only when both ``functions(LIBPQ)`` and ``functions(MYSQL)`` are not None."""
    code, errno, message = _pgpump.pump_lines(mysql, query, sink.pgconn_ptr, functions(LIBPQ)[1], functions(MYSQL))
    return code, errno, message.decode("utf-8", "replace")
