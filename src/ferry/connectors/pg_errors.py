"""PostgreSQL error classification: psycopg exceptions -> the ferry error tree.

Rules (SQLSTATE codes from the PostgreSQL manual, appendix A "PostgreSQL Error
Codes", https://www.postgresql.org/docs/15/errcodes-appendix.html):

* class ``08`` (connection exception), ``57P01``/``57P02``/``57P03`` (admin,
  crash or "cannot connect now" shutdown, e.g. ``pg_terminate_backend``),
  ``40001`` (serialization failure), ``40P01`` (deadlock), ``55P03`` (lock not
  available), and psycopg errors without a SQLSTATE on a closed or broken
  connection -> :class:`TransientError`;
* class ``22`` (data exception) and ``23`` (integrity constraint violation),
  and psycopg's client-side :class:`psycopg.DataError` (e.g. a NUL byte in a
  text value) -> :class:`RejectError`;
* ``42501`` (insufficient privilege), ``42P01`` (undefined table) and
  everything else -> :class:`TerminalError`.

Connection attempts fail before any SQLSTATE exists (libpq reports them as
text), so :func:`connect_error` reads the libpq message instead.
"""

from __future__ import annotations

import re

import psycopg

from ferry.errors import ConnectionFailed, FerryError, RejectError, TerminalError, TransientError
from ferry.secrets import DatabaseURL, redact

TRANSIENT_STATES = frozenset({"57P01", "57P02", "57P03", "40001", "40P01", "55P03"})
_COPY_COLUMN = re.compile(r", column (.+?): ")
_UNREACHABLE = ("connection refused", "could not translate host name", "failed to resolve host",
                "timeout expired", "no route to host", "network is unreachable",
                "could not connect to server", "connection timed out")
_LOGIN = ("password authentication failed", "no password supplied", "authentication failed",
          "no pg_hba.conf entry", "is not permitted to log in", "role \"")
_BUSY = ("the database system is starting up", "the database system is shutting down",
         "in recovery mode", "too many clients", "remaining connection slots")


def first_line(text: str) -> str:
    """The first non-empty line of ``text``, stripped and redacted."""
    for line in str(text).splitlines():
        if line.strip():
            return redact(line.strip())
    return ""


def classify(exc: BaseException, context: str = "") -> FerryError:
    """Map a psycopg exception to a ferry error (not raised, returned).

    Args:
        exc: the exception psycopg raised (any exception is accepted).
        context: a short prefix for the message, e.g. ``"COPY into public.t"``.

    Returns:
        A :class:`TransientError`, :class:`RejectError` or :class:`TerminalError`.
        A RejectError carries ``column`` (str or None) and ``sqlstate``
        attributes; every returned error carries ``sqlstate`` (or None).
    """
    if isinstance(exc, FerryError):
        return exc
    state = getattr(exc, "sqlstate", None)
    message = first_line(getattr(getattr(exc, "diag", None), "message_primary", None) or exc)
    prefix = f"{context}: " if context else ""
    err = _by_state(state, message, prefix, exc)
    err.sqlstate = state
    return err


def _by_state(state: str | None, message: str, prefix: str, exc: BaseException) -> FerryError:
    if _is_transient(state, exc):
        return TransientError(f"{prefix}{message or 'connection to PostgreSQL lost'}",
                              "the action is retried; if it keeps failing, check the server")
    if (state or "")[:2] in ("22", "23") or (state is None and isinstance(exc, psycopg.DataError)):
        return _reject(exc, message)
    if state == "42501":
        return TerminalError(f"{prefix}permission denied: {message}",
                             "grant the missing privilege to the user in the URL, or use another user")
    if state == "42P01":
        return TerminalError(f"{prefix}missing table: {message}",
                             "check the table name and schema, or run the schema phase first")
    if state == "25006":
        return TerminalError(f"{prefix}{message}", "this session is read-only (ferry never writes to a source)")
    hint = first_line(getattr(getattr(exc, "diag", None), "message_hint", None) or "")
    return TerminalError(f"{prefix}{message}" + (f" [SQLSTATE {state}]" if state else ""), hint)


def _is_transient(state: str | None, exc: BaseException) -> bool:
    if state is not None:
        return state.startswith("08") or state in TRANSIENT_STATES
    if isinstance(exc, psycopg.OperationalError):
        return True
    return isinstance(exc, psycopg.InterfaceError) and "connection" in str(exc).lower()


def _reject(exc: BaseException, message: str) -> RejectError:
    column = reject_column(exc)
    err = RejectError(message + (f" (column {column})" if column else ""),
                      "fix the value in the source or add a transform for this column")
    err.column = column
    return err


def reject_column(exc: BaseException) -> str | None:
    """The column a data error names: the diag field, else the COPY context
    (``COPY t, line 3, column b: "abc"``), else None."""
    diag = getattr(exc, "diag", None)
    if diag is None:
        return None
    if diag.column_name:
        return diag.column_name
    match = _COPY_COLUMN.search(diag.context or "")
    return match.group(1) if match else None


def connect_error(exc: BaseException, url: DatabaseURL) -> FerryError:
    """Map a failed ``psycopg.connect`` to :class:`ConnectionFailed` (or
    :class:`TransientError` when the server is starting, stopping or full).

    libpq messages are matched in English (the server's ``lc_messages``); an
    unrecognised message still gives ConnectionFailed with the text.
    """
    where = f"PostgreSQL at {url.host}:{url.port}"
    text = redact(str(exc))
    detail = first_line(text.split("failed: ", 1)[-1].replace("FATAL:", "").strip())
    low = text.lower()
    if any(s in low for s in _BUSY):
        return TransientError(f"{where} is not accepting connections now: {detail}",
                              "wait for the server and retry")
    if 'database "' in low and "does not exist" in low:
        return ConnectionFailed(f"database {url.database!r} does not exist on {where}",
                                "create it (CREATE DATABASE ...) or fix the database name in the URL")
    if any(s in low for s in _LOGIN):
        return ConnectionFailed(f"{where} refused the login of user {url.user!r}: {detail}",
                                "check the user and password in the URL (or PGPASSWORD) and pg_hba.conf")
    if any(s in low for s in _UNREACHABLE):
        return ConnectionFailed(f"cannot reach {where}: {detail}",
                                "check that the server runs, the host and port are right "
                                "and no firewall blocks the port")
    return ConnectionFailed(f"cannot connect to {where}: {detail}", "check the URL and its options")
