"""SQL that renders PostgreSQL values as ferry's canonical text (for hashing).

Every function returns a SQL expression of type ``text`` that is NULL exactly
when the input is NULL, and equals
:func:`ferry.connectors.canonical.canonical_text` of the value the connector's
``read()`` returns. The session settings the connector makes are assumed:
``extra_float_digits = 1`` (shortest round-trip float output, PostgreSQL 12+),
``DateStyle = ISO``, ``IntervalStyle = postgres``,
``standard_conforming_strings = on`` and ``TimeZone = UTC``.

Floats: float8out/float4out print the shortest round-trip digits but with a
C ``%e``-style exponent (``1e+20``, ``1.5e-07``); float4out also switches to
the exponent from 1e6 on (src/backend/utils/adt/float.c and
src/common/f2s.c), so a float4 with exponent 6..14 is rewritten plain.

JSON: canonical JSON (keys sorted by code point, no spaces, numbers as
trimmed decimals) is built without any helper function (a read-only source
cannot create one): the first levels by nested ``jsonb_each`` /
``jsonb_array_elements`` subqueries with ``string_agg(... ORDER BY key COLLATE
"C")``, deeper levels by a recursive CTE that lists every node with a sortable
path and joins one token per node in path order. Cost: ~30 us per small
nested document (100,000 documents in ~3 s). Limits: ``json`` values are cast
to ``jsonb`` first, so a ``json`` text containing ``\\u0000`` cannot be hashed
(PostgreSQL refuses it in ``jsonb``), and arrays deeper than the inline levels
may hold at most 10^10 elements per level.
"""

from __future__ import annotations

from ferry.catalog.model import DataType, Kind
from ferry.connectors.base import ORDERED_GROUP_ROWS
from ferry.connectors.canonical import JSON_MAX_EXPONENT

# exponents have at least two digits: e+20 -> e20, e-07 -> e-7, e+06 -> e6
_EXP_FIX = "replace(replace(replace({t}, 'e+0', 'e'), 'e+', 'e'), 'e-0', 'e-')"
_FLOAT4_PLAIN = r"'e\+(0[6-9]|1[0-4])$'"


def normalize(expr: str, dtype: DataType, depth: int = 0) -> str:
    """SQL (text) rendering ``expr`` of neutral type ``dtype`` canonically.

    ``depth`` makes aliases unique when array items are normalised inside
    an array's normalisation.
    """
    e = f"({expr})"
    k = dtype.kind
    if k == Kind.ARRAY:
        return _array(e, dtype.item or DataType(Kind.TEXT), depth)
    if k == Kind.JSON:
        return json_canonical(e, depth)
    return _SCALAR[k](e)


def _float8(e: str) -> str:
    # via text: a float4 source reads back (psycopg) as the float8 of its text
    x = f"{e}::text::float8"
    return _shortest(x, 52, lambda t: _EXP_FIX.format(t=t))


def _float4(e: str) -> str:
    def fast(t: str) -> str:
        return (f"CASE WHEN {t} ~ {_FLOAT4_PLAIN} THEN trim_scale({t}::numeric)::text "
                f"ELSE {_EXP_FIX.format(t=t)} END")
    return _shortest(f"{e}::float4", 23, fast)


def _shortest(x: str, bits: int, fast) -> str:
    """Shortest round-trip text of float ``x`` with ``bits`` mantissa bits.

    PostgreSQL's Ryu (src/common/d2s.c, f2s.c) never picks an interval bound,
    so for |x| >= 2^bits (integers, where a bound can be a short decimal) it
    can print one more digit than the shortest string that reads back with
    round-half-even (what Python's repr and MySQL print): 94241504::real
    prints ``9.4241504e+07`` while ``94241500`` reads back the same. That
    branch computes the exact value and both bounds as numerics and takes a
    bound when it is shorter and the mantissa is even.
    """
    t = f"{x}::text"
    guard = f"abs({x}) >= {2 ** bits}::float8 AND abs({x}) < 'Infinity'::float8"
    return f"CASE WHEN {guard} THEN {_bound_pick(x, bits, fast('y.t'))} ELSE {fast(t)} END"


