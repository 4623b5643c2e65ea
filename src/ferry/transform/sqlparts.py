"""SQL fragments for column transforms, one spelling per source engine.

Every function takes SQL text ``x`` in the source dialect and returns SQL text
in the same dialect, NULL when ``x`` is NULL unless it says otherwise.
``engine`` is ``postgresql``, ``mysql`` or ``sqlite``. The MySQL source
session runs without ``NO_BACKSLASH_ESCAPES``, so string literals escape ``\\``.
"""

from __future__ import annotations

from ferry.catalog.model import INTEGER_KINDS, NUMBER_KINDS, TEXT_KINDS, DataType, Kind

_SQLITE_WS_PASSES = 8  # each pass halves a run of spaces: runs up to 2**8 collapse


def literal(value, engine: str) -> str:
    """A SQL literal for a YAML scalar: NULL, booleans (TRUE/FALSE on
    PostgreSQL, 1/0 elsewhere), numbers, quoted text."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if engine == "postgresql" else ("1" if value else "0")
    if isinstance(value, (int, float)):
        return repr(value)
    text = str(value).replace("'", "''")
    if engine == "mysql":
        text = text.replace("\\", "\\\\")
    return f"'{text}'"


def family(dtype: DataType) -> str:
    """``text``, ``int``, ``number`` (decimal, float) or ``other``."""
    if dtype.kind in TEXT_KINDS:
        return "text"
    if dtype.kind in INTEGER_KINDS:
        return "int"
    return "number" if dtype.kind in NUMBER_KINDS else "other"


def convert(x: str, to: DataType, engine: str) -> str:
    """``x`` converted by SQL to the family of ``to`` (text, integer, decimal,
    float), so the value read and hashed has the target's type."""
    fam = family(to)
    if fam == "text":
        return {"mysql": f"CAST({x} AS CHAR)", "sqlite": f"CAST({x} AS TEXT)"}.get(engine, f"CAST({x} AS text)")
    if fam == "int":
        return {"mysql": f"CAST({x} AS SIGNED)", "sqlite": f"CAST({x} AS INTEGER)"}.get(engine, f"CAST({x} AS bigint)")
    if to.kind == Kind.DECIMAL:
        args = f"({to.precision},{to.scale or 0})" if to.precision else ""
        return {"sqlite": f"CAST({x} AS NUMERIC)"}.get(engine, f"CAST({x} AS DECIMAL{args})")
    if fam == "number":
        return {"mysql": f"CAST({x} AS DOUBLE)", "sqlite": f"CAST({x} AS REAL)"}.get(
            engine, f"CAST({x} AS double precision)")
    return x


def length(x: str, engine: str) -> str:
    """Length in characters."""
    return f"CHAR_LENGTH({x})" if engine == "mysql" else f"LENGTH({x})"


def substr(x: str, start: str, count: str | None, engine: str) -> str:
    """Characters of ``x`` from 1-based ``start`` (``count`` of them, or to the end)."""
    args = f"{x}, {start}" + (f", {count}" if count is not None else "")
    return f"SUBSTRING({args})" if engine == "mysql" else f"SUBSTR({args})"


def concat(parts: list[str], engine: str) -> str:
    """Text concatenation."""
    return f"CONCAT({', '.join(parts)})" if engine == "mysql" else "(" + " || ".join(parts) + ")"


def repeat(char: str, count: str, engine: str) -> str:
    """``char`` repeated ``count`` times (SQLite: through ``zeroblob``)."""
    if engine == "sqlite":
        return f"REPLACE(HEX(ZEROBLOB({count})), '00', {literal(char, engine)})"
    return f"REPEAT({literal(char, engine)}, {count})"


def normalize_whitespace(x: str, engine: str) -> str:
    """Trimmed, inner runs of spaces/tabs/line breaks as one space. SQLite has
    no regular expressions: tabs and line breaks become spaces, then runs of up
    to 256 spaces collapse."""
    if engine == "postgresql":
        return f"BTRIM(REGEXP_REPLACE({x}, '[[:space:]]+', ' ', 'g'))"
    if engine == "mysql":
        return f"TRIM(REGEXP_REPLACE({x}, '[[:space:]]+', ' '))"
    out = f"REPLACE(REPLACE(REPLACE({x}, CHAR(9), ' '), CHAR(10), ' '), CHAR(13), ' ')"
    for _ in range(_SQLITE_WS_PASSES):
        out = f"REPLACE({out}, '  ', ' ')"
    return f"TRIM({out})"


def value_map(x: str, mapping: dict, otherwise: str, engine: str, key_text: bool = False,
              value_text: bool = False) -> str:
    """``CASE`` replacing each key of ``mapping`` by its value; other values
    give ``otherwise`` (SQL text). ``key_text`` / ``value_text``: write the
    keys / values as text literals (``1`` -> ``'1'``), for a text source
    value / a text target (PostgreSQL compares and unifies types strictly)."""
    whens = []
    for old, new in mapping.items():
        test = f"{x} IS NULL" if old is None else f"{x} = {literal(_as_text(old, key_text), engine)}"
        whens.append(f"WHEN {test} THEN {literal(_as_text(new, value_text), engine)}")
    return f"CASE {' '.join(whens)} ELSE {otherwise} END"


def _as_text(value, wanted: bool):
    if not wanted or value is None or isinstance(value, str):
        return value
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def mask(x: str, first: int, last: int, engine: str) -> str:
    """Keep the first ``first`` and last ``last`` characters, ``*`` for the
    others (same length). A value not longer than ``first + last`` is all ``*``."""
    n = length(x, engine)
    keep = first + last
    parts = [substr(x, "1", str(first), engine)] if first else []
    parts.append(repeat("*", f"{n} - {keep}", engine))
    if last:
        parts.append(substr(x, f"{n} - {last - 1}", None, engine))
    return f"CASE WHEN {n} <= {keep} THEN {repeat('*', n, engine)} ELSE {concat(parts, engine)} END"


def md5_hex(x: str, engine: str) -> str | None:
    """Lowercase MD5 hex of the value's text (SQLite: ferry registers ``md5``
    on its connections); None for an unknown engine."""
    if engine == "postgresql":
        return f"MD5(CAST({x} AS text))"
    if engine == "mysql":
        return f"MD5({x})"
    if engine == "sqlite":
        return f"md5(CAST({x} AS TEXT))"
    return None


def clamp(x: str, lo: str, hi: str) -> str:
    """``x`` limited to ``lo..hi`` (NULL stays NULL, unlike LEAST/GREATEST on
    PostgreSQL, which ignore NULLs)."""
    return f"CASE WHEN {x} < {lo} THEN {lo} WHEN {x} > {hi} THEN {hi} ELSE {x} END"
