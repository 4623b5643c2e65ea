"""Events: how engines report progress to sinks (journal, progress display, logs).

An event is a name (``PhaseStarted``, ``ChunkCopied``, ``CheckFailed``, ...)
and keyword data. Sinks are callables ``sink(name, data)``; a failing sink
never stops the run.
"""

from __future__ import annotations

import logging
import threading
from typing import Callable

log = logging.getLogger("ferry")

Sink = Callable[[str, dict], None]


class Events:
    """A thread-safe fan-out of events to sinks."""

    def __init__(self) -> None:
        self._sinks: list[Sink] = []
        self._lock = threading.Lock()

    def subscribe(self, sink: Sink) -> None:
        """Add a sink; it receives every later event."""
        self._sinks.append(sink)

    def emit(self, name: str, **data) -> None:
        """Send one event to every sink, in order."""
        with self._lock:
            for sink in self._sinks:
                try:
                    sink(name, data)
                except Exception:  # a display problem must not stop a migration
                    log.debug("event sink failed on %s", name, exc_info=True)
