"""Casting rules: defaults per engine pair, user overrides, limits, predicates."""

from __future__ import annotations

import pydantic
import pytest

from ferry.catalog.casting import ENGINES, CastingRule, cast_column, default_rules, invalid_predicate
from ferry.catalog.model import Column, DataType, Kind, Table
from ferry.errors import InputError


class Dialect:
    """Stands for a source dialect: a name and string functions, no database."""

    def __init__(self, name: str) -> None:
        self.name = name

    def quote(self, identifier: str) -> str:
        return f"<{identifier}>"

    def zero_date_predicate(self, expr: str) -> str:
        return f"ZERO({expr})"


MYSQL, PG, SQLITE = Dialect("mysql"), Dialect("postgresql"), Dialect("sqlite")
TABLE = Table("orders", [], schema="shop")


def col(native: str, kind: Kind, name: str = "c", nullable: bool = True, **kw) -> Column:
    return Column(name, DataType(kind, native=native, **kw), nullable=nullable)


def cast(column: Column, source=MYSQL, target: str = "postgresql", rules=()):
    return cast_column(column, TABLE, source, target, list(rules))


MYSQL_TO_PG = [
    (col("tinyint(1)", Kind.BOOLEAN), "boolean"),
    (col("tinyint(3) unsigned", Kind.SMALLINT, unsigned=True), "smallint"),
    (col("smallint(5) unsigned", Kind.INTEGER, unsigned=True), "integer"),
    (col("mediumint(8) unsigned", Kind.INTEGER, unsigned=True), "bigint"),
    (col("int(10) unsigned", Kind.BIGINT, unsigned=True), "bigint"),
    (col("int unsigned", Kind.BIGINT, unsigned=True), "bigint"),
    (col("bigint(20) unsigned", Kind.DECIMAL, unsigned=True), "decimal(20,0)"),
    (col("mediumint(9)", Kind.INTEGER), "integer"),
    (col("int(11)", Kind.INTEGER), "integer"),
    (col("date", Kind.DATE), "date"),
    (col("datetime", Kind.TIMESTAMP), "timestamp"),
    (col("datetime(3)", Kind.TIMESTAMP, precision=3), "timestamp(3)"),
    (col("timestamp", Kind.TIMESTAMP), "timestamptz"),
    (col("enum('a','b')", Kind.ENUM, values=("a", "b")), "enum('a','b')"),
    (col("set('x','y')", Kind.SET, values=("x", "y")), "set('x','y')"),
    (col("year(4)", Kind.YEAR), "smallint"),
    (col("json", Kind.JSON), "json"),
    (col("longblob", Kind.BYTES), "bytes"),
    (col("blob", Kind.BYTES), "bytes"),
    (col("varbinary(16)", Kind.BYTES, length=16), "bytes(16)"),
    (col("float", Kind.FLOAT), "float"),
    (col("double", Kind.DOUBLE), "double"),
    (col("varchar(50)", Kind.VARCHAR, length=50), "varchar(50)"),
]


@pytest.mark.parametrize("column, expected", MYSQL_TO_PG, ids=[c.type.native for c, _ in MYSQL_TO_PG])
def test_mysql_to_postgresql_defaults(column, expected):
    result = cast(column)
    assert str(result.type) == expected
    assert result.type.native == ""
    assert not result.type.unsigned


def test_rule_text_names_the_default():
    assert cast(col("tinyint(1)", Kind.BOOLEAN)).rule == "mysql tinyint(1) -> boolean (default)"
    assert cast(col("int(11)", Kind.INTEGER)).rule == "mysql int(11) -> integer (kept)"


def test_tinyint1_to_boolean_rejects_other_values():
    result = cast(col("tinyint(1)", Kind.SMALLINT))
    assert result.reject_when == "<c> NOT IN (0, 1)"
    assert "other than 0 and 1" in result.note and result.null_when is None


def test_user_rule_tinyint1_to_smallint_keeps_values():
    rules = [CastingRule(match="tinyint(1)", to="smallint")]
    result = cast(col("tinyint(1)", Kind.BOOLEAN), rules=rules)
    assert result.type == DataType(Kind.SMALLINT)
    assert result.reject_when is None
    assert result.rule == "user rule 1: tinyint(1) -> smallint"


