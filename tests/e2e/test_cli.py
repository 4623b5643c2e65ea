"""The ``ferry`` command on real databases: clear errors and exit codes for bad
input, ``plan-schema``, ``init``, and run / verify / status / dry-run of the
bundled Chinook sample (SQLite -> SQLite).

Most calls go through click's CliRunner (same process, fast); a few run the
installed ``ferry`` entry point in a subprocess to prove the real exit codes.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from ferry.cli import main
from tests.conftest import MYSQL_ADMIN_URL, PG_ADMIN_URL, _mysql_admin, fresh_name

REPO = Path(__file__).resolve().parents[2]
CHINOOK = REPO / "examples" / "chinook" / "chinook.sqlite"
CHINOOK_TABLES = {"Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine",
                  "MediaType", "Playlist", "PlaylistTrack", "Track"}


# -- helpers -------------------------------------------------------------------------


def ferry(*args, env: dict | None = None):
    """Run ``ferry ARGS`` in this process; stdout and stderr apart."""
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def ferry_process(*args, cwd: Path) -> subprocess.CompletedProcess:
    """Run the installed ``ferry`` entry point."""
    exe = shutil.which("ferry")
    assert exe, "the ferry entry point is not on PATH"
    return subprocess.run([exe, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120)


def assert_input_error(result, *fragments: str, exit_code: int = 2) -> str:
    """Exit code 2, no traceback, exactly one ``error:`` line (containing every
    fragment) and at most one ``hint:`` line; returns the error line."""
    stdout, stderr = result.stdout, result.stderr
    assert result.exit_code == exit_code, f"exit {result.exit_code}\nstdout:\n{stdout}\nstderr:\n{stderr}"
    assert "Traceback" not in stdout + stderr
    errors = [line for line in stderr.splitlines() if line.startswith("error:")]
    hints = [line for line in stderr.splitlines() if line.startswith("hint:")]
    assert len(errors) == 1, stderr
    assert len(hints) <= 1, stderr
    line = errors[0]
    assert not re.match(r"error: \w+(Error|Exception)\b", line), f"a raw exception, not a message: {line}"
    for fragment in fragments:
        assert fragment in line, f"{fragment!r} not in {line!r}"
    return line


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table' "
                                            "AND name NOT LIKE 'sqlite_%'")]
        return {n: conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in names}


def table_rows(text: str) -> dict[str, list[str]]:
    """The body rows of the rich tables in ``text``: first cell -> other cells."""
    rows = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.split("│")[1:-1]]
        if cells and cells[0]:
            rows[cells[0]] = cells[1:]
    return rows


def number(cell: str) -> int:
    return int(cell.replace(",", ""))


def write_plan(path: Path, source: str, target: str, extra: str = "") -> Path:
    path.write_text(f"version: 1\nsource: {source}\ntarget: {target}\n{extra}", encoding="utf-8")
    return path


@pytest.fixture
def chinook(tmp_path) -> dict:
    """A private copy of the Chinook sample and a plan copying it to ``copy.db``."""
    source = tmp_path / "chinook.sqlite"
    shutil.copy(CHINOOK, source)
    target = tmp_path / "copy.db"
    plan = write_plan(tmp_path / "plan.yaml", sqlite_url(source), sqlite_url(target),
                      "options:\n  jobs: 2\n")
    return {"source": source, "target": target, "plan": plan, "dir": tmp_path}


@pytest.fixture
def mariadb_user(mysql_url):
    """A MariaDB user with a password, allowed on the fresh database of ``mysql_url``."""
    user = fresh_name("ferry_canary")
    password = "Right-Pa55word"
    database = mysql_url.rpartition("/")[2]
    _mysql_admin(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{password}'")
    try:
        _mysql_admin(f"GRANT ALL ON `{database}`.* TO '{user}'@'%'")
        yield {"user": user, "password": password, "database": database}
    finally:
        _mysql_admin(f"DROP USER IF EXISTS '{user}'@'%'")


def server_url(admin_url: str, database: str, userinfo: str | None = None) -> str:
    """``admin_url`` pointing at ``database`` (and logging in as ``userinfo``)."""
    scheme, rest = admin_url.split("://", 1)
    hostpart = rest.rpartition("@")[2].split("/", 1)[0]
    auth = userinfo if userinfo is not None else rest.rpartition("@")[0]
    return f"{scheme}://{auth}@{hostpart}/{database}"


# -- bad input: one clear line, exit 2 ---------------------------------------------------


def test_unreachable_host(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = ferry("run", "--source", "postgresql://postgres@127.0.0.1:1/x",
                   "--target", sqlite_url(tmp_path / "t.db"))
    assert_input_error(result, "127.0.0.1", ":1")


def test_unknown_database_postgresql(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = fresh_name("ferry_missing")
    result = ferry("run", "--source", server_url(PG_ADMIN_URL, name), "--target", sqlite_url(tmp_path / "t.db"))
    assert_input_error(result, name)


def test_unknown_database_mariadb(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    name = fresh_name("ferry_missing")
    result = ferry("verify", "--source", sqlite_url(CHINOOK), "--target", server_url(MYSQL_ADMIN_URL, name))
    assert_input_error(result, name)


def test_wrong_password_mariadb(tmp_path, monkeypatch, mariadb_user):
    monkeypatch.chdir(tmp_path)
    url = server_url(MYSQL_ADMIN_URL, mariadb_user["database"], f"{mariadb_user['user']}:Wrong-Pa55word")
    result = ferry("run", "--source", sqlite_url(CHINOOK), "--target", url, "--tables", "Genre")
    line = assert_input_error(result, mariadb_user["user"])
    assert "Wrong-Pa55word" not in result.output
    assert "refused" in line or "denied" in line.lower()
    # the right password works: the failure above was the password, not the user or grants
    good = server_url(MYSQL_ADMIN_URL, mariadb_user["database"],
                      f"{mariadb_user['user']}:{mariadb_user['password']}")
    ok = ferry("run", "--source", sqlite_url(CHINOOK), "--target", good, "--tables", "Genre")
    assert ok.exit_code == 0, ok.output


def test_unknown_user_is_always_a_login_error(tmp_path, monkeypatch, mysql_url):
    monkeypatch.chdir(tmp_path)
    database = mysql_url.rpartition("/")[2]
    for _ in range(40):     # P(no 1698 in 40 logins) is about 5e-5
        user = fresh_name("ferry_nobody")
        url = server_url(MYSQL_ADMIN_URL, database, f"{user}:Some-Pa55word")
        result = ferry("verify", "--source", url, "--target", sqlite_url(tmp_path / "t.db"))
        assert_input_error(result, user)


@pytest.mark.parametrize("url", ["oracle://scott@db/orcl", "mongodb://h/db", "chinook.sqlite"])
def test_unsupported_url_scheme(tmp_path, monkeypatch, url):
    monkeypatch.chdir(tmp_path)
    result = ferry("run", "--source", url, "--target", sqlite_url(tmp_path / "t.db"))
    assert_input_error(result, "unsupported database URL scheme")
    assert "hint: use postgresql://" in result.stderr
    assert not (tmp_path / "t.db").exists()


@pytest.mark.parametrize("verb", ["run", "verify", "status"])
@pytest.mark.parametrize("given", [[], ["--source", "sqlite:///a.db"], ["--target", "sqlite:///b.db"]])
def test_missing_source_or_target(tmp_path, monkeypatch, verb, given):
    monkeypatch.chdir(tmp_path)
    assert_input_error(ferry(verb, *given), "missing --source and --target")


def test_init_requires_source_and_target():
    result = ferry("init", "--source", "sqlite:///a.db")
    assert_input_error(result, "--target")


def test_plan_file_and_urls_together(chinook):
    result = ferry("run", chinook["plan"], "--source", sqlite_url(chinook["source"]))
    assert_input_error(result, "not both")


def test_plan_file_missing(tmp_path):
    missing = tmp_path / "no-such-plan.yaml"
    result = ferry("run", missing)
    assert_input_error(result, f"cannot read plan {missing}", "No such file")


def test_plan_that_is_not_yaml(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text("source: sqlite:///a.db\ntarget: [sqlite:///b.db\nname: x: y\n")
    result = ferry("verify", plan)
    assert_input_error(result, "is not valid YAML")
    problems = [line.strip() for line in result.stderr.splitlines() if line.startswith("  ")]
    assert len(problems) == 1 and problems[0].startswith(f"{plan}:3: "), result.stderr


def test_plan_with_several_schema_problems(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "# every mistake at once\n"           # 1
        "version: 1\n"                        # 2
        "target: sqlite:///out.db\n"          # 3
        "colour: blue\n"                      # 4
        "options:\n"                          # 5
        "  jobs: many\n"                      # 6
        "  if_exists: replace\n"              # 7
        "tables:\n"                           # 8
        "  - source: Album\n"                 # 9
        "    key: AlbumId\n"                  # 10
        "    colums: []\n")                   # 11
    result = ferry("run", plan)
    assert_input_error(result, f"plan {plan} has 6 problem(s)")
    problems = sorted(line.strip() for line in result.stderr.splitlines() if line.startswith("  "))
    expected = {
        f"{plan}:2: source: Field required",
        f"{plan}:4: colour: unknown key (a typo?)",
        f"{plan}:6: options.jobs: ",
        f"{plan}:7: options.if_exists: ",
        f"{plan}:10: tables.0.key: ",
        f"{plan}:11: tables.0.colums: unknown key (a typo?)",
    }
    assert len(problems) == len(expected), result.stderr
    for prefix in expected:
        assert any(p.startswith(prefix) for p in problems), f"{prefix!r} not in {problems}"
    assert "hint: run `ferry plan-schema`" in result.stderr
    assert not (tmp_path / "out.db").exists()


def test_invalid_option_with_a_plan_file(chinook):
    result = ferry("run", chinook["plan"], "--chunk-rows", "0", "--tables", "Genre")
    assert_input_error(result, "chunk_rows")


def test_invalid_option_with_urls(chinook, monkeypatch):
    monkeypatch.chdir(chinook["dir"])
    result = ferry("run", "--source", sqlite_url(chinook["source"]), "--target", sqlite_url(chinook["target"]),
                   "--chunk-rows", "0", "--tables", "Genre")
    assert_input_error(result, "chunk_rows")


def test_patterns_matching_no_table(chinook):
    result = ferry("run", chinook["plan"], "--tables", "NoSuch*")
    assert_input_error(result, "no table to copy")


def test_plan_naming_a_table_the_source_does_not_have(chinook):
    plan = write_plan(chinook["dir"] / "missing.yaml", sqlite_url(chinook["source"]), sqlite_url(chinook["target"]),
                      "tables:\n  - source: Album\n  - source: NoSuchTable\n")
    result = ferry("run", plan)
    assert_input_error(result)
    assert "NoSuchTable" in result.stderr
    assert "tables.1.source" in result.stderr
    assert not (set(counts(chinook["target"])) if chinook["target"].exists() else set()), \
        "nothing is created in the target"


def test_env_variable_not_set(chinook, monkeypatch):
    monkeypatch.delenv("FERRY_TEST_UNSET_DIR", raising=False)
    plan = write_plan(chinook["dir"] / "env.yaml", sqlite_url(chinook["source"]),
                      "sqlite:///${FERRY_TEST_UNSET_DIR}/out.db")
    result = ferry("run", plan)
    assert_input_error(result, "environment variable FERRY_TEST_UNSET_DIR is not set")
    assert "hint: export FERRY_TEST_UNSET_DIR=" in result.stderr


def test_env_variable_in_plan_is_expanded(chinook, monkeypatch):
    monkeypatch.setenv("FERRY_TEST_OUT_DIR", str(chinook["dir"]))
    plan = write_plan(chinook["dir"] / "env.yaml", sqlite_url(chinook["source"]),
                      "sqlite:///${FERRY_TEST_OUT_DIR}/from-env.db")
    result = ferry("run", plan, "--tables", "Genre")
    assert result.exit_code == 0, result.output
    assert counts(chinook["dir"] / "from-env.db") == {"Genre": 25}


def test_tables_narrows_a_plan_that_lists_its_tables(chinook):
    """``--tables`` picks mappings out of a plan's ``tables:`` list (by source or
    target name); the others are neither copied nor looked up (the source has
    no ``Gone``: the whole plan is refused, the narrowed one runs)."""
    plan = write_plan(chinook["dir"] / "listed.yaml", sqlite_url(chinook["source"]), sqlite_url(chinook["target"]),
                      "tables:\n  - source: Genre\n    target: genres\n  - source: Gone\n")
    refused = ferry("run", plan)
    assert_input_error(refused, "the plan names tables the source does not have")
    assert "source has no table 'Gone'" in refused.stderr
    assert ferry("run", plan, "--tables", "genres").exit_code == 0
    assert counts(chinook["target"]) == {"genres": 25}
    with sqlite3.connect(chinook["target"]) as conn:
        conn.execute("DELETE FROM genres WHERE GenreId = 3")
    result = ferry("verify", plan, "--tables", "Genre", "--json")
    assert result.exit_code == 1, result.output
    assert [t["table"] for t in json.loads(result.stdout)["tables"]] == ["Genre"]
    assert_input_error(ferry("verify", plan, "--tables", "Nothing*"), "no table to copy")


def test_entry_point_bad_input_exit_code(tmp_path):
    proc = ferry_process("run", "--source", "oracle://scott@db/orcl", "--target", "sqlite:///t.db", cwd=tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.startswith("error: unsupported database URL scheme 'oracle'")
    assert "Traceback" not in proc.stdout + proc.stderr


def test_debug_shows_a_traceback(tmp_path):
    proc = ferry_process("--debug", "run", "no-such-plan.yaml", cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback (most recent call last)" in proc.stderr
    assert "PlanError" in proc.stderr and "no-such-plan.yaml" in proc.stderr


def test_version():
    result = ferry("--version")
    assert result.exit_code == 0 and re.search(r"\d+\.\d+", result.stdout)


# -- plan-schema and init ----------------------------------------------------------------


def test_plan_schema_is_json_schema():
    result = ferry("plan-schema")
    assert result.exit_code == 0, result.output
    schema = json.loads(result.stdout)
    assert schema["type"] == "object"
    assert "source" in schema["properties"] and "target" in schema["properties"]
    assert {"source", "target"} <= set(schema["required"])
    assert "Options" in json.dumps(schema.get("$defs", {}))


def sqlite_keys_and_columns(path: Path) -> dict[str, tuple[list[str], list[str]]]:
    """Per table: primary key columns in key order, and every column in order."""
    out = {}
    with sqlite3.connect(path) as conn:
        for name in CHINOOK_TABLES:
            info = conn.execute(f'PRAGMA table_info("{name}")').fetchall()
            key = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
            out[name] = (key, [r[1] for r in info])
    return out


def init_plan(chinook) -> str:
    result = ferry("init", "--source", sqlite_url(chinook["source"]),
                   "--target", sqlite_url(chinook["dir"] / "scratch.db"))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_init_lists_every_table_key_and_column(chinook, monkeypatch):
    monkeypatch.chdir(chinook["dir"])
    data = yaml.safe_load(init_plan(chinook))
    assert data["source"] == sqlite_url(chinook["source"])
    assert data["target"] == sqlite_url(chinook["dir"] / "scratch.db")
    expected = sqlite_keys_and_columns(chinook["source"])
    tables = {t["source"]: t for t in data["tables"]}
    assert set(tables) == CHINOOK_TABLES
    for name, (key, columns) in expected.items():
        assert tables[name]["key"] == key, name
        assert [c["name"] for c in tables[name]["columns"]] == columns, name
        assert all(isinstance(c["type"], str) and c["type"] for c in tables[name]["columns"]), name
    assert tables["PlaylistTrack"]["key"] == ["PlaylistId", "TrackId"]
    track = {c["name"]: c["type"] for c in tables["Track"]["columns"]}
    assert track["Name"] == "varchar(200)" and track["TrackId"] == "bigint"


def test_init_plan_keeps_types_and_runs(chinook, monkeypatch):
    monkeypatch.chdir(chinook["dir"])
    text = init_plan(chinook)
    data = yaml.safe_load(text)
    tables = {t["source"]: t for t in data["tables"]}
    for column in tables["Track"]["columns"]:
        assert set(column) == {"name", "type"}, column
    track = {c["name"]: c["type"] for c in tables["Track"]["columns"]}
    assert track["UnitPrice"] == "decimal(10,2)"

    plan = chinook["dir"] / "init.yaml"
    old = f'target: "{sqlite_url(chinook["dir"] / "scratch.db")}"'
    assert old in text
    plan.write_text(text.replace(old, f'target: "{sqlite_url(chinook["dir"] / "from-init.db")}"'))
    run = ferry("run", plan)
    assert run.exit_code == 0, run.output
    verified = table_rows(run.stdout)
    assert all(verified[name][-1] == "ok" for name in CHINOOK_TABLES), run.stdout
    assert counts(chinook["dir"] / "from-init.db") == counts(chinook["source"])


def test_init_does_not_create_the_target(chinook):
    target = chinook["dir"] / "never.db"
    result = ferry("init", "--source", sqlite_url(chinook["source"]), "--target", sqlite_url(target))
    assert result.exit_code == 0, result.output
    assert not target.exists()


# -- run, verify, status on Chinook -------------------------------------------------------


def test_run_verify_and_find_differences(chinook):
    result = ferry("run", chinook["plan"])
    assert result.exit_code == 0, result.output
    source_counts = counts(chinook["source"])
    assert set(source_counts) == CHINOOK_TABLES
    summary_text, verify_text = re.split(r"^\s*verify\s*$", result.stdout, flags=re.M)
    summary, verified = table_rows(summary_text), table_rows(verify_text)
    for name, n in source_counts.items():
        # summary: table | rows | rejects | seconds | rows/s
        assert number(summary[name][0]) == n and summary[name][1] == "0", (name, summary[name])
        # verify: table | source rows | target rows | rejects | missing | extra | modified | result
        assert [number(c) for c in verified[name][:2]] == [n, n] and verified[name][-1] == "ok"
    assert number(summary["total"][0]) == sum(source_counts.values())
    assert counts(chinook["target"]) == source_counts

    verify = ferry("verify", chinook["plan"], "--json")
    assert verify.exit_code == 0, verify.output
    document = json.loads(verify.stdout)
    assert document["status"] == "Pass" and document["checks_run"] == ["counts", "checksum"]
    results = {r["table"]: r for r in document["tables"]}
    assert set(results) == CHINOOK_TABLES and all(r["ok"] for r in results.values())
    assert all(results[n]["target_rows"] == source_counts[n] for n in CHINOOK_TABLES)

    with sqlite3.connect(chinook["target"]) as conn:
        conn.execute("UPDATE Album SET Title = 'Changed' WHERE AlbumId = 5")
        conn.execute("DELETE FROM PlaylistTrack WHERE PlaylistId = 1 AND TrackId = 3402")
    bad = ferry("verify", chinook["plan"])
    assert bad.exit_code == 1, bad.output
    assert "differences in 2 table(s)" in bad.stderr
    assert re.search(r"^Album: .*modified \[\(5,\)\]", bad.stdout, re.M), bad.stdout
    assert re.search(r"^PlaylistTrack: .*missing \[\(1, 3402\)\]", bad.stdout, re.M), bad.stdout
    verdicts = {name: cells[-1] for name, cells in table_rows(bad.stdout).items()}
    assert verdicts["Album"] == verdicts["PlaylistTrack"] == "DIFFERS"
    assert [v for v in verdicts.values() if v == "ok"] == ["ok"] * 9


def test_status_shows_the_last_run(chinook):
    before = ferry("status", chinook["plan"])
    assert before.exit_code == 0 and "no run recorded" in before.stdout
    assert ferry("run", chinook["plan"], "--chunk-rows", "1000").exit_code == 0
    result = ferry("status", chinook["plan"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^run \S+: done ", result.stdout, re.M), result.stdout
    for phase in ("preflight", "schema", "copy", "validate"):
        assert f"phase {phase}: done" in result.stdout
    rows = table_rows(result.stdout)
    source_counts = counts(chinook["source"])
    for name, n in source_counts.items():
        done, total = rows[name][0].split("/")
        assert done == total and int(total) >= 1, (name, rows[name])
        assert number(rows[name][1]) == n
    assert int(rows["PlaylistTrack"][0].split("/")[1]) >= 9     # 8,715 rows in chunks of 1,000


def test_second_run_needs_if_exists(chinook):
    assert ferry("run", chinook["plan"]).exit_code == 0
    with sqlite3.connect(chinook["target"]) as conn:
        conn.execute("DELETE FROM Genre WHERE GenreId = 1")
    again = ferry("run", chinook["plan"])
    line = assert_input_error(again, "already exist")
    assert "Genre" in line
    assert "--if-exists" in again.stderr
    assert counts(chinook["target"])["Genre"] == 24, "a refused run changes nothing"

    dropped = ferry("run", chinook["plan"], "--if-exists", "drop", "--no-verify")
    assert dropped.exit_code == 0, dropped.output
    assert counts(chinook["target"]) == counts(chinook["source"])
    assert ferry("verify", chinook["plan"]).exit_code == 0


def test_run_with_urls_and_the_entry_point(chinook):
    proc = ferry_process("run", "--source", sqlite_url(chinook["source"]), "--target", "sqlite:///url-copy.db",
                         "--tables", "Artist,Album", cwd=chinook["dir"])
    assert proc.returncode == 0, proc.stderr
    assert counts(chinook["dir"] / "url-copy.db") == {"Artist": 275, "Album": 347}
    assert list((chinook["dir"] / ".ferry").glob("*.state.db")), "URL runs journal in .ferry/"
    with sqlite3.connect(chinook["dir"] / "url-copy.db") as conn:
        conn.execute("DELETE FROM Artist WHERE ArtistId = 1")
    proc = ferry_process("verify", "--source", sqlite_url(chinook["source"]), "--target", "sqlite:///url-copy.db",
                         "--tables", "Artist,Album", cwd=chinook["dir"])
    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr


def test_dry_run_changes_nothing(chinook):
    # the target exists with one table of other content: a dry run leaves it alone
    with sqlite3.connect(chinook["target"]) as conn:
        conn.execute('CREATE TABLE "Genre" ("GenreId" INTEGER PRIMARY KEY, "Name" TEXT)')
        conn.execute("INSERT INTO Genre VALUES (1, 'kept')")
    result = ferry("run", chinook["plan"], "--dry-run")
    assert result.exit_code == 0, result.output
    for phase in ("preflight", "schema", "copy", "validate"):
        assert re.search(rf"^{phase}$", result.stdout, re.M), result.stdout
    assert "copy PlaylistTrack -> PlaylistTrack" in result.stdout
    assert counts(chinook["target"]) == {"Genre": 1}
    status = ferry("status", chinook["plan"])
    assert "no run recorded" in status.stdout


def test_dry_run_does_not_create_the_target_file(chinook):
    result = ferry("run", chinook["plan"], "--dry-run")
    assert result.exit_code == 0, result.output
    assert not chinook["target"].exists()


def test_dry_run_leaves_an_existing_target_file_byte_identical(chinook):
    with sqlite3.connect(chinook["target"]) as conn:
        conn.execute("CREATE TABLE other (x INTEGER)")
    conn.close()
    before = chinook["target"].read_bytes()
    result = ferry("run", chinook["plan"], "--dry-run")
    assert result.exit_code == 0, result.output
    assert chinook["target"].read_bytes() == before


def test_verify_reports_progress_per_table(tmp_path):
    """Off a terminal, verify writes one line per table to stderr as it goes."""
    source = tmp_path / "chinook.sqlite"
    shutil.copy(Path(__file__).resolve().parents[2] / "examples" / "chinook" / "chinook.sqlite", source)
    urls = ["--source", f"sqlite:///{source}", "--target", f"sqlite:///{tmp_path / 'copy.db'}"]
    assert subprocess.run(["ferry", "run", *urls, "--no-verify"], cwd=tmp_path, capture_output=True).returncode == 0
    done = subprocess.run(["ferry", "verify", *urls], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stderr.splitlines() if " verified " in line]
    assert len(lines) == 11 and any("verified Album: ok (347 source rows)" in line for line in lines), lines
