"""The ``speech:`` section of the config: engine, model, mode, activation, endpointing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.speech.endpoint import EndpointSettings

_PIN = {"type": ["integer", "string", "null"], "description": "17, 'GPIO17' or 'BOARD11'"}

SPEECH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "engine": {"enum": ["pocketsphinx", "vosk"]},
        "model": {"type": ["string", "null"],
                  "description": "vosk: the model directory; pocketsphinx: null for the "
                                 "US-English model in its wheel"},
        "mode": {"enum": ["command", "open"],
                 "description": "command: only the tools' phrasings; open: any words"},
        "input_device": {"type": ["string", "integer", "null"]},
        "wake_word": {"type": ["string", "null"], "minLength": 1},
        "wake_timeout_s": {"type": "number", "exclusiveMinimum": 0},
        "button_pin": _PIN,
        "led_pin": _PIN,
        "confirm": {"enum": ["none", "beep", "speak"]},
        "endpoint": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "silence_ms": {"type": "integer", "minimum": 90, "maximum": 5000},
                "max_utterance_s": {"type": "number", "minimum": 1, "maximum": 60},
                "start_ms": {"type": "integer", "minimum": 30, "maximum": 1000},
                "min_speech_ms": {"type": "integer", "minimum": 0, "maximum": 5000},
                "pre_roll_ms": {"type": "integer", "minimum": 0, "maximum": 2000},
                "threshold_db": {"type": "number", "minimum": 1, "maximum": 60},
                "min_level_db": {"type": "number", "minimum": -96, "maximum": 0},
            },
        },
    },
    "allOf": [{"if": {"properties": {"engine": {"const": "vosk"}}, "required": ["engine"]},
               "then": {"required": ["model"], "properties": {"model": {"type": "string"}}}}],
}


@dataclass(frozen=True)
class SpeechSettings:
    engine: str = "pocketsphinx"
    model: Path | None = None
    mode: str = "command"
    input_device: str | int | None = None
    wake_word: str | None = None
    wake_timeout_s: float = 5.0
    button_pin: int | str | None = None
    led_pin: int | str | None = None
    confirm: str = "none"
    endpoint: EndpointSettings = field(default_factory=EndpointSettings)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base_dir: Path) -> SpeechSettings:
        """Settings from an already validated ``speech:`` section (paths against ``base_dir``)."""
        values = dict(data)
        if values.get("model") is not None:
            p = Path(values["model"]).expanduser()
            values["model"] = p if p.is_absolute() else base_dir / p
        values["endpoint"] = EndpointSettings.from_mapping(values.get("endpoint") or {})
        return cls(**values)
