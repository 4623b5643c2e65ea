"""Compile one column mapping into a SQL expression of the source's ``SELECT``.

The order is fixed (see :class:`ferry.plan.model.ColumnMapping`):
``expression`` (else the column) -> ``timezone`` -> ``trim`` -> ``normalize_whitespace`` ->
``lower`` / ``upper`` -> ``value_map`` -> conversion to text when the target
type is text and the source is not -> ``null_default`` -> ``on_invalid`` ->
``mask`` -> ``hash``.

``on_invalid`` judges the *source* value against the target ``type``:
integers out of the target's range, integers into boolean other than 0/1
(through :func:`ferry.catalog.casting.cast_column`) and text longer than a
``varchar(n)`` / ``char(n)``. Values no predicate foresees (text that is not a
number, say) are refused by the target and become rejects.

Engine differences: SQLite's ``LOWER``/``UPPER`` change ASCII letters only
(``é`` stays); on SQLite, ``hash`` uses the ``md5`` function ferry registers.
``hash`` digests the source engine's text of the value (use it on text).
Integer-to-text casts are done by SQL ``CAST`` in the source; text-to-number
casts are left to the target, which rejects text that is not a number.
``on_invalid`` ranges are the *target engine's* (SQLite integers hold 64 bits,
so ``smallint`` clamps nothing there).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ferry.catalog.casting import CastingRule, cast_column
from ferry.catalog.model import Column, DataType, Kind, Table
from ferry.catalog.types import format_type, parse_type
from ferry.errors import InputError, PlanError
from ferry.plan.model import ColumnMapping
from ferry.transform import sqlparts as sp
from ferry.transform.expressions import transpile

_BITS = {Kind.SMALLINT: 16, Kind.INTEGER: 32, Kind.BIGINT: 64}


@dataclass
class CompiledColumn:
    """One target column as the source ``SELECT`` computes it.

    Attributes:
        source: the source column name, or None for an added column.
        expr: SQL in the source dialect; type: the neutral target type.
        rule, note: why this type, and what happens to the data (reports).
        nullable, default: for the target column (default in the source dialect).
        null_counters, reject_filters, value_counters: ``(note or reason,
            source predicate)``: values set to NULL (counted), rows rejected,
            values changed in place (clamped; counted).
        transforms: short names of the value-changing transforms applied.
        source_checks: ``(SQL, problem)``: queries the source must answer with
            a true first value before the copy (MySQL time zone tables).
    """

    source: str | None
    expr: str
    type: DataType
    rule: str
    note: str = ""
    nullable: bool = True
    default: str | None = None
    identity: bool = False
    null_counters: list[tuple[str, str]] = field(default_factory=list)
    reject_filters: list[tuple[str, str]] = field(default_factory=list)
    value_counters: list[tuple[str, str]] = field(default_factory=list)
    transforms: list[str] = field(default_factory=list)
    source_checks: list[tuple[str, str]] = field(default_factory=list)

    def apply(self, name: str, expr: str) -> None:
        """Replace the expression by ``expr``, recording the transform ``name``."""
        self.expr = expr
        self.transforms.append(name)


def planned_type(spelling: str, where: str) -> DataType:
    """The neutral type a plan spells (``decimal(20,0)``).

    Raises:
        PlanError: a spelling ferry does not know, located at ``where``.
    """
    try:
        return parse_type(spelling)
    except InputError as exc:
        raise PlanError("bad type", [f"{where}.type: {exc.message}"]) from None


def compile_column(m: ColumnMapping, table: Table, rules: list[CastingRule], sdial,
                   target_engine: str, where: str) -> CompiledColumn:
    """Compile ``m`` (a column mapping of ``table``) for the source ``sdial``.

    Raises:
        PlanError: unknown columns, unparsable SQL or type, a transform the
            source engine cannot run; ``problems`` lists each with ``where``.
    """
    if m.name is None:
        return _added(m, table, sdial.name, where)
    col = table.column(m.name)
    cast = _cast(col, table, m, rules, sdial, target_engine, where)
    out = CompiledColumn(col.name, sdial.quote(col.name), cast.type, cast.rule, cast.note,
                         col.nullable or cast.drop_not_null, col.default, col.identity)
    out.nullable = out.nullable or bool(m.expression or m.value_map)
    if m.expression:
        out.expr = transpile(m.expression, [c.name for c in table.columns], sdial.name, f"{where}.expression")
        out.transforms.append("expression")
    if m.timezone:
        _timezone(out, m, col, sdial.name, where)
    _text_ops(out, m, sdial.name)
    _map_and_convert(out, m, col.type, sdial.name)
    _invalid(out, cast, m, col, sdial, target_engine)
    _privacy(out, m, sdial.name, where)
    if out.transforms:
        out.default, out.identity = None, False
    return out


def _cast(col: Column, table: Table, m: ColumnMapping, rules, sdial, target_engine: str, where: str):
    if m.type:
        planned = planned_type(m.type, where)
        kept = cast_column(col, table, sdial, target_engine, rules)
        if kept.type.native and kept.type.with_(native="") == planned:
            return kept   # the type `ferry init` wrote for a type kept between databases of one engine

        invalid = "null" if m.on_invalid == "null" else "reject"
        own = CastingRule(match="*", column=f"{table.qualified}.{col.name}", to=m.type, invalid=invalid)
        rules = [own, *rules]
    cast = cast_column(col, table, sdial, target_engine, rules)
    if m.type:
        cast.rule = f"plan: {col.name} -> {m.type}"
    if m.hash and not m.type:
        cast.type, cast.rule = DataType(Kind.VARCHAR, length=32), "hash: md5 hex"
    elif (m.mask or m.hash) and cast.type.kind not in sp.TEXT_KINDS and not m.type:
        cast.type, cast.rule = DataType(Kind.TEXT), "mask: text"
    return cast


def _added(m: ColumnMapping, table: Table, engine: str, where: str) -> CompiledColumn:
    """An added column: a constant ``default`` or an ``expression``."""
    if m.type:
        dtype = planned_type(m.type, where)
    elif m.expression is not None:
        raise PlanError("missing type", [f"{where}.type: added column {m.target!r} with an expression "
                                         "needs a `type`"])
    else:
        dtype = _constant_type(m.default)
    if m.expression is not None:
        expr = transpile(m.expression, [c.name for c in table.columns], engine, f"{where}.expression")
        expr = sp.convert(expr, dtype, engine) if sp.family(dtype) == "text" else expr
        return CompiledColumn(None, expr, dtype, f"added: expression -> {format_type(dtype)}",
                              transforms=["expression"])
    return CompiledColumn(None, sp.literal(m.default, engine), dtype, f"added: constant {m.default!r}",
                          nullable=False, transforms=["default"])


def _constant_type(value) -> DataType:
    if isinstance(value, bool):
        return DataType(Kind.BOOLEAN)
    if isinstance(value, int):
        return DataType(Kind.BIGINT)
    if isinstance(value, float):
        return DataType(Kind.DOUBLE)
    return DataType(Kind.TEXT)


def _timezone(out: CompiledColumn, m: ColumnMapping, col: Column, engine: str, where: str) -> None:
    """``{from: zone}``: a naive timestamp read as wall-clock time in ``zone``
    becomes a timestamptz (the instant); ``{to: zone}``: a timestamptz becomes
    the naive wall-clock time in ``zone``. Computed by the source (SQLite: see
    :mod:`ferry.connectors.timezones`)."""
    (direction, zone), = m.timezone.items()
    want = Kind.TIMESTAMP if direction == "from" else Kind.TIMESTAMPTZ
    if col.type.kind != want and not m.expression:
        raise PlanError("bad timezone", [f"{where}.timezone: {col.name!r} is {format_type(col.type)}, not a "
                                         f"{'timestamp without time zone' if direction == 'from' else 'timestamptz'}"])
    out.expr = _shift(out.expr, direction, zone, engine)
    if engine == "mysql":
        out.source_checks.append((f"SELECT CONVERT_TZ('2000-01-01 00:00:00', {sp.literal(zone, engine)}, "
                                  "'+00:00') IS NOT NULL",
                                  f"{where}.timezone: the MySQL server does not know zone {zone!r}: load its "
                                  "time zone tables (mysql_tzinfo_to_sql /usr/share/zoneinfo | mysql mysql)"))
    if not m.type:
        out.type = DataType(Kind.TIMESTAMPTZ if direction == "from" else Kind.TIMESTAMP, precision=col.type.precision)
        out.rule = f"timezone: {zone} -> {'timestamptz' if direction == 'from' else 'timestamp'}"
    out.transforms.append("timezone")


def _shift(expr: str, direction: str, zone: str, engine: str) -> str:
    """SQL of the shift in the source ``engine`` (MySQL sessions run in UTC)."""
    z = sp.literal(zone, engine)
    if engine == "postgresql":
        return f"({expr} AT TIME ZONE {z})"
    if engine == "sqlite":
        return f"ferry_tz_{direction}({expr}, {z})"
    return f"CONVERT_TZ({expr}, {z}, '+00:00')" if direction == "from" else f"CONVERT_TZ({expr}, '+00:00', {z})"


def _text_ops(out: CompiledColumn, m: ColumnMapping, engine: str) -> None:
    if m.trim and not m.normalize_whitespace:
        out.apply("trim", f"TRIM({out.expr})")
    if m.normalize_whitespace:
        out.apply("normalize_whitespace", sp.normalize_whitespace(out.expr, engine))
    if m.lower or m.upper:
        fn = "LOWER" if m.lower else "UPPER"
        out.apply(fn.lower(), f"{fn}({out.expr})")


def _map_and_convert(out: CompiledColumn, m: ColumnMapping, source_type: DataType, engine: str) -> None:
    """``value_map``, then text conversion when the target is text and the
    source is not, then ``null_default``."""
    to_text = sp.family(out.type) == "text" and sp.family(source_type) != "text" and not m.expression
    otherwise = sp.convert(out.expr, out.type, engine) if to_text else out.expr
    if source_type.kind == Kind.ARRAY and out.type.kind == Kind.JSON and engine == "postgresql":
        otherwise = f"to_json({otherwise})"  # arrays travel as JSON to engines without arrays
    if m.value_map:
        key_text = sp.family(source_type) == "text" and not m.expression
        out.expr = sp.value_map(out.expr, m.value_map, otherwise, engine, key_text, sp.family(out.type) == "text")
        out.transforms.append("value_map")
    else:
        out.expr = otherwise
    if m.null_default is not None:
        out.expr = f"COALESCE({out.expr}, {sp.literal(m.null_default, engine)})"
        out.transforms.append("null_default")


def _invalid(out: CompiledColumn, cast, m: ColumnMapping, col: Column, sdial, target_engine: str) -> None:
    """Apply the cast's predicates (NULL / reject) and ``on_invalid``."""
    engine, raw = sdial.name, sdial.quote(col.name)
    reject_when = cast.reject_when
    too_long = _too_long(col.type, out.type, raw, engine) if m.type else None
    if m.on_invalid == "clamp":
        if reject_when and out.type.kind in _BITS | {Kind.BOOLEAN: 0}:
            out.expr = _clamp(out.expr, out.type, target_engine)
            out.value_counters.append((f"values clamped to {format_type(out.type)}", reject_when))
            out.transforms.append("clamp")
            reject_when = None
        if too_long:
            out.expr = sp.substr(out.expr, "1", str(out.type.length), engine)
            out.value_counters.append((f"text cut to {out.type.length} characters", too_long))
            out.transforms.append("clamp")
    elif too_long and m.on_invalid == "null":
        cast.null_when = f"({cast.null_when}) OR ({too_long})" if cast.null_when else too_long
        cast.note = f"{cast.note}; text too long set to NULL, counted".lstrip("; ")
    elif too_long:
        reject_when = f"({reject_when}) OR ({too_long})" if reject_when else too_long
        cast.note = f"{cast.note}; text too long rejected".lstrip("; ")
    if cast.null_when:
        out.expr = f"CASE WHEN {cast.null_when} THEN NULL ELSE {out.expr} END"
        out.null_counters.append((cast.note, cast.null_when))
        out.nullable = True
    if reject_when:
        out.reject_filters.append((cast.note or "refused by casting rule", reject_when))
    out.note = cast.note


