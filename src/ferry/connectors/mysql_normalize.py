"""SQL that renders MySQL / MariaDB values as canonical text (see the table in
:mod:`ferry.connectors.base`).

Each function takes a SQL expression and returns a SQL expression; NULL stays
NULL. The builders inline their argument several times (MySQL has no way to
bind a name inside one expression without a derived table), so pass short
expressions such as quoted column names.

Engine behaviour these builders rely on (checked on MariaDB 10.11):

* ``CAST(double AS CHAR)`` prints the shortest decimal that reads back as the
  same double, but switches between plain and exponent notation by text width,
  not by exponent: ``1.5e-7`` prints ``0.00000015`` and ``1223383794756801.2``
  stays plain. Plain text outside ``1e-4 <= |x| < 1e15`` is rewritten here.
* FLOAT (float32) values print with 6 significant digits only (``FLT_DIG``),
  which loses information (``1234567`` prints ``1234570``; the example table
  of https://mariadb.com/kb/en/float/ shows ``1234567890`` as ``1234570000``).
  Readers therefore select ``CAST(col AS DOUBLE)``, and the float32 rendering
  searches the shortest of 6..9 significant digits (1..9 for subnormals) that
  reads back as the same float32 with ``CAST(... AS FLOAT)`` (MariaDB >=
  10.4.5, MySQL >= 8.0.17). It is about 9 KB of SQL per FLOAT column.
* Only checked on MariaDB: MySQL 8 may print doubles in exponent form inside
  the plain range; such text is passed through unchanged.
* ``JSON_NORMALIZE`` (MariaDB >= 10.7) sorts keys and removes spaces but prints
  every number as ``d.dddEn``; :func:`json_text` rewrites those into plain
  decimals for exponents within +-40 and leaves string contents untouched
  (three PCRE passes, about 30 us per document).
"""

from __future__ import annotations

from ferry.connectors.base import HASH_HEX_DIGITS, ORDERED_GROUP_ROWS
from ferry.connectors.canonical import JSON_MAX_EXPONENT

# Outside this range canonical floats use exponent notation (PostgreSQL's rule).
PLAIN_MIN, PLAIN_MAX = "1e-4", "1e15"
# JSON numbers with a decimal exponent beyond this are left as d.dddEn (canonical.py's rule).
assert JSON_MAX_EXPONENT == 40, "the exponent pattern of _json_number_rewrites is written for 40"
# A JSON string literal, skipped by the number rewrites ((*SKIP)(*F) is PCRE2).
_JSON_STRING_SKIP = r'"(?:[^"\\\\]|\\\\.)*"(*SKIP)(*F)|'


def scaled_decimal_text(expr: str) -> str:
    """:func:`decimal_text` of a DECIMAL column with a scale above 0 (its text
    always holds a ``.``), inside ``CONCAT_WS``: ``TRIM`` renders the DECIMAL
    itself, the bytes ``CAST(x AS CHAR)`` gives."""
    return f"IF({expr} = 0, '0', {trim_fraction(expr)})"


def decimal_text(expr: str) -> str:
    """Plain decimal text with trailing fractional zeros and ``.`` removed,
    ``-0`` as ``0``. ``expr`` must be an exact number (DECIMAL or integer)."""
    t = f"CAST({expr} AS CHAR)"
    return f"IF({expr} = 0, '0', IF(LOCATE('.', {t}) > 0, {trim_fraction(t)}, {t}))"


def trim_fraction(text: str) -> str:
    """``text`` (a decimal, or a DATETIME(1..6), with a ``.``) without
    trailing fractional zeros and ``.`` (the ``.`` stops the zeros)."""
    return f"TRIM(TRAILING '.' FROM TRIM(TRAILING '0' FROM {text}))"


def double_text(expr: str) -> str:
    """Canonical text of a DOUBLE: MySQL's shortest digits, exponent form
    ``d.ddde[-]n`` when the exponent is < -4 or >= 15, plain otherwise."""
    return _float_from_text(f"CAST({expr} AS CHAR)", f"({expr})")


def _float_from_text(text: str, value: str) -> str:
    """Rewrite ``text`` (MySQL's print of the double ``value``) canonically."""
    needs = (f"(ABS({value}) < {PLAIN_MIN} OR ABS({value}) >= {PLAIN_MAX}) "
             f"AND {value} <> 0 AND LOCATE('e', {text}) = 0")
    return f"CASE WHEN {needs} THEN {_plain_to_exponent(text, value)} ELSE {text} END"


def _plain_to_exponent(text: str, value: str) -> str:
    """``0.00000015`` -> ``1.5e-7``, ``1223383794756801.2`` -> ``1.2233837947568012e15``."""
    a = f"TRIM(LEADING '-' FROM {text})"
    all_digits = f"REPLACE({a}, '.', '')"
    stripped = f"TRIM(LEADING '0' FROM {all_digits})"
    exponent = f"(LOCATE('.', CONCAT({a}, '.')) - 2 - (LENGTH({all_digits}) - LENGTH({stripped})))"
    fraction = f"TRIM(TRAILING '0' FROM SUBSTRING({stripped}, 2))"
    mantissa = f"TRIM(TRAILING '.' FROM CONCAT(LEFT({stripped}, 1), '.', {fraction}))"
    return f"CONCAT(IF({value} < 0, '-', ''), {mantissa}, 'e', {exponent})"


