"""Executors: one module per action kind, chosen by the ``kind`` of a tool's ``action:``.

- :mod:`.gpio`  gpiozero outputs, PWM and pulses (on the shared pin factory, :mod:`.pins`)
- :mod:`.mqtt`  paho-mqtt publish to the configured broker
- :mod:`.http`  httpx requests to allowed hosts only

Each module gives the JSON Schema of its block, a typed ``Action`` that the config parses
the block into when it loads, and the executor. :mod:`.dispatch` routes a call to its
executor and turns every failure into a result.
"""

from __future__ import annotations

from typing import Any

from appliance.executors import gpio, http, mqtt
from appliance.executors.base import Executor, Kind

__all__ = ["KINDS", "Executor", "Kind", "action_schemas"]

KINDS: dict[str, Kind] = {
    "gpio": Kind("gpio", gpio.ACTION_SCHEMA, gpio.GpioAction.from_mapping, gpio.build),
    "mqtt": Kind("mqtt", mqtt.ACTION_SCHEMA, mqtt.MqttAction.from_mapping, mqtt.build),
    "http": Kind("http", http.ACTION_SCHEMA, http.HttpAction.from_mapping, http.build),
}
"""The action kinds, by name: a kind is added here and in its own module, nowhere else."""


def action_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each action kind's ``action:`` block, by kind name."""
    return {name: kind.schema for name, kind in KINDS.items()}
