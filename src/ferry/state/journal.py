"""The journal: the append-only record of runs, phases, actions, rejects,
checks and events, in a SQLite file (one per plan by default).

Resume reads it: an action marked ``done`` is skipped. Writes are serialised by
a lock so worker threads may record from anywhere. Secrets are redacted before
anything is stored.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from ferry.errors import RunLocked
from ferry.secrets import redact

_SCHEMA = """
CREATE TABLE IF NOT EXISTS runs (id TEXT PRIMARY KEY, plan_identity TEXT, name TEXT, source TEXT,
  target TEXT, status TEXT, started REAL, ended REAL, error TEXT);
CREATE TABLE IF NOT EXISTS phases (run_id TEXT, name TEXT, status TEXT, started REAL, ended REAL,
  error TEXT, PRIMARY KEY (run_id, name));
CREATE TABLE IF NOT EXISTS actions (run_id TEXT, id TEXT, phase TEXT, tbl TEXT, spec TEXT, status TEXT,
  rows INTEGER DEFAULT 0, rejects INTEGER DEFAULT 0, attempts INTEGER DEFAULT 0, seconds REAL,
  started REAL, ended REAL, error TEXT, PRIMARY KEY (run_id, id));
CREATE TABLE IF NOT EXISTS rejects (run_id TEXT, action_id TEXT, tbl TEXT, key TEXT, col TEXT,
  value TEXT, reason TEXT, at REAL, row_hash INTEGER);
CREATE TABLE IF NOT EXISTS checks (run_id TEXT, tbl TEXT, name TEXT, status TEXT, expected TEXT,
  measured TEXT, detail TEXT, at REAL);
