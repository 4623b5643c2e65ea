"""Casting rules: which neutral target type each source column gets, and why.

As in pgloader (https://pgloader.readthedocs.io/en/latest/ref/mysql.html,
"Default MySQL Casting Rules"), a casting rule matches a source column by its
native type spelling (or kind, or column name) and names the target type. The
user's rules from the plan come first, then the defaults for the (source
engine, target engine) pair; the first match wins. A column no rule matches
keeps its neutral type.

A target spelling without parameters keeps the source's ("keep typemod"):
``to: varchar`` on ``varchar(50)`` gives ``varchar(50)``, ``to: enum`` keeps the
labels, ``to: timestamp`` keeps ``datetime(3)``'s fractional digits.

After the rule, target limits are enforced (never a silent truncation: a type
the target cannot hold becomes a wider one, with a note), and values the
chosen type cannot hold get SQL predicates in the source dialect: rows matching
``reject_when`` go to the reject store, values matching ``null_when`` are set to
NULL and counted.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, field_validator

from ferry.catalog.model import Column, DataType, Kind, Table
from ferry.catalog.types import Spelling, format_type, parse_type, split_spelling
from ferry.errors import InputError

ENGINES = ("postgresql", "mysql", "sqlite")
_DATE_KINDS = (Kind.DATE, Kind.TIMESTAMP, Kind.TIMESTAMPTZ)
_ZERO_DATE_BASES = ("date", "datetime", "timestamp")
_NATIVE_BITS = {"tinyint": 8, "smallint": 16, "mediumint": 24, "int": 32, "integer": 32, "bigint": 64}
_KIND_BITS = {Kind.BOOLEAN: 8, Kind.SMALLINT: 16, Kind.INTEGER: 32, Kind.BIGINT: 64}
MYSQL_MAX_DECIMAL = (65, 30)     # https://dev.mysql.com/doc/refman/8.0/en/fixed-point-types.html
MYSQL_MAX_CHAR = 255             # https://dev.mysql.com/doc/refman/8.0/en/char.html
MYSQL_MAX_VARCHAR = 16383        # 65,535-byte row limit / 4 bytes per utf8mb4 character (same page)
MYSQL_MAX_BINARY = 255           # https://dev.mysql.com/doc/refman/8.0/en/binary-varbinary.html


class CastingRule(BaseModel):
    """One casting rule, as written in a plan's ``casting:`` list.

    Attributes:
        match: the source type pattern, case-insensitive: an exact native
            spelling (``tinyint(1)``), a base name matching every parameter
            list (``bigint`` matches ``bigint(20)``), optionally ``unsigned``
            (then only unsigned columns match; without it both do), an array
            (``text[]``), ``kind:<neutral kind>`` (``kind:varchar``) or ``*``.
            A column without a native spelling is matched by its neutral one.
        column: optional fnmatch pattern (case-sensitive) on ``table.column``
            (``schema.table.column`` also tried).
        to: the target type, neutral spelling (see :mod:`ferry.catalog.types`).
        zero_dates: MySQL zero dates (``0000-00-00``) in a date column become
            NULL and are counted (``null``) or rejected (``reject``).
        invalid: values the target type cannot hold (``300`` into ``smallint``
            from ``int unsigned``, ``2`` into ``boolean``): ``reject`` the row or
            set the value to ``null``.
    """

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)

    match: str
    column: str | None = None
    to: str
    zero_dates: Literal["null", "reject"] = "null"
    invalid: Literal["reject", "null"] = "reject"

    @field_validator("zero_dates", "invalid", mode="before")
    @classmethod
    def _yaml_null(cls, value: Any) -> Any:
        return "null" if value is None else value  # YAML reads a bare `null` as None

    @field_validator("match")
    @classmethod
    def _valid_match(cls, value: str) -> str:
        value = value.strip()
        if value.lower().startswith("kind:"):
            name = value[5:].strip().lower()
            if name not in {k.value for k in Kind}:
                raise ValueError(f"unknown kind {name!r}; kinds: {', '.join(k.value for k in Kind)}")
        elif value != "*":
            _split_or_value_error(value)
        return value

    @field_validator("to")
    @classmethod
    def _valid_to(cls, value: str) -> str:
        try:
            return format_type(parse_type(value))
        except InputError as exc:
            raise ValueError(str(exc)) from None

    def describe(self) -> str:
        """``"bigint unsigned -> decimal(20,0)"`` (``" on t.c"`` when ``column``)."""
        where = f" on {self.column}" if self.column else ""
        return f"{self.match}{where} -> {self.to}"

    def matches(self, column: Column, table: Table) -> bool:
        """True when this rule applies to ``column`` of ``table``."""
        return _column_matches(self.column, column, table) and _type_matches(self.match, column.type)


def _split_or_value_error(spelling: str) -> Spelling:
    try:
        return split_spelling(spelling)
    except InputError as exc:
        raise ValueError(str(exc)) from None


def _column_matches(pattern: str | None, column: Column, table: Table) -> bool:
    if pattern is None:
        return True
    names = {f"{table.name}.{column.name}", f"{table.qualified}.{column.name}"}
    return any(fnmatch.fnmatchcase(n, pattern) for n in names)


def _type_matches(pattern: str, dtype: DataType) -> bool:
    if pattern == "*":
        return True
    if pattern.lower().startswith("kind:"):
        return dtype.kind.value == pattern[5:].strip().lower()
    want = split_spelling(pattern)
    try:
        have = split_spelling(dtype.native or format_type(dtype))
    except InputError:
        return False
    return (want.base == have.base and want.dims == have.dims
            and (want.args is None or _norm_args(want.args) == _norm_args(have.args))
            and (not want.unsigned or have.unsigned))


def _norm_args(args: str | None) -> str | None:
    """Parameters without blanks outside quotes: ``10, 2`` == ``10,2``."""
    if args is None:
        return None
    out, quoted = [], False
    for ch in args:
        quoted = not quoted if ch == "'" else quoted
        if quoted or not ch.isspace():
            out.append(ch if quoted else ch.lower())
    return "".join(out)


@dataclass
class CastResult:
    """What casting decided for one column.

    Attributes:
        type: the neutral target type. ``native`` is the source's own spelling
            when source and target are the same engine and the type is kept,
            else ``""``.
        rule: the rule that chose it, for reports, e.g.
            ``"mysql tinyint(1) -> boolean (default)"`` or
            ``"user rule 2: bigint unsigned -> decimal(20,0)"``.
        null_when: SQL predicate in the source dialect over the quoted source
            column; matching values are read as NULL (and counted), or None.
        reject_when: SQL predicate in the source dialect; matching rows go to
            the reject store instead of the target, or None.
        note: what happens to the data, for reports and reject reasons
            (``"zero dates set to NULL, counted"``), ``""`` when nothing does.
        invalid: the rule's ``invalid`` policy (``reject`` or ``null``), for
            values the target refuses that no predicate foresaw.
        drop_not_null: True when ``null_when`` can produce NULLs in a NOT NULL
            source column: the target column must then allow NULL.
    """

    type: DataType
    rule: str
    null_when: str | None = None
    reject_when: str | None = None
    note: str = ""
    invalid: str = "reject"
    drop_not_null: bool = False


def _rules(pairs: list[tuple[str, str]]) -> list[CastingRule]:
    return [CastingRule(match=m, to=t) for m, t in pairs]


_MYSQL_SOURCE = [
    ("tinyint(1)", "boolean"),
    ("tinyint unsigned", "smallint"), ("smallint unsigned", "integer"),
    ("mediumint unsigned", "bigint"), ("int unsigned", "bigint"),
    ("bigint unsigned", "decimal(20,0)"), ("mediumint", "integer"),
    ("date", "date"), ("datetime", "timestamp"), ("timestamp", "timestamptz"),
    ("enum", "enum"), ("set", "set"), ("json", "json"),
    ("tinyblob", "bytes"), ("blob", "bytes"), ("mediumblob", "bytes"), ("longblob", "bytes"),
    ("binary", "bytes"), ("varbinary", "bytes"),
    ("float", "float"), ("double", "double"),
]
_TO_MYSQL = [
    ("kind:boolean", "boolean"), ("kind:uuid", "uuid"), ("kind:timestamptz", "timestamptz"),
    ("kind:array", "json"), ("kind:interval", "varchar(64)"),
]


def default_rules(source_engine: str, target_engine: str) -> list[CastingRule]:
    """The default casting rules for a pair of engines, in match order.

    Same-engine pairs have none (every type is kept). MySQL to PostgreSQL
    follows pgloader's defaults (unsigned integers widened, ``tinyint(1)`` as
    boolean, ``year`` as smallint); to SQLite only ``year`` changes, as SQLite
    keeps every type (https://www.sqlite.org/datatype3.html). Zero dates are
    handled for every MySQL source, whatever the rule.

    Raises:
        InputError: an engine name other than postgresql, mysql, sqlite.
    """
    _check_engine(source_engine)
    _check_engine(target_engine)
    if source_engine == target_engine:
        return []
    if source_engine == "mysql" and target_engine == "postgresql":
        return _rules(_MYSQL_SOURCE + [("year", "smallint")])
    if source_engine == "mysql":
        return _rules([("year", "smallint")])
    if target_engine == "mysql":
        return _rules(_TO_MYSQL)
    return []


def _check_engine(name: str) -> None:
    if name not in ENGINES:
        raise InputError(f"unknown engine {name!r}", "engines: " + ", ".join(ENGINES))


def cast_column(column: Column, table: Table, source_dialect: Any, target_engine: str,
                rules: list[CastingRule]) -> CastResult:
    """Choose the target type of ``column`` and the predicates for its values.

    Args:
        column, table: the source column and its table.
        source_dialect: has ``name`` (engine), ``quote(identifier) -> str`` and,
            for MySQL, ``zero_date_predicate(expr) -> str``.
        target_engine: ``postgresql``, ``mysql`` or ``sqlite``.
        rules: the user's rules from the plan (numbered from 1 in ``rule``).

    Returns:
        a :class:`CastResult`.

    Raises:
        InputError: an unknown engine name.
    """
    source_engine = source_dialect.name
    rule, label = _choose(column, table, rules, source_engine, target_engine)
    if rule is None:
        result = _kept(column.type, source_engine, target_engine)
    else:
        result = CastResult(_apply(rule, column.type), label, invalid=rule.invalid)
    _limit(result, target_engine)
    _keyable(result, column, table, target_engine)
    expr = source_dialect.quote(column.name)
    if result.type != column.type:
        _guard_values(result, column.type, expr, source_engine, target_engine)
    if source_engine == "mysql" and _is_date(column.type):
        _zero_dates(result, source_dialect, expr, rule.zero_dates if rule else "null")
    result.drop_not_null = bool(result.null_when) and not column.nullable
    return result


def _choose(column, table, rules, source_engine, target_engine) -> tuple[CastingRule | None, str]:
    for i, rule in enumerate(rules, start=1):
        if rule.matches(column, table):
            return rule, f"user rule {i}: {rule.describe()}"
    for rule in default_rules(source_engine, target_engine):
        if rule.matches(column, table):
            return rule, f"{source_engine} {rule.describe()} (default)"
    return None, ""


def _kept(source: DataType, source_engine: str, target_engine: str) -> CastResult:
    spelled = source.native or format_type(source)
    if source_engine == target_engine:
        return CastResult(source, f"{source_engine} {spelled} kept (same engine)")
    target = source.with_(native="", unsigned=source.unsigned and target_engine == "mysql")
    return CastResult(target, f"{source_engine} {spelled} -> {format_type(target)} (kept)")


def _apply(rule: CastingRule, source: DataType) -> DataType:
    """The rule's target type, with the source's parameters where it names none."""
    target = parse_type(rule.to)
    kind = target.kind
    if kind in (Kind.CHAR, Kind.VARCHAR, Kind.BYTES) and target.length is None \
            and source.kind in (Kind.CHAR, Kind.VARCHAR, Kind.BYTES):
        target = target.with_(length=source.length)
    elif kind == Kind.DECIMAL and target.precision is None and source.kind == Kind.DECIMAL:
        target = target.with_(precision=source.precision, scale=source.scale)
    elif kind in (Kind.TIME, Kind.TIMESTAMP, Kind.TIMESTAMPTZ) and target.precision is None \
            and source.kind in (Kind.TIME, Kind.TIMESTAMP, Kind.TIMESTAMPTZ):
        target = target.with_(precision=source.precision)
    elif kind in (Kind.ENUM, Kind.SET) and not target.values:
        target = target.with_(values=source.values)
    elif kind == Kind.ARRAY and target.item is None:
        target = target.with_(item=source.item)
    return target


def _limit(result: CastResult, target_engine: str) -> None:
    widened, note = target_limits(result.type, target_engine)
    if note:
        result.type = widened
        _add_note(result, note)


MYSQL_KEY_VARCHAR = 255  # InnoDB keys: 3072 bytes / 4 bytes per utf8mb4 character / a few columns


def _keyable(result: CastResult, column: Column, table: Table, target_engine: str) -> None:
    """MySQL cannot index TEXT/BLOB without a prefix length: a text or bytes
    column in a key or index becomes varchar(255) / varbinary(255); longer
    values are then refused by the target (strict mode), never truncated.
    https://dev.mysql.com/doc/refman/8.0/en/column-indexes.html"""
    if target_engine != "mysql" or result.type.kind not in (Kind.TEXT, Kind.BYTES):
        return
    indexed = {c for idx in table.uniques + table.indexes for c in idx.columns}
    indexed |= set(table.primary_key) | {c for fk in table.foreign_keys for c in fk.columns}
    if column.name in indexed:
        length = MYSQL_KEY_VARCHAR
        kind = Kind.VARCHAR if result.type.kind == Kind.TEXT else Kind.BYTES
        result.type = DataType(kind, length=length)
        _add_note(result, f"{'varchar' if kind == Kind.VARCHAR else 'varbinary'}({length}): "
                          "MySQL indexes no unbounded text; longer values are rejected")


def _guard_values(result: CastResult, source: DataType, expr: str, source_engine: str,
                  target_engine: str) -> None:
    found = invalid_predicate(source, result.type, expr, source_engine, target_engine)
    if found is None:
        return
    predicate, what = found
    if result.invalid == "null":
        result.null_when = _or(result.null_when, predicate)
        _add_note(result, f"{what} set to NULL, counted")
    else:
        result.reject_when = _or(result.reject_when, predicate)
        _add_note(result, f"{what} rejected")


def _is_date(dtype: DataType) -> bool:
    if dtype.kind in _DATE_KINDS:
        return True
    try:
        return split_spelling(dtype.native).base in _ZERO_DATE_BASES if dtype.native else False
    except InputError:
        return False


def _zero_dates(result: CastResult, source_dialect: Any, expr: str, policy: str) -> None:
    """MySQL zero dates (``0000-00-00``, allowed without NO_ZERO_DATE,
    https://dev.mysql.com/doc/refman/8.0/en/date-and-time-types.html) exist on
    no other engine: NULL them (counted) or reject the row."""
    predicate = source_dialect.zero_date_predicate(expr)
    if policy == "reject":
        result.reject_when = _or(result.reject_when, predicate)
        _add_note(result, "zero dates rejected")
    else:
        result.null_when = _or(result.null_when, predicate)
        _add_note(result, "zero dates set to NULL, counted")


def _or(left: str | None, right: str) -> str:
    return f"({left}) OR ({right})" if left else right


def _add_note(result: CastResult, note: str) -> None:
    result.note = f"{result.note}; {note}" if result.note else note


def target_limits(dtype: DataType, target_engine: str) -> tuple[DataType, str]:
    """``dtype`` widened to what ``target_engine`` can hold, and a note saying
    why (``""`` and ``dtype`` itself when it fits). Only MySQL has limits a
    neutral type can exceed."""
    if target_engine != "mysql":
        return dtype, ""
    kind = dtype.kind
    if kind == Kind.ARRAY:
        return DataType(Kind.JSON), "array stored as JSON (MySQL has no array type)"
    if kind == Kind.INTERVAL:
        return DataType(Kind.VARCHAR, length=64), "interval stored as text (MySQL has no interval type)"
    if kind == Kind.DECIMAL:
        return _mysql_decimal(dtype)
    if kind == Kind.CHAR and (dtype.length or 0) > MYSQL_MAX_CHAR:
        dtype = dtype.with_(kind=Kind.VARCHAR)
        widened, note = target_limits(dtype, target_engine)
        return widened, note or f"char({dtype.length}) exceeds MySQL CHAR's {MYSQL_MAX_CHAR}: varchar"
    if kind == Kind.VARCHAR and (dtype.length or 0) > MYSQL_MAX_VARCHAR:
        return (DataType(Kind.TEXT), f"{format_type(dtype)} exceeds MySQL's {MYSQL_MAX_VARCHAR} "
                                     "utf8mb4 characters: stored as text")
    if kind == Kind.BYTES and (dtype.length or 0) > MYSQL_MAX_BINARY:
        return DataType(Kind.BYTES), f"binary({dtype.length}) exceeds MySQL's {MYSQL_MAX_BINARY}: blob"
    return dtype, ""


def _mysql_decimal(dtype: DataType) -> tuple[DataType, str]:
    max_p, max_s = MYSQL_MAX_DECIMAL
    if dtype.precision is None:
        return DataType(Kind.TEXT), ("decimal without precision stored as text (MySQL DECIMAL holds "
                                     f"{max_p} digits, {max_s} after the point); a rule "
                                     "kind:decimal -> decimal(p,s) keeps it numeric")
    if dtype.precision > max_p or (dtype.scale or 0) > max_s:
        return DataType(Kind.TEXT), (f"{format_type(dtype)} exceeds MySQL's decimal({max_p},{max_s}): "
                                     "stored as text")
    return dtype, ""


def invalid_predicate(source: DataType, target: DataType, expr: str, source_engine: str,
                      target_engine: str) -> tuple[str, str] | None:
    """``(predicate, what)`` selecting the source values (SQL over ``expr`` in
    the source dialect) that ``target`` cannot hold, or None when all fit.

    Covers integers into boolean and into narrower integers.
    """
    if source.kind not in _KIND_BITS:
        return None
    if target.kind == Kind.BOOLEAN:
        if source.kind == Kind.BOOLEAN and source_engine != "mysql":
            return None  # MySQL BOOLEAN is tinyint(1): any tinyint value
        return f"{expr} NOT IN (0, 1)", "values other than 0 and 1"
    if target.kind not in _KIND_BITS:
        return None
    (s_lo, s_hi), (t_lo, t_hi) = _source_range(source, source_engine), _range(target, target_engine)
    parts = ([f"{expr} < {t_lo}"] if s_lo < t_lo else []) + ([f"{expr} > {t_hi}"] if s_hi > t_hi else [])
    if not parts:
        return None
    return " OR ".join(parts), f"values outside {format_type(target)} ({t_lo}..{t_hi})"


def _source_range(dtype: DataType, engine: str) -> tuple[int, int]:
    if engine == "sqlite":
        return _bounds(64, False)  # https://www.sqlite.org/datatype3.html section 2
    try:
        base = split_spelling(dtype.native).base if dtype.native else ""
    except InputError:
        base = ""
    return _bounds(_NATIVE_BITS.get(base, _KIND_BITS[dtype.kind]), dtype.unsigned)


def _range(dtype: DataType, engine: str) -> tuple[int, int]:
    if engine == "sqlite":
        return _bounds(64, False)
    return _bounds(_KIND_BITS[dtype.kind], dtype.unsigned and engine == "mysql")


def _bounds(bits: int, unsigned: bool) -> tuple[int, int]:
    return (0, 2 ** bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
