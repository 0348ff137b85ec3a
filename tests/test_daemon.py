"""The daemon over a real mosquitto: topics, bad input, confirmation, reconnect, systemd."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from .broker import Broker
from .conftest import ROOT
from .daemon_harness import Client, Daemon, Recorder, write_config

pytestmark = pytest.mark.model  # the daemon loads the model before READY=1


@pytest.fixture
def stack(tmp_path: Path, broker: Broker) -> Iterator[tuple[Daemon, Client, Recorder]]:
    recorder = Recorder()
    config = write_config(tmp_path, broker, recorder)
    client = Client(broker)
    daemon = Daemon(config, tmp_path)
    daemon.start()
    yield daemon, client, recorder
    daemon.stop()
    client.close()
    recorder.close()


def call(cid: str, name: str, **arguments: object) -> str:
    return json.dumps({"id": cid, "call": {"name": name, "arguments": arguments}})


def test_systemd_notifications(stack: tuple[Daemon, Client, Recorder]) -> None:
    daemon, _, _ = stack
    # READY=1 came with a STATUS line (start() waited for it); the watchdog keeps coming.
    daemon.wait_notice("WATCHDOG=1", timeout=5)
    daemon.wait_notice("WATCHDOG=1", timeout=5)
    assert daemon.wait_notice("STATUS=", timeout=5)


def test_status_discovery_and_a_direct_call(stack: tuple[Daemon, Client, Recorder]) -> None:
    _, client, recorder = stack
    client.send(call("c1", "record", tag="c1"))
    result = client.wait_result("c1")[0]
    assert result["ok"] and result["call"] == {"name": "record", "arguments": {"tag": "c1"}}
    assert {"id", "text", "call", "ok", "result", "ms"} <= result.keys()
    assert recorder.counts["c1"] == 1
    assert b"online" in client.topic("status")
    # (Live subscribers get retained messages with the retain flag cleared.)
    configs = [t for t, _, _ in client.messages if t.startswith("homeassistant/")
               and t.endswith("/config")]
    assert any("/button/" in t for t in configs) and any("/sensor/" in t for t in configs)
    assert json.loads(client.topic("event/call")[-1])["call"]["name"] == "record"


def test_a_seen_id_is_answered_again_not_run_again(stack: tuple[Daemon, Client,
                                                                Recorder]) -> None:
    _, client, recorder = stack
    client.send(call("dup", "record", tag="dup"))
    client.wait_result("dup")
    client.send(call("dup", "record", tag="dup"))
    results = client.wait_result("dup", count=2)
    assert results[0] == results[1]
    assert recorder.counts["dup"] == 1


@pytest.mark.parametrize("payload,error", [
    (json.dumps({"id": "b1", "call": {"name": "launch", "arguments": {}}}), "unknown tool"),
    (json.dumps({"id": "b2", "call": {"name": "set_brightness",
                                      "arguments": {"room": "kitchen", "percent": 900}}}),
     "percent"),
    (json.dumps({"id": "b3", "call": "set_fan"}), '"call" must be'),
    (json.dumps({"id": "b4", "text": "a", "call": {"name": "x"}}), "exactly one"),
    (json.dumps({"id": "b5", "text": "x" * 1_100_000}), "too large"),
])
def test_bad_commands_get_error_results(stack: tuple[Daemon, Client, Recorder], payload: str,
                                        error: str) -> None:
    _, client, _ = stack
    cid = "b5" if len(payload) > 1000 else json.loads(payload)["id"]
    client.send(payload)
    result = client.wait_result(cid)[0]
    assert not result["ok"] and error in result["error"]


def test_garbage_does_not_stop_the_daemon(stack: tuple[Daemon, Client, Recorder]) -> None:
    _, client, _ = stack
    for junk in (b"\xff\xfe\x00", b"{not json", b"[]", b"", b"{}" * 10):
        client.send(junk)
    client.send(call("after", "record", tag="after"))
    assert client.wait_result("after")[0]["ok"]
    assert client.topic("event/error")


def test_confirmation_over_mqtt(stack: tuple[Daemon, Client, Recorder]) -> None:
    _, client, _ = stack
    client.send(call("g1", "garage_door", action="open"))
    first = client.wait_result("g1")[0]
    assert not first["ok"] and first["result"]["pending_confirmation"]
    client.send(json.dumps({"id": "g1"}), topic="confirm")  # the id alone confirms nothing
    client.send(json.dumps({"id": "g1", "token": "0" * 16}), topic="confirm")
    token = first["result"]["pending_confirmation"]
    client.send(json.dumps({"id": "g1", "token": token}), topic="confirm")
    second = client.wait_result("g1", count=2)[1]
    assert second["ok"] and "pulsed" in second["result"]["done"]
    assert second["call"] == {"name": "garage_door", "arguments": {"action": "open"}}
    errors = [json.loads(e)["error"] for e in client.topic("event/error")]
    assert any("token" in e for e in errors) and any("nothing waits" in e for e in errors)


def test_listen_without_audio_says_so(stack: tuple[Daemon, Client, Recorder]) -> None:
    _, client, _ = stack
    client.send(b"listen", topic="listen")
    deadline = time.monotonic() + 10
    while not client.topic("event/error") and time.monotonic() < deadline:
        time.sleep(0.05)
    assert b"not available" in client.topic("event/error")[-1]


def test_text_command_through_the_model(stack: tuple[Daemon, Client, Recorder]) -> None:
    _, client, _ = stack
    client.send(json.dumps({"id": "t1", "text": "switch the fan to high"}))
    result = client.wait_result("t1", timeout=120)[0]
    assert result["text"] == "switch the fan to high"
    assert result["call"] is None or result["call"]["name"] in {
        "set_fan", "set_light", "set_brightness", "set_thermostat", "garage_door", "lock_door",
        "start_timer", "get_weather", "play_music"}
    client.send("plain text without an id: turn on the hallway light")
    deadline = time.monotonic() + 120
    while len(client.results()) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any(r["text"].startswith("plain text") for r in client.results())


def test_broker_restart_restores_status_subscriptions_discovery(
        stack: tuple[Daemon, Client, Recorder], broker: Broker) -> None:
    _, client, recorder = stack
    client.send(call("r1", "record", tag="r1"))
    client.wait_result("r1")
    before = len(client.topic("status"))
    broker.restart()
    time.sleep(4)  # both sides reconnect with backoff
    client.send(call("r2", "record", tag="r2"))
    assert client.wait_result("r2", timeout=60)[0]["ok"]
    assert len(client.topic("status")) > before
    assert recorder.counts["r2"] == 1
    # Home Assistant restarting asks for discovery again.
    n = sum(1 for t, _, _ in client.messages if t.startswith("homeassistant/"))
    client.c.publish("homeassistant/status", "online", qos=1).wait_for_publish(5)
    time.sleep(1)
    assert sum(1 for t, _, _ in client.messages if t.startswith("homeassistant/")) > n


def test_unit_file_verifies_and_is_hardened(tmp_path: Path) -> None:
    if not shutil.which("systemd-analyze"):
        pytest.fail("systemd-analyze is missing (apt-get install systemd)")
    unit = tmp_path / "appliance.service"
    unit.write_text((ROOT / "systemd" / "appliance.service").read_text().replace(
        "/opt/appliance/current/venv/bin/appliance", "/bin/true"))
    verify = subprocess.run(["systemd-analyze", "verify", "--recursive-errors=no", str(unit)],
                            capture_output=True, text=True, check=False)
    assert verify.returncode == 0, verify.stderr
    security = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(unit)],
                              capture_output=True, text=True, check=False)
    line = next(x for x in security.stdout.splitlines() if "Overall exposure level" in x)
    exposure = float(line.split(":")[1].split()[0])
    assert exposure <= 3.5, line


def test_a_slow_action_does_not_hold_up_the_next_command(tmp_path: Path,
                                                         broker: Broker) -> None:
    recorder = Recorder(slow={"slow": 3.0})
    config = write_config(tmp_path, broker, recorder)
    client = Client(broker)
    daemon = Daemon(config, tmp_path)
    daemon.start()
    try:
        client.send(call("slow", "record", tag="slow"))
        time.sleep(0.3)
        client.send(call("quick", "record", tag="quick"))
        client.wait_result("slow", timeout=30)
        order = [r["id"] for r in client.results()]
        assert order.index("quick") < order.index("slow")
    finally:
        daemon.stop()
        client.close()
        recorder.close()


def test_logs_go_to_the_journal_under_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from appliance import logs

    monkeypatch.delenv("INVOCATION_ID", raising=False)
    monkeypatch.delenv("JOURNAL_STREAM", raising=False)
    assert logs.setup(logging.INFO) == "stderr"
    monkeypatch.setenv("INVOCATION_ID", "0123456789abcdef")
    assert logs.setup(logging.INFO) == "journal"  # systemd-python is installed by tools/setup
    logging.getLogger().handlers.clear()


def test_poison_payloads_never_make_it_deaf(stack: tuple[Daemon, Client, Recorder]) -> None:
    """Each payload that once raised out of the accept path, then a command that must be
    answered: more than mosquitto's in-flight window of them."""
    from .test_core import POISON

    _, client, recorder = stack
    for round_ in range(2):
        for i, payload in enumerate(POISON):
            client.send(payload)
            tag = f"after-{round_}-{i}"
            client.send(call(tag, "record", tag=tag))
            assert client.wait_result(tag, timeout=30)[0]["ok"], payload[:60]
    assert recorder.counts["after-1-0"] == 1
    errors = [json.loads(r) for r in client.topic("event/error")]
    assert any("not valid Unicode" in e.get("error", "") for e in errors)
    assert any("finite" in e.get("error", "") for e in errors)


def test_a_retained_command_is_never_run_again(stack: tuple[Daemon, Client, Recorder]) -> None:
    daemon, client, recorder = stack
    client.c.publish(client.prefix + "command", call("kept", "record", tag="kept"), qos=1,
                     retain=True).wait_for_publish(5)
    client.wait_result("kept")  # delivered live: an ordinary command, run once
    for n in range(2):  # every start subscribes again, and the broker sends what it retains
        daemon.restart()
        client.send(call(f"probe{n}", "record", tag=f"probe{n}"))
        client.wait_result(f"probe{n}")
    assert recorder.counts["kept"] == 1
    assert any(b"retained command is never run" in e for e in client.topic("event/error"))
    client.c.publish(client.prefix + "command", b"", qos=1, retain=True).wait_for_publish(5)