def _digits(m: str) -> str:
    return f"length(rtrim(replace(trim_scale({m})::text, '.', ''), '0'))"


def _plain_or_exp(m: str) -> str:
    d = f"rtrim(replace(trim_scale({m})::text, '.', ''), '0')"
    e10 = f"(length(trunc({m})::text) - 1)"
    return (f"CASE WHEN {e10} < 15 THEN trim_scale({m})::text ELSE left({d}, 1) || "
            f"CASE WHEN length({d}) > 1 THEN '.' || substr({d}, 2) ELSE '' END || 'e' || {e10} END")


def _bound_pick(x: str, bits: int, fast_t: str) -> str:
    k = "least(floor(ln(abs(y.x)) / ln(2::float8)), 1023)"  # may be one off near powers of 2
    e2 = (f"({k}::int + CASE WHEN abs(y.x) / 2 >= power(2::float8, {k}) THEN 1 "
          f"WHEN abs(y.x) < power(2::float8, {k}) THEN -1 ELSE 0 END)")
    exact = f"SELECT y.*, abs(y.t::numeric) AS s, {e2} AS e2 FROM (SELECT {x} AS x, {x}::text AS t) y"
    ulp = f"SELECT z.*, power(2::numeric, z.e2 - {bits}) AS ulp FROM ({exact}) z"
    xe = "SELECT w.*, round(w.s / w.ulp) * w.ulp AS xe FROM ({}) w".format(ulp)
    bounds = ("SELECT r.*, r.xe - r.ulp / CASE WHEN r.xe = power(2::numeric, r.e2) THEN 4 ELSE 2 END AS lo, "
              "r.xe + r.ulp / 2 AS hi, mod(round(r.xe / r.ulp), 2) = 0 AS even FROM ({}) r").format(xe)
    pick = (f"SELECT p.*, CASE WHEN p.even AND least({_digits('p.lo')}, {_digits('p.hi')}) < {_digits('p.s')} "
            f"THEN CASE WHEN {_digits('p.lo')} <= {_digits('p.hi')} THEN p.lo ELSE p.hi END END AS pick "
            f"FROM ({bounds}) p")
    return (f"(SELECT CASE WHEN q.pick IS NULL THEN {fast_t.replace('y.t', 'q.t')} ELSE "
            f"CASE WHEN q.x < 0 THEN '-' ELSE '' END || {_plain_or_exp('q.pick')} END FROM ({pick}) q)")


_SCALAR = {
    Kind.BOOLEAN: lambda e: f"{e}::boolean::int::text",
    Kind.SMALLINT: lambda e: f"{e}::text", Kind.INTEGER: lambda e: f"{e}::text",
    Kind.BIGINT: lambda e: f"{e}::text", Kind.YEAR: lambda e: f"{e}::text",
    Kind.DECIMAL: lambda e: f"trim_scale({e}::numeric)::text",
    Kind.DOUBLE: _float8, Kind.FLOAT: _float4,
    # rtrim(x::text) costs about 1 us a value in a UTF8 database (the cast and
    # rtrim both take dotrim's multibyte path over the whole string); length()
    # of a bpchar skips the trailing spaces bytewise (bcTruelen), and left()
    # keeps that many characters of the padded text: the same string, ~4x cheaper
    Kind.CHAR: lambda e: f"left(textin(bpcharout(({e})::bpchar)), length(({e})::bpchar))",
    Kind.VARCHAR: lambda e: f"{e}::text", Kind.TEXT: lambda e: f"{e}::text",
    Kind.ENUM: lambda e: f"{e}::text", Kind.INTERVAL: lambda e: f"{e}::text",
    Kind.BYTES: lambda e: f"encode({e}::bytea, 'hex')",
    Kind.DATE: lambda e: f"{e}::date::text",
    Kind.TIME: lambda e: f"to_char({e}::time::interval, 'HH24:MI:SS.US')",
    # the text output (DateStyle ISO) trims the fraction as canonical text
    # does; to_char cost 0.25 us a value more (1 M timestamptz, backend CPU;
    # MariaDB pays 0.12 us to trim a DATETIME(6), a DATETIME goes bare)
    Kind.TIMESTAMP: lambda e: f"{e}::timestamp::text",
    Kind.TIMESTAMPTZ: lambda e: f"({e}::timestamptz AT TIME ZONE 'UTC')::text",
    Kind.UUID: lambda e: f"lower({e}::text)",
    Kind.SET: lambda e: f"array_to_string({e}::text[], ',')",
}


