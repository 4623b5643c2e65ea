"""DDL for a target table, compiled by SQLAlchemy for the target dialect.

The target :class:`~ferry.catalog.model.Table` already carries target names and
neutral target types; each dialect's ``sa_type`` picks the engine type.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.schema import CreateTable
from sqlalchemy.types import UserDefinedType

from ferry.catalog.model import ForeignKey, Index, Kind, Table


class _Declared(UserDefinedType):
    cache_ok = True

    def __init__(self, spec: str) -> None:
        self.spec = spec

    def get_col_spec(self, **kw) -> str:
        return self.spec


def declared(spec: str) -> sa.types.TypeEngine:
    """A SQLAlchemy type that renders exactly ``spec`` in DDL."""
    return _Declared(spec)


def create_table_sql(table: Table, dialect, *, with_primary_key: bool, defaults: dict[str, str]) -> str:
    """``CREATE TABLE`` for ``table`` on ``dialect``.

    Args:
        with_primary_key: declare the primary key inline (else added after load).
        defaults: column name -> default SQL already valid on the target.
    """
    meta = sa.MetaData()
    pk = set(table.primary_key) if with_primary_key else set()
    cols = [sa.Column(c.name, _sa_type(c, pk, dialect), nullable=c.nullable and c.name not in pk,
                      primary_key=c.name in pk, autoincrement=_autoincrement(c, pk, dialect),
                      server_default=sa.text(defaults[c.name]) if c.name in defaults else None)
            for c in table.columns]
    checks = [_enum_check(c, dialect) for c in table.columns
              if c.type.kind == Kind.ENUM and c.type.values and dialect.name != "mysql"]
    sa_table = sa.Table(table.name, meta, *cols, *checks, schema=table.schema)
    sql = str(CreateTable(sa_table).compile(dialect=dialect.sa_dialect())).strip()
    if getattr(dialect, "foreign_keys_inline", False) and table.foreign_keys:
        clauses = [_fk_clause(fk, dialect) for fk in table.foreign_keys]
        sql = sql.rstrip().removesuffix(")").rstrip() + ",\n\t" + ",\n\t".join(clauses) + "\n)"
    return sql


def _enum_check(col, dialect) -> sa.CheckConstraint:
    """``CHECK (col IN (labels))``: an enum kept as text keeps its domain."""
    labels = ", ".join("'" + v.replace("'", "''") + "'" for v in col.type.values)
    return sa.CheckConstraint(sa.text(f"{dialect.quote(col.name)} IN ({labels})"))


def _sa_type(col, pk: set, dialect):
    if dialect.name == "sqlite" and col.identity and pk == {col.name}:
        return declared("INTEGER")  # a rowid alias: https://www.sqlite.org/lang_createtable.html#rowid
    return dialect.sa_type(col.type)


def _autoincrement(col, pk: set, dialect) -> bool | str:
    if col.identity and col.name in pk and len(pk) == 1 and dialect.name == "mysql":
        return True
    return False


def _fk_clause(fk: ForeignKey, dialect) -> str:
    q = dialect.quote
    refs = f" ({', '.join(q(c) for c in fk.ref_columns)})" if fk.ref_columns else ""
    sql = f"FOREIGN KEY ({', '.join(q(c) for c in fk.columns)}) REFERENCES {q(fk.ref_table)}{refs}"
    if fk.on_delete:
        sql += f" ON DELETE {fk.on_delete}"
    if fk.on_update:
        sql += f" ON UPDATE {fk.on_update}"
    return sql


def primary_key_sql(table: Table, dialect) -> str:
    """``ALTER TABLE ... ADD PRIMARY KEY (...)``."""
    cols = ", ".join(dialect.quote(c) for c in table.primary_key)
    return f"ALTER TABLE {dialect.qualify(table)} ADD PRIMARY KEY ({cols})"


def index_sql(table: Table, index: Index, dialect, name: str) -> str:
    """``CREATE [UNIQUE] INDEX name ON table (cols)``."""
    cols = ", ".join(dialect.quote(c) for c in index.columns)
    unique = "UNIQUE " if index.unique else ""
    return f"CREATE {unique}INDEX {dialect.quote(name)} ON {dialect.qualify(table)} ({cols})"


def foreign_key_sql(table: Table, fk: ForeignKey, parent: Table, dialect, name: str) -> str:
    """``ALTER TABLE ... ADD CONSTRAINT name FOREIGN KEY ... REFERENCES parent``."""
    q = dialect.quote
    cols = ", ".join(q(c) for c in fk.columns)
    refs = ", ".join(q(c) for c in (fk.ref_columns or parent.primary_key))
    sql = (f"ALTER TABLE {dialect.qualify(table)} ADD CONSTRAINT {q(name)} FOREIGN KEY ({cols}) "
           f"REFERENCES {dialect.qualify(parent)} ({refs})")
    if fk.on_delete:
        sql += f" ON DELETE {fk.on_delete}"
    if fk.on_update:
        sql += f" ON UPDATE {fk.on_update}"
    return sql
