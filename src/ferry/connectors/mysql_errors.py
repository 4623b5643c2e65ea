"""Classification of MySQL / MariaDB driver errors into the ferry error tree.

Error numbers are the server's (``ER_*``, https://mariadb.com/kb/en/mariadb-error-codes/)
and the client library's (``CR_*``, 2000-2999). mysqlclient raises
``MySQLdb.Error`` subclasses whose ``args`` are ``(errno, message)``.
"""

from __future__ import annotations

import re

from ferry.errors import ConnectionFailed, FerryError, RejectError, TerminalError, TransientError

# Worth a retry: the session or the transaction is gone, the statement lost a race.
TRANSIENT = {
    1040: "too many connections",
    1053: "server shutdown in progress",
    1205: "lock wait timeout",
    1213: "deadlock",
    1317: "query interrupted",
    1927: "connection killed",          # MariaDB ER_CONNECTION_KILLED
    2006: "server has gone away",
    2013: "lost connection during query",
    2055: "lost connection",
    4031: "disconnected by the server",  # MySQL 8 ER_CLIENT_INTERACTION_TIMEOUT
}

# The target refused the data itself: a reject, not a failure of the run.
REJECT = {
    1048, 1062, 1263, 1264, 1265, 1292, 1300, 1364, 1366, 1367, 1406, 1411,
    1451, 1452, 1586, 1690, 3140, 3819, 4025,
}

PERMISSION = {1044, 1045, 1142, 1143, 1227, 1370, 1792}
MISSING = {1049, 1051, 1054, 1146, 1305}
UNREACHABLE = {2002, 2003, 2005}

_COLUMN_PATTERNS = (
    re.compile(r"[Cc]olumn (?:`[^`]*`\.)*`([^`]+)`"),   # MariaDB: for column `db`.`t`.`c`
    re.compile(r"[Cc]olumn '([^']+)'"),                  # for column 'c' / Column 'c' cannot be null
    re.compile(r"[Ff]ield '([^']+)'"),                   # Field 'c' doesn't have a default value
    re.compile(r"CONSTRAINT `([^`]+)` failed"),          # MariaDB column CHECK is named after the column
)


def error_code(exc: BaseException) -> int | None:
    """The MySQL error number carried by a driver exception, or None."""
    args = getattr(exc, "args", ())
    if args and isinstance(args[0], int):
        return args[0]
    return None


def error_message(exc: BaseException) -> str:
    """The server's message of a driver exception, one line."""
    args = getattr(exc, "args", ())
    text = args[1] if len(args) > 1 else (args[0] if args else str(exc))
    return " ".join(str(text).split())


def column_of(message: str) -> str | None:
    """The column a server message names (``Data too long for column 'x'``), or None."""
    for pattern in _COLUMN_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1)
    return None


def classify(exc: BaseException) -> FerryError:
    """Map a mysqlclient exception to a :class:`FerryError` (returned, not raised).

    * lost / killed connections (2006, 2013, 2055, 1927, 4031, or an
      ``InterfaceError``/``OperationalError`` on a closed connection), lock
      wait timeouts (1205), deadlocks (1213), interrupted queries (1317) ->
      :class:`TransientError`;
    * data the server refuses (out of range, bad value, too long, NULL in a
      NOT NULL column, duplicate key, invalid JSON, CHECK or foreign key
      violation) -> :class:`RejectError` with the server message and, as the
      extra attributes ``column`` (or None) and ``code``, what it names;
    * permissions (1142, 1044, 1227, 1792 read-only transaction) and missing
      objects (1146, 1054, ...) -> :class:`TerminalError`; anything else too.
    """
    code = error_code(exc)
    message = error_message(exc)
    if isinstance(exc, FerryError):
        return exc
    if code in TRANSIENT or _is_dead_connection(exc, code):
        reason = TRANSIENT.get(code, "connection closed")
        return TransientError(f"MySQL {reason} ({code}): {message}", "ferry retries this step")
    if code in REJECT:
        err = RejectError(f"MySQL refused the row ({code}): {message}")
        err.column, err.code = column_of(message), code
        return err
    if code in PERMISSION:
        return TerminalError(f"MySQL permission denied ({code}): {message}",
                             "grant the privilege to the user in the URL, or use a user that has it")
    if code in MISSING:
        return TerminalError(f"MySQL object not found ({code}): {message}",
                             "check the table and column names against the database")
    return TerminalError(f"MySQL error ({code}): {message}")


def _is_dead_connection(exc: BaseException, code: int | None) -> bool:
    name = type(exc).__name__
    if name == "InterfaceError":
        return True
    return name == "OperationalError" and (code is None or code == 0 or 2000 <= code < 3000)


def connect_error(exc: BaseException, url) -> FerryError:
    """Map an error raised while connecting to ``url`` (a DatabaseURL).

    Unreachable host (2002/2003/2005) -> ``ConnectionFailed("cannot reach MySQL
    at host:port")``; bad login (1045) and unknown database (1049) ->
    :class:`ConnectionFailed` with a hint; anything else -> :func:`classify`.
    """
    code = error_code(exc)
    where = f"{url.host}:{url.port}"
    message = error_message(exc)
    if code in UNREACHABLE:
        return ConnectionFailed(f"cannot reach MySQL at {where} ({message})",
                                "check that the server runs and the host and port in the URL are right")
    if code in (1045, 1698):  # MariaDB answers some bad logins with 1698 (access denied for user)
        return ConnectionFailed(f"MySQL at {where} refused the login of user {url.user!r} ({message})",
                                "check the user and password in the URL (or the MYSQL_PWD variable)")
    if code == 1049:
        return ConnectionFailed(f"MySQL at {where} has no database {url.database!r}",
                                f"create it (CREATE DATABASE `{url.database}`) or fix the database name in the URL")
    if code == 1044:
        return ConnectionFailed(f"user {url.user!r} may not use database {url.database!r} at {where} ({message})",
                                "grant the user access to the database or use another user")
    return classify(exc)
