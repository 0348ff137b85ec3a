"""GPIO actions with gpiozero: outputs (relay, LED), PWM (dimmer, fan), timed pulses.

The pin is fixed (``pin: 17``) or picked by an argument (``pin_by: room`` with
``pins: {kitchen: 17, ...}``). Devices are created on first use and kept. Everything
physical is behind gpiozero's pin factory: its own choice on a Raspberry Pi, ``MockFactory``
elsewhere (and in tests), or the one named in ``gpio.pin_factory``.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.errors import GpioError, TemplateError
from appliance.executors.templating import render
from appliance.messages import ActionResult, ToolCall
from appliance.tools import Tool

if TYPE_CHECKING:
    from appliance.config import Config

log = logging.getLogger(__name__)


def _only_for(device: str, *keys: str) -> dict[str, Any]:
    """Schema: ``keys`` are allowed only when ``device`` is the given one."""
    return {"if": {"properties": {"device": {"not": {"const": device}}}},
            "then": {"properties": dict.fromkeys(keys, False)}}


TEMPLATE_KEYS = ("value", "duty", "percent")
"""Keys of the action block that are Jinja2 templates."""

ACTION_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind", "device"],
    "properties": {
        "kind": {"const": "gpio"},
        "device": {"enum": ["output", "pwm", "pulse"],
                   "description": "output: on/off; pwm: a duty cycle; pulse: on for pulse_ms"},
        "pin": {"type": ["integer", "string"], "description": "17, 'GPIO17' or 'BOARD11'"},
        "pin_by": {"type": "string", "description": "the argument whose value picks the pin"},
        "pins": {"type": "object", "minProperties": 1,
                 "additionalProperties": {"type": ["integer", "string"]}},
        "value": {"type": "string", "description": "output: template, true/on/1/yes is on"},
        "duty": {"type": "string", "description": "pwm: template giving a duty cycle 0..1"},
        "percent": {"type": "string", "description": "pwm: template giving 0..100 %"},
        "frequency": {"type": "integer", "minimum": 1, "maximum": 100000},
        "pulse_ms": {"type": "integer", "minimum": 1, "maximum": 60000},
        "active_high": {"type": "boolean"},
    },
    "oneOf": [{"required": ["pin"]}, {"required": ["pin_by", "pins"]}],
    "allOf": [
        _only_for("pwm", "duty", "percent", "frequency"),
        _only_for("pulse", "pulse_ms"),
        _only_for("output", "value"),
        {"not": {"required": ["duty", "percent"]}},
    ],
}

_TRUE = {"true", "on", "1", "yes", "open", "high"}
_FALSE = {"false", "off", "0", "no", "closed", "close", "low"}


def is_raspberry_pi() -> bool:
    try:
        return "raspberry pi" in Path("/proc/device-tree/model").read_text().lower()
    except OSError:
        return False


def make_pin_factory(name: str | None) -> Any:
    """gpiozero's own choice on a Pi (or as $GPIOZERO_PIN_FACTORY says), else MockFactory."""
    import importlib.metadata

    from gpiozero import Device
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    if not name and not is_raspberry_pi() and not os.environ.get("GPIOZERO_PIN_FACTORY"):
        name = "mock"
    try:
        if name == "mock":
            # MockPWMPin: plain mock pins refuse PWM, and dimmers need it.
            log.info("GPIO: pin factory MockFactory (%s)",
                     "as configured" if is_raspberry_pi() else "not a Raspberry Pi")
            return MockFactory(pin_class=MockPWMPin)
        if not name:
            factory = Device._default_pin_factory()
        else:
            entry = next((e for e in importlib.metadata.entry_points(
                group="gpiozero_pin_factories") if e.name == name), None)
            if entry is None:
                raise GpioError(f"unknown GPIO pin factory {name!r} (gpio.pin_factory)")
            factory = entry.load()()
    except GpioError:
        raise
    except Exception as exc:  # gpiozero raises BadPinFactory, backends their import errors
        raise GpioError(f"GPIO pin factory {name or 'default'!r} failed: {exc}") from None
    log.info("GPIO: pin factory %s", type(factory).__name__)
    return factory


