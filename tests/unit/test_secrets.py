"""Database URLs, ``${ENV}`` references and redaction (:mod:`ferry.secrets`)."""

from __future__ import annotations

import pytest

from ferry import secrets
from ferry.errors import FerryError, InputError
from ferry.secrets import DatabaseURL, expand_env, parse_url, redact, remember_secret

CANARY = "Sup3rS3cretCanary"


@pytest.fixture(autouse=True)
def fresh_secrets(monkeypatch):
    """Each test starts with no remembered secret and no password variables."""
    monkeypatch.setattr(secrets, "_KNOWN_SECRETS", set())
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.delenv("MYSQL_PWD", raising=False)


# -- parse_url -------------------------------------------------------------------


def test_postgresql_url():
    u = parse_url("postgresql://alice:pw1@db.example.com:5433/sales?sslmode=require&application_name=x")
    assert (u.engine, u.host, u.port, u.user, u.password, u.database) == \
        ("postgresql", "db.example.com", 5433, "alice", "pw1", "sales")
    assert u.options == (("sslmode", "require"), ("application_name", "x"))


@pytest.mark.parametrize("scheme", ["postgres", "postgresql", "POSTGRESQL", "postgresql+psycopg"])
def test_postgresql_scheme_spellings(scheme):
    u = parse_url(f"{scheme}://bob@h/db")
    assert (u.engine, u.port, u.user, u.database) == ("postgresql", 5432, "bob", "db")


@pytest.mark.parametrize("scheme", ["mysql", "mariadb", "MySQL", "mysql+mysqldb"])
def test_mysql_and_mariadb_schemes(scheme):
    u = parse_url(f"{scheme}://root@127.0.0.1/shop")
    assert (u.engine, u.host, u.port, u.user, u.database) == ("mysql", "127.0.0.1", 3306, "root", "shop")


def test_missing_host_defaults_to_loopback():
    assert parse_url("postgresql:///db").host == "127.0.0.1"


def test_percent_encoded_user_password_and_database():
    u = parse_url("mysql://us%40er:p%40ss%3Aw%2Frd@h:3307/my%20db")
    assert (u.user, u.password, u.database, u.port) == ("us@er", "p@ss:w/rd", "my db", 3307)


@pytest.mark.parametrize("url, path", [
    ("sqlite:///relative/app.db", "relative/app.db"),
    ("sqlite:///app.db", "app.db"),
    ("sqlite:////abs/path/app.db", "/abs/path/app.db"),
    ("sqlite:///my%20app.db", "my app.db"),
    ("sqlite:///app.db?mode=ro", "app.db"),
    ("sqlite:///:memory:", ":memory:"),
])
def test_sqlite_urls(url, path):
    u = parse_url(url)
    assert (u.engine, u.database, u.host, u.port, u.password) == ("sqlite", path, "", 0, "")


@pytest.mark.parametrize("url", ["sqlite://", "sqlite:///"])
def test_sqlite_without_path(url):
    with pytest.raises(InputError, match="no file path"):
        parse_url(url)


@pytest.mark.parametrize("url", ["oracle://u@h/db", "http://h/db", "app.db", ""])
def test_unsupported_scheme(url):
    with pytest.raises(InputError) as info:
        parse_url(url)
    assert "unsupported database URL scheme" in info.value.message
    assert "postgresql://" in info.value.hint
    assert info.value.exit_code == 2


@pytest.mark.parametrize("url", ["postgresql://u@h", "mysql://u@h/", "mariadb://u:pw@h:3306"])
def test_server_url_without_database(url):
    with pytest.raises(InputError, match="no database name"):
        parse_url(url)


def test_password_from_pgpassword_and_mysql_pwd(monkeypatch):
    monkeypatch.setenv("PGPASSWORD", "pgenvpass")
    monkeypatch.setenv("MYSQL_PWD", "myenvpass")
    assert parse_url("postgresql://u@h/db").password == "pgenvpass"
    assert parse_url("mysql://u@h/db").password == "myenvpass"
    assert parse_url("postgresql://u:inurl@h/db").password == "inurl"     # the URL wins
    assert redact("logged pgenvpass and myenvpass") == "logged *** and ***"


# -- ${ENV} references -----------------------------------------------------------


def test_env_reference_in_password(monkeypatch):
    monkeypatch.setenv("FERRY_TEST_PASS", CANARY)
    u = parse_url("mysql://app:${FERRY_TEST_PASS}@h/db")
    assert u.password == CANARY
    assert CANARY not in redact(f"connecting with {CANARY}")


def test_env_references_anywhere_in_the_url(monkeypatch):
    monkeypatch.setenv("FERRY_HOST", "db.internal")
    monkeypatch.setenv("FERRY_DB", "orders")
    u = parse_url("postgresql://app@${FERRY_HOST}:6543/${FERRY_DB}")
    assert (u.host, u.port, u.database) == ("db.internal", 6543, "orders")


def test_env_reference_to_a_whole_url(monkeypatch):
    monkeypatch.setenv("FERRY_SOURCE_URL", f"postgresql://app:{CANARY}@h/db")
    u = parse_url("${FERRY_SOURCE_URL}")
    assert u.password == CANARY
    assert CANARY not in redact(f"password {CANARY} leaked")


def test_env_reference_default(monkeypatch):
    monkeypatch.delenv("FERRY_NOT_SET_ANYWHERE", raising=False)
    assert parse_url("${FERRY_NOT_SET_ANYWHERE:-sqlite:///legacy.db}").database == "legacy.db"
    monkeypatch.setenv("FERRY_NOT_SET_ANYWHERE", "sqlite:///other.db")
    assert parse_url("${FERRY_NOT_SET_ANYWHERE:-sqlite:///legacy.db}").database == "other.db"