def float_text(expr: str) -> str:
    """Canonical text of a FLOAT (float32): the fewest significant digits
    that read back as the same float32, as the Python reference's
    ``canonical_float(v, single=True)``. A DOUBLE ``expr`` is first rounded to
    float32, as a FLOAT target column would store it.

    Candidates with 6 to 9 significant digits are tried in turn (a normal
    float32 whose shortest form is shorter rounds to it at 6 digits, trailing
    zeros removed); subnormals (below ``FLT_MIN``) also try 1 to 5 digits.
    """
    f = f"CAST({expr} AS FLOAT)"
    whens = [f"WHEN ABS({f}) < {FLT_MIN} AND {_float_fits(f, p)} THEN {_float_candidate_text(f, p)}"
             for p in range(1, 6)]
    whens += [f"WHEN {_float_fits(f, p)} THEN {_float_candidate_text(f, p)}" for p in (6, 7, 8)]
    return f"CASE WHEN {f} = 0 THEN '0' {' '.join(whens)} ELSE {_float_candidate_text(f, 9)} END"


FLT_MIN = "1.1754943508222875e-38"


def _float_shift(f: str, p: int) -> str:
    return f"(FLOOR(LOG10(ABS({f}))) - {p - 1})"


def _float_mantissa(f: str, p: int) -> str:
    """``f`` rounded to ``p`` significant digits, as an integer-valued double."""
    return f"ROUND({f} / POW(10, {_float_shift(f, p)}))"


def _float_fits(f: str, p: int) -> str:
    """SQL true when ``f`` rounded to ``p`` digits reads back as the same float32."""
    value = f"(CONCAT({_float_mantissa(f, p)}, 'e', {_float_shift(f, p)}) + 0e0)"
    return f"CAST({value} AS FLOAT) = {f}"


def _float_candidate_text(f: str, p: int) -> str:
    """Canonical text of ``f`` rounded to ``p`` significant digits."""
    shift = _float_shift(f, p)
    digits = f"CAST(ABS({_float_mantissa(f, p)}) AS CHAR)"
    exponent = f"({shift} + LENGTH({digits}) - 1)"
    plain = f"CAST(CONCAT({_float_mantissa(f, p)}, 'e', {shift}) + 0e0 AS CHAR)"
    trimmed = f"TRIM(TRAILING '0' FROM {digits})"
    mantissa = f"TRIM(TRAILING '.' FROM CONCAT(LEFT({digits}, 1), '.', SUBSTRING({trimmed}, 2)))"
    scientific = f"CONCAT(IF({f} < 0, '-', ''), {mantissa}, 'e', {exponent})"
    return f"IF({exponent} BETWEEN -4 AND 14, {plain}, {scientific})"


def json_text(expr: str) -> str:
    """Canonical JSON on MariaDB: ``JSON_NORMALIZE`` (sorted keys, no spaces)
    with its ``d.dddEn`` numbers rewritten as plain decimals.

    Numbers whose exponent is beyond +-40 keep the ``d.dddEn`` form, which
    is the canonical form (:func:`ferry.connectors.canonical.canonical_json`)
    there. Known limit: string escapes stay as written in the stored text
    (``\\u00e9`` is not decoded to ``é``, ``\\/`` and ``\\u0041`` stay):
    MariaDB SQL has no way to decode them inside a document (``JSON_UNQUOTE``
    decodes one whole string value only), so a document holding such escapes
    hashes differently from PostgreSQL's (which decodes them in ``jsonb``)
    and is reported as modified.
    """
    text = f"JSON_NORMALIZE({expr})"
    for pattern, replacement in _json_number_rewrites():
        text = f"REGEXP_REPLACE({text}, '{pattern}', '{replacement}')"
    return text


def _json_number_rewrites() -> list[tuple[str, str]]:
    """(pattern, replacement) pairs, applied in order, turning ``d.dddEn`` into
    a canonical decimal in three passes. Patterns are SQL string bodies
    (backslashes doubled).

    1. tag and pad: ``d.fffEn`` -> ``~n~Zd.fffZ`` (Z = 40 zeros; ``~`` occurs
       in no JSON text outside strings), room to move the point either way;
    2. shift, one alternative per exponent in a branch-reset group, each
       starting with its tag (so wrong ones fail at once) and filling the
       same six groups of ``\\1\\2\\3.\\4\\5\\6``: ``n >= 0``: ``d`` +
       next n digits + ``.`` + the rest; ``n < 0``: a pad zero + ``.`` +
       n-1 pad zeros + ``dfff``;
    3. trim trailing fractional zeros and a bare trailing point.
    """
    n, zeros = JSON_MAX_EXPONENT, "0" * JSON_MAX_EXPONENT
    d, dot, ref = "\\\\d", "\\\\.", "\\\\"
    exps = f"(?:{d}|[1-3]{d}|40|-(?:[1-9]|[1-3]{d}|40))"   # -40..40 (JSON_MAX_EXPONENT)
    positive = [f"~{k}~0{{{n}}}({d}){dot}({d}{{{k}}})()({d}*+)()()" for k in range(n + 1)]
    negative = [f"~-{k}~0{{{n - k}}}(0)()()(0{{{k - 1}}})({d}){dot}({d}*+)" for k in range(1, n + 1)]
    return [
        (_JSON_STRING_SKIP + f"({d}){dot}({d}*+)E({exps})(?!{d})", f"~{ref}3~{zeros}{ref}1.{ref}2{zeros}"),
        (_JSON_STRING_SKIP + f"(?|{'|'.join(positive + negative)})", f"{ref}1{ref}2{ref}3.{ref}4{ref}5{ref}6"),
        (_JSON_STRING_SKIP + f"(?|({d}{dot}{d}*[1-9])0++|({d}){dot}0*+)(?![{d}.E])", f"{ref}1"),
    ]


