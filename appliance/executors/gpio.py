"""GPIO actions with gpiozero: outputs (relay, LED), PWM (dimmer, fan), timed pulses.

The pin is fixed (``pin: 17``) or picked by an argument (``pin_by: room`` with
``pins: {kitchen: 17, ...}``). Devices are created once and reused. Everything physical
is behind gpiozero's pin factory: its own choice on a Raspberry Pi, ``MockFactory``
elsewhere (and in tests), or the one named in ``gpio.pin_factory``.
"""

from __future__ import annotations

import logging
import threading
import time
from pathlib import Path
from typing import Any

from appliance.errors import GpioError, TemplateError
from appliance.executors.templating import render
from appliance.messages import ActionResult, ToolCall
from appliance.tools import Tool

log = logging.getLogger(__name__)

ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "device"],
    "properties": {
        "kind": {"const": "gpio"},
        "device": {"enum": ["output", "pwm", "pulse"],
                   "description": "output: on/off; pwm: duty cycle 0..1; pulse: on for pulse_ms"},
        "pin": {"type": ["integer", "string"]},
        "pin_by": {"type": "string", "description": "the argument whose value picks the pin"},
        "pins": {"type": "object", "additionalProperties": {"type": ["integer", "string"]}},
        "value": {"type": "string", "description": "template: true/on/1 switches on"},
        "duty": {"type": "string", "description": "template: a duty cycle 0..1 (or 0..100 %)"},
        "pulse_ms": {"type": "integer", "minimum": 1, "maximum": 60000},
        "active_high": {"type": "boolean"},
        "frequency": {"type": "integer", "minimum": 1, "maximum": 100000},
    },
    "oneOf": [{"required": ["pin"]}, {"required": ["pin_by", "pins"]}],
}

_TRUE = {"true", "on", "1", "yes", "open", "high"}


def is_raspberry_pi() -> bool:
    try:
        return "raspberry pi" in Path("/proc/device-tree/model").read_text().lower()
    except OSError:
        return False


def make_pin_factory(name: str | None) -> Any:
    """gpiozero's own factory on a Pi, MockFactory elsewhere, or the one named."""
    import importlib.metadata

    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    if not name:
        name = None if is_raspberry_pi() else "mock"
    try:
        if name == "mock":
            log.info("GPIO: not a Raspberry Pi (or asked for mock): gpiozero's MockFactory")
            return MockFactory(pin_class=MockPWMPin)
        if name is None:
            factory = Device._default_pin_factory()
        else:
            entry = next((e for e in importlib.metadata.entry_points(
                group="gpiozero_pin_factories") if e.name == name), None)
            if entry is None:
                raise GpioError(f"unknown GPIO pin factory {name!r}")
            factory = entry.load()()
    except GpioError:
        raise
    except Exception as exc:  # gpiozero raises BadPinFactory and library import errors
        raise GpioError(f"GPIO pin factory {name or 'default'!r} failed: {exc}") from None
    log.info("GPIO: using pin factory %s", type(factory).__name__)
    return factory


class GpioExecutor:
    """Drives gpiozero devices, created on first use and kept."""

    kind = "gpio"

    def __init__(self, pin_factory: str | None = None, *, factory: Any = None):
        self._factory_name = pin_factory
        self._factory = factory
        self._devices: dict[tuple[str, str], Any] = {}
        self._lock = threading.Lock()

    @property
    def factory(self) -> Any:
        if self._factory is None:
            self._factory = make_pin_factory(self._factory_name)
        return self._factory

    def _pin(self, tool: Tool, action: dict[str, Any], call: ToolCall) -> str:
        if "pin" in action:
            return str(action["pin"])
        key = action["pin_by"]
        value = call.arguments.get(key)
        pins = action["pins"]
        if str(value) not in pins:
            raise GpioError(f"{tool.name}: no pin for {key}={value!r}")
        return str(pins[str(value)])

    def _device(self, device: str, pin: str, action: dict[str, Any]) -> Any:
        from gpiozero import OutputDevice, PWMOutputDevice
        from gpiozero.exc import GPIOZeroError

        key = (device, pin)
        if key not in self._devices:
            pin_id: int | str = int(pin) if pin.isdigit() else pin
            high = bool(action.get("active_high", True))
            try:
                if device == "pwm":
                    self._devices[key] = PWMOutputDevice(
                        pin_id, active_high=high, frequency=action.get("frequency", 100),
                        pin_factory=self.factory)
                else:
                    self._devices[key] = OutputDevice(pin_id, active_high=high,
                                                      pin_factory=self.factory)
            except GPIOZeroError as exc:
                raise GpioError(f"pin {pin}: {exc}") from None
        return self._devices[key]

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        action = dict(tool.action or {})
        try:
            pin = self._pin(tool, action, call)
            kind = action["device"]
            if kind == "pwm":
                text = render(action.get("duty", "{{ percent / 100 }}"), call.arguments,
                              what=tool.name)
                duty = float(text)
                duty = duty / 100 if duty > 1 else duty
                if not 0 <= duty <= 1:
                    raise GpioError(f"{tool.name}: duty cycle {duty} is not within 0..1")
                done = f"GPIO{pin} PWM duty {duty:.2f}"
                if not dry_run:
                    with self._lock:
                        self._device("pwm", pin, action).value = duty
                return ActionResult(tool.name, True, ("would set " if dry_run else "") + done,
                                    value=duty)
            if kind == "pulse":
                ms = int(action.get("pulse_ms", 500))
                done = f"GPIO{pin} pulsed for {ms} ms"
                if not dry_run:
                    with self._lock:
                        dev = self._device("output", pin, action)
                        dev.on()
                        try:
                            time.sleep(ms / 1000)
                        finally:
                            dev.off()
                return ActionResult(tool.name, True, ("would pulse: " if dry_run else "") + done)
            text = render(action.get("value", "{{ state }}"), call.arguments, what=tool.name)
            on = text.strip().lower() in _TRUE
            done = f"GPIO{pin} {'on' if on else 'off'}"
            if not dry_run:
                with self._lock:
                    dev = self._device("output", pin, action)
                    dev.on() if on else dev.off()
            return ActionResult(tool.name, True, ("would switch " if dry_run else "") + done,
                                value=on)
        except (GpioError, TemplateError) as exc:
            return ActionResult(tool.name, False, error=str(exc))
        except (ValueError, TypeError) as exc:
            return ActionResult(tool.name, False, error=f"{tool.name}: GPIO value: {exc}")

    def close(self) -> None:
        with self._lock:
            for dev in self._devices.values():
                try:
                    dev.close()
                except Exception:  # closing must not fail the shutdown
                    log.debug("closing %r failed", dev, exc_info=True)
            self._devices.clear()
