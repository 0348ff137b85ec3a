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
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonschema
import yaml

from appliance.errors import ConfigError
from appliance.speech.settings import SPEECH_SCHEMA
from appliance.tools import Toolbox, tool_from_mapping

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


_NULLABLE_STR = {"type": ["string", "null"]}
_NULLABLE_INT = {"type": ["integer", "null"]}

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
            "threads": {"type": ["integer", "null"], "minimum": 1, "maximum": 64},
            "context": {"type": "integer", "minimum": 512, "maximum": 32768},
            "batch": {"type": "integer", "minimum": 8, "maximum": 2048},
            "few_shot": {"type": "boolean"},
            "repack": {"type": "boolean"},
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
            "connect_timeout_s": {"type": "number", "exclusiveMinimum": 0},
        }),
        "http": _section({
            "allowed_hosts": {"type": "array", "items": {"type": "string"}},
            "timeout_s": {"type": "number", "exclusiveMinimum": 0},
            "max_response_bytes": {"type": "integer", "minimum": 1},
        }),
        "gpio": _section({
            "pin_factory": _NULLABLE_STR,
        }),
        "speech": SPEECH_SCHEMA,
        "daemon": _section({
            "state_dir": {"type": "string"},
            "confirm_timeout_s": {"type": "number", "exclusiveMinimum": 0},
        }),
        "tools": {"type": "array", "minItems": 1, "items": TOOL_SCHEMA},
    },
}


@dataclass(frozen=True)
class DeviceSettings:
    """Who this appliance is."""

    id: str = "appliance"
    """Stable id, used in MQTT topics and Home Assistant unique ids."""
    name: str = "Appliance"
    """Human name shown in Home Assistant."""


@dataclass(frozen=True)
class ModelSettings:
    """The tool-calling language model."""

    path: Path | None = None
    """GGUF file; ``None`` uses the embedded Gemma 3 270M from PyPI."""
    adapter: Path | None = None
    """LoRA adapter GGUF trained for these tools, or ``None``."""
    adapter_tools: str | None = None
    """Fingerprint of the tool declarations the adapter was trained for (staleness check)."""
    threads: int | None = None
    """CPU threads for inference; ``None`` picks the measured best for this machine."""
    context: int = 2048
    """Context length in tokens (tool prompt plus one exchange)."""
    batch: int = 32
    """Batch and micro-batch size; bounds the compute buffer (batch x vocabulary logits)."""
    few_shot: bool = True
    """Put the tools' example phrasings in the prompt as worked examples (without an adapter)."""
    repack: bool = False
    """Let llama.cpp keep a repacked copy of the weights: ~10% faster, ~150 MB more memory."""
    strings: Literal["words", "free"] = "words"
    """Free-text arguments (a city, a song): ``words`` copies them from what was said, so a
    name is never misspelt or invented; ``free`` lets the model write any text."""


@dataclass(frozen=True)
class MqttSettings:
    """The MQTT broker, for MQTT actions and the daemon's command interface."""

    host: str = "127.0.0.1"
    port: int = 1883
    tls: bool = False
    ca_file: Path | None = None
    username: str | None = None
    password_file: Path | None = None
    """File holding the password; never put the password itself in the config."""
    password_credential: str | None = None
    """Name of a systemd credential (``LoadCredential=``) holding the password."""
    client_id: str | None = None
    """Fixed client id (persistent session); default ``appliance-<device id>``."""
    prefix: str = "appliance/{device_id}/"
    discovery_prefix: str = "homeassistant"
    keepalive: int = 30
    connect_timeout_s: float = 3.0


@dataclass(frozen=True)
class HttpSettings:
    """Limits for HTTP actions."""

    allowed_hosts: tuple[str, ...] = ()
    """Hosts (``host`` or ``host:port``) HTTP actions may reach; nothing else."""
    timeout_s: float = 5.0
    max_response_bytes: int = 1_000_000


@dataclass(frozen=True)
class GpioSettings:
    """GPIO pins."""

    pin_factory: str | None = None
    """gpiozero pin factory (``lgpio``, ``mock``...); ``None``: gpiozero's choice, else mock."""


@dataclass(frozen=True)
class DaemonSettings:
    """The long-running service."""

    state_dir: Path = Path("/var/lib/appliance")
    """Where the command journal lives (systemd ``StateDirectory``)."""
    confirm_timeout_s: float = 30.0
    """How long a call that needs confirmation waits before it expires."""


@dataclass(frozen=True)
class Config:
    """The whole validated configuration."""

    tools: Toolbox
    source: str = "<config>"
    base_dir: Path = field(default_factory=Path.cwd)
    device: DeviceSettings = field(default_factory=DeviceSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    mqtt: MqttSettings = field(default_factory=MqttSettings)
    http: HttpSettings = field(default_factory=HttpSettings)
    gpio: GpioSettings = field(default_factory=GpioSettings)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    speech: Mapping[str, Any] = field(default_factory=dict)
    """The ``speech:`` section as written (validated); :class:`SpeechSettings` reads it."""


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
    """Validate already-parsed YAML/JSON data and build a :class:`Config`."""
    from appliance.executors import action_schemas, check_action

    base = base_dir or Path.cwd()
    _validate(data, CONFIG_SCHEMA, source=source)
    schemas = action_schemas()
    for i, tool in enumerate(data["tools"]):
        action = tool.get("action")
        if action is None:
            continue
        kind = action["kind"]
        if kind not in schemas:
            raise ConfigError(f"unknown action kind {kind!r} (known: {', '.join(sorted(schemas))})",
                              source=source, path=f"tools[{i}].action.kind")
        _validate(action, schemas[kind], source=source, prefix=f"tools[{i}].action")
        check_action(action, source=source, path=f"tools[{i}].action")  # templates parse
    toolbox = Toolbox((tool_from_mapping(t) for t in data["tools"]), source=source)
    model = _paths(data.get("model", {}), ("path", "adapter"), base)
    mqtt = _paths(data.get("mqtt", {}), ("ca_file", "password_file"), base)
    http = dict(data.get("http", {}))
    if "allowed_hosts" in http:
        http["allowed_hosts"] = tuple(http["allowed_hosts"])
    daemon = _paths(data.get("daemon", {}), ("state_dir",), base)
    return Config(
        tools=toolbox,
        source=source,
        base_dir=base,
        device=DeviceSettings(**data.get("device", {})),
        model=ModelSettings(**model),
        mqtt=MqttSettings(**mqtt),
        http=HttpSettings(**http),
        gpio=GpioSettings(**data.get("gpio", {})),
        daemon=DaemonSettings(**daemon),
        speech=data.get("speech", {}),
    )


def load_yaml(text: str, *, source: str) -> Any:
    """Parse YAML with on/off-safe booleans, converting errors to :class:`ConfigError`."""
    try:
        return yaml.load(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1} column {mark.column + 1}" if mark else "?"
        raise ConfigError(f"not valid YAML ({exc.problem}) at {where}", source=source) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", source=source) from None


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