def json_array_text(expr: str) -> str:
    """Canonical array text ``{a,b,\\N}`` of a JSON array (how MySQL targets
    store ARRAY columns): items rendered as canonical JSON, strings unquoted
    (escapes kept), ``null`` as ``\\N``. Nested arrays and objects stay JSON."""
    text = json_text(expr)
    text = f"REGEXP_REPLACE({text}, '{_JSON_STRING_SKIP}(?<=[\\\\[,])null(?=[,\\\\]])', '\\\\\\\\N')"
    text = f"REGEXP_REPLACE({text}, '\"((?:[^\"\\\\\\\\]|\\\\\\\\.)*)\"', '\\\\1')"
    return f"REGEXP_REPLACE({text}, '^\\\\[(.*)\\\\]$', '{{\\\\1}}')"


def bytes_text(expr: str, native: str = "") -> str:
    """Lowercase hex of a binary value; BIT(n) values are left-padded to whole
    bytes (mysqlclient reads them as ``ceil(n/8)`` big-endian bytes) and
    geometry values are rendered as WKB (``ST_AsBinary``)."""
    n = bit_width(native)
    if n is not None:
        return f"LPAD(LOWER(HEX({expr})), {2 * ((n + 7) // 8)}, '0')"
    return f"LOWER(HEX({expr}))"


def native_base(native: str) -> str:
    """The bare type name of a MySQL column type: ``'int(6) unsigned zerofill'`` -> ``'int'``."""
    return native.lower().split("(")[0].split(" ")[0]


def bit_width(native: str) -> int | None:
    """n of a ``bit(n)`` native spelling, else None."""
    native = native.strip().lower()
    if native.startswith("bit"):
        inner = native[3:].strip("() ")
        return int(inner) if inner.isdigit() else 1
    return None


def ordered_checksum(table: str, key: str, text: str, where: str, whole: bool = False) -> str:
    """``SELECT count, hash`` of the ``md5-ordered`` segment checksum
    (:mod:`ferry.connectors.base`) on MariaDB, or of ``sha256-segment`` when
    ``whole``: ``md5-ordered`` sums the MD5s of the groups of integer ``key
    DIV 1024``, each row written ``LENGTH(text) ':' text`` (UTF-8 bytes) in
    key order; ``sha256-segment`` takes one SHA-256 of all rows' texts joined by the
    byte 0xFF, in the order of the range scan on the key (no sort: MariaDB
    ignores an ORDER BY in a derived table without LIMIT,
    https://mariadb.com/kb/en/why-is-order-by-in-a-from-subquery-ignored/).
    The derived table is merged into the query, so ``LENGTH(r)`` and ``r``
    would render each row twice: a third of the cost on a wide row.

    ``GROUP_CONCAT`` stops at ``group_concat_max_len``
    (raised to 1 GiB for the statement by ``SET STATEMENT``, MariaDB 10.1.2+)
    and at ``max_allowed_packet`` with warning 1260 ("Row N was cut by
    GROUP_CONCAT()", https://mariadb.com/kb/en/group_concat/): the connector
    reads the warnings and treats a cut checksum as inexact."""
    joined = "GROUP_CONCAT(r SEPARATOR X'FF')" if whole else \
        "GROUP_CONCAT(CONCAT(LENGTH(r), ':', r) ORDER BY k SEPARATOR '')"
    digest = f"SHA2({joined}, 256)" if whole else f"MD5({joined})"
    hash60 = f"CAST(CONV(SUBSTRING({digest}, 1, {HASH_HEX_DIGITS}), 16, 10) AS UNSIGNED)"
    rows = f"SELECT {key} AS k, {text} AS r FROM {table} WHERE {where}"
    if whole:
        select = f"SELECT COUNT(*), COALESCE({hash60}, 0) FROM ({rows}) s"
    else:
        groups = f"SELECT COUNT(*) AS c, {hash60} AS h FROM ({rows}) s GROUP BY k DIV {ORDERED_GROUP_ROWS}"
        select = f"SELECT COALESCE(SUM(g.c), 0), COALESCE(SUM(g.h), 0) FROM ({groups}) g"
    return f"SET STATEMENT group_concat_max_len = 1073741824 FOR {select}"
