"""The MQTT way in: what each inbound topic means, and what is sent on every connection.

Routing is by exact topic (:class:`~appliance.daemon.topics.Topics`): a command is
journaled before it is acknowledged; ``listen`` arms the microphone; ``confirm`` runs a
held call; Home Assistant's ``online`` asks for discovery again. Everything else that
arrives is acknowledged and ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable
from typing import Protocol

from appliance.daemon.commands import new_id, parse_command
from appliance.daemon.discovery import discovery_messages
from appliance.daemon.link import Inbound
from appliance.daemon.runner import Runner
from appliance.errors import JournalError
from appliance.settings import DeviceSettings

log = logging.getLogger(__name__)


SAME_WITHIN_S = 10.0
"""A command without an id repeated word for word this soon is taken for a retransmission
of the first (its result is sent again). To repeat a command that soon, give it an id."""


def delivery_key(msg: Inbound) -> str:
    """The same for a message and the broker's redelivery of it (same packet id, payload)."""
    h = hashlib.sha256(f"{msg.topic}\0{msg.mid}\0".encode())
    h.update(msg.payload)
    return h.hexdigest()[:32]


class Acker(Protocol):
    """What routing needs of the link besides publishing."""

    def ack(self, message: Inbound) -> None: ...

    def subscribe(self, topics: list[str]) -> None: ...


class MqttRoutes:
    """Inbound MQTT messages to the runner; run on the event loop."""

    def __init__(self, runner: Runner, link: Acker, device: DeviceSettings) -> None:
        self.runner = runner
        self.link = link
        self.device = device
        self.topics = runner.topics
        self.listen_request: Callable[[], None] | None = None
        """Set by the voice way in, when there is one."""
        t = self.topics
        self._routes: dict[str, Callable[[Inbound], None]] = {
            t.listen: self._listen, t.confirm: self._confirm, t.ha_status: self._ha_status}

    def connected(self) -> None:
        """On every connection: online, subscriptions, discovery, and what waits to go out."""
        t = self.topics
        self.runner.publish(t.status, "online", qos=1, retain=True)
        self.link.subscribe(t.inbound())
        self.send_discovery()
        self.runner.publish(t.state("listening"), "OFF", qos=1, retain=True)
        self.runner.flush_outbox()

    def send_discovery(self) -> None:
        for topic, payload in discovery_messages(self.topics, self.device.id, self.device.name):
            self.runner.publish(topic, payload, qos=1, retain=True)

    def message(self, msg: Inbound) -> None:
        if msg.topic == self.topics.command:
            self._command(msg)
            return
        self.link.ack(msg)
        route = self._routes.get(msg.topic)
        if route is not None:
            route(msg)

    def _command(self, msg: Inbound) -> None:
        """Journal first, acknowledge after: a command the journal lacks is redelivered."""
        if msg.retain:
            # A retained command would run again at every start and every reconnect.
            self.link.ack(msg)
            self.runner.error_event("a retained command is never run: publish commands "
                                    "without the retain flag (and clear the retained one)")
            return
        key = delivery_key(msg)
        journal = self.runner.journal
        fingerprint: list[str] = []

        def auto_id() -> str:
            # A command without an id that comes again is the same command, and gets the
            # same id back: the broker's redelivery (its acknowledgement was lost to a
            # restart: same packet id, marked dup), or the sender's own retransmission
            # after a broker restart (a new packet id: the same payload within seconds).
            fingerprint.append(hashlib.sha256(msg.payload).hexdigest()[:32])
            try:
                earlier = journal.delivered(key) if msg.dup else None
                earlier = earlier or journal.recent(fingerprint[0], SAME_WITHIN_S)
            except JournalError:
                earlier = None  # accepting it will fail the same way, with an answer
            return earlier or new_id()

        request = parse_command(msg.payload, auto_id=auto_id)
        self.runner.accept(request, key, fingerprint[0] if fingerprint else None)
        self.link.ack(msg)

    def _ha_status(self, msg: Inbound) -> None:
        if msg.payload.strip() == b"online":
            log.info("Home Assistant came online: sending discovery again")
            self.send_discovery()

    def _listen(self, msg: Inbound) -> None:
        self.request_listen()

    def request_listen(self) -> None:
        if self.listen_request is None:
            self.runner.error_event("listening is not available (audio is off)")
        else:
            self.listen_request()

    def _confirm(self, msg: Inbound) -> None:
        """``{"id": ..., "token": ...}``: both from the held result, so a command's id alone
        (often guessable) confirms nothing."""
        try:
            data = json.loads(msg.payload.decode("utf-8"))
            cid, token = data["id"], data["token"]
        except (UnicodeDecodeError, ValueError, RecursionError, KeyError, TypeError):
            self.runner.error_event('confirm needs {"id": ..., "token": ...} from the held '
                                    "result")
            return
        if not isinstance(cid, str) or not isinstance(token, str):
            self.runner.error_event('confirm needs {"id": ..., "token": ...} as strings')
            return

        async def confirm() -> None:
            if await self.runner.confirm(cid, token) is None:
                self.runner.error_event("nothing waits for confirmation with that id and "
                                        "token (unknown, already used or expired)", id=cid)

        self.runner.spawn(confirm())
