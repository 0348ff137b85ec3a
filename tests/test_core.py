"""The request core and the daemon's routing, journal and confirmation, without a broker
or the model: direct calls on gpiozero's mock pins, a real SQLite journal, and a link that
records what would be published."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.daemon.commands import parse_command
from appliance.daemon.journal import Journal
from appliance.daemon.link import Inbound
from appliance.daemon.routes import MqttRoutes
from appliance.daemon.runner import INTERRUPTED, Runner
from appliance.daemon.topics import Topics
from appliance.executors.dispatch import Dispatcher
from appliance.executors.gpio import GpioExecutor
from appliance.executors.pins import SharedPins
from appliance.handler import RequestHandler
from appliance.messages import Outcome, Request, ToolCall
from appliance.settings import Config

from .conftest import HOME_YAML

TOPICS = Topics("appliance/test/")


class RecordingLink:
    """Stands where the MQTT link stands: records publishes, acks and subscriptions."""

    def __init__(self) -> None:
        self.connected = True
        self.sent: list[tuple[str, str, int, bool]] = []
        self.acked: list[int] = []
        self.subscribed: list[str] = []

    def publish(self, topic: str, payload: str, qos: int = 1, retain: bool = False) -> int:
        self.sent.append((topic, payload, qos, retain))
        return len(self.sent)

    def ack(self, message: Inbound) -> None:
        self.acked.append(message.mid)

    def subscribe(self, topics: list[str]) -> None:
        self.subscribed.extend(topics)

    def on(self, topic: str) -> list[str]:
        return [p for t, p, _, _ in self.sent if t == topic]

    def results(self) -> list[dict[str, object]]:
        return [json.loads(p) for p in self.on(TOPICS.result)]


def core_for(config: Config, factory: MockFactory, clock: list[float] | None = None
             ) -> RequestHandler:
    dispatcher = Dispatcher.from_config(
        config, executors={"gpio": GpioExecutor(SharedPins(factory=factory))})
    if clock is None:
        return RequestHandler.from_config(config, None, dispatcher=dispatcher)
    return RequestHandler.from_config(config, None, dispatcher=dispatcher,
                                      clock=lambda: clock[0])


def light(cid: str, room: str = "kitchen", state: str = "on") -> bytes:
    return json.dumps({"id": cid, "call": {"name": "set_light",
                                           "arguments": {"room": room, "state": state}}}).encode()


async def settle(runner: Runner) -> None:
    """Until every request the runner started has finished."""
    for _ in range(200):
        await asyncio.sleep(0.01)
        if not runner._tasks:
            return
    raise AssertionError("requests did not finish")


# -- the request core -----------------------------------------------------------------------


def test_one_request_one_outcome_that_knows_its_json(config: Config,
                                                     factory: MockFactory) -> None:
    core = core_for(config, factory)
    out = core.handle(Request("r1", "test", call=ToolCall("set_light", {"room": "garage",
                                                                        "state": "on"})))
    assert out.ok and out.call == ToolCall("set_light", {"room": "garage", "state": "on"})
    factory.pin(25).assert_states([False, True])
    data = out.to_dict()
    assert data["id"] == "r1" and data["ok"] and data["result"]["done"] == "switched GPIO25 on"
    bad = core.handle(Request("r2", "test", call=ToolCall("set_light", {"room": "attic",
                                                                        "state": "on"})))
    assert not bad.ok and "attic" in (bad.error or "") and bad.result is None
    text = core.handle(Request("r3", "test", text="turn on the light"))
    assert not text.ok and "no tool caller" in (text.error or "")
    unread = core.handle(Request("r4", "test", error="payload is not UTF-8"))
    assert unread.to_dict()["error"] == "payload is not UTF-8"
    core.close()


def test_confirmation_is_held_once_and_expires(config: Config, factory: MockFactory) -> None:
    now = [0.0]
    core = core_for(config, factory, now)
    door = ToolCall("garage_door", {"action": "open"})
    held = core.handle(Request("g1", "test", call=door))
    assert not held.ok and held.held and held.error is None and core.waiting() == 1
    assert 6 not in factory.pins
    other = core.handle(Request("g2", "test", call=door))
    now[0] = config.daemon.confirm_timeout_s + 0.1
    assert core.waiting() == 0  # both expired
    late = core.confirm("g1")
    assert not late.ok and "expired" in (late.error or "") and 6 not in factory.pins
    again = core.handle(Request("g3", "test", call=door))
    by_id = core.confirm("g3")
    assert by_id.ok and by_id.id == "g3" and by_id.call == door  # the answer names its call
    assert not core.confirm(token=again.held).ok  # once only
    assert not core.confirm(token=other.held).ok
    factory.pin(6).assert_states([False, True, False])
    core.close()


def test_a_dry_run_or_a_confirmed_request_is_not_held(config: Config,
                                                      factory: MockFactory) -> None:
    core = core_for(config, factory)
    door = ToolCall("garage_door", {"action": "close"})
    dry = core.handle(Request("d", "test", call=door, dry_run=True))
    assert dry.ok and dry.result and dry.result.done.endswith("(after confirmation)")
    assert core.waiting() == 0 and 6 not in factory.pins
    assert core.handle(Request("y", "test", call=door, confirmed=True)).ok
    factory.pin(6).assert_states([False, True, False])
    core.close()


# -- routing ---------------------------------------------------------------------------------


def test_routing_by_topic(tmp_path: Path, config: Config, factory: MockFactory) -> None:
    async def scenario() -> RecordingLink:
        link = RecordingLink()
        runner = Runner(core_for(config, factory), Journal(tmp_path / "j.sqlite3"), TOPICS, link)
        routes = MqttRoutes(runner, link, config.device)
        routes.connected()
        assert link.subscribed == TOPICS.inbound()
        assert link.on(TOPICS.status) == ["online"]
        discovery = len([t for t, *_ in link.sent if t.startswith("homeassistant/")])
        assert discovery == 4
        routes.message(Inbound(TOPICS.command, light("c1"), mid=7, qos=1))
        routes.message(Inbound(TOPICS.listen, b"listen", mid=8, qos=1))
        routes.message(Inbound(TOPICS.confirm, b"not json", mid=9, qos=1))
        routes.message(Inbound(TOPICS.ha_status, b"online", mid=10, qos=1))
        routes.message(Inbound("appliance/test/other", b"x", mid=11, qos=1))
        await settle(runner)
        assert sorted(link.acked) == [7, 8, 9, 10, 11]
        assert len([t for t, *_ in link.sent if t.startswith("homeassistant/")]) == 8
        runner.close()
        return link

    link = asyncio.run(scenario())
    errors = [json.loads(p)["error"] for p in link.on(TOPICS.event("error"))]
    assert any("not available" in e for e in errors) and any("confirm needs" in e for e in errors)
    assert [r["id"] for r in link.results()] == ["c1"]
    factory.pin(17).assert_states([False, True])


def test_a_command_the_journal_cannot_take_is_refused_with_an_answer(
        tmp_path: Path, config: Config, factory: MockFactory) -> None:
    async def scenario() -> RecordingLink:
        link = RecordingLink()
        journal = Journal(tmp_path / "j.sqlite3")
        runner = Runner(core_for(config, factory), journal, TOPICS, link)
        routes = MqttRoutes(runner, link, config.device)
        journal.close()  # as a full or broken disk would
        routes.message(Inbound(TOPICS.command, light("c1"), mid=3, qos=1))
        await settle(runner)
        runner.close()
        return link

    link = asyncio.run(scenario())
    # Answered at once (a full disk must not leave the sender waiting), and never run
    # without its journal row.
    assert link.acked == [3]
    (result,) = link.results()
    assert result["id"] == "c1" and not result["ok"] and "journal" in str(result["error"])
    assert 17 not in factory.pins


# -- the journal -----------------------------------------------------------------------------


def test_replay_after_a_restart(tmp_path: Path, config: Config, factory: MockFactory) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    journal.accept(parse_command(light("queued", "hallway")))
    journal.accept(parse_command(light("running", "bedroom")))
    journal.running("running")
    done = parse_command(light("done", "bathroom"))
    journal.accept(done)
    journal.finish("done", Outcome("done", "", done.call).to_dict())
    journal.close()

    async def scenario() -> RecordingLink:
        link = RecordingLink()
        journal = Journal(path)
        runner = Runner(core_for(config, factory), journal, TOPICS, link)
        todo, interrupted = journal.recover()
        assert [e.request.id for e in todo] == ["queued"]
        assert [e.request.id for e in interrupted] == ["running"]
        assert todo[0].request.call == ToolCall("set_light", {"room": "hallway", "state": "on"})
        runner.resume(todo, interrupted)
        await settle(runner)
        # A redelivery of a finished command is answered again, never run again.
        runner.accept(parse_command(light("done", "bathroom")))
        await settle(runner)
        assert journal.recover() == ([], [])
        runner.close()
        journal.close()
        return link

    link = asyncio.run(scenario())
    results = {r["id"]: r for r in link.results()}
    assert results["running"]["error"] == INTERRUPTED and not results["running"]["ok"]
    assert results["running"]["call"] == {"name": "set_light",
                                          "arguments": {"room": "bedroom", "state": "on"}}
    assert results["queued"]["ok"] and results["done"]["ok"]
    factory.pin(24).assert_states([False, True])  # the queued one ran
    assert 22 not in factory.pins and 23 not in factory.pins  # interrupted and done did not


def test_every_call_of_an_interrupted_request_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    calls = (ToolCall("set_light", {"room": "kitchen", "state": "on"}),
             ToolCall("set_light", {"room": "bedroom", "state": "on"}))
    journal.accept(Request("two", "mqtt", text="kitchen and bedroom lights on"))
    journal.running("two", calls)
    journal.accept(Request("old", "mqtt", text="hallway light on"))
    journal.running("old")
    journal.close()
    # A journal written before several calls per request stored one call as an object.
    with sqlite3.connect(path) as db:
        db.execute("UPDATE commands SET call=? WHERE id='old'",
                   (json.dumps(calls[0].to_dict()),))
    journal = Journal(path)
    _, interrupted = journal.recover()
    journal.close()
    assert {e.request.id: e.calls for e in interrupted} == {"two": calls, "old": calls[:1]}


def test_requests_round_trip_through_the_journal() -> None:
    for request in (Request("a", "mqtt", text="turn on the light"),
                    Request("b", "voice", call=ToolCall("set_fan", {"speed": "high"}),
                            dry_run=True, confirmed=True),
                    Request("c", "mqtt", error="not valid JSON")):
        assert Request.from_dict(json.loads(json.dumps(request.to_dict()))) == request


# -- hostile payloads ------------------------------------------------------------------------

POISON = [
    b"[" * 2000, b"{" * 2000 + b"}" * 2000,
    b'{"id": "big", "call": {"name": "set_fan", "arguments": {"speed": ' + b"9" * 5000
    + b"}}}",
    b'{"id": "\\ud800", "text": "x"}', b'{"id": "s1", "text": "turn on \\udfff"}',
    b'{"id": "n1", "call": {"name": "set_thermostat", "arguments": {"temperature": NaN}}}',
    b'{"id": "n2", "call": {"name": "set_thermostat", "arguments": {"temperature": Infinity}}}',
    b'{"id": "n3", "call": {"name": "set_thermostat", "arguments": {"temperature": 1e999}}}',
    b"\xff\xfe\x00garbage", b"", b"null", b"[]", b'"just a string"', b"{}" * 10,
    b'{"id": 5, "text": "x"}', b'{"id": "' + b"x" * 500 + b'", "text": "x"}',
]


def payloads(seed: int = 7, n: int = 300) -> list[bytes]:
    """The classes above, and generated ones: random bytes, JSON, unicode, nesting."""
    import random

    rng = random.Random(seed)
    out = list(POISON)
    for _ in range(n):
        kind = rng.randrange(5)
        if kind == 0:
            out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))))
        elif kind == 1:
            text = "".join(chr(rng.choice([rng.randrange(32, 127), rng.randrange(0xA0, 0x2FFF),
                                           rng.randrange(0xD800, 0xE000),
                                           rng.randrange(0x1F300, 0x1FAFF)]))
                           for _ in range(rng.randrange(1, 60)))
            out.append(json.dumps({"id": f"u{len(out)}", "text": text}).encode())
        elif kind == 2:
            depth = rng.randrange(1, 3000)
            out.append(b'{"id": "d", "call": {"name": "x", "arguments": {"a": '
                       + b"[" * depth + b"]" * depth + b"}}}")
        elif kind == 3:
            value = rng.choice([10 ** rng.randrange(1, 400), -(2 ** 63), 1e308, 0.1,
                                "x" * rng.randrange(5000), None, True, [1, 2], {"a": 1}])
            out.append(json.dumps({"id": f"v{len(out)}", "call": {
                "name": rng.choice(["set_fan", "set_thermostat", "start_timer", "nope"]),
                "arguments": {rng.choice(["speed", "temperature", "minutes", "zz"]): value}}}
            ).encode())
        else:
            out.append(json.dumps({rng.choice(["id", "text", "call", "x"]): rng.random()
                                   for _ in range(rng.randrange(4))}).encode())
    return out


def test_every_payload_becomes_a_request_that_can_be_journaled_and_answered(
        tmp_path: Path, config: Config, factory: MockFactory) -> None:
    journal = Journal(tmp_path / "j.sqlite3")
    core = core_for(config, factory)
    for i, payload in enumerate(payloads()):
        request = parse_command(payload, auto_id=lambda i=i: f"auto-{i}")  # type: ignore[misc]
        journal.accept(request)  # never raises: every request can be stored
        outcome = core.handle(Request(request.id, "test", text=None, call=request.call,
                                      error=request.error or (None if request.call else "x")))
        data = json.dumps(outcome.to_dict(), allow_nan=False)  # valid JSON, always
        data.encode("utf-8")  # and publishable
        journal.finish(request.id, outcome.to_dict())
    # Nothing invalid reached a pin, and the journal still works.
    assert not factory.pins
    assert journal.recover() == ([], [])
    journal.close()
    core.close()


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
def test_a_damaged_journal_is_set_aside_loudly(tmp_path: Path, damage: str) -> None:
    path = tmp_path / "j.sqlite3"
    journal = Journal(path)
    for i in range(50):
        journal.accept(Request(f"c{i}", "mqtt", text="turn on the light " * 20))
    journal.close()
    for extra in (Path(f"{path}-wal"), Path(f"{path}-shm")):
        extra.unlink(missing_ok=True)
    if damage == "truncated":
        path.write_bytes(b"")
    else:
        with path.open("r+b") as f:
            f.seek(4096)
            f.write(bytes(range(256)) * 16)
    journal = Journal(path)
    assert journal.lost is not None and "set aside" in journal.lost
    assert list(tmp_path.glob("j.sqlite3.lost-*"))
    assert journal.accept(Request("new", "mqtt", text="x")) is None  # it works again
    assert [e.request.id for e in journal.recover()[0]] == ["new"]
    journal.close()
    healthy = Journal(path)
    assert healthy.lost is None
    healthy.close()


def test_a_tools_say_template_is_the_spoken_answer(factory: MockFactory) -> None:
    from appliance.config import load_yaml, parse_config
    from appliance.errors import ConfigError

    raw = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    tools = {t["name"]: t for t in raw["tools"]}
    tools["set_light"]["say"] = "The {{ room }} light is {{ state }}."
    tools["set_brightness"]["say"] = ("{{ room | capitalize }} at "
                                      "{{ (value * 100) | round | int }} %.")
    core = core_for(parse_config(raw, source="t.yaml"), factory)
    out = core.handle(Request("s1", "test", call=ToolCall("set_light", {"room": "kitchen",
                                                                        "state": "on"})))
    assert out.result and out.result.said == "The kitchen light is on."
    assert out.to_dict()["result"]["say"] == "The kitchen light is on."
    dim = core.handle(Request("s2", "test", call=ToolCall("set_brightness", {
        "room": "hallway", "percent": 40})))
    assert dim.result and dim.result.said == "Hallway at 40 %."
    dry = core.handle(Request("s3", "test", dry_run=True,
                              call=ToolCall("set_light", {"room": "garage", "state": "off"})))
    assert dry.result and dry.result.said is None  # nothing was done, nothing to say
    core.close()
    i = raw["tools"].index(tools["set_light"])
    tools["set_light"]["say"] = "The {{ colour }} light"
    with pytest.raises(ConfigError, match=rf"tools\[{i}\]\.say: the template uses colour"):
        parse_config(raw, source="t.yaml")
    tools["set_light"]["say"] = "The {{ room "
    with pytest.raises(ConfigError, match=rf"tools\[{i}\]\.say: bad template"):
        parse_config(raw, source="t.yaml")


def test_slow_http_servers_do_not_hold_up_a_gpio_command(tmp_path: Path,
                                                         factory: MockFactory) -> None:
    """Four actions on a server that trickles its headers take every action worker; each
    gives up at its bound, so the next GPIO command waits no longer than that."""
    from appliance.config import load_yaml, parse_config

    from .httpserver import LoopbackServer, Reply

    with LoopbackServer(Reply(trickle_s=0.05, trickle_headers=True)) as server:
        raw = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
        for tool in raw["tools"]:
            if tool["name"] == "play_music":
                tool["action"]["url"] = f"http://{server.host}/play"
        raw["http"] = {"allowed_hosts": [server.host, "wttr.in", "127.0.0.1:8088"],
                       "timeout_s": 0.5}
        config = parse_config(raw, source="t.yaml")
        bound = 2 * config.http.timeout_s + 1

        async def scenario() -> tuple[RecordingLink, float]:
            link = RecordingLink()
            runner = Runner(core_for(config, factory), Journal(tmp_path / "j.sqlite3"),
                            TOPICS, link, workers=4)
            for i in range(4):
                runner.accept(Request(f"slow{i}", "mqtt", call=ToolCall(
                    "play_music", {"query": f"song {i}"})))
            await asyncio.sleep(0.2)  # all four workers are waiting on the server
            t0 = asyncio.get_running_loop().time()
            outcome = await runner.process(Request("light", "mqtt", call=ToolCall(
                "set_light", {"room": "kitchen", "state": "on"})))
            waited = asyncio.get_running_loop().time() - t0
            assert outcome.ok
            await settle(runner)
            runner.close()
            return link, waited

        link, waited = asyncio.run(scenario())
    assert waited < bound + 5, waited  # the product's bound, with room for a busy machine
    slow = [r for r in link.results() if str(r["id"]).startswith("slow")]
    assert len(slow) == 4, slow
    assert all("no complete answer" in str(r["result"]["error"]) for r in slow), slow
    factory.pin(17).assert_states([False, True])


def test_a_full_disk_gets_the_sender_an_error_result(tmp_path: Path, config: Config,
                                                     factory: MockFactory) -> None:
    import os
    import subprocess

    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root (CI runs as root)")
    state = tmp_path / "state"
    state.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", str(state)],
                   check=True)
    try:
        journal = Journal(state / "j.sqlite3")
        try:  # fill what is left
            with (state / "filler").open("wb") as f:
                while True:
                    f.write(b"\0" * 4096)
                    f.flush()
        except OSError:
            pass

        async def scenario() -> RecordingLink:
            link = RecordingLink()
            runner = Runner(core_for(config, factory), journal, TOPICS, link)
            routes = MqttRoutes(runner, link, config.device)
            big = {"id": "c1", "text": "turn on the light " * 200}
            routes.message(Inbound(TOPICS.command, json.dumps(big).encode(), mid=5, qos=1))
            await settle(runner)
            runner.close()
            return link

        link = asyncio.run(scenario())
        journal.close()
    finally:
        subprocess.run(["umount", "-l", str(state)], check=False)
    assert link.acked == [5]
    (result,) = link.results()
    assert result["id"] == "c1" and not result["ok"] and "journal" in str(result["error"])
