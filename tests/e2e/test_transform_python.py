"""``python: module:function`` end to end: values changed in Python on the
copy's row path, a raising function makes a reject, and verification (hashed
in Python on the source side) passes on the copy and finds a changed value."""

from __future__ import annotations

import pytest
import yaml

from tests.e2e import generate as g
from tests.e2e.test_transform_columns import PAIRS, make_people, pair_id

FUNCTIONS = '''
def initials(name):
    if name is None:
        return None
    if name.strip() == "Dee":
        raise ValueError("Dee has no initials")
    return name.strip()[0] + "."


def score_band(score):
    return None if score is None else ("high" if score > 1000 else "low")
'''


@pytest.fixture(params=PAIRS, ids=pair_id)
def people(request, tmp_path, monkeypatch):
    """(source with ``people``, target), the functions importable as ``ferry_test_fns``."""
    (tmp_path / "ferry_test_fns.py").write_text(FUNCTIONS)
    monkeypatch.syspath_prepend(str(tmp_path))
    source, target = (request.getfixturevalue(n) for n in request.param)
    make_people(source)
    return source, target


def run_plan(tmp_path, source, target, columns, **options):
    plan = {"version": 1, "source": source, "target": target,
            "options": {"jobs": 1, "if_exists": "drop", "max_rejects": 1, **options},
            "checks": {"default": ["counts", "checksum", "sample"]},
            "tables": [{"source": "people", "columns": columns}]}
    path = tmp_path / "plan.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return g.cli("run", str(path)), path


COLUMNS = [{"name": "id"}, {"name": "first", "python": "ferry_test_fns:initials"},
           {"name": "score", "target": "band", "type": "varchar(4)", "python": "ferry_test_fns:score_band"}]


def test_python_functions(people, tmp_path):
    source, target = people
    result, path = run_plan(tmp_path, source, target, COLUMNS)
    assert result.exit_code == 0, result.output
    assert "first: python ferry_test_fns:initials" in result.output
    assert sorted(g.query(target, "SELECT id, first, band FROM people")) == [
        (1, "A.", "low"), (2, "b.", "high"), (3, None, "low")]
    rejects = g.journal_query(str(path).replace(".yaml", ".state.db"), "SELECT col, reason FROM rejects")
    assert rejects == [("first", "python ferry_test_fns:initials raised ValueError: Dee has no initials")]
    g.execute(target, "UPDATE people SET band = 'mid' WHERE id = 2")
    checked = g.cli("verify", str(path))
    assert checked.exit_code == 1 and "band: 'high' -> 'mid'" in checked.output, checked.output


def test_python_failures_are_plan_errors(sqlite_url, sqlite_url2, tmp_path, monkeypatch):
    make_people(sqlite_url)
    result, _ = run_plan(tmp_path, sqlite_url, sqlite_url2, [{"name": "id"}, {"name": "first", "python": "nowhere_x:f"}])
    assert result.exit_code == 2 and "cannot import nowhere_x:f" in result.output
    result, _ = run_plan(tmp_path, sqlite_url, sqlite_url2, [{"name": "id", "python": "os.path:basename"}])
    assert result.exit_code == 2 and "key columns cannot be transformed" in result.output
    result, _ = run_plan(tmp_path, sqlite_url, sqlite_url2, [{"name": "id"}, {"name": "first", "python": "os.path"}])
    assert result.exit_code == 2 and "write package.module:function" in result.output
