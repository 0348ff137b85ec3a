"""The appliance daemon's lifecycle: one asyncio loop, the ways in beside each other.

:class:`Service` opens the journal, connects the MQTT link, resumes what the journal held,
starts the other ways in (the microphone, stdin), tells systemd it is ready and keeps its
watchdog fed, and stops cleanly on SIGTERM. What a request goes through is
:class:`~appliance.daemon.runner.Runner`'s job; what MQTT topics mean is
:class:`~appliance.daemon.routes.MqttRoutes`'.
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
import sys
from collections.abc import Callable

from appliance.daemon.commands import new_id
from appliance.daemon.journal import Journal
from appliance.daemon.link import Inbound, Link
from appliance.daemon.notify import Notifier
from appliance.daemon.routes import MqttRoutes
from appliance.daemon.runner import Runner
from appliance.daemon.topics import Topics
from appliance.errors import MqttError
from appliance.executors.gpio import GpioAction
from appliance.handler import RequestHandler
from appliance.messages import Request
from appliance.settings import Config

log = logging.getLogger(__name__)

Starter = Callable[[asyncio.AbstractEventLoop], Callable[[], None]]
"""A way in started with the loop once ready (the microphone); it returns its own stop."""


def stuck_after_s(config: Config) -> float:
    """Longer than any one request can take when all is well: the slowest action's own
    bound (a GPIO pulse, an HTTP request's deadline, the broker's), with room to spare."""
    pulses = [t.action.pulse_ms / 1000 for t in config.tools
              if isinstance(t.action, GpioAction)]
    bound = max([60.0, *pulses, 2 * config.http.timeout_s + 1,
                 2 * config.mqtt.connect_timeout_s])
    return 2 * bound + 30


class Service:
    """Wires the journal, the MQTT link, the request core and the ways in together."""

    def __init__(self, config: Config, core: RequestHandler, *,
                 notifier: Notifier | None = None, workers: int = 4) -> None:
        self.config = config
        self.notifier = notifier or Notifier()
        self.topics = Topics(config.mqtt.prefix.format(device_id=config.device.id),
                             config.mqtt.discovery_prefix)
        self.journal = Journal(config.daemon.state_dir / "journal.sqlite3")
        self.runner = Runner(core, self.journal, self.topics, workers=workers,
                             stuck_after_s=stuck_after_s(config))
        self.link: Link | None = None
        self.routes: MqttRoutes | None = None
        self.background: list[Starter] = []
        self.listen_now: Callable[[], None] | None = None
        """Set by the voice way in: "listen now" (MQTT ``listen``, the HA button)."""
        self._stop = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._settled = asyncio.Event()  # subscribed, or refused for good
        self._refused: str | None = None

    async def run(self, *, stdin: bool = False) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self._stop.set)
        # What the journal held before this start: read it before anything new arrives.
        todo, interrupted = self.journal.recover()
        mqtt = self.config.mqtt
        client_id = mqtt.client_id or f"appliance-{self.config.device.id}"
        self.link = Link(mqtt, client_id, self.topics.status, loop,
                         on_connect=self._connected, on_message=self._message,
                         on_published=self.runner.published, on_subscribed=self._on_subscribed,
                         on_refused=self._on_refused)
        self.runner.link = self.link
        self.routes = MqttRoutes(self.runner, self.link, self.config.device)
        self.routes.listen_request = self.listen_now
        self.link.start()
        # Ready means commands sent from now on are received: wait (a bounded time) for the
        # subscriptions. Without a broker the appliance still becomes ready, for voice.
        try:
            await asyncio.wait_for(self._settled.wait(), mqtt.connect_timeout_s + 2)
        except TimeoutError:
            if self._refused is None:
                log.warning("MQTT broker %s:%s not reachable yet; going on without it",
                            mqtt.host, mqtt.port)
        if self._refused is not None and not self._subscribed.is_set():
            # Wrong credentials do not mend themselves: say so and stop, never READY and deaf.
            self.link.stop()
            self.journal.close()
            raise MqttError(f"the broker {mqtt.host}:{mqtt.port} refused the connection: "
                            f"{self._refused} (check mqtt.username and the password)")
        if self.journal.lost is not None:
            log.error("%s", self.journal.lost)
            self.runner.error_event(self.journal.lost)
        self.runner.resume(todo, interrupted)
        self.runner.spawn(self._watchdog())
        if stdin:
            self.runner.spawn(self._read_stdin())
        stoppers = [start(loop) for start in self.background]
        self.notifier.ready(f"ready: {len(self.config.tools)} tools, "
                            f"{len(todo)} resumed, {len(interrupted)} interrupted")
        log.info("appliance %s ready (%d tools)", self.config.device.id, len(self.config.tools))
        await self._stop.wait()
        self.notifier.stopping()
        for stop in stoppers:
            stop()
        await self.runner.drain(timeout=5)
        self.runner.close()
        await self.runner.delivered(timeout=3)
        self.link.stop()
        await asyncio.sleep(0.1)  # the link's last callbacks, while the journal is open
        self.journal.close()

    def stop(self) -> None:
        self._stop.set()

    def _on_subscribed(self) -> None:
        self._subscribed.set()
        self._settled.set()

    def _on_refused(self, reason: str) -> None:
        self._refused = reason
        if "not authori" in reason.lower() or "password" in reason.lower():
            self._settled.set()  # nothing more to wait for

    def _connected(self) -> None:
        if self.routes is not None:
            self.routes.connected()
        self.notifier.status(f"connected to {self.config.mqtt.host}:{self.config.mqtt.port}")

    def _message(self, msg: Inbound) -> None:
        if self.routes is not None:
            self.routes.message(msg)

    async def _watchdog(self) -> None:
        interval = self.notifier.watchdog_interval_s
        if interval is None:
            return
        # Sent from the event loop itself, and only while commands are being served: if the
        # loop, the action pool or the link is stuck, systemd restarts us.
        said = False
        while True:
            why = self.runner.stuck()
            if why is None:
                self.notifier.watchdog()
                said = False
            elif not said:
                log.error("not serving commands (%s): the watchdog is no longer fed", why)
                self.notifier.status(f"stuck: {why}")
                said = True
            await asyncio.sleep(interval)

    async def _read_stdin(self) -> None:
        """The command line as a way in: one request per line, its outcome as JSON."""
        loop = asyncio.get_running_loop()
        while True:
            line = await loop.run_in_executor(None, sys.stdin.readline)
            if not line:
                return
            if line.strip():
                request = Request(new_id(), "cli", text=line.strip())
                outcome = await self.runner.submit(request)
                print(json.dumps(outcome.to_dict()), flush=True)
