"""MQTT actions: publish a templated payload to a templated topic (paho-mqtt 2.x).

The broker is the one in the config's ``mqtt:`` section; the password comes from a file or
a systemd credential (``LoadCredential=``), never from the config text. A broker that is
down gives an error result after ``mqtt.connect_timeout_s``; the appliance goes on.
"""

from __future__ import annotations

import json
import logging
import os
import ssl
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.config import MqttSettings
from appliance.errors import ConfigError, MqttError, TemplateError
from appliance.executors.templating import render
from appliance.messages import ActionResult, ToolCall
from appliance.tools import Tool

if TYPE_CHECKING:
    from appliance.config import Config

log = logging.getLogger(__name__)

TEMPLATE_KEYS = ("topic", "payload")
"""Keys of the action block that are Jinja2 templates."""

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


def mqtt_password(settings: MqttSettings) -> str | None:
    """The broker password from its file or systemd credential, if one is configured."""
    path: Path | None = settings.password_file
    if settings.password_credential:
        creds = os.environ.get("CREDENTIALS_DIRECTORY")
        if not creds:
            raise ConfigError("mqtt.password_credential is set but $CREDENTIALS_DIRECTORY is "
                              "not (run under systemd with LoadCredential=)")
        name = settings.password_credential
        if "/" in name or name in (".", ".."):
            raise ConfigError(f"mqtt.password_credential {name!r} is not a credential name")
        path = Path(creds) / name
    if path is None:
        return None
    try:
        return path.read_text().strip()
    except OSError as exc:
        raise ConfigError(f"cannot read the MQTT password from {path}: {exc.strerror}") from None


def make_client(settings: MqttSettings, client_id: str = "", **kwargs: Any) -> Any:
    """A paho client configured from the settings (TLS, credentials); not yet connected."""
    import paho.mqtt.client as paho
    from paho.mqtt.enums import CallbackAPIVersion

    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, **kwargs)
    if settings.username:
        client.username_pw_set(settings.username, mqtt_password(settings))
    if settings.tls:
        client.tls_set(ca_certs=str(settings.ca_file) if settings.ca_file else None,
                       cert_reqs=ssl.CERT_REQUIRED)
    return client


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
        action = dict(tool.action or {})
        try:
            topic = render(action["topic"], call.arguments, what=f"{tool.name} topic",
                           quote=_topic_value)
            if not topic or any(c in topic for c in "#+\0") or len(topic.encode()) > 65535:
                raise MqttError(f"{tool.name}: invalid topic {topic!r}")
            payload = (render(action["payload"], call.arguments, what=f"{tool.name} payload")
                       if "payload" in action else json.dumps(dict(call.arguments)))
            qos, retain = int(action.get("qos", 1)), bool(action.get("retain", False))
            what = f"{payload!r} to {topic} (qos {qos}{', retained' if retain else ''})"
            if dry_run:
                return ActionResult(tool.name, True, f"would publish {what} on {self.broker}")
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
            return ActionResult(tool.name, True, f"published {what}")
        except (MqttError, TemplateError, ConfigError) as exc:
            message = str(exc)
            if not message.startswith(tool.name):
                message = f"{tool.name}: {message}"
            return ActionResult(tool.name, False, error=message)
        except (ValueError, RuntimeError, OSError) as exc:  # paho's own errors
            return ActionResult(tool.name, False, error=f"{tool.name}: MQTT: {exc}")

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.disconnect()  # first: it wakes the network loop, which then ends
                self._client.loop_stop()
            except Exception:  # closing must not fail the shutdown
                log.debug("MQTT close failed", exc_info=True)
            self._client = None


def from_config(config: Config) -> MqttExecutor:
    return MqttExecutor(config.mqtt)