CREATE TABLE IF NOT EXISTS events (run_id TEXT, at REAL, kind TEXT, data TEXT);
"""


@dataclass
class ActionRow:
    """One journaled action: id, table, spec (JSON-able), status and counters."""

    id: str
    phase: str
    table: str
    spec: dict
    status: str
    rows: int
    rejects: int
    seconds: float | None


class Journal:
    """The state store of one plan.

    Args:
        path: the SQLite file (created with its folder when missing).
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        if "row_hash" not in {r[1] for r in self._db.execute("PRAGMA table_info(rejects)")}:
            self._db.execute("ALTER TABLE rejects ADD COLUMN row_hash INTEGER")   # a journal of an earlier ferry
        self._lock = threading.Lock()
        self._lock_file = None

    def close(self) -> None:
        """Release the run lock and close the file."""
        self.unlock()
        self._db.close()

    # -- the run lock ----------------------------------------------------------
    def lock(self) -> None:
        """Take the exclusive run lock (released when the process dies).

        Raises:
            RunLocked: another process runs this plan now.
        """
        handle = open(str(self.path) + ".lock", "w")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            raise RunLocked(f"another ferry run of this plan is in progress (lock {self.path}.lock)",
                            "wait for it to finish, or stop it; a killed run releases the lock") from None
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_file = handle

    def unlock(self) -> None:
        """Release the run lock if held."""
        if self._lock_file:
            self._lock_file.close()
            self._lock_file = None

    # -- writing -----------------------------------------------------------------
    def _write(self, sql: str, params: tuple = ()) -> None:
        with self._lock:
            self._db.execute(sql, tuple(redact(p) if isinstance(p, str) else p for p in params))

    def _read(self, sql: str, params: tuple = ()) -> list[tuple]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    def start_run(self, plan_identity: str, name: str, source: str, target: str) -> str:
        """Record a new run; returns its id."""
        run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
        self._write("INSERT INTO runs VALUES (?,?,?,?,?,?,?,?,?)",
                    (run_id, plan_identity, name, source, target, "running", time.time(), None, None))
        return run_id

    def resumable_run(self, plan_identity: str) -> str | None:
        """The id of the latest unfinished run of this plan, or None."""
        rows = self._read("SELECT id, status FROM runs WHERE plan_identity=? ORDER BY started DESC LIMIT 1",
                          (plan_identity,))
        return rows[0][0] if rows and rows[0][1] != "done" else None

    def end_run(self, run_id: str, status: str, error: str | None = None) -> None:
        """Mark a run ``done`` or ``failed``."""
        self._write("UPDATE runs SET status=?, ended=?, error=? WHERE id=?", (status, time.time(), error, run_id))

    def reopen_run(self, run_id: str) -> None:
        """Mark a resumed run as running again."""
        self._write("UPDATE runs SET status='running', ended=NULL, error=NULL WHERE id=?", (run_id,))

    def phase(self, run_id: str, name: str, status: str, error: str | None = None) -> None:
        """Record a phase transition (``running``, ``done``, ``failed``, ``rolled back``)."""
        now = time.time()
        self._write("INSERT INTO phases VALUES (?,?,?,?,?,?) ON CONFLICT (run_id, name) DO UPDATE SET "
                    "status=excluded.status, ended=?, error=excluded.error",
                    (run_id, name, status, now, None, error, now if status != "running" else None))

    def plan_actions(self, run_id: str, phase: str, actions: list[tuple[str, str, dict]]) -> None:
        """Record planned actions ``(id, table, spec)``; existing ones are kept."""
        with self._lock:
            self._db.executemany(
                "INSERT OR IGNORE INTO actions (run_id, id, phase, tbl, spec, status) VALUES (?,?,?,?,?,?)",
                [(run_id, aid, phase, table, json.dumps(spec), "planned") for aid, table, spec in actions])

    def action_started(self, run_id: str, action_id: str) -> None:
        self._write("UPDATE actions SET status='started', started=?, attempts=attempts+1 "
                    "WHERE run_id=? AND id=?", (time.time(), run_id, action_id))

    def action_done(self, run_id: str, action_id: str, rows: int, rejects: int, seconds: float) -> None:
        self._write("UPDATE actions SET status='done', rows=?, rejects=?, seconds=?, ended=?, error=NULL "
                    "WHERE run_id=? AND id=?", (rows, rejects, seconds, time.time(), run_id, action_id))

    def action_failed(self, run_id: str, action_id: str, error: str) -> None:
        self._write("UPDATE actions SET status='failed', error=?, ended=? WHERE run_id=? AND id=?",
                    (error, time.time(), run_id, action_id))

    def reset_actions(self, run_id: str, phase: str, table: str) -> None:
        """Forget a table's actions (a table without key restarts whole on resume)."""
        self._write("DELETE FROM actions WHERE run_id=? AND phase=? AND tbl=?", (run_id, phase, table))
        self._write("DELETE FROM rejects WHERE run_id=? AND tbl=?", (run_id, table))

    def add_rejects(self, run_id: str, action_id: str, table: str, rejects: list[dict]) -> None:
        """Store rejects: dicts with key, column, value, reason, and ``row_hash``
        when the table has no key (see :meth:`rejects`)."""
        rows = [(run_id, action_id, table, json.dumps(r["key"], default=str), r.get("column"),
                 redact(str(r.get("value", "")))[:200], redact(r["reason"])[:500], time.time(),
                 r.get("row_hash"))   # 60 bits: fits SQLite's INTEGER
                for r in rejects]
        with self._lock:
            self._db.executemany("INSERT INTO rejects VALUES (?,?,?,?,?,?,?,?,?)", rows)

    def clear_rejects(self, run_id: str, action_id: str) -> None:
        """Drop the rejects of an action that is being rewritten."""
        self._write("DELETE FROM rejects WHERE run_id=? AND action_id=?", (run_id, action_id))

    def add_check(self, run_id: str, table: str, name: str, status: str, expected, measured,
                  detail: str = "") -> None:
        """Record one check result (``pass`` / ``fail``)."""
        self._write("INSERT INTO checks VALUES (?,?,?,?,?,?,?,?)",
                    (run_id, table, name, status, str(expected), str(measured), detail, time.time()))

    def event(self, run_id: str, kind: str, **data) -> None:
        """Append an event (``PhaseStarted``, ``ChunkCopied``, ...) with its data."""
        self._write("INSERT INTO events VALUES (?,?,?,?)",
                    (run_id, time.time(), kind, json.dumps(data, default=str)))

    # -- reading -----------------------------------------------------------------
    def actions(self, run_id: str, phase: str | None = None) -> list[ActionRow]:
        """The actions of a run (of one phase when given), in id order."""
        sql = "SELECT id, phase, tbl, spec, status, rows, rejects, seconds FROM actions WHERE run_id=?"
        params: tuple = (run_id,)
        if phase:
            sql, params = sql + " AND phase=?", (run_id, phase)
        return [ActionRow(r[0], r[1], r[2], json.loads(r[3] or "{}"), r[4], r[5] or 0, r[6] or 0, r[7])
                for r in self._read(sql + " ORDER BY id", params)]

    def rejects(self, run_id: str, table: str | None = None) -> list[dict]:
        """Stored rejects of a run: key (decoded), column, value, reason, and
        ``row_hash`` (a keyless table's canonical row hash, else None)."""
        sql = "SELECT tbl, key, col, value, reason, row_hash FROM rejects WHERE run_id=?"
        params: tuple = (run_id,) if table is None else (run_id, table)
        if table is not None:
            sql += " AND tbl=?"
        return [{"table": r[0], "key": json.loads(r[1]), "column": r[2], "value": r[3], "reason": r[4],
                 "row_hash": r[5]} for r in self._read(sql, params)]

    def last_run(self) -> dict | None:
        """The newest run as a dict, or None."""
        rows = self._read("SELECT id, name, source, target, status, started, ended, error FROM runs "
                          "ORDER BY started DESC LIMIT 1")
        if not rows:
            return None
        keys = ("id", "name", "source", "target", "status", "started", "ended", "error")
        return dict(zip(keys, rows[0]))

    def phases(self, run_id: str) -> list[dict]:
        """Phases of a run in start order."""
        rows = self._read("SELECT name, status, started, ended, error FROM phases WHERE run_id=? "
                          "ORDER BY started", (run_id,))
        return [dict(zip(("name", "status", "started", "ended", "error"), r)) for r in rows]

    def checks(self, run_id: str) -> list[dict]:
        """Check results of a run."""
        rows = self._read("SELECT tbl, name, status, expected, measured, detail FROM checks WHERE run_id=?",
                          (run_id,))
        return [dict(zip(("table", "name", "status", "expected", "measured", "detail"), r)) for r in rows]
