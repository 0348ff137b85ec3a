"""MQTT actions: publish a templated payload to a templated topic (paho-mqtt 2.x).

The broker is the one in the config's ``mqtt:`` section (connected through
:mod:`appliance.broker`). A broker that is down gives an error after
``mqtt.connect_timeout_s``; the appliance goes on.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from appliance.broker import make_client
from appliance.errors import MqttError
from appliance.executors.pins import SharedPins
from appliance.executors.templating import check_templates, render
from appliance.messages import ActionResult, ToolCall
from appliance.settings import Config, MqttSettings
from appliance.tools import Action, Tool

log = logging.getLogger(__name__)

ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "topic"],
    "properties": {
        "kind": {"const": "mqtt"},
        "topic": {"type": "string", "minLength": 1,
                  "description": "template; an argument cannot add levels or wildcards"},
        "payload": {"type": "string", "description": "template; default: the arguments as JSON"},
        "qos": {"enum": [0, 1, 2]},
        "retain": {"type": "boolean"},
    },
}


@dataclass(frozen=True)
class MqttAction(Action):
    """A ``kind: mqtt`` action block."""

    template_keys: ClassVar[tuple[str, ...]] = ("topic", "payload")
    kind: ClassVar[str] = "mqtt"
    topic: str
    payload: str | None = None
    qos: int = 1
    retain: bool = False

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> MqttAction:
        check_templates(data, cls.template_keys)
        return cls(topic=data["topic"], payload=data.get("payload"), qos=data.get("qos", 1),
                   retain=data.get("retain", False))


def _topic_value(name: str, value: Any) -> str:
    """An argument put into a topic: one level of plain text, never ``/``, ``+`` or ``#``."""
    text = str(value)
    if not text or any(c in text for c in "/+#\0"):
        raise MqttError(f"argument {name}={text!r} cannot be put into a topic "
                        "(empty, or it has / + # or NUL)")
    return text


class MqttExecutor:
    """Publishes with one lazily connected client; reconnects on the next call if needed."""

    kind = "mqtt"

    def __init__(self, settings: MqttSettings):
        self.settings = settings
        self._client: Any = None
        self._lock = threading.Lock()

    @property
    def broker(self) -> str:
        return f"{self.settings.host}:{self.settings.port}"

    def _connected(self) -> Any:
        if self._client is not None and self._client.is_connected():
            return self._client
        self.close()
        client = make_client(self.settings)
        ready = threading.Event()
        refused: list[str] = []

        def on_connect(c: Any, u: Any, f: Any, rc: Any, p: Any) -> None:
            if rc.is_failure:
                refused.append(str(rc))
            ready.set()

        client.on_connect = on_connect
        try:
            client.connect_async(self.settings.host, self.settings.port,
                                 keepalive=self.settings.keepalive)
            client.loop_start()
        except (OSError, ValueError) as exc:
            raise MqttError(f"broker {self.broker}: {exc}") from None
        self._client = client
        answered = ready.wait(self.settings.connect_timeout_s)
        if not answered or refused:
            self.close()
            if refused:
                raise MqttError(f"broker {self.broker} refused the connection: {refused[0]}")
            raise MqttError(f"broker {self.broker} did not answer within "
                            f"{self.settings.connect_timeout_s:g} s")
        return client

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        action = tool.action
        if not isinstance(action, MqttAction):
            raise MqttError(f"{tool.name}: not an mqtt action")
        topic = render(action.topic, call.arguments, what=f"{tool.name} topic",
                       quote=_topic_value)
        if not topic or any(c in topic for c in "#+\0") or len(topic.encode()) > 65535:
            raise MqttError(f"{tool.name}: invalid topic {topic!r}")
        payload = (render(action.payload, call.arguments, what=f"{tool.name} payload")
                   if action.payload is not None else json.dumps(dict(call.arguments)))
        qos, retain = action.qos, action.retain
        what = f"{payload!r} to {topic} (qos {qos}{', retained' if retain else ''})"
        if dry_run:
            return ActionResult(tool.name, True, f"would publish {what} on {self.broker}")
        try:
            with self._lock:
                client = self._connected()
                info = client.publish(topic, payload, qos=qos, retain=retain)
                deadline = time.monotonic() + self.settings.connect_timeout_s
                while not info.is_published() and time.monotonic() < deadline:
                    info.wait_for_publish(0.05)
                if not info.is_published():
                    self.close()  # a half-dead connection: start afresh next time
                    raise MqttError(f"broker {self.broker} did not acknowledge within "
                                    f"{self.settings.connect_timeout_s:g} s")
        except (ValueError, RuntimeError, OSError) as exc:  # paho's own errors
            raise MqttError(f"{tool.name}: MQTT: {exc}") from None
        return ActionResult(tool.name, True, f"published {what}")

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.disconnect()  # first: it wakes the network loop, which then ends
                self._client.loop_stop()
            except Exception:  # closing must not fail the shutdown
                log.debug("MQTT close failed", exc_info=True)
            self._client = None


def build(config: Config, pins: SharedPins) -> MqttExecutor:
    return MqttExecutor(config.mqtt)
