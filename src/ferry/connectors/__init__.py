"""Connectors, one module per engine; :func:`open_connector` picks one by URL."""

from __future__ import annotations

import importlib

from ferry.errors import InputError
from ferry.secrets import DatabaseURL, parse_url

_MODULES = {
    "postgresql": ("ferry.connectors.postgresql", "PostgresConnector", "postgresql"),
    "mysql": ("ferry.connectors.mysql", "MySQLConnector", "mysql"),
    "sqlite": ("ferry.connectors.sqlite", "SQLiteConnector", None),
}


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
    module_name, class_name, extra = _MODULES[parsed.engine]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("ferry"):
            raise
        raise InputError(f"the {parsed.engine} driver is not installed ({exc.name})",
                         f"pip install 'ferry[{extra}]'") from None
    return getattr(module, class_name)(parsed, read_only=read_only)