def test_user_rules_come_first_and_first_match_wins():
    rules = [CastingRule(match="int", to="text", column="other.*"),
             CastingRule(match="bigint unsigned", to="text"),
             CastingRule(match="bigint", to="integer")]
    result = cast(col("bigint(20) unsigned", Kind.BIGINT, unsigned=True), rules=rules)
    assert str(result.type) == "text"
    assert result.rule == "user rule 2: bigint unsigned -> text"


def test_pattern_without_unsigned_matches_both_signs_with_unsigned_only_unsigned():
    rule = CastingRule(match="int unsigned", to="text")
    assert not rule.matches(col("int(11)", Kind.INTEGER), TABLE)
    assert rule.matches(col("INT(10) UNSIGNED", Kind.INTEGER, unsigned=True), TABLE)
    assert CastingRule(match="INT", to="text").matches(col("int(10) unsigned", Kind.INTEGER), TABLE)


def test_exact_spelling_needs_the_same_parameters():
    rule = CastingRule(match="tinyint(1)", to="boolean")
    assert not rule.matches(col("tinyint(4)", Kind.SMALLINT), TABLE)
    assert CastingRule(match="decimal(10, 2)", to="text").matches(col("decimal(10,2)", Kind.DECIMAL), TABLE)


def test_array_patterns_and_kind_patterns():
    array = col("text[]", Kind.ARRAY, item=DataType(Kind.TEXT))
    assert not CastingRule(match="text", to="json").matches(array, TABLE)
    assert CastingRule(match="text[]", to="json").matches(array, TABLE)
    assert CastingRule(match="kind:array", to="json").matches(array, TABLE)
    assert not CastingRule(match="kind:text", to="json").matches(array, TABLE)


def test_column_without_native_spelling_matches_its_neutral_one():
    assert CastingRule(match="varchar", to="text").matches(col("", Kind.VARCHAR, length=9), TABLE)


def test_column_pattern_on_table_and_schema_qualified_names():
    email = col("varchar(300)", Kind.VARCHAR, name="email", length=300)
    for pattern in ("orders.email", "shop.orders.email", "*.email", "ord*.e*"):
        assert CastingRule(match="*", column=pattern, to="text").matches(email, TABLE)
    assert not CastingRule(match="*", column="orders.Email", to="text").matches(email, TABLE)
    assert not CastingRule(match="int", column="orders.email", to="text").matches(email, TABLE)


def test_rule_without_parameters_keeps_the_source_ones():
    rules = [CastingRule(match="varchar", to="char"), CastingRule(match="datetime", to="timestamptz"),
             CastingRule(match="decimal", to="decimal")]
    assert str(cast(col("varchar(7)", Kind.VARCHAR, length=7), rules=rules).type) == "char(7)"
    assert str(cast(col("datetime(2)", Kind.TIMESTAMP, precision=2), rules=rules).type) == "timestamptz(2)"
    assert str(cast(col("decimal(9,3)", Kind.DECIMAL, precision=9, scale=3), rules=rules).type) == "decimal(9,3)"


def test_enum_to_text_drops_the_labels():
    rules = [CastingRule(match="enum", to="text")]
    assert cast(col("enum('a')", Kind.ENUM, values=("a",)), rules=rules).type == DataType(Kind.TEXT)


@pytest.mark.parametrize("native", ["date", "datetime", "datetime(6)", "timestamp"])
def test_zero_dates_null_by_default_and_counted(native):
    kind = Kind.DATE if native == "date" else Kind.TIMESTAMP
    result = cast(col(native, kind, nullable=False))
    assert result.null_when == "ZERO(<c>)"
    assert result.note == "zero dates set to NULL, counted"
    assert result.drop_not_null and result.reject_when is None


def test_zero_dates_reject_by_rule_option():
    rules = [CastingRule(match="datetime", to="timestamp", zero_dates="reject")]
    result = cast(col("datetime", Kind.TIMESTAMP), rules=rules)
    assert result.reject_when == "ZERO(<c>)"
    assert result.null_when is None and result.note == "zero dates rejected"
    assert not result.drop_not_null


