"""Try every transformed read on the source before any data moves.

First the tables' ``source_checks`` (e.g. MySQL knows the time zones named).

``SELECT <read expressions> FROM <table> WHERE <filter> LIMIT 0`` makes the
source engine parse and type-check the compiled transforms (PostgreSQL refuses
``CASE`` branches of different types, an unknown function, a bad cast) without
reading a row. Each table's failure is one problem of one :class:`PlanError`.
"""

from __future__ import annotations

from ferry.errors import FerryError, PlanError, TransientError


def probe_reads(source, tables: list) -> None:
    """Run each transformed table's read with ``LIMIT 0`` on ``source``.

    Args:
        source: the source connector (read-only session).
        tables: :class:`~ferry.transform.mapping.ResolvedTable` list; tables
            without transforms or filter are skipped (plain column reads).

    Raises:
        PlanError: the source refused one or more reads; one problem per table,
            with the engine's message.
        TransientError: the connection failed (not the plan's fault).
    """
    problems = _source_checks(source, tables)
    for table in tables:
        if not (table.transforms or table.source_where or table.reject_filters):
            continue
        sql = _probe_sql(source.dialect, table.read)
        try:
            source.query(sql)
        except TransientError:
            raise
        except FerryError as exc:
            problems.append(f"{table.name}: the source refuses the transformed read: {exc.message}")
        finally:
            source.rollback()
    if problems:
        raise PlanError("the source cannot run the plan's transforms", problems,
                        "fix the expressions or types named (the SQL runs inside the source database)")


def _source_checks(source, tables: list) -> list[str]:
    """The problems of the tables' ``source_checks`` whose answer is not true."""
    problems = []
    for table in tables:
        for sql, problem in dict.fromkeys(table.source_checks):
            try:
                if not source.query(sql)[0][0]:
                    problems.append(f"{table.name}: {problem}")
            finally:
                source.rollback()
    return problems


def _probe_sql(dialect, read) -> str:
    cols = ", ".join(expr for expr, _ in read.exprs)
    where = f" WHERE {read.where}" if read.where else ""
    return f"SELECT {cols} FROM {dialect.qualify(read.table)}{where} LIMIT 0"
