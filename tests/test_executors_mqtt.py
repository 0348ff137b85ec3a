"""MQTT actions against a real mosquitto: a subscriber sees what the executor publishes."""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from appliance.config import Config, load_yaml, parse_config
from appliance.executors.mqtt import MqttExecutor
from appliance.messages import ToolCall

from .acting import Acts
from .broker import Broker, free_port
from .conftest import HOME_YAML

Message = tuple[str, bytes, int, bool]  # topic, payload, qos, retain


class Subscriber:
    """A plain paho client subscribed to ``topic`` at QoS 2, collecting what arrives."""

    def __init__(self, broker: Broker, topic: str = "#"):
        self.messages: list[Message] = []
        self.client = paho.Client(CallbackAPIVersion.VERSION2)
        subscribed = threading.Event()
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe(topic, 2)
        self.client.on_subscribe = lambda c, u, mid, rc, p: subscribed.set()
        self.client.on_message = lambda c, u, m: self.messages.append(
            (m.topic, m.payload, m.qos, bool(m.retain)))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(10), "the test subscriber could not subscribe"

    def wait(self, n: int = 1, timeout: float = 10) -> list[Message]:
        deadline = time.monotonic() + timeout
        while len(self.messages) < n and time.monotonic() < deadline:
            time.sleep(0.02)
        return self.messages

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def config(broker: Broker | None, **mqtt: Any) -> Config:
    raw: dict[str, Any] = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    host, port = (broker.host, broker.port) if broker else ("127.0.0.1", free_port())
    raw["mqtt"] = {"host": host, "port": port, "connect_timeout_s": 2, **mqtt}
    return parse_config(raw, source="test.yaml")


def test_lock_and_thermostat_reach_a_subscriber(broker: Broker) -> None:
    sub = Subscriber(broker, "home/#")
    d = Acts(config(broker))
    r = d.execute(ToolCall("lock_door", {"door": "front", "action": "lock"}), confirmed=True)
    assert r.ok, r.error
    assert r.done == "published 'LOCK' to home/lock/front/set (qos 1)"
    r = d.execute(ToolCall("set_thermostat", {"temperature": 21.5, "unit": "celsius"}))
    assert r.ok, r.error
    msgs = sub.wait(2)
    assert ("home/lock/front/set", b"LOCK", 1, False) in msgs
    _, payload, qos, _ = next(m for m in msgs if m[0] == "home/thermostat/set")
    assert json.loads(payload) == {"temperature": 21.5, "unit": "celsius"} and qos == 1
    d.close()
    sub.close()


def test_retain_per_tool_a_late_subscriber_sees_the_thermostat(broker: Broker) -> None:
    d = Acts(config(broker))
    assert d.execute(ToolCall("set_thermostat", {"temperature": 68, "unit": "fahrenheit"})).ok
    assert d.execute(ToolCall("start_timer", {"minutes": 5, "label": "pasta"})).ok
    late = Subscriber(broker, "#")  # subscribes after both were published
    msgs = late.wait(1)
    time.sleep(0.3)  # give a (wrongly) retained timer event the chance to arrive too
    assert [m[0] for m in late.messages] == ["home/thermostat/set"]
    assert msgs[0][3] is True  # delivered as a retained message
    d.close()
    late.close()


def test_timer_is_an_event_with_a_json_payload(broker: Broker) -> None:
    sub = Subscriber(broker, "appliance/#")
    d = Acts(config(broker))
    assert d.execute(ToolCall("start_timer", {"minutes": 5, "label": 'the "big" roast'})).ok
    assert d.execute(ToolCall("start_timer", {"minutes": 20})).ok
    msgs = sub.wait(2)
    assert [json.loads(m[1]) for m in msgs] == [{"minutes": 5, "label": 'the "big" roast'},
                                                {"minutes": 20, "label": "timer"}]
    assert {m[0] for m in msgs} == {"appliance/demo-home/event/timer"}
    d.close()
    sub.close()


def test_dry_run_publishes_nothing(broker: Broker) -> None:
    sub = Subscriber(broker)
    d = Acts(config(broker))
    r = d.execute(ToolCall("lock_door", {"door": "back", "action": "unlock"}), dry_run=True)
    assert r.ok and r.done.startswith("would publish 'UNLOCK' to home/lock/back/set (qos 1)")
    assert r.done.endswith("(after confirmation)")
    time.sleep(0.3)
    assert sub.messages == []
    d.close()
    sub.close()


def test_a_broker_that_is_down_is_an_error_after_a_bounded_wait() -> None:
    d = Acts(config(None, connect_timeout_s=0.5))
    t0 = time.monotonic()
    r = d.execute(ToolCall("start_timer", {"minutes": 5}))
    assert not r.ok and "start_timer" in (r.error or "") and "did not answer" in (r.error or "")
    # Bounded: the configured 0.5 s, with a very wide margin for a loaded machine.
    assert time.monotonic() - t0 < 30
    d.close()


def test_the_executor_reconnects_after_a_broker_restart(broker: Broker) -> None:
    d = Acts(config(broker))
    assert d.execute(ToolCall("start_timer", {"minutes": 1})).ok
    broker.stop()
    r = d.execute(ToolCall("start_timer", {"minutes": 2}))
    assert not r.ok  # the appliance goes on with an error result
    broker.start()
    sub = Subscriber(broker, "appliance/#")
    r = d.execute(ToolCall("start_timer", {"minutes": 3}))
    assert r.ok, r.error
    assert json.loads(sub.wait(1)[0][1])["minutes"] == 3
    d.close()
    sub.close()


