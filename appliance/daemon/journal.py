"""The command journal: nothing accepted is lost, nothing is run twice.

A command is written here (SQLite, WAL, ``synchronous=FULL``) before it is acknowledged to
the broker. Its id is the key: a command seen before is answered with its stored result
and not executed again. A command is marked ``running`` just before its action starts;
one found ``running`` after a crash may or may not have acted, so it is reported as
interrupted and not run again (at most once per command, at least one result).
Results wait in an outbox until the broker has taken them.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import JournalError

SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    result TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    topic TEXT NOT NULL,
    payload TEXT NOT NULL,
    qos INTEGER NOT NULL,
    retain INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class Entry:
    id: str
    source: str
    body: dict[str, Any]
    state: str
    result: dict[str, Any] | None


class Journal:
    """SQLite-backed; safe to use from the event loop and worker threads."""

    def __init__(self, path: Path):
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(SCHEMA)
        except (sqlite3.Error, OSError) as exc:
            raise JournalError(f"cannot open the journal {path}: {exc}") from None
        self._lock = threading.Lock()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise JournalError(f"journal {self.path}: {exc}") from None

    def accept(self, command_id: str, source: str, body: dict[str, Any]) -> Entry | None:
        """Store a new command; return the earlier entry instead if the id was seen."""
        now = time.time()
        with self._tx() as db:
            row = db.execute("SELECT id, source, body, state, result FROM commands WHERE id=?",
                             (command_id,)).fetchone()
            if row is not None:
                return _entry(row)
            db.execute("INSERT INTO commands VALUES (?, ?, ?, 'queued', NULL, ?, ?)",
                       (command_id, source, json.dumps(body), now, now))
        return None

    def running(self, command_id: str) -> None:
        with self._tx() as db:
            db.execute("UPDATE commands SET state='running', updated=? WHERE id=?",
                       (time.time(), command_id))

    def finish(self, command_id: str, result: dict[str, Any],
               outbox: tuple[str, str, int, bool] | None = None) -> None:
        """Store the result (and queue its message) in one transaction."""
        with self._tx() as db:
            db.execute("UPDATE commands SET state='done', result=?, updated=? WHERE id=?",
                       (json.dumps(result), time.time(), command_id))
            if outbox is not None:
                db.execute("INSERT INTO outbox (topic, payload, qos, retain) VALUES (?,?,?,?)",
                           (outbox[0], outbox[1], outbox[2], int(outbox[3])))

    def recover(self) -> tuple[list[Entry], list[Entry]]:
        """After a start: (commands to run, commands interrupted while running)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT id, source, body, state, result FROM commands "
                "WHERE state IN ('queued', 'running') ORDER BY created").fetchall()
        entries = [_entry(r) for r in rows]
        return ([e for e in entries if e.state == "queued"],
                [e for e in entries if e.state == "running"])

    def enqueue(self, topic: str, payload: str, qos: int = 1, retain: bool = False) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO outbox (topic, payload, qos, retain) VALUES (?,?,?,?)",
                       (topic, payload, qos, int(retain)))

    def outbox(self, limit: int = 500) -> list[tuple[int, str, str, int, bool]]:
        with self._lock:
            rows = self._db.execute("SELECT seq, topic, payload, qos, retain FROM outbox "
                                    "ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def sent(self, seq: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM outbox WHERE seq=?", (seq,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _entry(row: tuple[Any, ...]) -> Entry:
    return Entry(row[0], row[1], json.loads(row[2]), row[3],
                 json.loads(row[4]) if row[4] else None)
