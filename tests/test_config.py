"""The config file and tools files: every mistake names the file and the key path."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from appliance.cli import main
from appliance.config import load_config, load_yaml, parse_config
from appliance.errors import ConfigError, SchemaError
from appliance.tools import load_openai_tools

from .conftest import HOME_YAML

TOOL = """
tools:
  - name: set_fan
    description: Set the fan.
    parameters:
      type: object
      properties:
        speed: {type: string, enum: [off, low, high]}
      required: [speed]
"""


def write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "appliance.yaml"
    p.write_text(text)
    return p


def test_demo_home_loads() -> None:
    config = load_config(HOME_YAML)
    assert len(config.tools) == 11
    assert config.tools["set_light"].properties["state"]["enum"] == ["on", "off"]


def test_yaml_on_and_off_stay_strings(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, TOOL))
    assert config.tools["set_fan"].properties["speed"]["enum"] == ["off", "low", "high"]


@pytest.mark.parametrize("text,path", [
    (TOOL + "colour: blue\n", "(top level)"),
    (TOOL.replace("description: Set the fan.", "description: 3"), "tools[0].description"),
    (TOOL + "model:\n  threads: many\n", "model.threads"),
    (TOOL + "model:\n  strings: sometimes\n", "model.strings"),
    (TOOL + "mqtt:\n  port: 70000\n", "mqtt.port"),
    (TOOL.replace("    parameters:", "    parameter:"), "tools[0]"),
    (TOOL.replace("type: object", "type: array"), "tools[0].parameters.type"),
    (TOOL.replace("enum: [off, low, high]", "enum: [off], anyOf: []"),
     "tools[0].parameters.properties.speed.anyOf"),
    (TOOL.replace("required: [speed]", "required: [rpm]"), "tools[0].parameters.required"),
    (TOOL.replace("speed: {type: string", "speed: {type: date"),
     "tools[0].parameters.properties.speed.type"),
    (TOOL + TOOL.replace("tools:\n", ""), "tools[1]"),
])
def test_errors_name_file_and_key_path(tmp_path: Path, text: str, path: str) -> None:
    p = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(p)
    assert str(p) in str(err.value)
    assert path in str(err.value)


def test_unknown_action_kind(tmp_path: Path) -> None:
    text = TOOL + "    action: {kind: telepathy}\n"
    with pytest.raises(ConfigError, match=r"tools\[0\]\.action\.kind"):
        load_config(write(tmp_path, text))


def test_unsupported_schema_is_a_schema_error() -> None:
    data = load_yaml(TOOL.replace("enum: [off, low, high]", "pattern: '^a'"), source="x")
    with pytest.raises(SchemaError, match="unsupported JSON Schema construct 'pattern'"):
        parse_config(data, source="x")


def test_broken_yaml_and_bytes(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"not valid YAML .* at line"):
        load_config(write(tmp_path, "tools:\n  - name: [unclosed\n"))
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"tools: \xff\xfe\n")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_config(p)
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "missing.yaml")


def test_openai_tools_file() -> None:
    box = load_openai_tools('[{"type": "function", "function": {"name": "f", "description": "d",'
                            ' "parameters": {"type": "object", "properties": {"x": '
                            '{"type": "integer"}}, "required": ["x"]}}}]')
    assert box.names == ("f",)
    with pytest.raises(ConfigError, match="not JSON"):
        load_openai_tools("{", source="t.json")
    with pytest.raises(ConfigError, match=r"\[0\]"):
        load_openai_tools('[{"type": "function"}]', source="t.json")
    with pytest.raises(ConfigError, match="name"):
        load_openai_tools('[{"type": "function", "function": {"name": "bad name"}}]')


def test_fingerprint_tracks_what_the_model_sees() -> None:
    a = load_openai_tools('[{"type": "function", "function": {"name": "f"}}]')
    b = load_openai_tools('[{"type": "function", "function": {"name": "g"}}]')
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint() == load_openai_tools(
        '[{"type": "function", "function": {"name": "f"}}]').fingerprint()


# -- a config that cannot work is refused by `appliance check`, naming the key --------------


def home_with(change: Callable[[dict[str, Any]], None]) -> str:
    data = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    change(data)
    model = data.get("model") or {}
    if model.get("adapter"):
        model["adapter"] = str((HOME_YAML.parent / model["adapter"]).resolve())
    return yaml.safe_dump(data)


def tool(data: dict[str, Any], name: str) -> dict[str, Any]:
    found: dict[str, Any] = next(t for t in data["tools"] if t["name"] == name)
    return found


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    """``tool_name.action.key`` or ``section.key`` set to ``value``."""
    def change(data: dict[str, Any]) -> None:
        head, *rest = path.split(".")
        target = tool(data, head) if any(t["name"] == head for t in data["tools"]) else \
            data.setdefault(head, {})
        for key in rest[:-1]:
            target = target.setdefault(key, {})
        target[rest[-1]] = value
    return change


def _drop_pin(data: dict[str, Any]) -> None:
    del tool(data, "set_light")["action"]["pins"]["garage"]


CANNOT_WORK = [
    ("the garage door pulse on the kitchen relay's pin", _set("garage_door.action.pin", 17),
     r"tools\[{garage_door}\]\.action\.pin: GPIO17 is already used by "
     r"tools\[{set_light}\]\.action\.pins\.kitchen"),
    ("two rooms on one pin", _set("set_light.action.pins.bedroom", 17),
     r"tools\[{set_light}\]\.action\.pins\.(bedroom|kitchen): GPIO17 is already used by "
     r"tools\[{set_light}\]\.action\.pins\.(kitchen|bedroom)"),
    ("pin 99", _set("garage_door.action.pin", 99),
     r"tools\[{garage_door}\]\.action\.pin: .*GPIO99"),
    ("pin -1", _set("garage_door.action.pin", -1),
     r"tools\[{garage_door}\]\.action\.pin: .*not a pin"),
    ("GPIO99", _set("garage_door.action.pin", "GPIO99"),
     r"tools\[{garage_door}\]\.action\.pin: .*GPIO99"),
    ("a power pin", _set("garage_door.action.pin", "BOARD1"),
     r"tools\[{garage_door}\]\.action\.pin: .*3V3 pin"),
    ("a pins map missing an enum value", _drop_pin,
     r"tools\[{set_light}\]\.action\.pins: no pin for room = 'garage'"),
    ("a pin_by naming no parameter", _set("set_light.action.pin_by", "colour"),
     r"tools\[{set_light}\]\.action\.pin_by: names no parameter"),
    ("the button on an action's pin", _set("speech.button_pin", 6),
     r"speech\.button_pin: GPIO6 is already used by tools\[{garage_door}\]\.action\.pin"),
    ("the LED on the button's pin", lambda d: (_set("speech.button_pin", 4)(d),
                                               _set("speech.led_pin", "BOARD7")(d)),
     r"speech\.led_pin: GPIO4 is already used by speech\.button_pin"),
    ("an allowed host that is not a host", _set("http.allowed_hosts", ["wttr.in/x"]),
     r"http\.allowed_hosts\[0\]: bad entry"),
    ("a URL whose host is not allowed", _set("http.allowed_hosts", ["127.0.0.1:8088"]),
     r"tools\[{get_weather}\]\.action\.url: host 'wttr\.in' is not in http\.allowed_hosts"),
    ("an undefined template name", _set("lock_door.action.payload", "{{ action }}{{ nope }}"),
     r"tools\[{lock_door}\]\.action\.payload: the template uses nope"),
    ("timeout_s: .inf", _set("http.timeout_s", float("inf")), r"http\.timeout_s"),
    ("a prefix with an unknown name", _set("mqtt.prefix", "appliance/{nope}/"),
     r"mqtt\.prefix: .*device_id"),
    ("a prefix that does not parse", _set("mqtt.prefix", "appliance/{"), r"mqtt\.prefix"),
    ("a prefix with a wildcard", _set("mqtt.prefix", "appliance/#/"), r"mqtt\.prefix: .*\+ #"),
]


@pytest.mark.parametrize(("what", "change", "message"), CANNOT_WORK,
                         ids=[c[0] for c in CANNOT_WORK])
def test_check_refuses_a_config_that_cannot_work(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], what: str,
        change: Callable[[dict[str, Any]], None], message: str) -> None:
    path = write(tmp_path, home_with(change))
    assert main(["check", "--config", str(path)]) == 1, what
    err = capsys.readouterr().err
    raw = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    index = {t["name"]: i for i, t in enumerate(raw["tools"])}
    message = re.sub(r"\{(\w+)\}", lambda m: str(index[m[1]]), message)
    assert re.search(rf"{re.escape(str(path))}: {message}", err), err


def test_check_passes_the_demo_home(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--config", str(HOME_YAML)]) == 0
    assert f"ok ({len(load_config(HOME_YAML).tools)} tools" in capsys.readouterr().out


def test_a_yaml_alias_bomb_is_refused_quickly(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    with pytest.raises(ConfigError, match="more than 200000 values"):
        load_config(write(tmp_path, "\n".join(lines) + "\n" + TOOL))


def test_a_truncated_adapter_is_refused_by_check(tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    adapter = HOME_YAML.parent / "adapters" / "home-lora.gguf"
    cut = tmp_path / "cut.gguf"
    cut.write_bytes(adapter.read_bytes()[:-1000])
    path = write(tmp_path, home_with(_set("model.adapter", str(cut))))
    assert main(["check", "--config", str(path)]) == 1
    assert "truncated" in capsys.readouterr().err


@pytest.mark.parametrize("header", [
    b"GGUF\x03\x00\x00\x00" + b"\xff" * 7 + b"\x0f" + b"\xff" * 7 + b"\x0f",  # 2^60 keys
    b"GGUF\x09\x00\x00\x00" + bytes(16),  # a version no one wrote
])
def test_a_hostile_adapter_header_is_refused_by_check(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], header: bytes) -> None:
    bad = tmp_path / "bad.gguf"
    bad.write_bytes(header)
    path = write(tmp_path, home_with(_set("model.adapter", str(bad))))
    assert main(["check", "--config", str(path)]) == 1
    err = capsys.readouterr().err
    assert "not a complete GGUF" in err and str(bad) in err, err


def test_a_missing_or_stale_adapter_points_at_appliance_train(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = write(tmp_path, home_with(_set("model.adapter", str(tmp_path / "none.gguf"))))
    assert main(["check", "--config", str(missing)]) == 1
    err = capsys.readouterr().err
    assert "not found" in err and f"appliance train --config {missing}" in err
    stale = write(tmp_path, home_with(_set("model.adapter_tools", "ab" * 32)))
    assert main(["check", "--config", str(stale)]) == 0  # at a desk: warned
    assert "stale" in capsys.readouterr().err
    assert main(["check", "--strict", "--config", str(stale)]) == 1  # the fleet: refused
    err = capsys.readouterr().err
    assert "error" in err and "appliance train" in err