@pytest.mark.parametrize("target", ENGINES)
def test_zero_dates_handled_for_every_mysql_target_only(target):
    assert cast(col("date", Kind.DATE), target=target).null_when == "ZERO(<c>)"
    assert cast(col("date", Kind.DATE), source=PG, target=target).null_when is None


def test_invalid_null_policy_turns_reject_into_null():
    rules = [CastingRule(match="int unsigned", to="integer", invalid=None)]
    result = cast(col("int(10) unsigned", Kind.INTEGER, unsigned=True), rules=rules)
    assert result.null_when == "<c> > 2147483647" and result.reject_when is None
    assert result.invalid == "null" and "set to NULL" in result.note


def test_narrowing_user_rule_rejects_out_of_range_values():
    result = cast(col("bigint(20)", Kind.BIGINT), rules=[CastingRule(match="bigint", to="smallint")])
    assert result.reject_when == "<c> < -32768 OR <c> > 32767"


@pytest.mark.parametrize("native, kind, target", [
    ("year(4)", Kind.YEAR, "year"), ("int(10) unsigned", Kind.INTEGER, "integer unsigned"),
    ("tinyint(1)", Kind.BOOLEAN, "boolean"), ("timestamp", Kind.TIMESTAMP, "timestamp")])
def test_mysql_to_mysql_is_identity(native, kind, target):
    column = col(native, kind, unsigned="unsigned" in native)
    result = cast(column, target="mysql")
    assert result.type == column.type and str(result.type) == target
    assert result.reject_when is None and "same engine" in result.rule


@pytest.mark.parametrize("engine", ENGINES)
def test_same_engine_pairs_have_no_default_rules(engine):
    assert default_rules(engine, engine) == []


def test_postgresql_to_postgresql_keeps_native_spelling():
    column = col("character varying(50)", Kind.VARCHAR, length=50)
    result = cast(column, source=PG)
    assert result.type is column.type and result.note == ""


PG_TO_MYSQL = [
    (col("boolean", Kind.BOOLEAN), "boolean", ""),
    (col("uuid", Kind.UUID), "uuid", ""),
    (col("text[]", Kind.ARRAY, item=DataType(Kind.TEXT)), "json", ""),
    (col("interval", Kind.INTERVAL), "varchar(64)", ""),
    (col("timestamp with time zone", Kind.TIMESTAMPTZ), "timestamptz", ""),
    (col("jsonb", Kind.JSON), "json", ""),
    (col("numeric(65,30)", Kind.DECIMAL, precision=65, scale=30), "decimal(65,30)", ""),
    (col("numeric(70,2)", Kind.DECIMAL, precision=70, scale=2), "text", "exceeds MySQL"),
    (col("numeric(40,31)", Kind.DECIMAL, precision=40, scale=31), "text", "exceeds MySQL"),
    (col("numeric", Kind.DECIMAL), "text", "without precision"),
    (col("character varying(16383)", Kind.VARCHAR, length=16383), "varchar(16383)", ""),
    (col("character varying(16384)", Kind.VARCHAR, length=16384), "text", "16383"),
    (col("character(300)", Kind.CHAR, length=300), "varchar(300)", "255"),
    (col("character(20000)", Kind.CHAR, length=20000), "text", "16383"),
]


@pytest.mark.parametrize("column, expected, note", PG_TO_MYSQL, ids=[c.type.native for c, _, _ in PG_TO_MYSQL])
def test_postgresql_to_mysql_defaults_and_limits(column, expected, note):
    result = cast(column, source=PG, target="mysql")
    assert str(result.type) == expected
    assert (note in result.note) if note else result.note == ""


def test_mysql_limits_apply_to_user_rules_too():
    rules = [CastingRule(match="*", to="decimal(80,2)")]
    assert str(cast(col("numeric", Kind.DECIMAL), source=PG, target="mysql", rules=rules).type) == "text"


def test_sqlite_source_keeps_introspected_types():
    for column in (col("NVARCHAR(120)", Kind.VARCHAR, length=120), col("DATETIME", Kind.TIMESTAMP),
                   col("NUMERIC(10,2)", Kind.DECIMAL, precision=10, scale=2), col("", Kind.TEXT)):
        result = cast(column, source=SQLITE, target="postgresql")
        assert result.type == column.type.with_(native="")
        assert result.null_when is None and "(kept)" in result.rule