def test_missing_env_variable(monkeypatch):
    monkeypatch.delenv("FERRY_NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(InputError) as info:
        parse_url("postgresql://u:${FERRY_NOT_SET_ANYWHERE}@h/db")
    assert "FERRY_NOT_SET_ANYWHERE" in info.value.message
    assert "not set" in info.value.message
    assert "export FERRY_NOT_SET_ANYWHERE" in info.value.hint


def test_secret_like_env_names_are_remembered(monkeypatch):
    monkeypatch.setenv("APP_DB_PASSWORD", "alpha-value")
    monkeypatch.setenv("APP_TOKEN", "beta-value")
    monkeypatch.setenv("APP_HOST", "gamma-value")
    assert expand_env("${APP_DB_PASSWORD} ${APP_TOKEN} ${APP_HOST}") == "alpha-value beta-value gamma-value"
    assert redact("alpha-value beta-value gamma-value") == "*** *** gamma-value"


def test_dollar_without_braces_is_left_alone():
    assert expand_env("pa$$word and $HOME") == "pa$$word and $HOME"


# -- redaction -------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("postgresql://alice:pw1@h/db", "postgresql://alice:***@h/db"),
    ("mysql://root:p%40ss%3Aw@127.0.0.1:3306/x", "mysql://root:***@127.0.0.1:3306/x"),
    ("MARIADB://u:x@h/db", "MARIADB://u:***@h/db"),
    ("postgresql+psycopg://u:x@h/db", "postgresql+psycopg://u:***@h/db"),
    ("error at mysql://u:pw@h/db and postgres://v:pw2@h/db2.",
     "error at mysql://u:***@h/db and postgres://v:***@h/db2."),
    ("postgresql://alice@h/db", "postgresql://alice@h/db"),      # no password: unchanged
    ("mysql://root@127.0.0.1:3306/x", "mysql://root@127.0.0.1:3306/x"),
    ("see mysql://u:pw@h/db or mail a@b.c", "see mysql://u:***@h/db or mail a@b.c"),
    ("sqlite:///a:b@c.db", "sqlite:///a:b@c.db"),                  # a path, not credentials
])
def test_redact_url_passwords(text, expected):
    assert redact(text) == expected


def test_redact_remembered_secrets_and_their_url_encoding():
    remember_secret("s3cr/t&pw")
    assert redact("value s3cr/t&pw here") == "value *** here"
    assert redact("in a URL s3cr%2Ft%26pw") == "in a URL ***"


def test_redact_hides_the_longest_secret_first():
    remember_secret("abc")
    remember_secret("abcdef")
    assert redact("abcdef") == "***"


def test_very_short_values_are_not_remembered():
    remember_secret("ab")
    remember_secret("")
    remember_secret(None)
    assert redact("ab cab") == "ab cab"


def test_parse_url_remembers_the_password():
    parse_url(f"postgresql://u:{CANARY}@h/db")
    assert redact(f"driver said: password {CANARY} rejected") == "driver said: password *** rejected"


def test_redact_accepts_any_object():
    remember_secret(CANARY)
    assert redact(ValueError(f"bad {CANARY}")) == "bad ***"


def test_ferry_errors_are_redacted():
    remember_secret(CANARY)
    exc = InputError(f"cannot log in with {CANARY} to mysql://u:other@h/db", f"not {CANARY}")
    for text in (str(exc), exc.message, exc.hint, repr(exc), *map(str, exc.args)):
        assert CANARY not in text and "other" not in text


@pytest.mark.parametrize("remembered", [True, False])
def test_redact_password_containing_at_sign(remembered):
    # parse_url accepts a raw '@' in the password; redaction must hide all of it
    url = "mysql://u:Sup3r@S3cretCanary@h/db"
    if remembered:
        assert parse_url(url).password == "Sup3r@S3cretCanary"
    text = redact(f"cannot connect to {url} now")
    assert "Sup3r" not in text and "S3cretCanary" not in text
    assert "@h/db now" in text


@pytest.mark.parametrize("url", [f"postgresql:/u:{CANARY}@h/db", f"u:{CANARY}@h/db",
                                 f"postgresql//u:{CANARY}@h/db"])
def test_malformed_url_error_does_not_echo_the_password(url):
    with pytest.raises(InputError) as info:
        parse_url(url)
    assert "unsupported database URL scheme" in info.value.message
    assert CANARY not in str(info.value)


# -- DatabaseURL -----------------------------------------------------------------


def test_redacted_and_str_hide_the_password():
    u = parse_url(f"postgresql://u:{CANARY}@h:5433/db")
    assert u.redacted() == "postgresql://u:***@h:5433/db"
    assert str(u) == u.redacted()
    assert CANARY not in repr(u)
    assert CANARY not in f"{u}"


def test_redacted_without_password_and_for_sqlite():
    assert parse_url("mysql://root@h/db").redacted() == "mysql://root@h:3306/db"
    assert parse_url("sqlite:////tmp/x.db").redacted() == "sqlite:////tmp/x.db"
    assert parse_url("sqlite:///rel.db").redacted() == "sqlite:///rel.db"


def test_redacted_url_parses_back_to_the_same_place():
    u = parse_url("mariadb://root:pw@db:3307/shop")
    back = parse_url(u.redacted())
    assert (back.engine, back.host, back.port, back.user, back.database) == \
        (u.engine, u.host, u.port, u.user, u.database)


def test_database_url_is_immutable():
    u = DatabaseURL(engine="sqlite", database="a.db")
    with pytest.raises(Exception):
        u.database = "b.db"


def test_errors_are_ferry_errors():
    with pytest.raises(FerryError):
        parse_url("nosuch://x/y")
