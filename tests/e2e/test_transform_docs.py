"""`ferry init` documents the transform options as comments (the plan stays
valid YAML and runs), and `ferry plan-schema` describes every transform key."""

from __future__ import annotations

import json

import yaml

from tests.e2e import generate as g
from tests.e2e.test_transform_columns import make_people


def test_init_documents_transforms_and_the_plan_runs(sqlite_url, sqlite_url2, tmp_path):
    make_people(sqlite_url)
    result = g.cli("init", "--source", sqlite_url, "--target", sqlite_url2)
    assert result.exit_code == 0, result.output
    for option in ("filter:", "on_invalid: clamp", "value_map:", "mask:", "hash: true", "expression:",
                   "default: legacy", "drop: true", "normalize_whitespace", "timezone: {from:"):
        assert option in result.stdout, option
    plan = yaml.safe_load(result.stdout)
    plan["tables"][0]["columns"].append({"target": "origin", "default": "legacy"})
    plan["tables"][0]["filter"] = "id < 3"
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan))
    assert g.cli("run", str(path), "--no-verify").exit_code == 0
    assert g.rows(sqlite_url2, "people", ("id", "origin")) == [(1, "legacy"), (2, "legacy")]


def test_plan_schema_describes_transforms():
    schema = json.loads(g.cli("plan-schema").stdout)
    column = schema["$defs"]["ColumnMapping"]["properties"]
    for key in ("drop", "on_invalid", "expression", "default", "value_map", "null_default", "trim",
                "normalize_whitespace", "lower", "upper", "mask", "hash", "timezone"):
        assert column[key].get("description"), key
    assert "filter" in schema["$defs"]["TableMapping"]["properties"]
