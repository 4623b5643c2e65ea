"""Python functions of a plan at run time (see :mod:`ferry.transform.python`).

Copy: :func:`apply_functions` changes each batch on the row path. Verify: a
table with Python columns is hashed on the source side by
:class:`FunctionSource`, which reads the rows (the SQL part still runs in the
source), applies the functions, and hashes the canonical text of every value
in Python with the same function the engines' SQL reproduces
(:mod:`ferry.connectors.canonical`), so the target, hashed inside its own
database, compares equal value for value.
"""

from __future__ import annotations

from ferry.connectors.base import SUM_MD5, Checksum, Connector, KeyRange, Reject, Select
from ferry.connectors.canonical import lenient_row_hash
from ferry.errors import NotSupported

READ_ROWS = 10_000


def apply_functions(functions: list, rows: list[list], sources: list[tuple]):
    """``(rows, sources, rejects)``: each function applied in place; a row
    whose function raised leaves the batch as a reject (``sources`` are the
    rows as read, kept aligned with ``rows``)."""
    at = [(f.position, f) for f in functions]
    kept, kept_sources, rejects = [], [], []
    for row, source in zip(rows, sources):
        failed = _apply(at, row)
        if failed is None:
            kept.append(row)
            kept_sources.append(source)
        else:
            rejects.append(Reject(source, *failed))
    return kept, kept_sources, rejects


def _apply(at: list, row: list) -> tuple[str, str] | None:
    """Apply each ``(position, function)`` of ``at`` to ``row`` in place; the
    first failure as ``(reason, column)``, or None. A function that raises
    leaves its value unchanged; the user's code may raise anything."""
    failed = None
    for i, f in at:
        try:
            row[i] = f.fn(row[i])
        except Exception as exc:   # noqa: BLE001 - any error rejects the row, with its reason
            failed = failed or (f"python {f.path} raised {type(exc).__name__}: {exc}", f.column)
    return failed


class FunctionSource:
    """A source connector whose reads, checksums and row hashes of selects
    holding Python columns apply the functions (in Python); every other call
    goes to the wrapped connector."""

    def __init__(self, conn: Connector, functions: list) -> None:
        self._conn, self._functions = conn, {f.marker: f for f in functions}
        self.dialect = _Dialect(conn.dialect)

    def __getattr__(self, name):
        return getattr(self._conn, name)

    def clone(self) -> "FunctionSource":
        return FunctionSource(self._conn.clone(), list(self._functions.values()))

    def read(self, select: Select, krange: KeyRange, batch_rows: int):
        """Batches of ``select`` with the functions applied (a raising function
        leaves its value unchanged: that row then differs, as it was rejected)."""
        at = [(i, self._functions[e]) for i, (e, _) in enumerate(select.exprs) if e in self._functions]
        for batch in self._conn.read(select, krange, batch_rows):
            if at:   # a function that fails: the copy rejected that row, which verification knows
                rows = [list(row) for row in batch]
                for row in rows:
                    _apply(at, row)
                batch = [tuple(row) for row in rows]
            yield batch

    def checksum(self, select: Select, krange: KeyRange = KeyRange(), mode: str = SUM_MD5) -> Checksum:
        """The ``md5-sum`` checksum (the only ``mode`` a table with Python
        columns is compared in), computed here."""
        if mode != SUM_MD5:
            raise NotSupported(f"checksum mode {mode} of a table with Python columns")
        count = total = 0
        types = self._result_types(select)
        for batch in self.read(select, krange, READ_ROWS):
            for row in batch:
                count, total = count + 1, total + lenient_row_hash(row, types)
        return Checksum(count, total)

    def _result_types(self, select: Select) -> list:
        """The type of each output: a function's result type, else the expression's."""
        return [self._functions[e].type if e in self._functions else t for e, t in select.exprs]

    def row_hashes(self, select: Select, krange: KeyRange) -> dict[tuple, int]:
        d = self._conn.dialect
        keyed = tuple((d.quote(k), select.table.column(k).type) for k in select.key)
        full = Select(select.table, keyed + select.exprs, select.key, select.where)
        n, out = len(keyed), {}
        types = self._result_types(select)
        for batch in self.read(full, krange, READ_ROWS):
            for row in batch:
                out[tuple(row[:n])] = lenient_row_hash(row[n:], types)
        return out


class _Dialect:
    """The wrapped connector's dialect, offering only the ``md5-sum``
    checksum: the one :class:`FunctionSource` computes."""

    checksum_modes = (SUM_MD5,)

    def __init__(self, dialect) -> None:
        self._dialect = dialect

    def __getattr__(self, name):
        return getattr(self._dialect, name)



def with_functions(conn: Connector, table) -> Connector:
    """``conn`` wrapped in a :class:`FunctionSource` when ``table`` has Python columns."""
    return FunctionSource(conn, table.functions) if table.functions else conn