def test_sqlite_integers_are_64_bit():
    result = cast(col("INT", Kind.INTEGER), source=SQLITE, target="postgresql")
    assert result.reject_when == "<c> < -2147483648 OR <c> > 2147483647"


@pytest.mark.parametrize("source", [MYSQL, PG])
def test_sqlite_target_keeps_every_type(source):
    for column in (col("enum('a')", Kind.ENUM, values=("a",)), col("json", Kind.JSON),
                   col("text[]", Kind.ARRAY, item=DataType(Kind.TEXT)), col("uuid", Kind.UUID)):
        assert cast(column, source=source, target="sqlite").type == column.type.with_(native="")


def test_mysql_to_sqlite_year_becomes_smallint_and_unsigned_bigint_is_guarded():
    assert str(cast(col("year", Kind.YEAR), target="sqlite").type) == "smallint"
    result = cast(col("bigint(20) unsigned", Kind.BIGINT, unsigned=True), target="sqlite")
    assert str(result.type) == "bigint" and result.reject_when == "<c> > 9223372036854775807"
    assert cast(col("int(10) unsigned", Kind.INTEGER, unsigned=True), target="sqlite").reject_when is None


def test_invalid_predicate_cases():
    small, boolean = DataType(Kind.SMALLINT), DataType(Kind.BOOLEAN)
    assert invalid_predicate(DataType(Kind.BOOLEAN), boolean, "x", "postgresql", "mysql") is None
    assert invalid_predicate(DataType(Kind.BOOLEAN), boolean, "x", "mysql", "sqlite")[0] == "x NOT IN (0, 1)"
    assert invalid_predicate(DataType(Kind.TEXT), small, "x", "mysql", "postgresql") is None
    tiny = DataType(Kind.SMALLINT, native="tinyint(4)")
    assert invalid_predicate(tiny, boolean.with_(kind=Kind.SMALLINT), "x", "mysql", "postgresql") is None
    unsigned_target = DataType(Kind.INTEGER, unsigned=True)
    assert invalid_predicate(DataType(Kind.INTEGER), unsigned_target, "x", "mysql", "mysql")[0] == "x < 0"


def test_default_rules_reject_unknown_engines():
    with pytest.raises(InputError):
        default_rules("oracle", "mysql")
    with pytest.raises(InputError):
        cast(col("int", Kind.INTEGER), target="mssql")


def test_rule_validation():
    rule = CastingRule.model_validate({"match": "bigint unsigned", "to": "numeric(20)", "zero_dates": None})
    assert rule.to == "decimal(20,0)" and rule.zero_dates == "null"
    for bad in ({"match": "int", "to": "foo"}, {"match": "int", "to": "text", "extra": 1},
                {"match": "kind:money", "to": "text"}, {"match": "int", "to": "text", "invalid": "drop"},
                {"match": "enum('a'", "to": "text"}, {"to": "text"}):
        with pytest.raises(pydantic.ValidationError):
            CastingRule.model_validate(bad)


def test_default_mysql_rules_to_postgresql_are_listed_in_order():
    matches = [r.match for r in default_rules("mysql", "postgresql")]
    assert matches[0] == "tinyint(1)"
    assert matches.index("bigint unsigned") < matches.index("mediumint")
    assert [r.match for r in default_rules("mysql", "sqlite")] == ["year"]
    assert {r.match for r in default_rules("postgresql", "mysql")} >= {"kind:array", "kind:interval"}


@pytest.mark.parametrize("kind, expected", [(Kind.TEXT, "varchar(255)"), (Kind.BYTES, "bytes(255)")])
def test_unbounded_key_columns_become_bounded_on_mysql(kind, expected):
    key = Column("code", DataType(kind, native=kind.value))
    table = Table("t", [key], primary_key=("code",))
    result = cast_column(key, table, PG, "mysql", [])
    assert str(result.type) == expected and "rejected" in result.note
    assert str(cast_column(key, Table("t", [key]), PG, "mysql", []).type) == kind.value
    assert str(cast_column(key, table, PG, "postgresql", []).type) == kind.value
