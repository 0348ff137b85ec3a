"""Every executor driven for real: mock pins, a mosquitto broker, an HTTP server on loopback."""

from __future__ import annotations

import http.server
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from gpiozero.pins.mock import MockFactory, MockPWMPin
from paho.mqtt.enums import CallbackAPIVersion

from appliance.config import Config, load_config, parse_config
from appliance.executors import Dispatcher
from appliance.executors.gpio import GpioExecutor
from appliance.messages import ToolCall

from .broker import Broker, free_port
from .conftest import HOME_YAML


def load_raw() -> dict[str, Any]:
    from appliance.config import load_yaml

    raw: dict[str, Any] = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    return raw


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


def dispatcher_with(config: Config, factory: MockFactory) -> Dispatcher:
    d = Dispatcher.from_config(config)
    d._factories["gpio"] = lambda: GpioExecutor(factory=factory)
    return d


# -- GPIO ------------------------------------------------------------------------------


def test_light_pin_chosen_by_room(factory: MockFactory) -> None:
    d = dispatcher_with(load_config(HOME_YAML), factory)
    r = d.execute(ToolCall("set_light", {"room": "kitchen", "state": "on"}))
    assert r.ok and "GPIO17 on" in r.done
    assert factory.pin(17).state == 1
    assert factory.pin(27).state == 0  # the living room was not touched
    d.execute(ToolCall("set_light", {"room": "kitchen", "state": "off"}))
    assert [s.state for s in factory.pin(17).states] == [0, 1, 0]
    d.close()


def test_brightness_is_a_pwm_duty_cycle(factory: MockFactory) -> None:
    d = dispatcher_with(load_config(HOME_YAML), factory)
    assert d.execute(ToolCall("set_brightness", {"room": "bedroom", "percent": 30})).ok
    assert factory.pin(18).state == pytest.approx(0.3)
    d.execute(ToolCall("set_fan", {"speed": "medium"}))
    assert factory.pin(5).state == pytest.approx(0.66)
    d.close()


def test_garage_door_is_a_timed_pulse_after_confirmation(factory: MockFactory) -> None:
    d = dispatcher_with(load_config(HOME_YAML), factory)
    pending = d.execute(ToolCall("garage_door", {"action": "open"}))
    assert not pending.ok and pending.pending_confirmation
    assert len(factory.pin(6).states) == 0 or factory.pin(6).state == 0
    t0 = time.monotonic()
    done = d.confirm(pending.pending_confirmation)
    assert done.ok and "500 ms" in done.done
    states = factory.pin(6).states
    assert [s.state for s in states][-2:] == [1, 0]
    assert states[-1].timestamp - states[-2].timestamp == pytest.approx(0.5, abs=0.15)
    assert time.monotonic() - t0 >= 0.45
    # A confirmation is used once.
    assert not d.confirm(pending.pending_confirmation).ok
    d.close()


def test_confirmations_expire(factory: MockFactory) -> None:
    now = [0.0]
    config = load_config(HOME_YAML)
    d = Dispatcher(config.tools, {"gpio": lambda: GpioExecutor(factory=factory)},
                   confirm_timeout_s=30, clock=lambda: now[0])
    pending = d.execute(ToolCall("garage_door", {"action": "close"}))
    now[0] = 31.0
    result = d.confirm(pending.pending_confirmation or "")
    assert not result.ok and "expired" in (result.error or "")
    assert len(factory.pin(6).states) <= 1  # never pulsed


def test_bad_pins_are_error_results(factory: MockFactory) -> None:
    raw = load_raw()
    raw["tools"][0]["action"]["pins"]["kitchen"] = 999
    d = dispatcher_with(parse_config(raw, source="t"), factory)
    r = d.execute(ToolCall("set_light", {"room": "kitchen", "state": "on"}))
    assert not r.ok and "999" in (r.error or "")
    # The same pin claimed by two kinds of device: in use.
    raw = load_raw()
    raw["tools"][1]["action"]["pins"]["kitchen"] = 17
    d = dispatcher_with(parse_config(raw, source="t"), factory)
    assert d.execute(ToolCall("set_light", {"room": "kitchen", "state": "on"})).ok
    r = d.execute(ToolCall("set_brightness", {"room": "kitchen", "percent": 50}))
    assert not r.ok and r.error
    d.close()


