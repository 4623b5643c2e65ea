"""Secrets: database URLs, ``${ENV}`` references and redaction.

Every password ferry learns is registered here; :func:`redact` removes all of
them (and any ``user:password@`` part of a URL) from a string before it is
printed, logged, journaled or reported.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import quote, unquote, urlsplit

_KNOWN_SECRETS: set[str] = set()
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
_URL_PASSWORD = re.compile(r"(\b[a-z][a-z0-9+.-]*://[^:/@\s]*):[^\s/]*@", re.IGNORECASE)

SCHEMES = {"postgresql": "postgresql", "postgres": "postgresql", "mysql": "mysql",
           "mariadb": "mysql", "sqlite": "sqlite"}
DEFAULT_PORTS = {"postgresql": 5432, "mysql": 3306}


def remember_secret(value: str | None) -> None:
    """Register ``value`` so that :func:`redact` hides it everywhere from now on."""
    if value and len(value) >= 3:
        _KNOWN_SECRETS.add(value)
        _KNOWN_SECRETS.add(quote(value, safe=""))


def redact(text: str) -> str:
    """Return ``text`` with every known secret and URL password replaced by ``***``."""
    text = _URL_PASSWORD.sub(r"\1:***@", str(text))
    for secret in sorted(_KNOWN_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text


def expand_env(text: str) -> str:
    """Replace each ``${NAME}`` in ``text`` by the environment variable's value;
    ``${NAME:-default}`` takes ``default`` when the variable is unset or empty
    (as in the shell).

    Raises:
        InputError: a referenced variable without default is not set.
    """
    from ferry.errors import InputError

    def sub(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if default is not None and not os.environ.get(name):
            return default
        if name not in os.environ:
            raise InputError(f"environment variable {name} is not set",
                             f"export {name}=... before running ferry")
        value = os.environ[name]
        if any(k in name.upper() for k in ("PASS", "SECRET", "TOKEN", "PWD")):
            remember_secret(value)
        return value

    return _ENV_REF.sub(sub, text)


@dataclass(frozen=True)
class DatabaseURL:
    """A parsed database URL.

    ``engine`` is ``postgresql``, ``mysql`` or ``sqlite``. For SQLite only
    ``database`` (a file path, or ``:memory:``) is set. ``password`` falls back
    to ``PGPASSWORD`` / ``MYSQL_PWD`` when the URL has none.
    """

    engine: str
    host: str = ""
    port: int = 0
    user: str = ""
    password: str = field(default="", repr=False)
    database: str = ""
    options: tuple[tuple[str, str], ...] = ()

    def __str__(self) -> str:
        return self.redacted()

    def redacted(self) -> str:
        """The URL with the password replaced by ``***``; safe to print."""
        if self.engine == "sqlite":
            return f"sqlite:///{self.database}"
        auth = self.user + (":***" if self.password else "")
        return f"{self.engine}://{auth}@{self.host}:{self.port}/{self.database}"


def parse_url(raw: str) -> DatabaseURL:
    """Parse ``raw`` (``${ENV}`` references allowed) into a :class:`DatabaseURL`.

    Raises:
        InputError: the scheme is unsupported or the URL has no database.
    """
    from ferry.errors import InputError

    text = expand_env(raw.strip())
    scheme = text.split("://", 1)[0].split("+", 1)[0].lower() if "://" in text else ""
    engine = SCHEMES.get(scheme)
    if engine is None:
        shown = repr(scheme) if scheme else "(none: the URL has no scheme:// part)"
        raise InputError(f"unsupported database URL scheme {shown}",
                         "use postgresql://, mysql:// or sqlite:///path/file.db")
    if engine == "sqlite":
        path = text.split("://", 1)[1]
        path = path[1:] if path.startswith("/") else path
        if not path:
            raise InputError("sqlite URL has no file path", "write sqlite:///path/to/file.db")
        return DatabaseURL(engine="sqlite", database=unquote(path.split("?", 1)[0]))
    parts = urlsplit(text)
    password = unquote(parts.password or "") or _env_password(engine)
    remember_secret(password)
    database = unquote(parts.path.lstrip("/"))
    if not database:
        raise InputError(f"{engine} URL has no database name", f"write {engine}://user@host/dbname")
    options = tuple((k, v) for k, _, v in (p.partition("=") for p in parts.query.split("&") if p))
    return DatabaseURL(engine=engine, host=parts.hostname or "127.0.0.1",
                       port=parts.port or DEFAULT_PORTS[engine],
                       user=unquote(parts.username or ""), password=password,
                       database=database, options=options)


def _env_password(engine: str) -> str:
    var = "PGPASSWORD" if engine == "postgresql" else "MYSQL_PWD"
    return os.environ.get(var, "")
