"""The MQTT broker: the one place that makes paho clients (TLS, credentials).

The daemon's command link and the MQTT executor both connect through :func:`make_client`.
The password comes from a file or a systemd credential (``LoadCredential=``), never from
the config text.
"""

from __future__ import annotations

import os
import ssl
from pathlib import Path
from typing import Any

from appliance.errors import ConfigError
from appliance.settings import MqttSettings


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
