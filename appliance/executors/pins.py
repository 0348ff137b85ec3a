"""GPIO pins: what a pin name means, and the one gpiozero pin factory every device shares.

A pin is written as gpiozero writes it: ``17``, ``"GPIO17"`` or ``"BCM17"`` (Broadcom
numbers) or ``"BOARD11"`` / ``"J8:11"`` (the 40-pin header's physical numbering). Every
name is resolved to its Broadcom number when the config loads, so ``17`` and ``"BOARD11"``
are seen to be the same pin, and a power pin or a pin the header does not have is refused
there, not when a command arrives.

Everything physical is behind :class:`SharedPins`: gpiozero's own factory on a Raspberry
Pi (or the one ``gpio.pin_factory`` names), ``MockFactory`` elsewhere and in tests. The
executors and the voice way in (button, LED) take the same one, so gpiozero's own pin
reservations cover them all.
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import threading
from pathlib import Path
from typing import Any

from appliance.errors import ConfigError, GpioError

log = logging.getLogger(__name__)

# The 40-pin header (every Raspberry Pi since the B+): physical pin -> Broadcom GPIO number,
# or what else the pin is.
HEADER: dict[int, int | str] = {
    1: "3V3", 2: "5V", 3: 2, 4: "5V", 5: 3, 6: "GND", 7: 4, 8: 14, 9: "GND", 10: 15,
    11: 17, 12: 18, 13: 27, 14: "GND", 15: 22, 16: 23, 17: "3V3", 18: 24, 19: 10, 20: "GND",
    21: 9, 22: 25, 23: 11, 24: 8, 25: "GND", 26: 7, 27: 0, 28: 1, 29: 5, 30: "GND",
    31: 6, 32: 12, 33: 13, 34: "GND", 35: 19, 36: 16, 37: 26, 38: 20, 39: "GND", 40: 21,
}
GPIO_COUNT = 28  # GPIO0..GPIO27 reach the header
_BCM = re.compile(r"^(?:GPIO|BCM)?(\d{1,3})$", re.IGNORECASE)
_PHYSICAL = re.compile(r"^(?:BOARD|J8:)(\d{1,3})$", re.IGNORECASE)


def bcm(spec: int | str) -> int:
    """The Broadcom number of a pin name; :class:`ConfigError` for one that is no GPIO."""
    if isinstance(spec, bool):
        raise ConfigError(f"{spec!r} is not a pin")
    text = str(spec).strip()
    m = _BCM.match(text)
    if m:
        n = int(m.group(1))
        if n >= GPIO_COUNT:
            raise ConfigError(f"pin {spec!r}: there is no GPIO{n} on the header "
                              f"(GPIO0 to GPIO{GPIO_COUNT - 1})")
        return n
    m = _PHYSICAL.match(text)
    if m:
        what = HEADER.get(int(m.group(1)))
        if what is None:
            raise ConfigError(f"pin {spec!r}: the header has pins 1 to 40")
        if isinstance(what, str):
            raise ConfigError(f"pin {spec!r} is a {what} pin, not a GPIO")
        return what
    raise ConfigError(f"pin {spec!r} is not a pin name (17, 'GPIO17', 'BCM17', 'BOARD11' "
                      "or 'J8:11')")


def is_raspberry_pi() -> bool:
    try:
        return "raspberry pi" in Path("/proc/device-tree/model").read_text().lower()
    except OSError:
        return False


def make_pin_factory(name: str | None) -> Any:
    """gpiozero's own choice on a Pi (or as $GPIOZERO_PIN_FACTORY says), else MockFactory."""
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


class SharedPins:
    """The one pin factory of the process, made on first use (a dry run never makes it)."""

    def __init__(self, name: str | None = None, *, factory: Any = None) -> None:
        self._name = name
        self._factory = factory
        self._lock = threading.Lock()

    @property
    def factory(self) -> Any:
        with self._lock:
            if self._factory is None:
                self._factory = make_pin_factory(self._name)
            return self._factory
