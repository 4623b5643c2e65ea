"""Micro-benchmark: read a table's COPY TO STDOUT stream in Python, two ways.

    python3 bench/copy_out_read.py [conninfo] [table]
    (default: "host=127.0.0.1 user=postgres dbname=bench_src" pgbench_accounts)

libpq hands COPY OUT data over one row per message. ``copy_iter`` reads it as
ferry's PostgreSQL -> PostgreSQL path does (psycopg's ``Copy`` iterator, the
messages coalesced into 64 KiB blocks); ``pq_loop`` reads the same messages
with ``PGconn.get_copy_data`` in a tight loop (psycopg's libpq layer). Prints
wall and CPU seconds of each, twice, alternately.
"""

from __future__ import annotations

import sys
import time

import psycopg
from psycopg import pq

BLOCK = 1 << 16


def copy_iter(conninfo: str, sql: str) -> int:
    total, buf = 0, bytearray()
    with psycopg.connect(conninfo) as conn, conn.cursor() as cur, cur.copy(sql) as copy:
        for message in copy:
            buf += message
            if len(buf) >= BLOCK:
                total += len(buf)
                buf.clear()
    return total + len(buf)


def pq_loop(conninfo: str, sql: str) -> int:
    conn = pq.PGconn.connect(conninfo.encode())
    try:
        conn.send_query(sql.encode())
        result = conn.get_result()
        if result.status != pq.ExecStatus.COPY_OUT:
            raise RuntimeError(conn.get_error_message())
        total, buf, get = 0, bytearray(), conn.get_copy_data
        while True:
            size, data = get(0)
            if size < 0:
                break
            buf += data
            if len(buf) >= BLOCK:
                total += len(buf)
                buf.clear()
        while conn.get_result() is not None:
            pass
        return total + len(buf)
    finally:
        conn.finish()


def main() -> None:
    conninfo = sys.argv[1] if len(sys.argv) > 1 else "host=127.0.0.1 user=postgres dbname=bench_src"
    table = sys.argv[2] if len(sys.argv) > 2 else "pgbench_accounts"
    sql = f"COPY (SELECT * FROM {table}) TO STDOUT (FORMAT binary)"
    for fn in (copy_iter, pq_loop) * 2:
        wall, cpu = time.perf_counter(), time.process_time()
        size = fn(conninfo, sql)
        print(f"{fn.__name__:10s} wall {time.perf_counter() - wall:5.2f} s  "
              f"cpu {time.process_time() - cpu:5.2f} s  {size} bytes")


if __name__ == "__main__":
    main()
