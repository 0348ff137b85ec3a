"""The command journal: nothing accepted is lost, nothing is run twice.

A request is written here (SQLite, WAL, ``synchronous=FULL``, the typed request as
:meth:`~appliance.messages.Request.to_dict` writes it) before it is acknowledged to the
broker. Its id is the key: a command seen before is answered with its stored result
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
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import JournalError
from appliance.messages import Request, ToolCall

SCHEMA = """
CREATE TABLE IF NOT EXISTS commands (
    id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    result TEXT,
    created REAL NOT NULL,
    updated REAL NOT NULL,
    delivery TEXT,
    call TEXT,
    payload TEXT
);
CREATE INDEX IF NOT EXISTS commands_delivery ON commands (delivery);
CREATE INDEX IF NOT EXISTS commands_payload ON commands (payload);
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
    """A stored command: the request, where it got to, and its result once done."""

    request: Request
    state: str
    result: dict[str, Any] | None
    calls: tuple[ToolCall, ...] = ()
    """The calls its actions were started with (a running entry's, after a crash)."""

    @property
    def call(self) -> ToolCall | None:
        return self.calls[0] if self.calls else None


class Journal:
    """SQLite-backed; safe to use from the event loop and worker threads."""

    def __init__(self, path: Path):
        self.path = path
        self.lost: str | None = None
        """Why an earlier journal could not be used (it was set aside), or None."""
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise JournalError(f"cannot open the journal {path}: {exc}") from None
        if path.exists() and path.stat().st_size == 0:
            self._set_aside("it was empty (truncated)")
        try:
            self._db = self._open()
        except sqlite3.Error as exc:
            # Random bytes over a page, a half-written file: keep it for a person to look
            # at, and start a new one rather than stay down.
            self._set_aside(f"it is damaged ({exc})")
            try:
                self._db = self._open()
            except sqlite3.Error as again:
                raise JournalError(f"cannot open the journal {path}: {again}") from None

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(str(self.path), check_same_thread=False, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(SCHEMA.split("CREATE INDEX", 1)[0])
            columns = {row[1] for row in db.execute("PRAGMA table_info(commands)")}
            for column in ("delivery", "call", "payload"):
                if column not in columns:  # a journal from before these columns
                    db.execute(f"ALTER TABLE commands ADD COLUMN {column} TEXT")
            db.executescript(SCHEMA)
            check = db.execute("PRAGMA quick_check").fetchone()
            if check is None or check[0] != "ok":
                raise sqlite3.DatabaseError(f"integrity check: {check}")
        except sqlite3.Error:
            db.close()
            raise
        return db

    def _set_aside(self, why: str) -> None:
        stamp = time.strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{self.path.name}.lost-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            src = Path(f"{self.path}{suffix}")
            if src.exists():
                src.replace(Path(f"{aside}{suffix}"))
        self.lost = (f"the journal {self.path} could not be used: {why}; it was set aside as "
                     f"{aside.name} and a new one started: commands it held are not resumed, "
                     "and their ids are no longer known")

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                yield self._db
                self._db.execute("COMMIT")
            except (sqlite3.Error, UnicodeError, ValueError, OverflowError) as exc:
                # Unencodable text (a lone surrogate) must not leave the transaction open.
                with contextlib.suppress(sqlite3.Error):
                    self._db.execute("ROLLBACK")
                raise JournalError(f"journal {self.path}: {exc}") from None

    def accept(self, request: Request, delivery: str | None = None,
               payload: str | None = None) -> Entry | None:
        """Store a new request; return the earlier entry instead if its id was seen.

        ``delivery`` identifies the broker's delivery (:meth:`delivered` finds it again),
        ``payload`` the payload's hash for a request without an id (:meth:`recent`).
        """
        now = time.time()
        body = json.dumps(request.to_dict())
        with self._tx() as db:
            row = db.execute("SELECT body, state, result, call FROM commands WHERE id=?",
                             (request.id,)).fetchone()
            if row is not None:
                return _entry(row)
            db.execute("INSERT INTO commands (id, source, body, state, created, updated, "
                       "delivery, payload) VALUES (?, ?, ?, 'queued', ?, ?, ?, ?)",
                       (request.id, request.source, body, now, now, delivery, payload))
        return None

    def delivered(self, delivery: str) -> str | None:
        """The id of the command that came in this delivery before, if one did."""
        with self._tx() as db:
            row = db.execute("SELECT id FROM commands WHERE delivery=? ORDER BY created DESC "
                             "LIMIT 1", (delivery,)).fetchone()
        return str(row[0]) if row else None

    def recent(self, payload: str, within_s: float) -> str | None:
        """The id of a request without an id whose payload had this hash, if one came in
        the last ``within_s`` seconds."""
        with self._tx() as db:
            row = db.execute("SELECT id FROM commands WHERE payload=? AND created>=? "
                             "ORDER BY created DESC LIMIT 1",
                             (payload, time.time() - within_s)).fetchone()
        return str(row[0]) if row else None

    def running(self, command_id: str, calls: Sequence[ToolCall] = ()) -> None:
        """Its actions start now (and these are the calls, for the report after a crash)."""
        with self._tx() as db:
            db.execute("UPDATE commands SET state='running', updated=?, call=? WHERE id=?",
                       (time.time(), json.dumps([c.to_dict() for c in calls]) if calls
                        else None, command_id))

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
        with self._tx() as db:
            rows = db.execute("SELECT body, state, result, call FROM commands "
                              "WHERE state IN ('queued', 'running') ORDER BY created").fetchall()
        entries = [_entry(r) for r in rows]
        return ([e for e in entries if e.state == "queued"],
                [e for e in entries if e.state == "running"])

    def enqueue(self, topic: str, payload: str, qos: int = 1, retain: bool = False) -> None:
        with self._tx() as db:
            db.execute("INSERT INTO outbox (topic, payload, qos, retain) VALUES (?,?,?,?)",
                       (topic, payload, qos, int(retain)))

    def outbox(self, limit: int = 500) -> list[tuple[int, str, str, int, bool]]:
        with self._tx() as db:
            rows = db.execute("SELECT seq, topic, payload, qos, retain FROM outbox "
                              "ORDER BY seq LIMIT ?", (limit,)).fetchall()
        return [(r[0], r[1], r[2], r[3], bool(r[4])) for r in rows]

    def sent(self, seq: int) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM outbox WHERE seq=?", (seq,))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _entry(row: tuple[Any, ...]) -> Entry:
    stored = json.loads(row[3]) if row[3] else []
    # One call as an object: what a journal written before several calls per request holds.
    calls = [stored] if isinstance(stored, dict) else stored
    return Entry(Request.from_dict(json.loads(row[0])), row[1],
                 json.loads(row[2]) if row[2] else None,
                 tuple(ToolCall(c["name"], c.get("arguments", {})) for c in calls))
