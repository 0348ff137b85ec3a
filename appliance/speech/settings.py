"""The ``speech:`` section of the config: engine, model, mode, activation, endpointing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.speech.endpoint import DETECTORS, EndpointSettings
from appliance.speech.stt import ACCEPT
from appliance.speech.wakeword import WAKE_WORD_SCHEMA, WakeWordSettings

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
                 "description": "command: steered to the tools' words; open: any words"},
        "accept": {"enum": list(ACCEPT),
                   "description": "meaning: a rephrasing the recogniser is sure of goes to "
                                  "the tool caller; phrasings: only the tools' phrasings"},
        "input_device": {"type": ["string", "integer", "null"]},
        "wake_word": WAKE_WORD_SCHEMA,
        "wake_timeout_s": {"type": "number", "exclusiveMinimum": 0},
        "button_pin": _PIN,
        "led_pin": _PIN,
        "confirm": {"enum": ["none", "beep", "speak"]},
        "endpoint": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "detector": {"enum": list(DETECTORS),
                             "description": "vad: pymicro-vad (trained); energy: level above "
                                            "an adaptive noise floor"},
                "vad_threshold": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
                "silence_ms": {"type": "integer", "minimum": 90, "maximum": 5000},
                "complete_ms": {"type": "integer", "minimum": 0, "maximum": 5000,
                                "description": "the pause that ends words that already make "
                                               "a complete call (0: off)"},
                "check_ms": {"type": "integer", "minimum": 30, "maximum": 5000},
                "max_utterance_s": {"type": "number", "minimum": 1, "maximum": 60},
                "start_ms": {"type": "integer", "minimum": 30, "maximum": 1000},
                "min_speech_ms": {"type": "integer", "minimum": 0, "maximum": 5000},
                "pre_roll_ms": {"type": ["integer", "null"], "minimum": 0, "maximum": 2000},
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
    accept: str = "meaning"
    """``meaning``: transcripts off the phrasings go to the tool caller when the recogniser is
    sure of them; ``phrasings``: only the tools' phrasings (fewer right, fewer wrong)."""
    input_device: str | int | None = None
    wake_word: str | WakeWordSettings | None = None
    """A wake word model (:class:`WakeWordSettings`: recognition runs only after it, a button
    press or a "listen now" request), or a word the recogniser must hear first (a string:
    recognition runs on everything), or nothing."""
    wake_timeout_s: float = 5.0
    """How long the pipeline stays armed for a command after the wake word or the button."""
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
        if isinstance(values.get("wake_word"), Mapping):
            values["wake_word"] = WakeWordSettings.from_mapping(values["wake_word"], base_dir)
        return cls(**values)
