"""Resetting a column's sequence after a load (serial, identity, ``nextval``)."""

from __future__ import annotations

from ferry.catalog.model import Table
from ferry.errors import TerminalError

# the owned sequence (serial / GENERATED ... AS IDENTITY), else the sequence a
# nextval() default depends on (pg_depend records it, manual 53.18 "pg_depend")
SEQUENCE_SQL = """
SELECT s.seqrelid::regclass::text, s.seqstart, s.seqincrement, s.seqmin, s.seqmax
FROM pg_sequence s
WHERE s.seqrelid = COALESCE(pg_get_serial_sequence(%s, %s)::regclass, (
  SELECT d.refobjid FROM pg_attrdef ad
  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid
   AND d.refclassid = 'pg_class'::regclass
  JOIN pg_class sc ON sc.oid = d.refobjid AND sc.relkind = 'S'
  JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
  WHERE ad.adrelid = %s::regclass AND a.attname = %s LIMIT 1))"""


def reset_identity(connector, table: Table, column: str) -> None:
    """``setval`` the sequence of ``table.column`` so that the next value is
    max + 1 (min - 1 for descending sequences), or its start when the table
    is empty, clamped to the sequence's bounds. A column without a sequence
    generates no values, so there is nothing to reset (no-op).

    Args:
        connector: a :class:`ferry.connectors.postgresql.PostgresConnector`.

    Raises:
        TerminalError: the table or column does not exist.
    """
    qualified = connector.dialect.qualify(table)
    if not connector.query("SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attname = %s "
                           "AND attnum > 0 AND NOT attisdropped", (qualified, column)):
        raise TerminalError(f"cannot reset the sequence of {table.qualified}.{column}: no such column",
                            "check the table and column names")
    rows = connector.query(SEQUENCE_SQL, (qualified, column, qualified, column))
    if not rows:
        return
    seq, start, increment, low, high = rows[0]
    col = connector.dialect.quote(column)
    if increment > 0:
        value = f"GREATEST(COALESCE((SELECT MAX({col}) FROM {qualified}) + 1, %s), %s)"
    else:
        value = f"LEAST(COALESCE((SELECT MIN({col}) FROM {qualified}) - 1, %s), %s)"
    bound = low if increment > 0 else high
    connector.execute(f"SELECT setval(%s::regclass, {value}, false)", (seq, start, bound))