def _array(e: str, item: DataType, depth: int) -> str:
    x, o = f"ferry_x{depth}", f"ferry_o{depth}"
    inner = normalize(x, item, depth + 1)
    agg = (f"(SELECT string_agg(COALESCE({inner}, '\\N'), ',' ORDER BY {o}) "
           f"FROM unnest({e}) WITH ORDINALITY AS ferry_u{depth}({x}, {o}))")
    return f"CASE WHEN {e} IS NULL THEN NULL ELSE '{{' || COALESCE({agg}, '') || '}}' END"


JSON_INLINE_LEVELS = 3


def json_canonical(e: str, depth: int = 0) -> str:
    """SQL (text) rendering the JSON/JSONB ``e`` as canonical JSON, nested
    objects and arrays included (see the module docstring).

    The first :data:`JSON_INLINE_LEVELS` levels are rendered by nested
    ``jsonb_each`` / ``jsonb_array_elements`` subqueries (measured ~10x faster
    than the recursive CTE on small documents); deeper levels fall back to
    the recursive CTE of :func:`json_tree`.
    """
    tag = f"ferry_j{depth}"
    body = _json_level(f"{tag}.v", f"{tag}_", JSON_INLINE_LEVELS)
    return f"(SELECT {body} FROM (SELECT {e}::jsonb AS v) {tag})"


def _json_level(v: str, tag: str, levels: int) -> str:
    if levels == 0:
        return json_tree(v, tag)
    k, a = f"{tag}k", f"{tag}a"
    member = _json_level(f"{k}.value", f"{tag}o", levels - 1)
    element = _json_level(f"{a}.value", f"{tag}e", levels - 1)
    obj = (f"(SELECT '{{' || COALESCE(string_agg(to_json({k}.key)::text || ':' || {member}, ',' "
           f"ORDER BY {k}.key COLLATE \"C\"), '') || '}}' FROM jsonb_each({v}) {k})")
    arr = (f"(SELECT '[' || COALESCE(string_agg({element}, ',' ORDER BY {a}.i), '') || ']' "
           f"FROM jsonb_array_elements({v}) WITH ORDINALITY {a}(value, i))")
    return (f"CASE jsonb_typeof({v}) WHEN 'object' THEN {obj} WHEN 'array' THEN {arr} "
            f"WHEN 'number' THEN {json_number(f'{v}::numeric')} ELSE {v}::text END")


def json_number(x: str) -> str:
    """SQL (text) of the numeric ``x`` as a canonical JSON number: a trimmed
    plain decimal while its decimal exponent is within +-JSON_MAX_EXPONENT,
    else mantissa (at least one fractional digit) ``E`` exponent, as
    :func:`ferry.connectors.canonical.canonical_json` and MariaDB write it."""
    t = f"trim_scale(abs({x}))::text"
    digits = f"rtrim(ltrim(replace({t}, '.', ''), '0'), '0')"
    frac = f"split_part({t}, '.', 2)"
    exponent = (f"CASE WHEN abs({x}) >= 1 THEN length(split_part({t}, '.', 1)) - 1 "
                f"ELSE length(ltrim({frac}, '0')) - length({frac}) - 1 END")
    sci = (f"CASE WHEN {x} < 0 THEN '-' ELSE '' END || left({digits}, 1) || '.' || "
           f"COALESCE(NULLIF(substr({digits}, 2), ''), '0') || 'E' || ({exponent})::text")
    big, small = f"1e{JSON_MAX_EXPONENT + 1}", f"1e-{JSON_MAX_EXPONENT}"
    return (f"CASE WHEN {x} <> 0 AND (abs({x}) >= {big} OR abs({x}) < {small}) THEN {sci} "
            f"ELSE trim_scale({x})::text END")


