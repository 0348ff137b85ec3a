"""The daemon's side of a request: journal it, run it through the core, answer it.

Every way in (MQTT, voice, stdin) hands its typed :class:`~appliance.messages.Request` to
:class:`Runner`. The tool caller runs in one thread of its own (the model is serialized
anyway), actions in a pool, so a slow HTTP action does not hold up the next command. A
request is journaled before anything is done, marked running just before its action
starts, and its outcome is journaled with its ``result`` message in one transaction; the
journal's outbox then goes to the broker. Every failure is an outcome, never an exception
out of the loop.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
import time
from collections.abc import Awaitable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Protocol

from appliance.daemon.journal import Entry, Journal
from appliance.daemon.topics import Topics
from appliance.errors import JournalError
from appliance.handler import RequestHandler
from appliance.messages import Outcome, Request

log = logging.getLogger(__name__)

INTERRUPTED = "interrupted by a restart while running; not run again"


class Publisher(Protocol):
    """What the runner needs of the MQTT link (:class:`~appliance.daemon.link.Link`)."""

    @property
    def connected(self) -> bool: ...

    def publish(self, topic: str, payload: str, qos: int = 1,
                retain: bool = False) -> int | None: ...


class Runner:
    """Requests in, outcomes journaled and published; runs on the event loop."""

    def __init__(self, core: RequestHandler, journal: Journal, topics: Topics,
                 link: Publisher | None = None, *, workers: int = 4,
                 stuck_after_s: float = 300.0) -> None:
        self.core = core
        self.journal = journal
        self.topics = topics
        self.link = link
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="action")
        self.model_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self._mid_to_seq: dict[int, int] = {}
        self._mid_sent: dict[int, float] = {}
        self._busy: dict[str, float] = {}  # request id -> when it went in
        self.stuck_after_s = stuck_after_s
        self._tasks: set[asyncio.Task[Any]] = set()
        self.handled = 0

    # -- in ------------------------------------------------------------------------------

    def accept(self, request: Request, delivery: str | None = None,
               payload: str | None = None) -> None:
        """Journal a request from the broker and start it. A request seen before is answered
        with its stored result, never run again. One the journal cannot take (a full disk)
        is refused with an error result at once: never run without its journal row, never
        left waiting unanswered."""
        try:
            seen = self.journal.accept(request, delivery, payload)
        except JournalError as exc:
            log.error("command %s refused: %s", request.id, exc)
            outcome = Outcome(request.id, request.text or "", request.call,
                              error=f"not accepted: the command journal failed ({exc})")
            self._announce(outcome, journaled=False)
            return
        if seen is None:
            self.spawn(self.process(request))
        elif seen.result is not None:
            log.info("command %s seen before: its result is sent again", request.id)
            self._enqueue_result(json.dumps(seen.result))

    async def submit(self, request: Request) -> Outcome:
        """A request that did not come over MQTT (voice, stdin): journaled too, then run."""
        try:
            self.journal.accept(request)
        except JournalError as exc:
            log.error("%s", exc)
        return await self.process(request)

    def resume(self, todo: list[Entry], interrupted: list[Entry]) -> None:
        """After a start: run what was queued; report what was running, never run it twice."""
        for entry in interrupted:
            request = entry.request
            calls = entry.calls or ((request.call,) if request.call else ())
            self._finish(Outcome(request.id, request.text or "", calls=calls,
                                 error=INTERRUPTED))
        for entry in todo:
            self.spawn(self.process(entry.request))

    # -- through the core ------------------------------------------------------------------

    async def process(self, request: Request) -> Outcome:
        self._busy[request.id] = time.monotonic()
        try:
            return await self._process(request)
        finally:
            self._busy.pop(request.id, None)

    async def _process(self, request: Request) -> Outcome:
        loop = asyncio.get_running_loop()
        if request.error is None:
            self.publish(self.topics.state("last_command"), request.said, retain=True)
        decision = await loop.run_in_executor(self.model_pool, self.core.decide, request)
        if decision.call is not None and decision.error is None:
            self.publish(self.topics.event("call"), json.dumps({
                "id": request.id, "call": decision.call.to_dict(),
                "calls": [c.to_dict() for c in decision.calls]}))

        def act() -> tuple[Outcome, bool]:
            # In the action's own thread: marked running only as it starts, its result
            # journaled as soon as it ends, so a crash can only catch the action itself.
            outcome = self.core.act(
                request, decision,
                starting=lambda: self.journal.running(request.id, decision.calls))
            return outcome, self._record(outcome)

        outcome, journaled = await loop.run_in_executor(self.pool, act)
        self._announce(outcome, journaled)
        return outcome

    async def confirm(self, request_id: str, token: str) -> Outcome | None:
        """Run the call held for ``request_id`` under ``token``; ``None`` when nothing waits
        for that pair."""
        loop = asyncio.get_running_loop()
        outcome = await loop.run_in_executor(
            self.pool, functools.partial(self.core.confirm, request_id, token=token))
        if outcome.call is None:
            return None
        self._finish(outcome)
        return outcome

    def _finish(self, outcome: Outcome) -> None:
        """Journal and announce an outcome (on the event loop)."""
        self._announce(outcome, self._record(outcome))

    def _record(self, outcome: Outcome) -> bool:
        """Journal the outcome with its ``result`` message (any thread)."""
        payload = json.dumps(outcome.to_dict())
        try:
            self.journal.finish(outcome.id, outcome.to_dict(),
                                (self.topics.result, payload, 1, False))
        except JournalError as exc:
            log.error("result of %s not journaled: %s", outcome.id, exc)
            return False
        return True

    def _announce(self, outcome: Outcome, journaled: bool) -> None:
        """On the event loop: events, state, and the outbox out to the broker."""
        if not journaled:  # still answer the sender, straight away
            self.publish(self.topics.result, json.dumps(outcome.to_dict()), qos=1)
        if outcome.error is not None:
            self.publish(self.topics.event("error"),
                         json.dumps({"id": outcome.id, "error": outcome.error}))
        result = outcome.result
        self.publish(self.topics.state("last_result"),
                     (result.done if result else None) or outcome.error or "", retain=True)
        self.handled += 1
        self.flush_outbox()

    # -- out -------------------------------------------------------------------------------

    def publish(self, topic: str, payload: str, *, qos: int | None = None,
                retain: bool = False) -> None:
        """Best-effort messages (events, state); results go through the outbox instead."""
        if self.link is None:
            return
        try:
            self.link.publish(topic, payload, qos=(1 if retain else 0) if qos is None else qos,
                              retain=retain)
        except (ValueError, UnicodeError, OSError) as exc:  # paho refuses the message
            log.error("not published to %s: %s", topic, exc)

    def error_event(self, error: str, **fields: Any) -> None:
        self.publish(self.topics.event("error"), json.dumps({**fields, "error": error}))

    def flush_outbox(self) -> None:
        if self.link is None or not self.link.connected:
            return
        waiting = set(self._mid_to_seq.values())
        try:
            rows = self.journal.outbox()
        except JournalError as exc:
            log.error("%s", exc)
            return
        for seq, topic, payload, qos, retain in rows:
            if seq in waiting:
                continue
            try:
                mid = self.link.publish(topic, payload, qos=qos, retain=retain)
            except (ValueError, UnicodeError, OSError) as exc:
                log.error("outbox message %d not published: %s", seq, exc)
                return
            if mid is None:
                return
            self._mid_to_seq[mid] = seq
            self._mid_sent[mid] = time.monotonic()

    def published(self, mid: int) -> None:
        """The broker has a message: its outbox row can go."""
        self._mid_sent.pop(mid, None)
        seq = self._mid_to_seq.pop(mid, None)
        if seq is not None:
            try:
                self.journal.sent(seq)
            except JournalError as exc:
                log.error("%s", exc)

    def _enqueue_result(self, payload: str) -> None:
        try:
            self.journal.enqueue(self.topics.result, payload)
        except JournalError as exc:
            log.error("%s", exc)
        self.flush_outbox()

    def stuck(self) -> str | None:
        """Why commands are not being served (a request running far past any action's
        bound, results the broker never takes), or None. The watchdog stops on it."""
        now = time.monotonic()
        oldest = min(self._busy.values(), default=now)
        if now - oldest > self.stuck_after_s:
            return f"a request has been running for {now - oldest:.0f} s"
        if self.link is not None and self.link.connected:
            sent = min(self._mid_sent.values(), default=now)
            if now - sent > self.stuck_after_s:
                return f"the broker has not taken a result for {now - sent:.0f} s"
        return None

    # -- tasks -----------------------------------------------------------------------------

    def spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("a request task failed", exc_info=task.exception())

    async def drain(self, timeout: float) -> None:
        """Let running requests finish (bounded), then cancel what is left."""
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=timeout)
        for task in list(self._tasks):
            task.cancel()

    async def delivered(self, timeout: float) -> None:
        """Until the broker has taken every result sent to it (bounded), so that a clean
        stop leaves no delivered result in the outbox to be sent again at the next start."""
        deadline = time.monotonic() + timeout
        while self._mid_to_seq and self.link is not None and self.link.connected \
                and time.monotonic() < deadline:
            await asyncio.sleep(0.02)

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=False)
        self.model_pool.shutdown(wait=True)
