"""Typed settings: one frozen dataclass per section of the config, every field documented.

:mod:`appliance.config` reads and validates the YAML file into these; everything else
takes the section it needs (an executor its own, the daemon its own) and never a raw
mapping.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from appliance.speech.settings import SpeechSettings
from appliance.tools import Toolbox


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
    general_adapter: bool = True
    """With no ``adapter`` of its own and the embedded model, use the general adapter that
    ships with the appliance (trained on generated tool sets, none of them a user's): tools
    the model was never trained for are called. ``false``: the bare model, with the tools'
    phrasings as worked examples."""
    merge_adapter: bool = False
    """Merge the adapter into the weights once (cached in the cache directory) instead of
    llama.cpp applying it at every eval: requests take ~10% less time (64 against 71 ms
    median here), but on the demo home's 466 dev and test requests the merged model made 52
    false actions against 42, so it is not the default. A model llama.cpp cannot convert
    keeps the adapter applied at every eval."""
    threads: int | None = None
    """CPU threads for inference; ``None`` picks the measured best for this machine."""
    context: int | None = None
    """Context length in tokens (tool prompt plus one exchange); ``None`` sizes it from the
    tool prompt, so forty tools with long enums need no setting."""
    enum_shown: int | None = 12
    """The most values of an enum the prompt spells out (the decoder always holds the value
    to the whole enum); ``None``: all of them."""
    batch: int = 32
    """Batch and micro-batch size; bounds the compute buffer (batch x vocabulary logits)."""
    few_shot: bool = True
    """Put the tools' example phrasings in the prompt as worked examples (without an adapter)."""
    repack: bool = False
    """Let llama.cpp keep a repacked copy of the weights: ~10% faster, ~150 MB more memory.
    Off by default: on a CPU with AMX tiles its repacked path crashed llama.cpp here."""
    strings: Literal["words", "free"] = "words"
    """Free-text arguments (a city, a song): ``words`` copies them from what was said, so a
    name is never misspelt or invented; ``free`` lets the model write any text."""
    max_calls: int = 8
    """The most calls one request may make ("all the lights" is one call per room)."""
    min_confidence: float = 0.5
    """Below this probability for the model's least certain choice, no call (with the reason).
    0 turns it off. The default is the demo home's, swept on its development set; a home
    without an adapter of its own acts wrongly on far fewer requests with it (README)."""
    ask_below: float = 0.7
    """Below this probability (and not below ``min_confidence``) the calls are held and asked
    back ("should I turn on the bedroom light?"): a yes runs them, anything else drops them.
    0 turns it off."""


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
    speech: SpeechSettings = field(default_factory=SpeechSettings)