def json_tree(e: str, tag: str = "ferry_t") -> str:
    """SQL (text) of canonical JSON for the ``jsonb`` ``e`` of any depth: a
    recursive CTE lists every node with a sortable path and one token per
    node, ``string_agg`` joins the tokens in path order."""
    n = tag
    container = f"jsonb_typeof({n}.v) IN ('object', 'array')"
    children = (
        f"SELECT '1' || o.key, o.value, CASE WHEN o.i > 1 THEN ',' ELSE '' END || to_json(o.key)::text || ':' "
        f"FROM (SELECT e.key, e.value, row_number() OVER (ORDER BY e.key COLLATE \"C\") AS i "
        f"FROM jsonb_each(CASE WHEN jsonb_typeof({n}.v) = 'object' THEN {n}.v END) e) o "
        f"UNION ALL SELECT '1' || lpad(a.i::text, 10, '0'), a.v, CASE WHEN a.i > 1 THEN ',' ELSE '' END "
        f"FROM jsonb_array_elements(CASE WHEN jsonb_typeof({n}.v) = 'array' THEN {n}.v END) "
        f"WITH ORDINALITY a(v, i)")
    tokens = (
        f"SELECT CASE WHEN {container} THEN {n}.path || '0'::text ELSE {n}.path END AS path, "
        f"{n}.pre || CASE jsonb_typeof({n}.v) WHEN 'object' THEN '{{' WHEN 'array' THEN '[' "
        f"WHEN 'number' THEN {json_number(f'{n}.v::numeric')} ELSE {n}.v::text END AS tok FROM {n} "
        f"UNION ALL SELECT {n}.path || '2'::text, CASE jsonb_typeof({n}.v) WHEN 'object' THEN '}}' "
        f"ELSE ']' END FROM {n} WHERE {container}")
    return (
        f"(SELECT string_agg(t.tok, '' ORDER BY t.path COLLATE \"C\") FROM ("
        f"WITH RECURSIVE {n}(path, v, pre) AS ("
        f"SELECT ARRAY[]::text[], ({e})::jsonb, ''::text UNION ALL "
        f"SELECT {n}.path || c.k, c.v, c.pre FROM {n} CROSS JOIN LATERAL ({children}) c(k, v, pre)"
        f") {tokens}) t)")


def row_text(parts: list[str]) -> str:
    """SQL joining normalised texts with ``|`` and NULL as ``\\N``.

    ``||`` rather than ``concat_ws`` because function calls take at most 100
    arguments (FUNC_MAX_ARGS) and tables can be wider."""
    if not parts:
        return "''"
    return " || '|' || ".join(f"COALESCE({p}, '\\N')" for p in parts)


def ordered_checksum(table: str, key: str, text: str, where: str, utf8: bool = True,
                     whole: bool = False) -> str:
    """``SELECT count, hash`` of the ``md5-ordered`` segment checksum
    (:mod:`ferry.connectors.base`), or of ``sha256-segment`` when ``whole``, over
    the rows of ``table`` matching ``where`` in key order: ``md5-ordered`` sums
    the MD5s of the groups of integer ``key`` / 1024, each row written
    ``octet_length(text) || ':' || text``; ``sha256-segment`` takes one SHA-256 of all
    rows' texts joined by the byte 0xFF.

    The ordered subquery lets the btree index feed the rows presorted.
    ``sha256-segment`` aggregates it as it comes (no sort of its own);
    ``md5-ordered`` must sort inside the aggregate as well, because a GROUP BY
    done by sorting on ``k / 1024`` does not keep the order within a group."""
    if whole:   # textsend: the text's bytes in the server encoding, which is UTF-8
        agg = f"string_agg({'textsend(r)' if utf8 else 'r'}, '\\xff'::bytea)"
    elif utf8:
        agg = "string_agg(octet_length(r) || ':' || r, '' ORDER BY k)"
    else:
        agg = "string_agg(convert_to(octet_length(r) || ':', 'UTF8') || r, ''::bytea ORDER BY k)"
    if not utf8:    # r is the row text's UTF-8 bytes, converted once
        text = f"convert_to({text}, 'UTF8')"
    digest = f"encode(sha256({agg}), 'hex')" if whole else f"md5({agg})"
    hash60 = f"('x' || substr({digest}, 1, 15))::bit(60)::bigint"
    rows = f"SELECT {key} AS k, {text} AS r FROM {table} WHERE {where} ORDER BY {key}"
    if whole:
        return f"SELECT COUNT(*), COALESCE({hash60}, 0) FROM ({rows}) s"
    groups = f"SELECT COUNT(*) AS c, {hash60} AS h FROM ({rows}) s GROUP BY k / {ORDERED_GROUP_ROWS}"
    return f"SELECT COALESCE(SUM(g.c), 0), COALESCE(SUM(g.h), 0) FROM ({groups}) g"


