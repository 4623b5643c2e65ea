"""Neutral type spellings: the text form of a :class:`DataType` in plan files.

:func:`format_type` writes the one canonical spelling of a neutral type and
:func:`parse_type` reads it back (plus the common aliases users type), so that
``parse_type(format_type(t)) == t`` for every type without a ``native`` spelling.

Canonical spellings::

    boolean  smallint  integer  bigint  decimal  decimal(p,s)  float  double
    char(n)  varchar(n)  text  bytes  bytes(n)  date  time  time(p)
    timestamp  timestamp(p)  timestamptz  timestamptz(p)  interval  json  uuid
    enum('a','b')  set('x','y')  year  <type>[]

Numeric kinds may end in ``unsigned`` (MySQL). Labels are single-quoted, a
quote inside a label doubled (``enum('it''s')``). ``enum``, ``set``,
``varchar``, ``decimal`` etc. without parameters are valid: casting rules read
them as "keep the source column's parameters".

:func:`split_spelling` is the tokenizer, shared with the casting rules that
match native spellings such as ``int(10) unsigned`` or
``timestamp(3) with time zone``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ferry.catalog.model import DataType, Kind
from ferry.errors import InputError

_FLAGS = ("unsigned", "signed", "zerofill")
_WORDS = re.compile(r"^[a-z_][a-z0-9_]*( [a-z_][a-z0-9_]*)*$")
_DIMS = re.compile(r"((?:\[\d*\]\s*)*)$")
_LABEL = re.compile(r"\s*'((?:[^']|'')*)'\s*(?:,|$)")

_ALIASES: dict[str, Kind] = {
    "boolean": Kind.BOOLEAN, "bool": Kind.BOOLEAN,
    "smallint": Kind.SMALLINT, "int2": Kind.SMALLINT,
    "integer": Kind.INTEGER, "int": Kind.INTEGER, "int4": Kind.INTEGER,
    "bigint": Kind.BIGINT, "int8": Kind.BIGINT,
    "decimal": Kind.DECIMAL, "numeric": Kind.DECIMAL,
    "float": Kind.FLOAT, "real": Kind.FLOAT, "float4": Kind.FLOAT,
    "double": Kind.DOUBLE, "double precision": Kind.DOUBLE, "float8": Kind.DOUBLE,
    "char": Kind.CHAR, "character": Kind.CHAR,
    "varchar": Kind.VARCHAR, "character varying": Kind.VARCHAR,
    "text": Kind.TEXT,
    "bytes": Kind.BYTES, "bytea": Kind.BYTES, "blob": Kind.BYTES,
    "date": Kind.DATE,
    "time": Kind.TIME, "time without time zone": Kind.TIME,
    "timestamp": Kind.TIMESTAMP, "timestamp without time zone": Kind.TIMESTAMP,
    "datetime": Kind.TIMESTAMP,
    "timestamptz": Kind.TIMESTAMPTZ, "timestamp with time zone": Kind.TIMESTAMPTZ,
    "interval": Kind.INTERVAL,
    "json": Kind.JSON, "jsonb": Kind.JSON,
    "uuid": Kind.UUID,
    "enum": Kind.ENUM, "set": Kind.SET,
    "year": Kind.YEAR,
}
_INTEGERS = (Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT)
_NUMERIC = (Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT, Kind.DECIMAL, Kind.FLOAT, Kind.DOUBLE)
_SIZED = (Kind.CHAR, Kind.VARCHAR, Kind.BYTES)
_TEMPORAL = (Kind.TIME, Kind.TIMESTAMP, Kind.TIMESTAMPTZ)
VALID_SPELLINGS = ("boolean", "smallint", "integer", "bigint", "decimal(p,s)", "float", "double",
                   "char(n)", "varchar(n)", "text", "bytes", "date", "time(p)", "timestamp(p)",
                   "timestamptz(p)", "interval", "json", "uuid", "enum('a',...)", "set('a',...)",
                   "year", "<type>[]")


@dataclass(frozen=True)
class Spelling:
    """A type spelling cut into its parts.

    Attributes:
        base: the type name, lowercased, words joined by one space, without
            parameters and flags (``"timestamp with time zone"``, ``"int"``).
        args: the text between the first parentheses (case kept, quotes
            kept), or None when there are none.
        flags: the flags ``unsigned``, ``signed``, ``zerofill`` present.
        dims: number of trailing ``[]`` (array dimensions), 0 for scalars.
    """

    base: str
    args: str | None
    flags: frozenset[str]
    dims: int

    @property
    def unsigned(self) -> bool:
        """True when the spelling says ``unsigned``."""
        return "unsigned" in self.flags


def split_spelling(spelling: str) -> Spelling:
    """Cut ``spelling`` (neutral or native) into a :class:`Spelling`.

    ``"int(10) unsigned"`` -> base ``int``, args ``10``, flags {unsigned};
    ``"timestamp(3) with time zone"`` -> base ``timestamp with time zone``,
    args ``3``; ``"text[]"`` -> base ``text``, dims 1.

    Raises:
        InputError: unbalanced parentheses or quotes, or characters that
            cannot be part of a type name.
    """
    text = spelling.strip()
    open_at = text.find("(")
    args = None
    if open_at >= 0:
        close_at = _closing_paren(text, open_at, spelling)
        args = text[open_at + 1:close_at]
        text = text[:open_at] + " " + text[close_at + 1:]
    dims_text = _DIMS.search(text).group(1)
    dims = dims_text.count("[")
    words = text[:len(text) - len(dims_text)].lower().split()
    flags = frozenset(w for w in words if w in _FLAGS)
    base = " ".join(w for w in words if w not in _FLAGS)
    if not _WORDS.match(base):
        raise _unknown(spelling)
    return Spelling(base, args, flags, dims)


def _closing_paren(text: str, open_at: int, spelling: str) -> int:
    quoted = False
    for i in range(open_at + 1, len(text)):
        if text[i] == "'":
            quoted = not quoted
        elif text[i] == ")" and not quoted:
            return i
    raise InputError(f"malformed type {spelling!r}: unbalanced parenthesis or quote",
                     "close the parameter list, e.g. varchar(255) or enum('a','b')")


def _unknown(spelling: str) -> InputError:
    return InputError(f"unknown type {spelling!r}", "valid types: " + ", ".join(VALID_SPELLINGS))


def parse_type(spelling: str) -> DataType:
    """Read a neutral type spelling (or an accepted alias) into a :class:`DataType`.

    Aliases: ``int``/``int4``, ``int2``, ``int8``, ``bool``, ``numeric(p,s)``,
    ``real``/``float4`` -> float, ``double precision``/``float8`` -> double,
    ``float(p)`` -> float when p <= 24 else double (PostgreSQL's rule,
    https://www.postgresql.org/docs/current/datatype-numeric.html#DATATYPE-FLOAT),
    ``character(n)``, ``character varying(n)``, ``jsonb`` -> json,
    ``bytea``/``blob`` -> bytes, ``datetime`` -> timestamp,
    ``timestamp [without time zone]`` / ``timestamp with time zone``,
    ``time without time zone``, ``year(4)``, ``int(11)`` (a MySQL display
    width, ignored). The result has ``native=""``.

    Raises:
        InputError: unknown or malformed spelling; the message names it and
            the hint lists the valid spellings.
    """
    parts = split_spelling(spelling)
    if parts.dims:
        item = parse_type(_without_dims(spelling))
        for _ in range(parts.dims):
            item = DataType(Kind.ARRAY, item=item)
        return item
    kind = _ALIASES.get(parts.base)
    if kind is None:
        raise _unknown(spelling)
    dtype = _with_args(kind, parts, spelling)
    if parts.flags - {"unsigned"} or (parts.unsigned and dtype.kind not in _NUMERIC):
        raise InputError(f"malformed type {spelling!r}: unexpected {' '.join(sorted(parts.flags))}",
                         "only numeric types take 'unsigned'; 'signed' and 'zerofill' are not neutral")
    return dtype.with_(unsigned=parts.unsigned) if parts.unsigned else dtype


def _without_dims(spelling: str) -> str:
    return spelling.rstrip()[: -len(_DIMS.search(spelling.rstrip()).group(1))]


def _with_args(kind: Kind, parts: Spelling, spelling: str) -> DataType:
    if parts.args is None:
        return DataType(kind)
    if kind in (Kind.ENUM, Kind.SET):
        return DataType(kind, values=parse_labels(parts.args, spelling))
    numbers = _numbers(parts.args, spelling)
    if kind in _SIZED and len(numbers) == 1 and numbers[0] > 0:
        return DataType(kind, length=numbers[0])
    if kind == Kind.DECIMAL and len(numbers) in (1, 2) and numbers[0] > 0:
        return DataType(kind, precision=numbers[0], scale=numbers[1] if len(numbers) == 2 else 0)
    if kind in _TEMPORAL and len(numbers) == 1 and numbers[0] <= 6:
        return DataType(kind, precision=numbers[0])
    if kind == Kind.FLOAT and len(numbers) == 1 and 1 <= numbers[0] <= 53:
        return DataType(Kind.FLOAT if numbers[0] <= 24 else Kind.DOUBLE)
    if (kind == Kind.YEAR and numbers == (4,)) or (kind in _INTEGERS and len(numbers) == 1):
        return DataType(kind)  # MySQL display width, not a range
    raise InputError(f"malformed type {spelling!r}: bad parameters ({parts.args})",
                     "e.g. varchar(255), decimal(10,2), timestamp(6), float(53)")


def _numbers(args: str, spelling: str) -> tuple[int, ...]:
    try:
        return tuple(int(a) for a in args.split(","))
    except ValueError:
        raise InputError(f"malformed type {spelling!r}: parameters must be integers",
                         "e.g. varchar(255), decimal(10,2)") from None


def parse_labels(args: str, spelling: str = "") -> tuple[str, ...]:
    """The labels of an ENUM / SET parameter list: ``'a','it''s'`` -> ("a", "it's").

    Raises:
        InputError: no labels, or text outside the single quotes.
    """
    labels, pos = [], 0
    while pos < len(args):
        match = _LABEL.match(args, pos)
        if not match:
            break
        labels.append(match.group(1).replace("''", "'"))
        pos = match.end()
    if not labels or args[pos:].strip():
        raise InputError(f"malformed type {spelling or args!r}: labels must be quoted",
                         "write enum('a','b') with a doubled quote inside a label: 'it''s'")
    return tuple(labels)


def format_type(dtype: DataType) -> str:
    """The canonical neutral spelling of ``dtype`` (``native`` is ignored).

    ``decimal(10,2)``, ``varchar(255)``, ``timestamp(3)``, ``enum('a','b')``,
    ``integer[]``, ``bigint unsigned``; an ARRAY without item type is ``array``.
    """
    text = _format_bare(dtype)
    return f"{text} unsigned" if dtype.unsigned and dtype.kind in _NUMERIC else text


def _format_bare(dtype: DataType) -> str:
    kind = dtype.kind
    if kind == Kind.ARRAY:
        return f"{format_type(dtype.item)}[]" if dtype.item else "array"
    if kind == Kind.DECIMAL and dtype.precision:
        return f"decimal({dtype.precision},{dtype.scale or 0})"
    if kind in _SIZED and dtype.length:
        return f"{kind.value}({dtype.length})"
    if kind in _TEMPORAL and dtype.precision is not None:
        return f"{kind.value}({dtype.precision})"
    if kind in (Kind.ENUM, Kind.SET) and dtype.values:
        return f"{kind.value}({format_labels(dtype.values)})"
    return kind.value


def format_labels(values: tuple[str, ...]) -> str:
    """``("a", "it's")`` -> ``'a','it''s'`` (quotes doubled, no spaces)."""
    return ",".join("'" + v.replace("'", "''") + "'" for v in values)