def test_dry_run_touches_nothing(factory: MockFactory) -> None:
    d = dispatcher_with(load_config(HOME_YAML), factory)
    r = d.execute(ToolCall("set_light", {"room": "garage", "state": "on"}), dry_run=True)
    assert r.ok and r.done.startswith("would")
    assert not factory.pins  # no device was even created
    d.close()


def test_invalid_arguments_never_reach_a_device(factory: MockFactory) -> None:
    d = dispatcher_with(load_config(HOME_YAML), factory)
    r = d.execute(ToolCall("set_brightness", {"room": "kitchen", "percent": 400}))
    assert not r.ok and "percent" in (r.error or "")
    assert not d.execute(ToolCall("launch_rocket", {})).ok
    assert not factory.pins


# -- MQTT ------------------------------------------------------------------------------


class Subscriber:
    def __init__(self, broker: Broker, topic: str):
        self.messages: list[tuple[str, bytes, bool]] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        ready = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: (c.subscribe(topic, 1), ready.set())
        self.client.on_message = lambda c, u, m: self.messages.append(
            (m.topic, m.payload, m.retain))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert ready.wait(5)
        time.sleep(0.2)

    def wait(self, n: int = 1, timeout: float = 5) -> list[tuple[str, bytes, bool]]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def mqtt_home(broker: Broker) -> Config:
    raw = load_raw()
    raw["mqtt"] = {"host": broker.host, "port": broker.port, "connect_timeout_s": 2}
    return parse_config(raw, source="t")


def test_mqtt_publish_seen_by_a_subscriber(broker: Broker) -> None:
    sub = Subscriber(broker, "home/#")
    d = Dispatcher.from_config(mqtt_home(broker))
    r = d.execute(ToolCall("lock_door", {"door": "front", "action": "lock"}), confirmed=True)
    assert r.ok, r.error
    r = d.execute(ToolCall("set_thermostat", {"temperature": 21.5, "unit": "celsius"}))
    assert r.ok, r.error
    msgs = sub.wait(2)
    assert ("home/lock/front/set", b"LOCK", False) in msgs
    thermo = next(m for m in msgs if m[0] == "home/thermostat/set")
    assert json.loads(thermo[1]) == {"temperature": 21.5, "unit": "celsius"}
    d.close()
    sub.close()


def test_mqtt_broker_down_is_an_error_after_a_bounded_wait(tmp_path: Path) -> None:
    raw = load_raw()
    raw["mqtt"] = {"host": "127.0.0.1", "port": free_port(), "connect_timeout_s": 1}
    d = Dispatcher.from_config(parse_config(raw, source="t"))
    t0 = time.monotonic()
    r = d.execute(ToolCall("start_timer", {"minutes": 5}))
    assert not r.ok and "did not answer" in (r.error or "")
    assert time.monotonic() - t0 < 5
    d.close()


# -- HTTP ------------------------------------------------------------------------------