def native_checksum(table: str, parts: list[str], where: str) -> str:
    """``SELECT count, sum`` of the ``pg-hash`` segment checksum: PostgreSQL's
    64-bit ``hashtextextended`` of the record text of the canonical texts
    ``parts`` (``ROW(...)::text``: one call instead of a chain of ``||``; it
    quotes fields and writes NULL as nothing, so it is as unambiguous as the
    row text), under the "C" collation (a nondeterministic collation would
    hash equal-comparing texts alike)."""
    record = f"ROW({', '.join(parts)})::text" if parts else "''"
    return (f"SELECT COUNT(*), COALESCE(SUM(hashtextextended(({record}) COLLATE \"C\", 0)), 0) "
            f"FROM {table} WHERE {where}")


# kinds whose hash function (hash opclass) is as strict as canonical text equality;
# others (float -0 = 0, interval '1 day' = '24:00:00', enum labels by OID, json
# without a hash function) are hashed as their text
_RAW_HASHABLE = {Kind.SMALLINT, Kind.INTEGER, Kind.BIGINT, Kind.BOOLEAN, Kind.DECIMAL, Kind.CHAR,
                 Kind.VARCHAR, Kind.TEXT, Kind.BYTES, Kind.DATE, Kind.TIME, Kind.TIMESTAMP,
                 Kind.TIMESTAMPTZ, Kind.UUID}


# text kinds come from unknown and extension types too (tsvector has no hash
# function, citext hashes case-insensitively), decimal from money (no hash
# function): for these kinds only the built-in spellings go raw
_RAW_NATIVE = {Kind.CHAR: ("character", "char", "bpchar"), Kind.VARCHAR: ("character varying", "varchar"),
               Kind.TEXT: ("text",), Kind.DECIMAL: ("numeric", "decimal")}


def _raw_hashable(t: DataType) -> bool:
    if t.kind not in _RAW_HASHABLE:
        return False
    return t.kind not in _RAW_NATIVE or t.native.split("(")[0] in _RAW_NATIVE[t.kind]


def raw_checksum(table: str, fields: list[tuple[str, DataType, bool]], where: str) -> str:
    """``SELECT count, sum`` of the ``pg-raw`` segment checksum:
    ``hash_record_extended`` (PostgreSQL 14+, each field by its type's own
    hash function, no text rendering) of the row.

    Args:
        fields: ``(expression, target type, plain column)``; an expression that
            is not a plain column, or of a kind outside ``_RAW_HASHABLE``, is
            hashed as its text.
    """
    items = [e if plain and _raw_hashable(t) else f"({e})::text" for e, t, plain in fields]
    record = f"hash_record_extended(ROW({', '.join(items)}), 0)" if items else "0"
    return f"SELECT COUNT(*), COALESCE(SUM({record}), 0) FROM {table} WHERE {where}"


def row_hash(parts: list[str], utf8: bool = True) -> str:
    """SQL (bigint) of the 60-bit row hash: the first 15 hex digits of the MD5
    of the row text's UTF-8 bytes. ``utf8`` False converts from the server
    encoding first."""
    text = row_text(parts)
    data = text if utf8 else f"convert_to({text}, 'UTF8')"
    return f"('x' || substr(md5({data}), 1, 15))::bit(60)::bigint"
