"""The dialect-neutral schema model: tables, columns, keys and neutral types.

Connectors introspect into these objects; casting rules map a source
:class:`DataType` to a target one; DDL is generated from them for the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import Enum


class Kind(str, Enum):
    """The neutral type kinds. Each engine maps its native types onto these."""

    BOOLEAN = "boolean"
    SMALLINT = "smallint"      # 16-bit signed
    INTEGER = "integer"        # 32-bit signed
    BIGINT = "bigint"          # 64-bit signed
    DECIMAL = "decimal"        # exact; precision/scale optional
    FLOAT = "float"            # 32-bit IEEE
    DOUBLE = "double"          # 64-bit IEEE
    CHAR = "char"              # fixed length, blank padded
    VARCHAR = "varchar"        # length-limited text
    TEXT = "text"              # unlimited text
    BYTES = "bytes"            # binary string / blob
    DATE = "date"
    TIME = "time"
    TIMESTAMP = "timestamp"    # without time zone
    TIMESTAMPTZ = "timestamptz"
    INTERVAL = "interval"
    JSON = "json"
    UUID = "uuid"
    ENUM = "enum"              # one label of ``values``
    SET = "set"                # several labels of ``values`` (MySQL SET)
    ARRAY = "array"            # PostgreSQL array of ``item``
    YEAR = "year"              # MySQL YEAR


INTEGER_KINDS = (Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT)
NUMBER_KINDS = (*INTEGER_KINDS, Kind.DECIMAL, Kind.FLOAT, Kind.DOUBLE)
TEXT_KINDS = (Kind.CHAR, Kind.VARCHAR, Kind.TEXT)


@dataclass(frozen=True)
class DataType:
    """A neutral column type.

    Attributes:
        kind: the :class:`Kind`.
        length: characters for CHAR/VARCHAR, bytes for fixed BYTES, else None.
        precision, scale: for DECIMAL (digits), fractional seconds for TIME/TIMESTAMP.
        unsigned: MySQL unsigned integers (widened by casting rules).
        values: labels of ENUM / SET.
        item: element type of ARRAY.
        native: the source engine's own spelling, e.g. ``"tinyint(1) unsigned"``;
            casting rules match on it.
    """

    kind: Kind
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    unsigned: bool = False
    values: tuple[str, ...] = ()
    item: "DataType | None" = None
    native: str = ""

    def with_(self, **changes) -> "DataType":
        """A copy with ``changes`` applied."""
        return replace(self, **changes)

    def __str__(self) -> str:
        """The neutral spelling, see :func:`ferry.catalog.types.format_type`."""
        from ferry.catalog.types import format_type

        return format_type(self)


@dataclass
class Column:
    """One column.

    Attributes:
        name: the column name as the engine spells it.
        type: its neutral :class:`DataType`.
        nullable: False for NOT NULL.
        default: the default as SQL text in the source dialect, or None.
        identity: True for auto-increment / serial / identity columns.
        collation: MySQL / MariaDB text columns: the column's collation, whose
            first word is its character set (``utf8mb4_general_ci``); None
            for other columns and engines.
    """

    name: str
    type: DataType
    nullable: bool = True
    default: str | None = None
    identity: bool = False
    collation: str | None = None


@dataclass
class Index:
    """A (possibly unique) index on ``columns`` (names, in order)."""

    name: str
    columns: tuple[str, ...]
    unique: bool = False


@dataclass
class ForeignKey:
    """``columns`` reference ``ref_table(ref_columns)``."""

    name: str
    columns: tuple[str, ...]
    ref_table: str
    ref_columns: tuple[str, ...]
    on_delete: str | None = None
    on_update: str | None = None


@dataclass
class Table:
    """One table of a catalog.

    Attributes:
        name: table name (unqualified); ``schema`` is the PostgreSQL schema or None.
        primary_key: column names of the primary key, () when there is none.
        uniques: unique constraints as :class:`Index` with ``unique=True``.
        row_estimate: the engine's estimate of rows, for planning only.
    """

    name: str
    columns: list[Column]
    schema: str | None = None
    primary_key: tuple[str, ...] = ()
    uniques: list[Index] = field(default_factory=list)
    indexes: list[Index] = field(default_factory=list)
    foreign_keys: list[ForeignKey] = field(default_factory=list)
    row_estimate: int = 0

    def column(self, name: str) -> Column:
        """The column called ``name``; raises KeyError when there is none."""
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(name)

    @property
    def qualified(self) -> str:
        """``schema.name`` or ``name``, for messages and action ids."""
        return f"{self.schema}.{self.name}" if self.schema else self.name


@dataclass
class SkippedObject:
    """A database object ferry does not migrate (view, trigger, routine, ...)."""

    kind: str
    name: str
    reason: str = "not migrated by ferry 0.1"


@dataclass
class Catalog:
    """What introspection found: tables (in dependency order where possible) and
    the objects that will not be migrated."""

    tables: list[Table]
    skipped: list[SkippedObject] = field(default_factory=list)

    def find(self, name: str) -> Table | None:
        """The table called ``name`` (qualified or not), or None."""
        return next((t for t in self.tables if name in (t.name, t.qualified)), None)

    def table(self, name: str) -> Table:
        """The table called ``name`` (qualified or not); raises KeyError."""
        found = self.find(name)
        if found is None:
            raise KeyError(name)
        return found
