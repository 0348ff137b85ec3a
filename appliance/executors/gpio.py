"""GPIO actions with gpiozero: outputs (relay, LED), PWM (dimmer, fan), timed pulses.

The pin is fixed (``pin: 17``) or picked by an argument (``pin_by: room`` with
``pins: {kitchen: 17, ...}``). Devices are created on first use and kept, on the pin
factory every GPIO user of the process shares (:class:`~appliance.executors.pins.SharedPins`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

from appliance.errors import ConfigError, GpioError
from appliance.executors.pins import SharedPins, bcm
from appliance.executors.templating import check_templates, render
from appliance.messages import ActionResult, ToolCall
from appliance.settings import Config
from appliance.tools import Action, Tool

log = logging.getLogger(__name__)


def _only_for(device: str, *keys: str) -> dict[str, Any]:
    """Schema: ``keys`` are allowed only when ``device`` is the given one."""
    return {"if": {"properties": {"device": {"not": {"const": device}}}},
            "then": {"properties": dict.fromkeys(keys, False)}}


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


@dataclass(frozen=True)
class GpioAction(Action):
    """A ``kind: gpio`` action block; pins are Broadcom numbers, resolved when it loads."""

    template_keys: ClassVar[tuple[str, ...]] = ("value", "duty", "percent")
    kind: ClassVar[str] = "gpio"
    device: str
    pin: int | None = None
    pin_by: str | None = None
    pins: Mapping[str, int] = field(default_factory=dict)
    value: str = "{{ state }}"
    duty: str | None = None
    percent: str | None = None
    frequency: int = 100
    pulse_ms: int = 500
    active_high: bool = True

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> GpioAction:
        """From a schema-validated block; a bad pin or template names its key."""
        check_templates(data, cls.template_keys)
        pins: dict[str, int] = {}
        for name, spec in data.get("pins", {}).items():
            pins[str(name)] = _pin(spec, f"pins.{name}")
        return cls(device=data["device"],
                   pin=_pin(data["pin"], "pin") if "pin" in data else None,
                   pin_by=data.get("pin_by"), pins=pins,
                   value=data.get("value", "{{ state }}"), duty=data.get("duty"),
                   percent=data.get("percent"), frequency=data.get("frequency", 100),
                   pulse_ms=data.get("pulse_ms", 500),
                   active_high=data.get("active_high", True))

    def templates(self) -> dict[str, str]:
        if self.device == "output":
            return {"value": self.value}
        if self.device == "pwm":
            key = "percent" if self.percent is not None else "duty"
            return {key: self.percent or self.duty or "{{ percent / 100 }}"}
        return {}

    def check(self, tool: Tool) -> None:
        """``pin_by`` names a parameter, and every value it can take has a pin."""
        if self.pin_by is None:
            return
        schema = tool.properties.get(self.pin_by)
        if schema is None:
            raise ConfigError(f"names no parameter of {tool.name} (it has: "
                              f"{', '.join(tool.properties) or 'none'})", path="pin_by")
        missing = [str(v) for v in schema.get("enum", ()) if str(v) not in self.pins]
        if missing:
            raise ConfigError(f"no pin for {self.pin_by} = {', '.join(map(repr, missing))}",
                              path="pins")

    def claims(self) -> list[tuple[int, str]]:
        """Each Broadcom pin this block uses, with the key that names it."""
        if self.pin is not None:
            return [(self.pin, "pin")]
        return [(pin, f"pins.{name}") for name, pin in self.pins.items()]


def _pin(spec: Any, key: str) -> int:
    try:
        return bcm(spec)
    except ConfigError as exc:
        raise ConfigError(str(exc), path=key) from None


class GpioExecutor:
    """Drives gpiozero devices, created on first use and kept (one per pin)."""

    kind = "gpio"

    def __init__(self, pins: SharedPins | None = None) -> None:
        self.pins = pins or SharedPins()
        self._devices: dict[int, tuple[str, Any, threading.Lock]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _pin(tool: Tool, action: GpioAction, call: ToolCall) -> int:
        if action.pin is not None:
            return action.pin
        value = str(call.arguments.get(action.pin_by or ""))
        if value not in action.pins:
            raise GpioError(f"{tool.name}: no pin for {action.pin_by}={value!r} "
                            f"(pins are declared for {', '.join(map(repr, action.pins))})")
        return action.pins[value]

    def _device(self, tool: Tool, device: str, pin: int,
                action: GpioAction) -> tuple[Any, threading.Lock]:
        """The device on ``pin``, made once; a pin used as two kinds of device is an error."""
        from gpiozero import OutputDevice, PWMOutputDevice

        factory = self.pins.factory
        with self._lock:
            if pin in self._devices:
                made_as, dev, lock = self._devices[pin]
                if made_as != device:
                    raise GpioError(f"{tool.name}: pin {pin} is already in use as a "
                                    f"{made_as} device, not a {device} one")
                return dev, lock
            try:
                if device == "pwm":
                    dev = PWMOutputDevice(pin, active_high=action.active_high,
                                          frequency=action.frequency, pin_factory=factory)
                else:
                    dev = OutputDevice(pin, active_high=action.active_high,
                                       initial_value=False, pin_factory=factory)
            except Exception as exc:  # GPIOZeroError, and OSError/lgpio.error from a backend
                raise GpioError(f"{tool.name}: pin {pin}: {type(exc).__name__}: {exc}") from None
            lock = threading.Lock()
            self._devices[pin] = (device, dev, lock)
            log.info("GPIO: %s device on pin %s for %s", device, pin, tool.name)
            return dev, lock

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        action = tool.action
        if not isinstance(action, GpioAction):
            raise GpioError(f"{tool.name}: not a gpio action")
        pin = self._pin(tool, action, call)
        try:
            if action.device == "pwm":
                return self._pwm(tool, action, call, pin, dry_run)
            if action.device == "pulse":
                return self._pulse(tool, action, pin, dry_run)
            return self._output(tool, action, call, pin, dry_run)
        except GpioError:
            raise
        except Exception as exc:  # a device that refuses a value mid-run
            raise GpioError(f"{tool.name}: GPIO: {type(exc).__name__}: {exc}") from None

    def _pwm(self, tool: Tool, action: GpioAction, call: ToolCall, pin: int,
             dry_run: bool) -> ActionResult:
        duty = self._duty(tool, action, call)
        if not dry_run:
            dev, lock = self._device(tool, "pwm", pin, action)
            with lock:
                dev.value = duty
        verb = "would set" if dry_run else "set"
        return ActionResult(tool.name, True, f"{verb} GPIO{pin} PWM duty {duty:.2f}", value=duty)

    def _pulse(self, tool: Tool, action: GpioAction, pin: int, dry_run: bool) -> ActionResult:
        ms = action.pulse_ms
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

    def _output(self, tool: Tool, action: GpioAction, call: ToolCall, pin: int,
                dry_run: bool) -> ActionResult:
        text = render(action.value, call.arguments, what=f"{tool.name} value").strip().lower()
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

    @staticmethod
    def _duty(tool: Tool, action: GpioAction, call: ToolCall) -> float:
        """The duty cycle 0..1, from ``duty`` (0..1) or ``percent`` (0..100)."""
        scale = 100.0 if action.percent is not None else 1.0
        (template,) = action.templates().values()
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


def build(config: Config, pins: SharedPins) -> GpioExecutor:
    return GpioExecutor(pins)
