"""The dispatcher: kinds by name, strict action schemas, templates, confirmation, no crashes."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin

from appliance.config import load_config, load_yaml, parse_config
from appliance.errors import ConfigError
from appliance.executors import action_schemas
from appliance.executors.gpio import GpioExecutor
from appliance.executors.pins import SharedPins
from appliance.messages import ActionResult, ToolCall
from appliance.tools import Tool

from .acting import Acts
from .conftest import HOME_YAML
from .httpserver import LoopbackServer, Reply


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def raw_home() -> dict[str, Any]:
    raw: dict[str, Any] = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    return raw


def tool_index(raw: dict[str, Any], name: str) -> int:
    return next(i for i, t in enumerate(raw["tools"]) if t["name"] == name)


# -- the demo home ----------------------------------------------------------------------

EXPECTED = {"set_light": "gpio", "set_brightness": "gpio", "set_fan": "gpio",
            "garage_door": "gpio", "lock_door": "mqtt", "set_thermostat": "mqtt",
            "start_timer": "mqtt", "cancel_timer": "mqtt", "get_weather": "http",
            "play_music": "http", "get_light_state": "http"}


def test_every_home_tool_is_bound_to_a_real_action() -> None:
    config = load_config(HOME_YAML)
    assert {t.name: t.action.kind if t.action else None for t in config.tools} == EXPECTED
    assert {t.name for t in config.tools if t.confirm} == {"garage_door", "lock_door"}
    assert config.http.allowed_hosts and config.http.max_response_bytes > 0


def test_every_home_example_dry_runs_to_a_pin_topic_or_url(factory: MockFactory) -> None:
    config = load_config(HOME_YAML)
    d = Acts(config, executors={"gpio": GpioExecutor(SharedPins(factory=factory))})
    for tool in config.tools:
        for example in tool.examples:
            r = d.execute(ToolCall(tool.name, example.arguments), dry_run=True)
            assert r.ok, (tool.name, r.error)
            assert r.done.startswith("would "), r.done
            marker = {"gpio": "GPIO", "mqtt": " to ", "http": "://"}[EXPECTED[tool.name]]
            assert marker in r.done, r.done
    assert not factory.pins
    d.close()


# -- strict action schemas ------------------------------------------------------------------


@pytest.mark.parametrize("tool,key,value", [
    ("set_light", "colour", "red"),          # unknown key, gpio
    ("lock_door", "retian", True),            # unknown key (a typo), mqtt
    ("get_weather", "follow", True),          # unknown key, http
    ("get_weather", "password", "x"),
    ("set_light", "pulse_ms", 100),           # a pulse setting on an output
    ("garage_door", "duty", "0.5"),           # a PWM setting on a pulse
    ("set_brightness", "value", "on"),        # an output setting on PWM
    ("set_brightness", "percent", "{{ percent }}"),  # duty and percent both
    ("lock_door", "qos", 3),
    ("get_weather", "method", "TRACE"),
    ("get_weather", "url", "file:///etc/passwd"),
])
def test_action_blocks_are_strict(tool: str, key: str, value: Any) -> None:
    raw = raw_home()
    i = tool_index(raw, tool)
    raw["tools"][i]["action"][key] = value
    with pytest.raises(ConfigError, match=rf"t\.yaml: tools\[{i}\]\.action"):
        parse_config(raw, source="t.yaml")


def test_unknown_kind_is_a_config_error() -> None:
    raw = raw_home()
    raw["tools"][0]["action"] = {"kind": "zigbee"}
    with pytest.raises(ConfigError, match=r"tools\[0\]\.action\.kind.*zigbee"):
        parse_config(raw, source="t.yaml")


def test_a_template_that_names_no_parameter_is_a_config_error() -> None:
    raw = raw_home()
    i = tool_index(raw, "lock_door")
    raw["tools"][i]["action"]["payload"] = "{{ action }} {{ nope }}"
    with pytest.raises(ConfigError, match=rf"tools\[{i}\]\.action\.payload: .*uses nope"):
        parse_config(raw, source="t.yaml")


def test_a_template_that_does_not_parse_is_a_config_error() -> None:
    raw = raw_home()
    i = tool_index(raw, "lock_door")
    raw["tools"][i]["action"]["payload"] = "{{ action | upper "
    with pytest.raises(ConfigError, match=rf"tools\[{i}\]\.action\.payload: bad template"):
        parse_config(raw, source="t.yaml")


def test_action_schemas_cover_the_three_kinds() -> None:
    schemas = action_schemas()
    assert set(schemas) == {"gpio", "mqtt", "http"}
    assert all(s["additionalProperties"] is False for s in schemas.values())


# -- templates ------------------------------------------------------------------------------


def http_home(server: LoopbackServer, url: str, body: str | None = None) -> Acts:
    raw = raw_home()
    i = tool_index(raw, "play_music")
    raw["tools"][i]["action"]["url"] = url
    if body is not None:
        raw["tools"][i]["action"]["body"] = body
    raw["http"] = {"allowed_hosts": [server.host, "wttr.in", "127.0.0.1:8088"], "timeout_s": 2}
    return Acts(parse_config(raw, source="t.yaml"))


def test_a_template_that_fails_names_the_tool_and_sends_nothing() -> None:
    with LoopbackServer() as server:
        d = http_home(server, f"http://{server.host}/{{{{ query.missing }}}}")
        r = d.execute(ToolCall("play_music", {"query": "jazz"}))
        assert not r.ok and r.error and r.error.startswith("play_music url: template failed")
        d = http_home(server, f"http://{server.host}/play", body="{{ query + 1 }}")
        r = d.execute(ToolCall("play_music", {"query": "jazz"}))
        assert not r.ok and r.error and r.error.startswith("play_music body: template failed")
        assert server.requests == []


def test_the_sandbox_refuses_code_in_templates() -> None:
    with LoopbackServer() as server:
        d = http_home(server, f"http://{server.host}/play",
                      body="{{ query.__class__.__mro__[1].__subclasses__() }}")
        r = d.execute(ToolCall("play_music", {"query": "jazz"}))
        assert not r.ok and "template failed" in (r.error or "")
        d = http_home(server, f"http://{server.host}/play", body="{{ query.append(1) }}")
        assert not d.execute(ToolCall("play_music", {"query": "jazz"})).ok
        assert server.requests == []


def test_arguments_are_data_never_code() -> None:
    with LoopbackServer(Reply.json({})) as server:
        d = http_home(server, f"http://{server.host}/play", body="<{{ query }}>")
        sneaky = "{{ 7 * 7 }}{% for x in range(3) %}x{% endfor %}"
        assert d.execute(ToolCall("play_music", {"query": sneaky})).ok
        assert server.requests[-1].body == f"<{sneaky}>".encode()


# -- confirmation -----------------------------------------------------------------------


def test_confirmation_runs_the_call_once(factory: MockFactory) -> None:
    d = Acts(load_config(HOME_YAML),
                               executors={"gpio": GpioExecutor(SharedPins(factory=factory))})
    held = d.execute(ToolCall("garage_door", {"action": "open"}))
    assert not held.ok and held.error is None and held.pending_confirmation
    assert held.done == 'garage_door(action="open"): would pulse GPIO6 for 500 ms'
    done = d.confirm(held.pending_confirmation)
    assert done.ok and done.tool == "garage_door"
    again = d.confirm(held.pending_confirmation)
    assert not again.ok and "already used or expired" in (again.error or "")
    assert not d.confirm("not-a-token").ok
    factory.pin(6).assert_states([False, True, False])
    d.close()


def test_unconfirmed_calls_expire(factory: MockFactory) -> None:
    now = [0.0]
    config = load_config(HOME_YAML)
    d = Acts(config, executors={"gpio": GpioExecutor(SharedPins(factory=factory))},
             clock=lambda: now[0])
    first = d.execute(ToolCall("garage_door", {"action": "close"}))
    now[0] = config.daemon.confirm_timeout_s - 1
    second = d.execute(ToolCall("garage_door", {"action": "open"}))
    now[0] = config.daemon.confirm_timeout_s + 0.1  # the first has expired, the second not
    r = d.confirm(first.pending_confirmation or "")
    assert not r.ok and "expired" in (r.error or "")
    assert 6 not in factory.pins  # never pulsed
    assert d.confirm(second.pending_confirmation or "").ok
    factory.pin(6).assert_states([False, True, False])
    d.close()


def test_confirm_timeout_comes_from_the_config() -> None:
    raw = raw_home()
    raw["daemon"] = {"confirm_timeout_s": 7}
    d = Acts(parse_config(raw, source="t.yaml"))
    assert d.confirm_timeout_s == 7


def test_a_call_that_cannot_work_is_not_held() -> None:
    raw = raw_home()
    i = tool_index(raw, "lock_door")
    raw["tools"][i]["action"]["payload"] = "{{ action | upper }}{{ action + 1 }}"
    d = Acts(parse_config(raw, source="t.yaml"))
    r = d.execute(ToolCall("lock_door", {"door": "front", "action": "lock"}))
    assert not r.ok and not r.pending_confirmation and "template failed" in (r.error or "")


# -- never a crash --------------------------------------------------------------------------


class Broken:
    kind = "gpio"

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        raise ZeroDivisionError("a bug")

    def close(self) -> None:
        raise OSError("and another")


def test_an_executor_bug_is_an_error_result_not_a_crash() -> None:
    d = Acts(load_config(HOME_YAML), executors={"gpio": Broken()})
    r = d.execute(ToolCall("set_light", {"room": "kitchen", "state": "on"}))
    assert not r.ok and "set_light" in (r.error or "") and "a bug" in (r.error or "")
    d.close()  # a failing close is logged, not raised


@pytest.mark.parametrize("call", [
    ToolCall("launch_rocket", {}),
    ToolCall("set_light", {"room": "kitchen"}),
    ToolCall("set_brightness", {"room": "kitchen", "percent": "lots"}),
])
def test_bad_calls_are_error_results(call: ToolCall, factory: MockFactory) -> None:
    d = Acts(load_config(HOME_YAML),
                               executors={"gpio": GpioExecutor(SharedPins(factory=factory))})
    r = d.execute(call)
    assert not r.ok and r.error and r.tool == call.name
    assert not factory.pins
    d.close()