class Handler(http.server.BaseHTTPRequestHandler):
    seen: list[tuple[str, str, bytes]] = []  # noqa: RUF012 - reset per test
    behaviour: dict[str, Any] = {}  # noqa: RUF012

    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        type(self).seen.append((self.command, self.path, body))
        mode = self.behaviour.get("mode", "json")
        if mode == "hang":
            time.sleep(3)
        if mode == "redirect":
            self.send_response(302)
            self.send_header("Location", self.behaviour["to"])
            self.end_headers()
            return
        if mode == "500":
            self.send_response(500)
            self.end_headers()
            return
        if mode == "huge":
            self.send_response(200)
            self.send_header("Content-Length", str(50_000_000))
            self.end_headers()
            chunk = b"x" * 65536
            try:
                for _ in range(50_000_000 // 65536):
                    self.wfile.write(chunk)
            except OSError:
                pass
            return
        data = json.dumps({"current_condition": [{"temp_C": "17"}]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    Handler.seen, Handler.behaviour = [], {}
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def http_home(host: str, **http: Any) -> Dispatcher:
    raw = load_raw()
    for tool in raw["tools"]:
        if tool["name"] == "get_weather":
            tool["action"]["url"] = "http://" + host + "/weather/{{ location }}?format=j1"
        if tool["name"] == "play_music":
            tool["action"]["url"] = "http://" + host + "/play"
    raw["http"] = {"allowed_hosts": [host], "timeout_s": 1, "max_response_bytes": 100_000,
                   **http}
    return Dispatcher.from_config(parse_config(raw, source="t"))


def test_weather_value_comes_back(server: str) -> None:
    d = http_home(server)
    r = d.execute(ToolCall("get_weather", {"location": "paris"}))
    assert r.ok and r.value == "17"
    assert Handler.seen[-1][:2] == ("GET", "/weather/paris?format=j1")
    r = d.execute(ToolCall("play_music", {"query": 'miles "kind of blue"'}))
    assert r.ok and json.loads(Handler.seen[-1][2]) == {"query": 'miles "kind of blue"'}


@pytest.mark.parametrize("location", ["../admin", "x/../../etc?q=1#f", "evil.com@127.0.0.2",
                                      "//evil.com/", "paris?format=x&a=b"])
def test_arguments_cannot_change_the_url(server: str, location: str) -> None:
    d = http_home(server)
    d.execute(ToolCall("get_weather", {"location": location}))
    _, path, _ = Handler.seen[-1]
    assert path.startswith("/weather/") and path.endswith("?format=j1")
    assert "/" not in path[len("/weather/"):-len("?format=j1")]


def test_redirect_off_the_allowed_host_is_refused(server: str) -> None:
    other = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=other.serve_forever, daemon=True).start()
    try:
        Handler.behaviour = {"mode": "redirect",
                             "to": f"http://127.0.0.1:{other.server_address[1]}/steal"}
        r = http_home(server).execute(ToolCall("get_weather", {"location": "paris"}))
        assert not r.ok and "not in http.allowed_hosts" in (r.error or "")
        assert all(p != "/steal" for _, p, _ in Handler.seen)
    finally:
        other.shutdown()


def test_disallowed_host_in_config_is_never_contacted(server: str) -> None:
    d = http_home("127.0.0.1:1")  # allow-list does not include the real server
    raw_url_tool = d.toolbox["get_weather"]
    assert "127.0.0.1:1" in str(raw_url_tool.action)
    r = http_home(server, allowed_hosts=["example.org"]).execute(
        ToolCall("get_weather", {"location": "x"}))
    assert not r.ok and "not in http.allowed_hosts" in (r.error or "")
    assert Handler.seen == []


@pytest.mark.parametrize("mode,message", [("500", "answered 500"), ("hang", "timed out"),
                                          ("huge", "larger than 100000 bytes")])
def test_server_faults_are_error_results(server: str, mode: str, message: str) -> None:
    Handler.behaviour = {"mode": mode}
    t0 = time.monotonic()
    r = http_home(server).execute(ToolCall("get_weather", {"location": "paris"}))
    assert not r.ok and message in (r.error or ""), r
    assert time.monotonic() - t0 < 5


def test_template_failure_names_the_tool(server: str) -> None:
    raw = load_raw()
    raw["tools"][7]["action"]["url"] = "http://" + server + "/{{ nope.missing }}"
    raw["http"] = {"allowed_hosts": [server]}
    r = Dispatcher.from_config(parse_config(raw, source="t")).execute(
        ToolCall("get_weather", {"location": "x"}))
    assert not r.ok and "get_weather" in (r.error or "") and "template" in (r.error or "")
    assert Handler.seen == []


def test_sandbox_blocks_code_in_templates(server: str) -> None:
    raw = load_raw()
    raw["tools"][7]["action"]["url"] = ("http://" + server +
                                        "/{{ location.__class__.__mro__[1].__subclasses__() }}")
    raw["http"] = {"allowed_hosts": [server]}
    r = Dispatcher.from_config(parse_config(raw, source="t")).execute(
        ToolCall("get_weather", {"location": "x"}))
    assert not r.ok and "template" in (r.error or "")


def test_unknown_action_keys_are_config_errors() -> None:
    from appliance.errors import ConfigError

    raw = load_raw()
    raw["tools"][0]["action"]["colour"] = "red"
    with pytest.raises(ConfigError, match=r"tools\[0\]\.action"):
        parse_config(raw, source="t")
