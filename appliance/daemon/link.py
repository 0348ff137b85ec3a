"""The daemon's MQTT connection: paho's thread on one side, asyncio on the other.

No paho callback leaks out: connections and messages become calls scheduled on the event
loop. The client has a fixed id and a persistent session, so QoS 1 commands sent while the
daemon is away wait at the broker; messages are acknowledged by hand (``manual_ack``), only
after the journal has them. The will (``offline``, retained) is set before connecting;
``online``, the subscriptions and the discovery are sent again on every connection.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from appliance.broker import make_client
from appliance.settings import MqttSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    """One message from the broker, to be acknowledged with :meth:`Link.ack`."""

    topic: str
    payload: bytes
    mid: int
    qos: int
    retain: bool = False
    dup: bool = False
    """The broker delivers it again (its acknowledgement was not received)."""


class Link:
    def __init__(self, settings: MqttSettings, client_id: str, status_topic: str,
                 loop: asyncio.AbstractEventLoop, *,
                 on_connect: Callable[[], None], on_message: Callable[[Inbound], None],
                 on_published: Callable[[int], None],
                 on_subscribed: Callable[[], None] | None = None,
                 on_refused: Callable[[str], None] | None = None):
        import paho.mqtt.client as paho

        self.settings = settings
        self.status_topic = status_topic
        self._loop = loop
        self._on_connect = on_connect
        self._on_message = on_message
        self._on_published = on_published
        self._on_subscribed = on_subscribed
        self._on_refused = on_refused
        self.client = make_client(settings, client_id, clean_session=False,
                                  protocol=paho.MQTTv311, manual_ack=True)
        self.client.max_queued_messages_set(0)
        self.client.will_set(status_topic, "offline", qos=1, retain=True)
        self.client.reconnect_delay_set(min_delay=1, max_delay=30)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message
        self.client.on_publish = self._published
        self.client.on_subscribe = self._subscribed
        self.connected = False

    def start(self) -> None:
        self.client.connect_async(self.settings.host, self.settings.port,
                                  keepalive=self.settings.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        if self.connected:
            info = self.client.publish(self.status_topic, "offline", qos=1, retain=True)
            info.wait_for_publish(2)
        self.client.disconnect()
        self.client.loop_stop()

    # -- paho's thread -> the event loop -------------------------------------------

    def _connected(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if rc.is_failure:
            log.warning("MQTT: broker refused the connection: %s", rc)
            if self._on_refused is not None:
                self._loop.call_soon_threadsafe(self._on_refused, str(rc))
            return
        self.connected = True
        log.info("MQTT: connected to %s:%s", self.settings.host, self.settings.port)
        self._loop.call_soon_threadsafe(self._on_connect)

    def _disconnected(self, client: Any, userdata: Any, flags: Any, rc: Any, props: Any) -> None:
        if self.connected:
            log.warning("MQTT: disconnected (%s); reconnecting with backoff", rc)
        self.connected = False

    def _message(self, client: Any, userdata: Any, msg: Any) -> None:
        inbound = Inbound(msg.topic, bytes(msg.payload), msg.mid, msg.qos, bool(msg.retain),
                          bool(msg.dup))
        self._loop.call_soon_threadsafe(self._on_message, inbound)

    def _subscribed(self, client: Any, userdata: Any, mid: int, rcs: Any, props: Any) -> None:
        if self._on_subscribed is not None:
            self._loop.call_soon_threadsafe(self._on_subscribed)

    def _published(self, client: Any, userdata: Any, mid: int, rc: Any, props: Any) -> None:
        self._loop.call_soon_threadsafe(self._on_published, mid)

    # -- the event loop -> paho ------------------------------------------------------

    def publish(self, topic: str, payload: str, qos: int = 1, retain: bool = False) -> int | None:
        """Hand a message to paho; its mid, or None when not connected."""
        if not self.connected:
            return None
        info = self.client.publish(topic, payload, qos=qos, retain=retain)
        return int(info.mid) if info.rc == 0 else None

    def subscribe(self, topics: list[str]) -> None:
        self.client.subscribe([(t, 1) for t in topics])

    def ack(self, message: Inbound) -> None:
        if message.qos > 0:
            self.client.ack(message.mid, message.qos)