class GpioExecutor:
    """Drives gpiozero devices, created on first use and kept (one per pin)."""

    kind = "gpio"

    def __init__(self, pin_factory: str | None = None, *, factory: Any = None):
        self._factory_name = pin_factory
        self._factory = factory
        self._devices: dict[str, tuple[str, Any, threading.Lock]] = {}
        self._lock = threading.Lock()

    @property
    def factory(self) -> Any:
        with self._lock:
            if self._factory is None:
                self._factory = make_pin_factory(self._factory_name)
            return self._factory

    @staticmethod
    def _pin(tool: Tool, action: dict[str, Any], call: ToolCall) -> str:
        if "pin" in action:
            return str(action["pin"])
        key = action["pin_by"]
        value = call.arguments.get(key)
        pins = action["pins"]
        if str(value) not in pins:
            raise GpioError(f"{tool.name}: no pin for {key}={value!r} "
                            f"(pins are declared for {', '.join(map(repr, pins))})")
        return str(pins[str(value)])

    def _device(self, tool: Tool, device: str, pin: str,
                action: dict[str, Any]) -> tuple[Any, threading.Lock]:
        """The device on ``pin``, made once; a pin used as two kinds of device is an error."""
        from gpiozero import OutputDevice, PWMOutputDevice

        factory = self.factory
        with self._lock:
            if pin in self._devices:
                made_as, dev, lock = self._devices[pin]
                if made_as != device:
                    raise GpioError(f"{tool.name}: pin {pin} is already in use as a "
                                    f"{made_as} device, not a {device} one")
                return dev, lock
            pin_id: int | str = int(pin) if pin.isdigit() else pin
            high = bool(action.get("active_high", True))
            try:
                if device == "pwm":
                    dev = PWMOutputDevice(pin_id, active_high=high,
                                          frequency=action.get("frequency", 100),
                                          pin_factory=factory)
                else:
                    dev = OutputDevice(pin_id, active_high=high, initial_value=False,
                                       pin_factory=factory)
            except Exception as exc:  # GPIOZeroError, and OSError/lgpio.error from a backend
                raise GpioError(f"{tool.name}: pin {pin}: {type(exc).__name__}: {exc}") from None
            lock = threading.Lock()
            self._devices[pin] = (device, dev, lock)
            log.info("GPIO: %s device on pin %s for %s", device, pin, tool.name)
            return dev, lock

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        action = dict(tool.action or {})
        try:
            pin = self._pin(tool, action, call)
            kind = action["device"]
            if kind == "pwm":
                duty = self._duty(tool, action, call)
                if not dry_run:
                    dev, lock = self._device(tool, "pwm", pin, action)
                    with lock:
                        dev.value = duty
                verb = "would set" if dry_run else "set"
                return ActionResult(tool.name, True, f"{verb} GPIO{pin} PWM duty {duty:.2f}",
                                    value=duty)
            if kind == "pulse":
                ms = int(action.get("pulse_ms", 500))
                if not dry_run:
                    dev, lock = self._device(tool, "output", pin, action)
                    with lock:  # one press at a time on this pin; other pins go on
                        dev.on()
                        try:
                            time.sleep(ms / 1000)
                        finally:
                            dev.off()
                verb = "would pulse" if dry_run else "pulsed"
                return ActionResult(tool.name, True, f"{verb} GPIO{pin} for {ms} ms")
            text = render(action.get("value", "{{ state }}"), call.arguments,
                          what=f"{tool.name} value").strip().lower()
            if text not in _TRUE | _FALSE:
                raise GpioError(f"{tool.name}: {text!r} is neither on nor off")
            on = text in _TRUE
            if not dry_run:
                dev, lock = self._device(tool, "output", pin, action)
                with lock:
                    dev.on() if on else dev.off()
            verb = "would switch" if dry_run else "switched"
            return ActionResult(tool.name, True, f"{verb} GPIO{pin} {'on' if on else 'off'}",
                                value=on)
        except (GpioError, TemplateError) as exc:
            return ActionResult(tool.name, False, error=str(exc))
        except Exception as exc:  # a device that refuses a value mid-run
            return ActionResult(tool.name, False,
                                error=f"{tool.name}: GPIO: {type(exc).__name__}: {exc}")

    @staticmethod
    def _duty(tool: Tool, action: dict[str, Any], call: ToolCall) -> float:
        """The duty cycle 0..1, from ``duty`` (0..1) or ``percent`` (0..100)."""
        scale = 100.0 if "percent" in action else 1.0
        template = action.get("percent") or action.get("duty") or "{{ percent / 100 }}"
        text = render(template, call.arguments, what=f"{tool.name} duty")
        try:
            duty = float(text) / scale
        except ValueError:
            raise GpioError(f"{tool.name}: duty {text!r} is not a number") from None
        if not 0 <= duty <= 1:
            raise GpioError(f"{tool.name}: duty cycle {duty:g} is not within 0..1")
        return duty

    def close(self) -> None:
        with self._lock:
            for _, dev, _ in self._devices.values():
                try:
                    dev.close()
                except Exception:  # closing must not fail the shutdown
                    log.debug("closing %r failed", dev, exc_info=True)
            self._devices.clear()


def from_config(config: Config) -> GpioExecutor:
    return GpioExecutor(config.gpio.pin_factory)
