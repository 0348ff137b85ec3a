"""The one configuration file: typed, validated, every field documented.

The file is YAML. It is validated with ``jsonschema`` against :data:`CONFIG_SCHEMA`
(and each tool's action against its executor kind's schema); any unknown key, wrong
type or bad tool schema is a :class:`~appliance.errors.ConfigError` that names the
file and the key path, e.g. ``home.yaml: tools[2].parameters.type: ...``.

YAML 1.1 turns ``on``/``off``/``yes``/``no`` into booleans, which would silently
break ``state: on``. The loader here only knows ``true``/``false`` as booleans.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from appliance.checks import at, check_config
from appliance.errors import ConfigError
from appliance.executors import KINDS
from appliance.settings import (
    Config,
    DaemonSettings,
    DeviceSettings,
    GpioSettings,
    HttpSettings,
    ModelSettings,
    MqttSettings,
)
from appliance.speech.settings import SPEECH_SCHEMA, SpeechSettings
from appliance.tools import Action, Toolbox, tool_from_mapping

__all__ = ["CONFIG_SCHEMA", "DEFAULT_CONFIG", "Config", "load_config", "load_yaml",
           "parse_config"]

DEFAULT_CONFIG = Path("/etc/appliance/appliance.yaml")


class _Loader(yaml.SafeLoader):
    """SafeLoader whose booleans are only ``true`` and ``false``."""


_Loader.yaml_implicit_resolvers = {
    key: [(tag, regex) for tag, regex in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
    list("tTfF"),
)


def _section(properties: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": properties}


_NULLABLE_STR, _NULLABLE_INT = {"type": ["string", "null"]}, {"type": ["integer", "null"]}

TOOL_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "description"],
    "properties": {
        "name": {"type": "string"},
        "description": {"type": "string"},
        "parameters": {"type": "object"},
        "examples": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["say"],
                "properties": {"say": {"type": "string", "minLength": 1},
                               "arguments": {"type": "object"}},
            },
        },
        "confirm": {"type": "boolean"},
        "say": {"type": "string", "minLength": 1},
        "action": {"type": "object", "required": ["kind"],
                   "properties": {"kind": {"type": "string"}}},
    },
}

CONFIG_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["tools"],
    "properties": {
        "device": _section({
            "id": {"type": "string", "pattern": r"^[A-Za-z0-9_-]{1,64}$"},
            "name": {"type": "string"},
        }),
        "model": _section({
            "path": _NULLABLE_STR,
            "adapter": _NULLABLE_STR,
            "adapter_tools": {"type": ["string", "null"], "pattern": "^[0-9a-f]{64}$"},
            "general_adapter": {"type": "boolean"},
            "threads": {"type": ["integer", "null"], "minimum": 1, "maximum": 64},
            "context": {"type": ["integer", "null"], "minimum": 512, "maximum": 32768},
            "enum_shown": {"type": ["integer", "null"], "minimum": 1},
            "batch": {"type": "integer", "minimum": 8, "maximum": 2048},
            "few_shot": {"type": "boolean"}, "repack": {"type": "boolean"},
            "merge_adapter": {"type": "boolean"},
            "max_calls": {"type": "integer", "minimum": 1, "maximum": 32},
            "min_confidence": {"type": "number", "minimum": 0, "maximum": 1},
            "ask_below": {"type": "number", "minimum": 0, "maximum": 1},
            "strings": {"enum": ["words", "free"]},
        }),
        "mqtt": _section({
            "host": {"type": "string"},
            "port": {"type": "integer", "minimum": 1, "maximum": 65535},
            "tls": {"type": "boolean"},
            "ca_file": _NULLABLE_STR,
            "username": _NULLABLE_STR,
            "password_file": _NULLABLE_STR,
            "password_credential": _NULLABLE_STR,
            "client_id": _NULLABLE_STR,
            "prefix": {"type": "string"},
            "discovery_prefix": {"type": "string"},
            "keepalive": {"type": "integer", "minimum": 5, "maximum": 3600},
            "connect_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
        }),
        "http": _section({
            "allowed_hosts": {"type": "array", "items": {"type": "string"}},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 300},
            "max_response_bytes": {"type": "integer", "minimum": 1},
        }),
        "gpio": _section({
            "pin_factory": _NULLABLE_STR,
        }),
        "speech": SPEECH_SCHEMA,
        "daemon": _section({
            "state_dir": {"type": "string"},
            "confirm_timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400},
        }),
        "tools": {"type": "array", "minItems": 1, "items": TOOL_SCHEMA},
    },
}


def _fmt_path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(top level)"


def _validate(data: Any, schema: Mapping[str, Any], *, source: str, prefix: str = "") -> None:
    validator = jsonschema.Draft202012Validator(schema)
    errors = sorted(validator.iter_errors(data), key=lambda e: (len(e.absolute_path),
                                                                 list(map(str, e.absolute_path))))
    if errors:
        err = errors[0]
        path = _fmt_path(err.absolute_path)
        if prefix:
            path = prefix if path == "(top level)" else f"{prefix}.{path}"
        raise ConfigError(err.message, source=source, path=path)


def _paths(section: Mapping[str, Any], keys: tuple[str, ...], base: Path) -> dict[str, Any]:
    out = dict(section)
    for key in keys:
        if out.get(key) is not None:
            p = Path(out[key]).expanduser()
            out[key] = p if p.is_absolute() else (base / p)
    return out


def parse_config(data: Any, *, source: str = "<config>", base_dir: Path | None = None) -> Config:
    """Validate already-parsed YAML/JSON data and build a :class:`Config`.

    Everything that can be known before a command arrives is checked here: each action
    block against its kind, its templates' names against the tool's parameters, every pin
    (and that no two uses share one), the HTTP hosts, the MQTT topic prefix.
    """
    base = base_dir or Path.cwd()
    _validate(data, CONFIG_SCHEMA, source=source)
    actions = [_action(t.get("action"), source=source, path=f"tools[{i}].action")
               for i, t in enumerate(data["tools"])]
    toolbox = Toolbox((tool_from_mapping(t, a) for t, a in zip(data["tools"], actions,
                                                               strict=True)), source=source)
    model = _paths(data.get("model", {}), ("path", "adapter"), base)
    mqtt = _paths(data.get("mqtt", {}), ("ca_file", "password_file"), base)
    http = dict(data.get("http", {}))
    if "allowed_hosts" in http:
        http["allowed_hosts"] = tuple(http["allowed_hosts"])
    daemon = _paths(data.get("daemon", {}), ("state_dir",), base)
    config = Config(
        tools=toolbox,
        source=source,
        base_dir=base,
        device=DeviceSettings(**data.get("device", {})),
        model=ModelSettings(**model),
        mqtt=MqttSettings(**mqtt),
        http=HttpSettings(**http),
        gpio=GpioSettings(**data.get("gpio", {})),
        daemon=DaemonSettings(**daemon),
        speech=SpeechSettings.from_mapping(data.get("speech", {}), base),
    )
    check_config(config)
    return config


def _action(block: Mapping[str, Any] | None, *, source: str, path: str) -> Action | None:
    if block is None:
        return None
    kind = KINDS.get(block["kind"])
    if kind is None:
        raise ConfigError(f"unknown action kind {block['kind']!r} (known: "
                          f"{', '.join(sorted(KINDS))})", source=source, path=f"{path}.kind")
    _validate(block, kind.schema, source=source, prefix=path)
    try:
        return kind.parse(block)
    except ConfigError as exc:
        raise at(exc, source, path) from None


def load_yaml(text: str, *, source: str) -> Any:
    """Parse YAML with on/off-safe booleans, converting errors to :class:`ConfigError`."""
    try:
        data = yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "?"
        raise ConfigError(f"not valid YAML ({exc.problem}) at {where}", source=source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", source=source) from None
    if sum(1 for _ in _values(data, MAX_VALUES + 1)) > MAX_VALUES:
        raise ConfigError(f"more than {MAX_VALUES} values (aliases that expand without end?)",
                          source=source)
    return data


MAX_VALUES = 200_000


def _values(data: Any, limit: int) -> Iterator[Any]:
    """Every value in ``data`` as aliases expand it, at most ``limit`` of them."""
    stack = [data]
    count = 0
    while stack and count < limit:
        item = stack.pop()
        count += 1
        yield item
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


def load_config(path: str | Path) -> Config:
    """Read and validate a config file."""
    p = Path(path)
    try:
        raw = p.read_bytes()
    except FileNotFoundError:
        raise ConfigError("no such file", source=str(p)) from None
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", source=str(p)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"not UTF-8 (byte {exc.start})", source=str(p)) from None
    return parse_config(load_yaml(text, source=str(p)), source=str(p),
                        base_dir=p.resolve().parent)
