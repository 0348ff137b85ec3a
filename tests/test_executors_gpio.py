"""GPIO actions on gpiozero's MockFactory pins: states recorded by the pins themselves."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero import OutputDevice
from gpiozero.pins.mock import MockFactory, MockPWMPin

from appliance.config import Config, load_config, load_yaml, parse_config
from appliance.errors import ConfigError
from appliance.executors.gpio import GpioExecutor
from appliance.executors.pins import SharedPins, make_pin_factory
from appliance.messages import ToolCall

from .acting import Acts
from .conftest import HOME_YAML


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def _tool(raw: dict[str, Any], name: str) -> dict[str, Any]:
    tool: dict[str, Any] = next(t for t in raw["tools"] if t["name"] == name)
    return tool


def raw_home() -> dict[str, Any]:
    raw: dict[str, Any] = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    return raw


def home(factory: MockFactory, config: Config | None = None) -> Acts:
    return Acts(config or load_config(HOME_YAML),
                                  executors={"gpio": GpioExecutor(SharedPins(factory=factory))})


def states(factory: MockFactory, pin: int) -> list[float]:
    return [s.state for s in factory.pin(pin).states]


def test_light_pin_is_chosen_by_the_room(factory: MockFactory) -> None:
    d = home(factory)
    r = d.execute(ToolCall("set_light", {"room": "kitchen", "state": "on"}))
    assert r.ok and r.done == "switched GPIO17 on" and r.value is True
    d.execute(ToolCall("set_light", {"room": "living room", "state": "on"}))
    d.execute(ToolCall("set_light", {"room": "kitchen", "state": "off"}))
    factory.pin(17).assert_states([False, True, False])
    factory.pin(27).assert_states([False, True])
    assert 22 not in factory.pins  # the bedroom was never touched
    d.close()


def test_devices_are_made_once_and_reused(factory: MockFactory) -> None:
    d = home(factory)
    for state in ["on", "off", "on", "on"]:
        assert d.execute(ToolCall("set_light", {"room": "hallway", "state": state})).ok
    gpio = d.executor("gpio")
    assert isinstance(gpio, GpioExecutor) and len(gpio._devices) == 1
    factory.pin(24).assert_states([False, True, False, True])
    d.close()
    assert gpio._devices == {}


def test_brightness_percent_is_a_pwm_duty_cycle(factory: MockFactory) -> None:
    d = home(factory)
    for percent in [30, 100, 0]:
        r = d.execute(ToolCall("set_brightness", {"room": "bedroom", "percent": percent}))
        assert r.ok, r.error
    assert r.done == "set GPIO18 PWM duty 0.00"
    factory.pin(18).assert_states([0, 0.3, 1.0, 0])
    assert factory.pin(18).frequency == 100
    d.close()


def test_fan_speed_maps_to_a_duty_cycle(factory: MockFactory) -> None:
    d = home(factory)
    for speed in ["low", "high", "off"]:
        assert d.execute(ToolCall("set_fan", {"speed": speed})).ok
    factory.pin(5).assert_states([0, 0.33, 1.0, 0])
    d.close()


def test_garage_door_pulses_only_after_confirmation(factory: MockFactory) -> None:
    d = home(factory)
    pending = d.execute(ToolCall("garage_door", {"action": "open"}))
    assert not pending.ok and pending.pending_confirmation
    assert 6 not in factory.pins  # nothing happened yet
    done = d.confirm(pending.pending_confirmation)
    assert done.ok and done.done == "pulsed GPIO6 for 500 ms"
    factory.pin(6).assert_states([False, True, False])
    # The pin's own record: the button was held for (at least) the configured time.
    assert factory.pin(6).states[-1].timestamp >= 0.49
    assert not d.confirm(pending.pending_confirmation).ok  # a token works once
    factory.pin(6).assert_states([False, True, False])
    d.close()


def test_garage_door_with_yes_pulses_at_once(factory: MockFactory) -> None:
    d = home(factory)
    assert d.execute(ToolCall("garage_door", {"action": "close"}), confirmed=True).ok
    factory.pin(6).assert_states([False, True, False])
    d.close()


@pytest.mark.parametrize(("pin", "message"), [
    (999, "no GPIO999"), ("NOPE7", "not a pin name"), (-1, "not a pin name"),
    ("GPIO99", "no GPIO99"), ("BOARD2", "5V pin"), ("BOARD41", "pins 1 to 40"),
])
def test_an_invalid_pin_is_refused_when_the_config_loads(pin: object, message: str) -> None:
    raw = raw_home()
    raw["tools"][0]["action"]["pins"]["kitchen"] = pin
    where = r"t\.yaml: tools\[0\]\.action\.pins\.kitchen: "
    with pytest.raises(ConfigError, match=where + f".*{message}"):
        parse_config(raw, source="t.yaml")


def test_a_pin_in_use_elsewhere_is_an_error_result(factory: MockFactory) -> None:
    squatter = OutputDevice(17, pin_factory=factory)  # e.g. another driver holds the pin
    d = home(factory)
    r = d.execute(ToolCall("set_light", {"room": "kitchen", "state": "on"}))
    assert not r.ok and "set_light" in (r.error or "") and "pin 17" in (r.error or "")
    assert "in use" in (r.error or "").lower()
    squatter.close()
    d.close()


@pytest.mark.parametrize(("tool", "key", "pin", "claimed_by"), [
    ("set_brightness", "pins.kitchen", 17, "tools[0].action.pins.kitchen"),  # on a relay's pin
    ("set_brightness", "pins.kitchen", "BOARD11", "tools[0].action.pins.kitchen"),  # by header
    ("set_light", "pins.garage", 6, None),                      # a light on the door's pin
    ("set_light", "pins.garage", 17, "tools[0].action.pins.kitchen"),  # two rooms on one pin
])
def test_a_pin_used_twice_is_refused_when_the_config_loads(tool: str, key: str, pin: object,
                                                           claimed_by: str | None) -> None:
    raw = raw_home()
    _tool(raw, tool)["action"]["pins"][key.split(".")[1]] = pin
    with pytest.raises(ConfigError, match=r"GPIO(17|6) is already used by") as err:
        parse_config(raw, source="t.yaml")
    assert claimed_by is None or claimed_by in str(err.value)


def test_dry_run_touches_no_pin(factory: MockFactory) -> None:
    d = home(factory)
    r = d.execute(ToolCall("set_light", {"room": "garage", "state": "on"}), dry_run=True)
    assert r.ok and r.done == "would switch GPIO25 on"
    r = d.execute(ToolCall("garage_door", {"action": "open"}), dry_run=True)
    assert r.ok and r.done == "would pulse GPIO6 for 500 ms (after confirmation)"
    assert not r.pending_confirmation
    assert not factory.pins
    d.close()


def test_invalid_arguments_never_reach_a_pin(factory: MockFactory) -> None:
    d = home(factory)
    r = d.execute(ToolCall("set_brightness", {"room": "kitchen", "percent": 400}))
    assert not r.ok and "percent" in (r.error or "")
    r = d.execute(ToolCall("set_light", {"room": "attic", "state": "on"}))
    assert not r.ok and "attic" in (r.error or "")
    assert not factory.pins
    d.close()


def test_a_duty_out_of_range_is_an_error(factory: MockFactory) -> None:
    raw = raw_home()
    dimmer = _tool(raw, "set_brightness")["action"]
    dimmer["duty"] = "{{ percent }}"  # a mistake: 0..100 given as a duty
    d = home(factory, parse_config(raw, source="t.yaml"))
    r = d.execute(ToolCall("set_brightness", {"room": "kitchen", "percent": 50}))
    assert not r.ok and "set_brightness" in (r.error or "") and "0..1" in (r.error or "")
    dimmer.pop("duty")
    dimmer["percent"] = "{{ percent }}"  # the right way to say it
    d = home(factory, parse_config(raw, source="t.yaml"))
    assert d.execute(ToolCall("set_brightness", {"room": "kitchen", "percent": 50})).ok
    factory.pin(12).assert_states([0, 0.5])
    d.close()


def test_a_value_that_is_neither_on_nor_off_is_an_error(factory: MockFactory) -> None:
    raw = raw_home()
    raw["tools"][0]["action"]["value"] = "{{ room }}"
    d = home(factory, parse_config(raw, source="t.yaml"))
    r = d.execute(ToolCall("set_light", {"room": "kitchen", "state": "on"}))
    assert not r.ok and "neither on nor off" in (r.error or "")
    assert not factory.pins
    d.close()


def test_mock_factory_off_a_pi_with_a_log_line(caplog: pytest.LogCaptureFixture,
                                              monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GPIOZERO_PIN_FACTORY", raising=False)
    with caplog.at_level(logging.INFO, logger="appliance.executors.pins"):
        f = make_pin_factory(None)
    assert isinstance(f, MockFactory)
    assert "MockFactory" in caplog.text
    # The configured default (gpio.pin_factory: null) drives mock pins here, PWM included.
    d = Acts(load_config(HOME_YAML))
    assert d.execute(ToolCall("set_brightness", {"room": "hallway", "percent": 40})).ok
    d.close()
    f.reset()


def test_an_unknown_pin_factory_is_an_error_result() -> None:
    raw = raw_home()
    raw["gpio"] = {"pin_factory": "nosuchfactory"}
    d = Acts(parse_config(raw, source="t.yaml"))
    r = d.execute(ToolCall("set_light", {"room": "kitchen", "state": "on"}))
    assert not r.ok and "nosuchfactory" in (r.error or "")
    d.close()
