"""A canary password never leaves the process: not on stdout or stderr, not in
the journal files, not in any exception message, whether the run succeeds or
fails, and whether the password is written in the URL or read from ``${ENV}``.

MariaDB checks passwords, so each test creates a user whose password is the
canary; PostgreSQL (trust authentication on the test server) accepts any
password, so a canary in a PostgreSQL URL must also survive a successful run.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import traceback
from pathlib import Path

import pytest
from click.testing import CliRunner

from ferry import api, secrets
from ferry.cli import main
from ferry.errors import FerryError
from tests.conftest import MYSQL_ADMIN_URL, PG_ADMIN_URL, _mysql_admin, fresh_name

CANARY = "Sup3rS3cretCanary"
REPO = Path(__file__).resolve().parents[2]
CHINOOK = REPO / "examples" / "chinook" / "chinook.sqlite"
TABLES = "Genre,MediaType"


@pytest.fixture(autouse=True)
def fresh_process_state(monkeypatch, tmp_path):
    """Each test starts as a new process would: nothing remembered, its own folder."""
    monkeypatch.setattr(secrets, "_KNOWN_SECRETS", set())
    monkeypatch.delenv("MYSQL_PWD", raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def source(tmp_path) -> str:
    path = tmp_path / "chinook.sqlite"
    shutil.copy(CHINOOK, path)
    return f"sqlite:///{path}"


def mysql_base() -> tuple[str, str]:
    """``(scheme, host:port)`` of the MariaDB test server."""
    scheme, rest = MYSQL_ADMIN_URL.split("://", 1)
    return scheme, rest.rpartition("@")[2].split("/", 1)[0]


@pytest.fixture
def canary_user(mysql_url):
    """A MariaDB user whose password is the canary, owning the fresh database."""
    user = fresh_name("ferry_canary")
    database = mysql_url.rpartition("/")[2]
    _mysql_admin(f"CREATE USER '{user}'@'%' IDENTIFIED BY '{CANARY}'")
    try:
        _mysql_admin(f"GRANT ALL ON `{database}`.* TO '{user}'@'%'")
        scheme, hostport = mysql_base()
        yield {"user": user, "database": database, "url": f"{scheme}://{user}:{CANARY}@{hostport}/{database}",
               "hostport": hostport, "scheme": scheme}
    finally:
        _mysql_admin(f"DROP USER IF EXISTS '{user}'@'%'")


def ferry(*args, env: dict | None = None):
    return CliRunner().invoke(main, [str(a) for a in args], env=env)


def ferry_process(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the ``ferry`` entry point; ``env`` overrides variables (None removes one)."""
    exe = shutil.which("ferry")
    assert exe, "the ferry entry point is not on PATH"
    environ = {**os.environ, **(env or {})}
    environ = {k: v for k, v in environ.items() if v is not None}
    return subprocess.run([exe, *map(str, args)], cwd=cwd, capture_output=True, text=True, timeout=120,
                          env=environ)


def journal_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.is_file() and ".state.db" in p.name]


def assert_no_canary(folder: Path, *outputs: str) -> None:
    """The canary is in no output and in no journal file (``*.state.db``, ``-wal``, ``-shm``)."""
    for text in outputs:
        assert CANARY not in text, text
    files = journal_files(folder)
    for path in files:
        assert CANARY.encode() not in path.read_bytes(), path


def texts_of(result) -> tuple[str, str]:
    return result.stdout, result.stderr


def exception_texts(exc: BaseException) -> list[str]:
    """Every message of ``exc`` and of the exceptions chained to it, and the
    formatted traceback."""
    texts, seen = ["".join(traceback.format_exception(exc))], set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        texts += [str(exc), repr(exc), *map(str, exc.args)]
        if isinstance(exc, FerryError):
            texts += [exc.message, exc.hint]
        exc = exc.__cause__ or exc.__context__
    return texts


# -- MariaDB: the password is checked ------------------------------------------------


