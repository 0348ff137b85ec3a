"""The config file and tools files: every mistake names the file and the key path."""

from __future__ import annotations

from pathlib import Path

import pytest

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
    assert len(config.tools) == 9
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