def test_an_argument_cannot_add_topic_levels_or_wildcards(broker: Broker) -> None:
    raw: dict[str, Any] = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    timer = next(t for t in raw["tools"] if t["name"] == "start_timer")
    timer["action"]["topic"] = "home/timer/{{ label }}"
    raw["mqtt"] = {"host": broker.host, "port": broker.port}
    sub = Subscriber(broker)
    d = Acts(parse_config(raw, source="t.yaml"))
    for label in ["../lock/front/set", "a/b", "#", "+", "x\0y", ""]:
        r = d.execute(ToolCall("start_timer", {"minutes": 1, "label": label}))
        assert not r.ok and "start_timer" in (r.error or ""), label
    assert d.execute(ToolCall("start_timer", {"minutes": 1, "label": "tea"})).ok
    assert [m[0] for m in sub.wait(1)] == ["home/timer/tea"]
    d.close()
    sub.close()


def password_broker(tmp_path: Path, user: str, password: str) -> Broker:
    b = Broker()
    pwfile = b.workdir / "passwd"
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(pwfile), user, password], check=True,
                   capture_output=True)
    pwfile.chmod(0o644)  # mosquitto drops to its own user when started as root
    b.conf.write_text(b.conf.read_text().replace(
        "allow_anonymous true", f"allow_anonymous false\npassword_file {pwfile}"))
    b.start()
    return b


def test_password_from_a_file_or_a_systemd_credential(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    b = password_broker(tmp_path, "appliance", "s3cret")
    try:
        sub_client = Subscriber.__new__(Subscriber)  # the subscriber needs the password too
        sub_client.messages = []
        sub_client.client = paho.Client(CallbackAPIVersion.VERSION2)
        sub_client.client.username_pw_set("appliance", "s3cret")
        subscribed = threading.Event()
        sub_client.client.on_connect = lambda c, u, f, rc, p: c.subscribe("appliance/#", 1)
        sub_client.client.on_subscribe = lambda c, u, mid, rc, p: subscribed.set()
        sub_client.client.on_message = lambda c, u, m: sub_client.messages.append(
            (m.topic, m.payload, m.qos, bool(m.retain)))
        sub_client.client.connect(b.host, b.port)
        sub_client.client.loop_start()
        assert subscribed.wait(10)

        (tmp_path / "mqtt.pw").write_text("s3cret\n")
        d = Acts(config(b, username="appliance",
                                          password_file=str(tmp_path / "mqtt.pw")))
        assert d.execute(ToolCall("start_timer", {"minutes": 1})).ok
        d.close()

        creds = tmp_path / "creds"
        creds.mkdir()
        (creds / "mqtt-password").write_text("s3cret")
        monkeypatch.setenv("CREDENTIALS_DIRECTORY", str(creds))
        d = Acts(config(b, username="appliance",
                                          password_credential="mqtt-password"))
        assert d.execute(ToolCall("start_timer", {"minutes": 2})).ok
        d.close()
        assert len(sub_client.wait(2)) == 2

        # A wrong password: refused, said so, no hang.
        (tmp_path / "mqtt.pw").write_text("wrong\n")
        d = Acts(config(b, username="appliance",
                                          password_file=str(tmp_path / "mqtt.pw")))
        r = d.execute(ToolCall("start_timer", {"minutes": 3}))
        assert not r.ok and "refused" in (r.error or ""), r.error
        d.close()
        sub_client.close()
    finally:
        b.remove()


def test_a_missing_password_source_is_an_error_result(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CREDENTIALS_DIRECTORY", raising=False)
    d = Acts(config(None, username="u", password_credential="mqtt-password"))
    r = d.execute(ToolCall("start_timer", {"minutes": 1}))
    assert not r.ok and "CREDENTIALS_DIRECTORY" in (r.error or "")
    d.close()
    d = Acts(config(None, username="u",
                                      password_file=str(tmp_path / "missing")))
    r = d.execute(ToolCall("start_timer", {"minutes": 1}))
    assert not r.ok and "missing" in (r.error or "")
    d.close()


def test_the_config_has_no_place_for_a_password() -> None:
    from appliance.errors import ConfigError

    with pytest.raises(ConfigError, match="password"):
        config(None, password="s3cret")


def test_executor_close_is_safe_twice(broker: Broker) -> None:
    ex = MqttExecutor(config(broker).mqtt)
    ex.close()
    ex.close()


def test_only_what_enters_the_topic_must_be_a_topic_level(broker: Broker) -> None:
    """The timer's label goes into the payload, never the topic: any text is fine there."""
    raw: dict[str, Any] = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    raw["mqtt"] = {"host": broker.host, "port": broker.port}
    sub = Subscriber(broker)
    d = Acts(parse_config(raw, source="t.yaml"))
    labels = ["c/o pasta", "tea+biscuits", "#1 roast"]
    for label in labels:
        r = d.execute(ToolCall("start_timer", {"minutes": 1, "label": label}))
        assert r.ok, r.error
    got = [json.loads(m[1])["label"] for m in sub.wait(3)]
    assert got == labels
    d.close()
    sub.close()