def test_successful_run_status_and_verify(tmp_path, source, canary_user):
    target = canary_user["url"]
    run = ferry("run", "--source", source, "--target", target, "--tables", TABLES)
    assert run.exit_code == 0, run.output
    status = ferry("status", "--source", source, "--target", target, "--tables", TABLES)
    assert status.exit_code == 0, status.output
    verify = ferry("verify", "--source", source, "--target", target, "--tables", TABLES)
    assert verify.exit_code == 0, verify.output
    as_json = ferry("verify", "--source", source, "--target", target, "--tables", TABLES, "--json")
    assert as_json.exit_code == 0, as_json.output

    # the URL is shown, with the password masked (redacted, not just left out)
    assert f"{canary_user['user']}:***@" in status.stdout
    assert "run " in status.stdout and ": done" in status.stdout
    assert journal_files(tmp_path), "the URL run journals in .ferry/"
    assert_no_canary(tmp_path, *texts_of(run), *texts_of(status), *texts_of(verify), *texts_of(as_json))


def test_failed_run_is_journaled_without_the_canary(tmp_path, source, canary_user):
    target = canary_user["url"]
    assert ferry("run", "--source", source, "--target", target, "--tables", TABLES).exit_code == 0
    again = ferry("run", "--source", source, "--target", target, "--tables", TABLES)
    assert again.exit_code == 2 and "already exist" in again.stderr, again.output
    status = ferry("status", "--source", source, "--target", target, "--tables", TABLES)
    assert "failed" in status.stdout and "already exist" in status.stdout, status.stdout
    assert_no_canary(tmp_path, *texts_of(again), *texts_of(status))


@pytest.fixture
def other_user(mysql_url):
    """An existing MariaDB user whose password is not the canary (a wrong login
    of an unknown user gets error 1045 or 1698 at random on MariaDB)."""
    user = fresh_name("ferry_canary")
    database = mysql_url.rpartition("/")[2]
    _mysql_admin(f"CREATE USER '{user}'@'%' IDENTIFIED BY 'Another-Pa55word'")
    try:
        _mysql_admin(f"GRANT ALL ON `{database}`.* TO '{user}'@'%'")
        scheme, hostport = mysql_base()
        yield {"user": user, "url": f"{scheme}://{user}:{CANARY}@{hostport}/{database}",
               "template": f"{scheme}://{user}:{{password}}@{hostport}/{database}"}
    finally:
        _mysql_admin(f"DROP USER IF EXISTS '{user}'@'%'")


def test_wrong_password(tmp_path, source, other_user):
    """The canary is the wrong password of an existing user."""
    target = other_user["url"]
    for verb in ("run", "verify", "status"):
        result = ferry(verb, "--source", source, "--target", target)
        assert_no_canary(tmp_path, *texts_of(result))
        if verb != "status":    # status only reads the journal
            assert result.exit_code == 2 and other_user["user"] in result.stderr, result.output
    with pytest.raises(FerryError) as info:
        api.run(api.plan_from_urls(source, target))
    for text in exception_texts(info.value):
        assert CANARY not in text


def test_unknown_database(tmp_path, source, canary_user):
    missing = fresh_name("ferry_missing")
    target = f"{canary_user['scheme']}://{canary_user['user']}:{CANARY}@{canary_user['hostport']}/{missing}"
    result = ferry("run", "--source", source, "--target", target)
    assert result.exit_code == 2, result.output
    assert_no_canary(tmp_path, *texts_of(result))
    with pytest.raises(FerryError) as info:
        api.verify(api.plan_from_urls(source, target))
    for text in exception_texts(info.value):
        assert CANARY not in text


def test_unreachable_port(tmp_path, source):
    scheme, hostport = mysql_base()
    target = f"{scheme}://someone:{CANARY}@{hostport.split(':')[0]}:1/db"
    result = ferry("run", "--source", source, "--target", target)
    assert result.exit_code == 2, result.output
    assert_no_canary(tmp_path, *texts_of(result))


def test_debug_traceback_has_no_canary(tmp_path, source, other_user):
    proc = ferry_process("--debug", "run", "--source", source, "--target", other_user["url"], cwd=tmp_path)
    assert proc.returncode != 0
    assert "Traceback" in proc.stderr
    assert_no_canary(tmp_path, proc.stdout, proc.stderr)


