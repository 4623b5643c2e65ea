"""Retry with exponential backoff for transient errors."""

from __future__ import annotations

import os
import time
from typing import Callable, TypeVar

from ferry.errors import TransientError

T = TypeVar("T")

ATTEMPTS = int(os.environ.get("FERRY_RETRY_ATTEMPTS", "6"))
FIRST_DELAY = float(os.environ.get("FERRY_RETRY_DELAY", "0.5"))


def with_retries(fn: Callable[[], T], *, what: str, events=None, attempts: int = ATTEMPTS,
                 delay: float = FIRST_DELAY) -> T:
    """Call ``fn`` until it succeeds; :class:`TransientError` is retried up to
    ``attempts`` times, waiting ``delay`` seconds and doubling it each time.
    Any other error, and the last transient one, propagates."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except TransientError as exc:
            if attempt == attempts:
                raise
            if events is not None:
                events.emit("Retrying", action=what, attempt=attempt, error=exc.message)
            time.sleep(delay * 2 ** (attempt - 1))
    raise AssertionError("unreachable")
