"""The appliance daemon: one asyncio loop, commands from MQTT, voice and stdin.

Model inference runs in a thread (serialized by the caller's lock); actions run in a
thread pool, so a slow HTTP action does not hold up the next command. Every failure is a
result, never an exception out of the loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from appliance.caller import ToolCaller
from appliance.config import Config
from appliance.daemon.commands import Command, parse_command
from appliance.daemon.discovery import discovery_messages
from appliance.daemon.journal import Entry, Journal
from appliance.daemon.link import Inbound, Link
from appliance.daemon.notify import Notifier
from appliance.errors import JournalError
from appliance.executors import Dispatcher
from appliance.messages import ToolCall

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Topics:
    prefix: str
    discovery: str

    def __getattr__(self, name: str) -> str:  # command, result, status, listen, confirm
        return f"{self.prefix}{name}"

    def event(self, kind: str) -> str:
        return f"{self.prefix}event/{kind}"

    def state(self, kind: str) -> str:
        return f"{self.prefix}state/{kind}"


class Service:
    """Wires the journal, the MQTT link, the tool caller and the executors together."""

    def __init__(self, config: Config, caller: ToolCaller, dispatcher: Dispatcher, *,
                 notifier: Notifier | None = None, workers: int = 4):
        self.config = config
        self.caller = caller
        self.dispatcher = dispatcher
        self.notifier = notifier or Notifier()
        device = config.device.id
        self.topics = Topics(config.mqtt.prefix.format(device_id=device),
                             config.mqtt.discovery_prefix)
        self.journal = Journal(config.daemon.state_dir / "journal.sqlite3")
        self.pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="action")
        self.model_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model")
        self.link: Link | None = None
        self._mid_to_seq: dict[int, int] = {}
        self._pending_confirm: dict[str, tuple[str, str, float]] = {}  # id -> token, text, t0
        self._stop = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._tasks: set[asyncio.Task[Any]] = set()
        self.listen_request: Callable[[], None] | None = None
        # Started with the loop once ready (the microphone); each returns its own stop.
        self.background: list[Callable[[asyncio.AbstractEventLoop], Callable[[], None]]] = []
        self.handled = 0

    # -- lifecycle ----------------------------------------------------------------

    async def run(self, *, stdin: bool = False) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        # What the journal held before this start: read it before anything new arrives.
        todo, interrupted = self.journal.recover()
        client_id = self.config.mqtt.client_id or f"appliance-{self.config.device.id}"
        self.link = Link(self.config.mqtt, client_id, self.topics.status, loop,
                         on_connect=self._on_connect, on_message=self._on_message,
                         on_published=self._on_published, on_subscribed=self._subscribed.set)
        self.link.start()
        # Ready means commands sent from now on are received: wait (a bounded time) for the
        # subscriptions. Without a broker the appliance still becomes ready, for voice.
        try:
            await asyncio.wait_for(self._subscribed.wait(),
                                   self.config.mqtt.connect_timeout_s + 2)
        except TimeoutError:
            log.warning("MQTT broker %s:%s not reachable yet; going on without it",
                        self.config.mqtt.host, self.config.mqtt.port)
        for entry in interrupted:
            # It may or may not have acted before the crash: report, never run twice.
            self._finish(entry.id, entry.body.get("text") or "", None, False, None,
                         "interrupted by a restart while running; not run again", 0.0)
        for entry in todo:
            self._spawn(self._process(entry))
        self._spawn(self._watchdog())
        if stdin:
            self._spawn(self._read_stdin())
        stoppers = [start(loop) for start in self.background]
        self.notifier.ready(f"ready: {len(self.config.tools)} tools, "
                            f"{len(todo)} resumed, {len(interrupted)} interrupted")
        log.info("appliance %s ready (%d tools)", self.config.device.id, len(self.config.tools))
        await self._stop.wait()
        self.notifier.stopping()
        for stop in stoppers:
            stop()
        for task in list(self._tasks):
            task.cancel()
        self.link.stop()
        self.pool.shutdown(wait=True, cancel_futures=False)
        self.model_pool.shutdown(wait=True)
        self.journal.close()

    def stop(self) -> None:
        self._stop.set()

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval_s
        if interval is None:
            return
        # Sent from the event loop itself: if the loop is stuck, systemd restarts us.
        while True:
            self.notifier.watchdog()
            await asyncio.sleep(interval)

    # -- MQTT ----------------------------------------------------------------------

    def _on_connect(self) -> None:
        assert self.link is not None
        t = self.topics
        self.link.publish(t.status, "online", qos=1, retain=True)
        self.link.subscribe([t.command, t.listen, t.confirm, f"{t.discovery}/status"])
        self._send_discovery()
        self.link.publish(t.state("listening"), "OFF", qos=1, retain=True)
        self._flush_outbox()
        self.notifier.status(f"connected to {self.config.mqtt.host}:{self.config.mqtt.port}")

    def _send_discovery(self) -> None:
        assert self.link is not None
        for topic, payload in discovery_messages(self.topics.prefix, self.topics.discovery,
                                                 self.config.device.id,
                                                 self.config.device.name):
            self.link.publish(topic, payload, qos=1, retain=True)

    def _on_published(self, mid: int) -> None:
        seq = self._mid_to_seq.pop(mid, None)
        if seq is not None:
            try:
                self.journal.sent(seq)
            except JournalError as exc:
                log.error("%s", exc)

    def _flush_outbox(self) -> None:
        if self.link is None or not self.link.connected:
            return
        waiting = set(self._mid_to_seq.values())
        for seq, topic, payload, qos, retain in self.journal.outbox():
            if seq in waiting:
                continue
            mid = self.link.publish(topic, payload, qos=qos, retain=retain)
            if mid is None:
                return
            self._mid_to_seq[mid] = seq

    def _publish(self, topic: str, payload: str, *, retain: bool = False) -> None:
        """Best-effort messages (events, state); results go through the outbox instead."""
        if self.link is not None:
            self.link.publish(topic, payload, qos=0 if not retain else 1, retain=retain)

    def _on_message(self, msg: Inbound) -> None:
        assert self.link is not None
        t = self.topics
        if msg.topic == t.command:
            self._accept(msg)
            return
        self.link.ack(msg)
        if msg.topic == f"{t.discovery}/status" and msg.payload.strip() == b"online":
            log.info("Home Assistant came online: sending discovery again")
            self._send_discovery()
        elif msg.topic == t.listen:
            self.request_listen()
        elif msg.topic == t.confirm:
            self._confirm(msg.payload)

    def _accept(self, msg: Inbound) -> None:
        """Journal first, acknowledge after: a command the journal lacks is redelivered."""
        assert self.link is not None
        command = parse_command(msg.payload)
        body = command.body() if command.error is None else {"error": command.error}
        try:
            seen = self.journal.accept(command.id, "mqtt", body)
        except JournalError as exc:
            log.error("not acknowledged, the broker will deliver it again: %s", exc)
            return
        self.link.ack(msg)
        if seen is not None:
            if seen.result is not None:
                log.info("command %s seen before: its result is sent again", command.id)
                self._enqueue_result(seen.result)
            return
        self._spawn(self._process(Entry(command.id, "mqtt", body, "queued", None), command))

    def _confirm(self, payload: bytes) -> None:
        try:
            cid = json.loads(payload.decode("utf-8"))["id"]
        except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
            self._publish(self.topics.event("error"),
                          json.dumps({"error": 'confirm needs {"id": ...}'}))
            return
        waiting = self._pending_confirm.pop(str(cid), None)
        if waiting is None:
            self._publish(self.topics.event("error"),
                          json.dumps({"id": cid, "error": "nothing waits for confirmation"}))
            return
        token, text, t0 = waiting
        self._spawn(self._confirmed(str(cid), token, text, t0))

    async def _confirmed(self, cid: str, token: str, text: str, t0: float) -> None:
        loop = asyncio.get_running_loop()
        result = await loop.run_in_executor(self.pool, self.dispatcher.confirm, token)
        ms = (time.perf_counter() - t0) * 1000
        self._finish(cid, text, None, result.ok, result.to_dict(), result.error, ms)

    # -- commands --------------------------------------------------------------------

    def request_listen(self) -> None:
        if self.listen_request is None:
            self._publish(self.topics.event("error"),
                          json.dumps({"error": "listening is not available (audio is off)"}))
        else:
            self.listen_request()

    async def submit_text(self, text: str, source: str = "voice") -> dict[str, Any]:
        """A command that did not come over MQTT (voice, stdin): same path, journaled too."""
        command = parse_command(text.encode("utf-8"))
        body = command.body() if command.error is None else {"error": command.error}
        self.journal.accept(command.id, source, body)
        if source == "voice":
            self._publish(self.topics.event("transcript"),
                          json.dumps({"id": command.id, "text": text}))
        return await self._process(Entry(command.id, source, body, "queued", None), command)

    async def _process(self, entry: Entry, command: Command | None = None) -> dict[str, Any]:
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        body = entry.body
        text = body.get("text") or ""
        if "error" in body:
            return self._finish(entry.id, text, None, False, None, body["error"], 0.0)
        self._publish(self.topics.state("last_command"), text or json.dumps(body.get("call")),
                      retain=True)
        if "call" in body:
            decision = self.caller.direct(ToolCall(body["call"]["name"],
                                                   body["call"].get("arguments", {})))
        else:
            decision = await loop.run_in_executor(self.model_pool, self.caller.decide, text)
        call = decision.call.to_dict() if decision.call else None
        if decision.error is not None:
            return self._finish(entry.id, text, call, False, None, decision.error,
                                (time.perf_counter() - t0) * 1000)
        if decision.call is None:
            return self._finish(entry.id, text, None, True, {"done": "no tool applies"}, None,
                                (time.perf_counter() - t0) * 1000)
        self._publish(self.topics.event("call"), json.dumps({"id": entry.id, "call": call}))
        tool_call = decision.call

        def act() -> dict[str, Any]:
            # In the action's own thread: marked running only as it starts, its result
            # journaled as soon as it ends, so a crash can only catch the action itself.
            try:
                self.journal.running(entry.id)
            except JournalError as exc:
                return self._result(entry.id, text, call, False, None, str(exc), 0.0)
            result = self.dispatcher.execute(tool_call)
            payload = self._result(entry.id, text, call, result.ok, result.to_dict(),
                                   result.error, (time.perf_counter() - t0) * 1000)
            if result.pending_confirmation:
                self._pending_confirm[entry.id] = (result.pending_confirmation, text, t0)
            return payload

        payload = await loop.run_in_executor(self.pool, act)
        self._announce(payload)
        return payload

    def _finish(self, cid: str, text: str, call: dict[str, Any] | None, ok: bool,
                result: dict[str, Any] | None, error: str | None, ms: float) -> dict[str, Any]:
        payload = self._result(cid, text, call, ok, result, error, ms)
        self._announce(payload)
        return payload

    def _result(self, cid: str, text: str, call: dict[str, Any] | None, ok: bool,
                result: dict[str, Any] | None, error: str | None, ms: float) -> dict[str, Any]:
        """Journal the result with its outbox message (any thread)."""
        payload: dict[str, Any] = {"id": cid, "text": text, "call": call, "ok": ok,
                                   "ms": round(ms, 1)}
        if error is not None:
            payload["error"] = error
        if result is not None:
            payload["result"] = result
        try:
            self.journal.finish(cid, payload, (self.topics.result, json.dumps(payload), 1, False))
        except JournalError as exc:
            log.error("result of %s not journaled: %s", cid, exc)
            payload["_unjournaled"] = True
        return payload

    def _announce(self, payload: dict[str, Any]) -> None:
        """On the event loop: events, state, and the outbox out to the broker."""
        if payload.pop("_unjournaled", False) and self.link is not None:
            self.link.publish(self.topics.result, json.dumps(payload), qos=1)
        if "error" in payload:
            self._publish(self.topics.event("error"),
                          json.dumps({"id": payload["id"], "error": payload["error"]}))
        self._publish(self.topics.state("last_result"),
                      (payload.get("result") or {}).get("done") or payload.get("error") or "",
                      retain=True)
        self.handled += 1
        self._flush_outbox()

    def _enqueue_result(self, payload: dict[str, Any]) -> None:
        try:
            self.journal.enqueue(self.topics.result, json.dumps(payload))
        except JournalError as exc:
            log.error("%s", exc)
        self._flush_outbox()

    async def _read_stdin(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            if line.strip():
                out = await self.submit_text(line.strip(), source="cli")
                print(json.dumps(out), flush=True)
