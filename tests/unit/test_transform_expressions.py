"""Portable expressions (sqlglot) and the per-engine SQL fragments of transforms."""

from __future__ import annotations

import sqlite3

import pytest
from pydantic import ValidationError

from ferry.catalog.model import DataType, Kind
from ferry.errors import PlanError
from ferry.plan.model import ColumnMapping
from ferry.transform import sqlparts as sp
from ferry.transform.expressions import transpile
from ferry.transform.python import load_function, python_column

COLUMNS = ["Id", "FirstName", "last"]


def test_transpile_quotes_columns_in_the_table_spelling():
    assert transpile("firstname || ' ' || last", COLUMNS, "postgresql", "x") == \
        '"FirstName" || \' \' || "last"'
    assert transpile("firstname || ' ' || last", COLUMNS, "mysql", "x") == "CONCAT(`FirstName`, ' ', `last`)"


def test_transpile_lists_every_unknown_column():
    with pytest.raises(PlanError) as exc:
        transpile("ghost + other + Id", COLUMNS, "sqlite", "columns.a.expression")
    (problem,) = exc.value.problems
    assert problem.startswith("columns.a.expression:") and "'ghost', 'other'" in problem


@pytest.mark.parametrize("text", ["SELECT 1", "DROP TABLE t", "1 +* 2", "TRUNCATE t", "'open"])
def test_transpile_refuses_statements_and_garbage(text):
    with pytest.raises(PlanError):
        transpile(text, COLUMNS, "postgresql", "filter")


def _sqlite(sql: str):
    return sqlite3.connect(":memory:").execute(f"SELECT {sql}").fetchone()[0]


@pytest.mark.parametrize("value, first, last, want", [("abcdef", 1, 2, "a***ef"), ("zz", 1, 2, "**"),
                                                      ("4111222233334444", 0, 4, "************4444"),
                                                      (None, 1, 1, None)])
def test_mask_on_sqlite(value, first, last, want):
    assert _sqlite(sp.mask(sp.literal(value, "sqlite"), first, last, "sqlite")) == want


def test_normalize_whitespace_on_sqlite_collapses_long_runs():
    x = sp.literal("  a" + " " * 200 + "b\t\n c ", "sqlite")
    assert _sqlite(sp.normalize_whitespace(x, "sqlite")) == "a b c"


def test_literals_escape_per_engine():
    assert sp.literal("it's \\", "mysql") == "'it''s \\\\'"
    assert sp.literal("it's \\", "postgresql") == "'it''s \\'"
    assert sp.literal(True, "postgresql") == "TRUE" and sp.literal(True, "sqlite") == "1"


def test_clamp_keeps_null():
    assert _sqlite(sp.clamp("NULL", "-5", "5")) is None and _sqlite(sp.clamp("9", "-5", "5")) == 5


@pytest.mark.parametrize("fields", [{"target": "x"}, {"name": "a", "default": 1},
                                    {"name": "a", "lower": True, "upper": True}, {"name": "a", "mask": {"mid": 1}}])
def test_inconsistent_column_mappings_are_refused(fields):
    with pytest.raises(ValidationError):
        ColumnMapping(**fields)


def test_python_function_is_loaded_at_resolution():
    f = python_column("base", 2, "os.path:basename", '"path"', DataType(Kind.TEXT), "columns.base")
    assert f.fn("/a/b.txt") == "b.txt" and f.marker == '/* ferry:python:2 */ ("path")'
    with pytest.raises(PlanError) as info:
        load_function("os.path:nothing_here", "columns.x")
    assert "cannot import os.path:nothing_here" in info.value.problems[0]
