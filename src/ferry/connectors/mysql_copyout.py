"""One chunk of a MariaDB/MySQL table as PostgreSQL COPY text, each row
rendered by the server as one line (:mod:`ferry.connectors.mysql_copytext`),
read when a PostgreSQL target's ``COPY ... FROM STDIN`` takes it: through
Python in blocks, or in C (``mysql_use_result`` / ``mysql_fetch_row`` into
``PQputCopyData``, :func:`ferry.connectors.pump.functions`), where on
1,000,000 rows the Python loop (a tuple and a bytes object per row, then a
join) was mysqlclient's ``fetch_row`` and most of ferry's own CPU."""

from __future__ import annotations

from typing import Iterator

import MySQLdb
import MySQLdb.cursors

from ferry.connectors import pump
from ferry.connectors.base import CopyData, KeyRange, Select
from ferry.connectors.mysql_errors import classify
from ferry.errors import RejectError

FETCH_ROWS = 2000     # lines per fetch through Python (one block each)
UNRENDERED = ("the server could not render a row as COPY text (longer than max_allowed_packet)",
              "the chunk is copied row by row")


class CopyText(CopyData):
    """The COPY text lines of ``select`` in ``krange`` on ``connector`` (a
    :class:`~ferry.connectors.mysql.MySQLConnector`), ``line`` being the SQL
    of one row's line.

    Raises (iterating or :meth:`into`):
        RejectError: the server could not render a row (its line would be
            longer than ``max_allowed_packet``).
        FerryError: the read failed (:func:`classify`).
    """

    def __init__(self, connector, select: Select, krange: KeyRange, line: str) -> None:
        self.connector, self.select, self.krange, self.line = connector, select, krange, line

    def __iter__(self) -> Iterator[bytes]:
        c = self.connector
        sql, params = c._select_sql(self.select, self.krange, self.line)
        cur = c._live().cursor(MySQLdb.cursors.SSCursor)
        try:
            c._start_read(cur)
            cur.execute(sql, params or None)
            while rows := cur.fetchmany(FETCH_ROWS):
                lines = [r[0] for r in rows]
                if None in lines:
                    raise RejectError(*UNRENDERED)
                yield b"\n".join(lines) + b"\n"
        except MySQLdb.Error as exc:
            raise classify(exc) from exc
        finally:
            c._close_stream(cur)

    def can_pump(self) -> bool:
        return pump.functions(pump.MYSQL) is not None and pump.functions(pump.LIBPQ) is not None

    def into(self, sink) -> bool:
        """Send the lines into ``sink`` (see :meth:`CopyData.into`), read in C."""
        c = self.connector
        sql, params = c._select_sql(self.select, self.krange, self.line)
        conn = c._live()
        try:
            with conn.cursor() as cur:
                query = cur.mogrify(sql, params or None)    # mysqlclient's own escaping, as execute() does
                c._start_read(cur)
            code, errno, message = pump.lines(conn._get_native_connection(), query.encode(), sink)
        except MySQLdb.Error as exc:
            raise classify(exc) from exc
        finally:
            c._close_stream(None)
        if code == pump.QUERY_FAILED:
            raise classify(MySQLdb.OperationalError(errno, message))
        if code == pump.LINE_NULL:
            raise RejectError(*UNRENDERED)
        return code != pump.SINK_FAILED
