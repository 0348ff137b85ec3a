"""Home Assistant MQTT discovery for the appliance: its state and a button to listen."""

from __future__ import annotations

import json
from collections.abc import Iterator

from appliance import __version__
from appliance.daemon.topics import Topics


def discovery_messages(topics: Topics, device_id: str, name: str) -> Iterator[tuple[str, str]]:
    """(topic, retained JSON payload) for each entity."""
    device = {"identifiers": [f"appliance-{device_id}"], "name": name,
              "manufacturer": "appliance", "model": "offline voice and IoT agent",
              "sw_version": __version__}
    common = {"availability_topic": topics.status, "payload_available": "online",
              "payload_not_available": "offline", "device": device}
    entities = [
        ("binary_sensor", "listening", {"name": "Listening",
                                        "state_topic": topics.state("listening"),
                                        "payload_on": "ON", "payload_off": "OFF"}),
        ("sensor", "last_command", {"name": "Last command",
                                    "state_topic": topics.state("last_command")}),
        ("sensor", "last_result", {"name": "Last result",
                                   "state_topic": topics.state("last_result")}),
        ("button", "listen", {"name": "Listen", "command_topic": topics.listen,
                              "payload_press": "listen"}),
    ]
    for component, object_id, config in entities:
        unique = f"appliance_{device_id}_{object_id}"
        payload = {**common, **config, "unique_id": unique, "object_id": unique}
        yield f"{topics.discovery}/{component}/{unique}/config", json.dumps(payload)