def _too_long(source: DataType, target: DataType, raw: str, engine: str) -> str | None:
    if target.kind not in (Kind.VARCHAR, Kind.CHAR) or not target.length or source.kind not in sp.TEXT_KINDS:
        return None
    if source.length is not None and source.length <= target.length:
        return None
    return f"{sp.length(raw, engine)} > {int(target.length)}"


def _clamp(x: str, target: DataType, target_engine: str) -> str:
    if target.kind == Kind.BOOLEAN:
        return f"CASE WHEN {x} NOT IN (0, 1) THEN 1 ELSE {x} END"
    bits = 64 if target_engine == "sqlite" else _BITS[target.kind]
    unsigned = target.unsigned and target_engine == "mysql"
    lo, hi = (0, 2 ** bits - 1) if unsigned else (-(2 ** (bits - 1)), 2 ** (bits - 1) - 1)
    return sp.clamp(x, str(lo), str(hi))


def _privacy(out: CompiledColumn, m: ColumnMapping, engine: str, where: str) -> None:
    if m.mask is not None:
        first, last = m.mask.get("first", 0), m.mask.get("last", 0)
        x = out.expr if sp.family(out.type) == "text" else sp.convert(out.expr, DataType(Kind.TEXT), engine)
        out.apply("mask", sp.mask(x, first, last, engine))
    if m.hash:
        hashed = sp.md5_hex(out.expr, engine)
        if hashed is None:
            raise PlanError("hash not available", [f"{where}.hash: the {engine} source has no MD5 function"])
        out.apply("hash", hashed)