def test_env_reference_in_a_plan(tmp_path, source, canary_user):
    plan = tmp_path / "plan.yaml"
    url = canary_user["url"].replace(CANARY, "${FERRY_TEST_PASS}")
    plan.write_text(f"source: {source}\ntarget: {url}\ninclude: [Genre, MediaType]\n")
    env = {"FERRY_TEST_PASS": CANARY}
    # a real process: nothing remembered from other tests can hide a leak
    run = ferry_process("run", plan, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    status = ferry("status", plan, env=env)
    verify = ferry("verify", plan, env=env)
    assert status.exit_code == 0 and verify.exit_code == 0, status.output + verify.output
    assert (tmp_path / "plan.state.db").exists()
    assert_no_canary(tmp_path, run.stdout, run.stderr, *texts_of(status), *texts_of(verify))
    # without the variable: a clear error naming it, nothing else
    missing = ferry("verify", plan, env={"FERRY_TEST_PASS": None})
    assert missing.exit_code == 2, missing.output
    assert missing.stderr.startswith("error: environment variable FERRY_TEST_PASS is not set")


def test_env_reference_with_a_wrong_password(tmp_path, source, other_user, monkeypatch):
    monkeypatch.setenv("FERRY_TEST_PASS", CANARY)
    plan = tmp_path / "plan.yaml"
    plan.write_text(f"source: {source}\ntarget: {other_user['template'].format(password='${FERRY_TEST_PASS}')}\n")
    result = ferry("run", plan)
    assert result.exit_code == 2, result.output
    assert_no_canary(tmp_path, *texts_of(result))


def test_init_keeps_env_references(tmp_path, source, canary_user, monkeypatch):
    monkeypatch.setenv("FERRY_TEST_PASS", CANARY)
    url = canary_user["url"].replace(CANARY, "${FERRY_TEST_PASS}")
    result = ferry("init", "--source", source, "--target", url, "--tables", TABLES)
    assert result.exit_code == 0, result.output
    assert "${FERRY_TEST_PASS}" in result.stdout
    assert_no_canary(tmp_path, *texts_of(result))


def test_init_does_not_print_a_literal_password(tmp_path, source, canary_user):
    result = ferry("init", "--source", source, "--target", canary_user["url"], "--tables", TABLES)
    assert result.exit_code == 0, result.output
    assert_no_canary(tmp_path, *texts_of(result))


# -- PostgreSQL: trust authentication accepts the canary ---------------------------------


def pg_with_password(url: str, password: str = CANARY) -> str:
    scheme, rest = url.split("://", 1)
    userinfo, _, hostpath = rest.rpartition("@")
    return f"{scheme}://{userinfo.split(':')[0]}:{password}@{hostpath}"


def test_postgresql_run_status_verify(tmp_path, source, pg_url):
    target = pg_with_password(pg_url)
    run = ferry("run", "--source", source, "--target", target, "--tables", TABLES)
    assert run.exit_code == 0, run.output
    status = ferry("status", "--source", source, "--target", target, "--tables", TABLES)
    verify = ferry("verify", "--source", source, "--target", target, "--tables", TABLES)
    assert status.exit_code == 0 and verify.exit_code == 0, status.output + verify.output
    assert ":***@" in status.stdout
    # PostgreSQL as the source too (read-only session), back into SQLite
    back = ferry("run", "--source", target, "--target", f"sqlite:///{tmp_path / 'back.db'}")
    assert back.exit_code == 0, back.output
    assert_no_canary(tmp_path, *texts_of(run), *texts_of(status), *texts_of(verify), *texts_of(back))


def test_postgresql_unknown_database(tmp_path, source):
    target = pg_with_password(PG_ADMIN_URL.rpartition("/")[0] + "/" + fresh_name("ferry_missing"))
    result = ferry("run", "--source", source, "--target", target)
    assert result.exit_code == 2, result.output
    assert_no_canary(tmp_path, *texts_of(result))
    with pytest.raises(FerryError) as info:
        api.run(api.plan_from_urls(target, source))
    for text in exception_texts(info.value):
        assert CANARY not in text
