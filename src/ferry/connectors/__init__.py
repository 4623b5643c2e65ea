"""Connectors, one module per engine; :func:`open_connector` picks one by URL."""

from __future__ import annotations

import importlib

from ferry.errors import InputError
from ferry.secrets import DatabaseURL, parse_url

_MODULES = {
    "postgresql": ("ferry.connectors.postgresql", "PostgresConnector"),
    "mysql": ("ferry.connectors.mysql", "MySQLConnector"),
    "sqlite": ("ferry.connectors.sqlite", "SQLiteConnector"),
}
_DIALECTS = {"postgresql": ("ferry.connectors.pg_dialect", "PostgresDialect"),
             "mysql": ("ferry.connectors.mysql_dialect", "MySQLDialect"),
             "sqlite": ("ferry.connectors.sqlite", "SQLiteDialect")}


def dialect_for(url: str | DatabaseURL):
    """The engine's :class:`~ferry.connectors.base.Dialect`, without connecting
    (for rendering plans; a live connector's dialect knows the server version)."""
    parsed = parse_url(url) if isinstance(url, str) else url
    module_name, class_name = _DIALECTS[parsed.engine]
    return getattr(_import(module_name, parsed.engine), class_name)()


def _import(module_name: str, engine: str):
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("ferry"):
            raise
        extra = "all" if engine == "sqlite" else engine
        raise InputError(f"the {engine} driver is not installed ({exc.name})",
                         f"pip install 'ferry[{extra}]'") from None


def open_connector(url: str | DatabaseURL, *, read_only: bool):
    """Open a connector for ``url``.

    Args:
        url: a database URL (string or parsed).
        read_only: True for a source: the session refuses writes.

    Raises:
        InputError: unsupported scheme, or the engine's driver is not installed.
        ConnectionFailed: the database cannot be reached or refuses the login.
    """
    parsed = parse_url(url) if isinstance(url, str) else url
    module_name, class_name = _MODULES[parsed.engine]
    return getattr(_import(module_name, parsed.engine), class_name)(parsed, read_only=read_only)
