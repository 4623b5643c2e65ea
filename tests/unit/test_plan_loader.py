"""Plan files: validation, every problem at once with ``file:line: key: message``,
``${ENV}`` references (:mod:`ferry.plan.loader`, :mod:`ferry.plan.model`)."""

from __future__ import annotations

import re
import textwrap

import pytest

from ferry import secrets
from ferry.errors import InputError, PlanError
from ferry.plan.loader import load_plan
from ferry.plan.model import Plan, plan_json_schema
from ferry.secrets import parse_url, redact

PROBLEM = re.compile(r"^(?P<file>.+):(?P<line>\d+): (?P<key>\S+): (?P<message>.+)$")


def write(tmp_path, text: str, name: str = "plan.yaml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return path


def problems_of(path) -> dict[str, tuple[int, str]]:
    """``{key: (line, message)}`` of the PlanError raised by loading ``path``."""
    with pytest.raises(PlanError) as info:
        load_plan(path)
    found = {}
    for problem in info.value.problems:
        m = PROBLEM.match(problem)
        assert m, f"not file:line: key: message: {problem!r}"
        assert m["file"] == str(path)
        found[m["key"]] = (int(m["line"]), m["message"])
    assert len(found) == len(info.value.problems), "one problem per key"
    return found


# -- valid plans -----------------------------------------------------------------


def test_minimal_plan_gets_the_defaults(tmp_path):
    plan = load_plan(write(tmp_path, """
        source: sqlite:///a.db
        target: postgresql://app@db/app
    """))
    assert (plan.source, plan.target, plan.version) == ("sqlite:///a.db", "postgresql://app@db/app", 1)
    assert plan.tables is None and plan.include == [] and plan.casting == []
    o = plan.options
    assert (o.jobs, o.chunk_rows, o.batch_rows, o.max_rejects, o.if_exists, o.verify) == \
        (0, 100_000, 10_000, 0, "fail", True)


def test_full_plan(tmp_path):
    plan = load_plan(write(tmp_path, """
        version: 1
        name: shop
        source: mysql://root@127.0.0.1/shop
        target: postgresql://postgres@127.0.0.1/shop
        state: /var/lib/ferry/shop.state.db
        include: ["order*", customer]
        exclude: [tmp_*]
        casting:
          - {match: "tinyint(1)", to: boolean}
        options: {jobs: 4, chunk_rows: 5000, if_exists: drop, verify: false}
        tables:
          - source: orders
            target: sales_orders
            key: [id]
            columns:
              - {name: id, type: bigint}
              - {name: total, target: amount, type: "decimal(12,2)"}
    """))
    assert plan.name == "shop" and plan.state == "/var/lib/ferry/shop.state.db"
    assert plan.include == ["order*", "customer"] and plan.exclude == ["tmp_*"]
    assert plan.casting == [{"match": "tinyint(1)", "to": "boolean"}]
    assert (plan.options.jobs, plan.options.chunk_rows, plan.options.if_exists, plan.options.verify) == \
        (4, 5000, "drop", False)
    t = plan.tables[0]
    assert (t.source, t.target, t.key) == ("orders", "sales_orders", ["id"])
    assert [(c.name, c.target, c.type) for c in t.columns] == \
        [("id", None, "bigint"), ("total", "amount", "decimal(12,2)")]


def test_identity_ignores_options_name_and_state(tmp_path):
    a = load_plan(write(tmp_path, """
        name: a
        source: sqlite:///a.db
        target: sqlite:///b.db
        options: {jobs: 1}
    """, "a.yaml"))
    b = load_plan(write(tmp_path, """
        name: b
        state: elsewhere.db
        source: sqlite:///a.db
        target: sqlite:///b.db
        options: {jobs: 8, chunk_rows: 10}
    """, "b.yaml"))
    c = load_plan(write(tmp_path, """
        source: sqlite:///a.db
        target: sqlite:///c.db
    """, "c.yaml"))
    assert a.identity() == b.identity() != c.identity()
    assert re.fullmatch(r"[0-9a-f]{16}", a.identity())


# -- every problem, with its line --------------------------------------------------


def test_every_problem_is_listed_with_its_line(tmp_path):
    path = write(tmp_path, """
        # a plan with several mistakes
        version: 1
        target: sqlite:///out.db
        colour: blue
        options:
          jobs: many
          chunk_rows: 0
          if_exists: replace
        tables:
          - source: orders
            bogus: 1
          - target: lines
            key: id
    """)
    found = problems_of(path)
    assert set(found) == {"source", "colour", "options.jobs", "options.chunk_rows",
                          "options.if_exists", "tables.0.bogus", "tables.1.source", "tables.1.key"}
    assert found["colour"] == (4, "unknown key (a typo?)")
    assert found["options.jobs"][0] == 6 and "integer" in found["options.jobs"][1]
    assert found["options.chunk_rows"][0] == 7 and "greater than or equal to 1" in found["options.chunk_rows"][1]
    assert found["options.if_exists"][0] == 8 and "'fail', 'drop' or 'truncate'" in found["options.if_exists"][1]
    assert found["tables.0.bogus"] == (11, "unknown key (a typo?)")
    assert found["tables.1.source"] == (12, "Field required")        # the item missing it
    assert found["tables.1.key"][0] == 13 and "list" in found["tables.1.key"][1]
    assert found["source"] == (2, "Field required")                  # the top mapping


def test_error_message_counts_the_problems_and_hints_at_plan_schema(tmp_path):
    path = write(tmp_path, """
        source: sqlite:///a.db
        target: sqlite:///b.db
        optoins: {jobs: 2}
        tables: [{source: a, colums: []}]
    """)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    err = info.value
    assert err.message == f"plan {path} has 2 problem(s)"
    assert "ferry plan-schema" in err.hint
    assert err.exit_code == 2 and isinstance(err, InputError)


def test_lines_inside_flow_style_and_after_blank_lines(tmp_path):
    path = write(tmp_path, """
        source: sqlite:///a.db


        target: sqlite:///b.db
        tables:
          - {source: a, key: [id], columns: [{name: x, typo: 1}]}

          - source: b
            columns:
              - name: y
              - {name: 7}
    """)
    found = problems_of(path)
    assert found["tables.0.columns.0.typo"][0] == 6
    assert found["tables.1.columns.1.name"][0] == 11
    assert set(found) == {"tables.0.columns.0.typo", "tables.1.columns.1.name"}


def test_empty_options_points_at_the_options_line(tmp_path):
    path = write(tmp_path, """
        source: sqlite:///a.db
        target: sqlite:///b.db
        options:


        name: x
    """)
    found = problems_of(path)
    assert found["options"][0] == 3
    assert "dictionary" in found["options"][1]


def test_url_without_scheme_and_wrong_version(tmp_path):
    path = write(tmp_path, """
        version: 2
        source: a.db
        target: sqlite:///b.db
    """)
    found = problems_of(path)
    assert found["version"][0] == 1
    assert found["source"][0] == 2 and "must be a URL" in found["source"][1]


def test_duplicate_key_points_at_the_repeated_key(tmp_path):
    path = write(tmp_path, """
        source: sqlite:///a.db
        target: sqlite:///b.db
        source: not-a-url
    """)
    found = problems_of(path)
    assert found == {"source": (3, "duplicate key (an earlier value would be ignored)")}


def test_duplicate_keys_are_reported_at_every_depth(tmp_path):
    path = write(tmp_path, """
        source: sqlite:///a.db
        target: sqlite:///b.db
        options: {if_exists: fail}
        tables:
          - source: a
            key: [id]
            key: [other]
        options: {jobs: 2}
    """)
    found = problems_of(path)
    assert found == {"tables.0.key": (7, "duplicate key (an earlier value would be ignored)"),
                     "options": (8, "duplicate key (an earlier value would be ignored)")}


# -- unreadable files ------------------------------------------------------------


def test_missing_file(tmp_path):
    with pytest.raises(PlanError) as info:
        load_plan(tmp_path / "nope.yaml")
    assert info.value.message == f"cannot read plan {tmp_path / 'nope.yaml'}: No such file or directory"
    assert info.value.hint and info.value.exit_code == 2


def test_a_directory_is_not_a_plan(tmp_path):
    with pytest.raises(PlanError, match="cannot read plan"):
        load_plan(tmp_path)


def test_not_yaml_reports_the_line(tmp_path):
    path = write(tmp_path, """
        source: sqlite:///a.db
        target: sqlite:///b.db
        tables: [unclosed
        options: {}
    """)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert info.value.message == f"plan {path} is not valid YAML"
    [problem] = info.value.problems
    assert problem.startswith(f"{path}:4: ")
    assert "YAML" in info.value.hint


def test_tab_indentation_is_a_yaml_error_with_a_line(tmp_path):
    path = tmp_path / "tabs.yaml"
    path.write_text("source: sqlite:///a.db\ntarget: sqlite:///b.db\noptions:\n\tjobs: 2\n")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert info.value.problems[0].startswith(f"{path}:4: ")


@pytest.mark.parametrize("text", ["", "# only a comment\n", "- a\n- b\n", "just a string\n"])
def test_plan_must_be_a_mapping(tmp_path, text):
    path = tmp_path / "plan.yaml"
    path.write_text(text)
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert "must be a mapping" in info.value.message
    assert info.value.problems == [f"{path}:1: expected keys such as source, target, tables"]


def test_not_utf8(tmp_path):
    path = tmp_path / "plan.yaml"
    path.write_bytes(b"source: sqlite:///\xff.db\ntarget: sqlite:///b.db\n")
    with pytest.raises(PlanError) as info:
        load_plan(path)
    assert info.value.message == f"plan {path} is not UTF-8 text (byte 18)"
    assert "UTF-8" in info.value.hint


# -- ${ENV} references -------------------------------------------------------------


def test_env_references_are_kept_in_the_plan_and_expanded_by_parse_url(tmp_path, monkeypatch):
    monkeypatch.setattr(secrets, "_KNOWN_SECRETS", set())
    monkeypatch.setenv("FERRY_TEST_PASS", "Sup3rS3cretCanary")
    monkeypatch.setenv("FERRY_TEST_HOST", "db.internal")
    plan = load_plan(write(tmp_path, """
        source: mysql://app:${FERRY_TEST_PASS}@${FERRY_TEST_HOST}:3307/shop
        target: sqlite:///out.db
    """))
    assert plan.source == "mysql://app:${FERRY_TEST_PASS}@${FERRY_TEST_HOST}:3307/shop"
    assert "Sup3rS3cretCanary" not in plan.model_dump_json()
    u = parse_url(plan.source)
    assert (u.password, u.host, u.port, u.database) == ("Sup3rS3cretCanary", "db.internal", 3307, "shop")
    assert redact("Sup3rS3cretCanary") == "***"


def test_identity_does_not_change_when_the_password_rotates(tmp_path, monkeypatch):
    path = write(tmp_path, """
        source: postgresql://app:${FERRY_TEST_PASS}@h/db
        target: sqlite:///out.db
    """)
    monkeypatch.setenv("FERRY_TEST_PASS", "first-password")
    first = load_plan(path).identity()
    monkeypatch.setenv("FERRY_TEST_PASS", "second-password")
    assert load_plan(path).identity() == first


def test_missing_env_variable_is_an_input_error(tmp_path, monkeypatch):
    monkeypatch.delenv("FERRY_UNSET_VARIABLE", raising=False)
    plan = load_plan(write(tmp_path, """
        source: postgresql://app:${FERRY_UNSET_VARIABLE}@h/db
        target: sqlite:///out.db
    """))
    with pytest.raises(InputError) as info:
        parse_url(plan.source)
    assert info.value.message == "environment variable FERRY_UNSET_VARIABLE is not set"
    assert info.value.exit_code == 2


# -- the JSON Schema ---------------------------------------------------------------


def test_json_schema_describes_every_top_level_key():
    schema = plan_json_schema()
    assert set(schema["required"]) == {"source", "target"}
    assert set(schema["properties"]) == set(Plan.model_fields)
    assert schema["additionalProperties"] is False
    assert schema["properties"]["source"]["description"]
