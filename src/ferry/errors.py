"""The one error tree of ferry.

Every error ferry raises on purpose is a :class:`FerryError`. Each carries a
message (what went wrong) and a ``hint`` (what to do next). Only the CLI prints
them; it maps :attr:`FerryError.exit_code` to the process exit code.

Connector code classifies driver errors into :class:`TransientError` (retried
with backoff: connection lost, server restarted, deadlock, serialization
failure) and terminal errors (everything else).
"""

from __future__ import annotations


class FerryError(Exception):
    """Base of every ferry error.

    Attributes:
        message: one sentence saying what went wrong (secrets already redacted).
        hint: one sentence saying what to do next, or ``""``.
        exit_code: the CLI exit code (2 = bad input, 1 = a run or check failed).
    """

    exit_code = 1

    def __init__(self, message: str, hint: str = "") -> None:
        from ferry.secrets import redact

        self.message = redact(message)
        self.hint = redact(hint)
        super().__init__(self.message)

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class InputError(FerryError):
    """Bad input from the user: a malformed plan, URL, option or name (exit 2)."""

    exit_code = 2


class PlanError(InputError):
    """The plan file is malformed; ``problems`` lists every problem found.

    Attributes:
        problems: list of ``"file:line: key: message"`` strings.
    """

    def __init__(self, message: str, problems: list[str] | None = None, hint: str = "") -> None:
        self.problems = problems or []
        super().__init__(message, hint)


class ConnectionFailed(InputError):
    """A database could not be reached or refused the login (exit 2)."""


class NotSupported(FerryError):
    """A feature that ferry does not support yet; the message names it (exit 2)."""

    exit_code = 2


class TransientError(FerryError):
    """A failure that may pass on retry (lost connection, deadlock, serialization)."""


class TerminalError(FerryError):
    """A failure that retrying cannot fix (permission denied, missing table)."""


class RejectError(FerryError):
    """The target refused data (a batch or a row); the copy engine isolates the
    rows and stores them as rejects.

    Attributes:
        column: the column the engine's message names, or None.
    """

    def __init__(self, message: str, hint: str = "", column: str | None = None) -> None:
        self.column = column
        super().__init__(message, hint)


class TooManyRejects(FerryError):
    """More rows were rejected than ``--max-rejects`` allows (exit 1)."""


class RunLocked(InputError):
    """Another ``ferry run`` of the same plan holds the state lock (exit 2)."""


class ChecksFailed(FerryError):
    """Validation found differences; the result object lists them (exit 1)."""
