"""The wake word: a microWakeWord model (pymicro-wakeword) listening to every frame.

Four models ship inside the wheel (``okay_nabu``, ``hey_jarvis``, ``alexa``,
``hey_mycroft``); a custom one is named by its microWakeWord JSON file. While the pipeline
waits for its wake word only this model runs (about 0.05 ms per 30 ms frame here), not
speech recognition. A detection says roughly where the wake word ended, so a command said
straight after it, without a pause, is heard from its first word.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import SpeechError
from appliance.speech.wav import FRAME_MS

BUILTIN = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")

WAKE_WORD_SCHEMA: dict[str, Any] = {
    "type": ["string", "object", "null"],
    "minLength": 1,
    "description": "a model (an object: the wake word engine), or a word the recogniser must "
                   "hear first (a string: recognition then runs on all audio)",
    "additionalProperties": False,
    "required": ["model"],
    "properties": {
        "model": {"type": "string",
                  "pattern": "^(" + "|".join(BUILTIN) + r")$|\.json$",
                  "description": f"{', '.join(BUILTIN)}, or a microWakeWord .json file"},
        "sensitivity": {"type": "number", "minimum": 0, "maximum": 1,
                        "description": "0.5: the model's own cutoff; higher triggers more "
                                       "easily (more false accepts), lower less"},
    },
}


@dataclass(frozen=True)
class WakeWordSettings:
    model: str = "okay_nabu"
    """A built-in model's name, or the path of a microWakeWord JSON file."""
    sensitivity: float = 0.5
    """0.5 is the model's published cutoff; 1 lowers the cutoff to 0.5, 0 raises it to 0.999."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], base_dir: Path) -> WakeWordSettings:
        values = dict(data)
        model = str(values.get("model", cls.model))
        if model not in BUILTIN:
            p = Path(model).expanduser()
            model = str(p if p.is_absolute() else base_dir / p)
        return cls(model=model, sensitivity=float(values.get("sensitivity", cls.sensitivity)))


def phrase_of(settings: WakeWordSettings) -> str:
    """The model's wake word, lower case, without loading the model ("okay nabu")."""
    import json

    if settings.model in BUILTIN:
        try:
            import pymicro_wakeword
        except (ImportError, OSError) as exc:
            raise SpeechError(f"pymicro-wakeword is not usable: {exc}") from None
        path = Path(pymicro_wakeword.__file__).parent / "models" / f"{settings.model}.json"
    else:
        path = Path(settings.model)
    try:
        phrase = str(json.loads(path.read_text(encoding="utf-8"))["wake_word"])
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SpeechError(f"wake word model {path}: not a microWakeWord model file "
                          f"({exc})") from None
    return " ".join(phrase.lower().replace(",", " ").split())


def _check_model_file(path: Path) -> None:
    """Refuse a model pymicro-wakeword would crash on (it hands a bad file to TFLite as is)."""
    import json

    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        tflite = path.parent / str(config["model"])
        float(config["micro"]["probability_cutoff"])
        int(config["micro"]["sliding_window_size"])
        with tflite.open("rb") as f:
            head = f.read(8)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise SpeechError(f"wake word model {path}: not a usable microWakeWord model "
                          f"({exc})") from None
    if head[4:8] != b"TFL3":
        raise SpeechError(f"wake word model {path}: {tflite.name} is not a TFLite model")


def cutoff_for(model_cutoff: float, sensitivity: float) -> float:
    """The probability cutoff for a sensitivity: linear on each side of the model's own."""
    if sensitivity >= 0.5:
        return model_cutoff - (sensitivity - 0.5) * 2 * (model_cutoff - 0.5)
    return model_cutoff + (0.5 - sensitivity) * 2 * (0.999 - model_cutoff)


@dataclass(frozen=True)
class Detection:
    phrase: str
    """The model's wake word, lower case ("okay nabu")."""
    probability: float
    frames_since_end: int
    """About how many 30 ms frames ago the wake word ended (the command may start there)."""


class WakeWordDetector:
    """Frames in; a :class:`Detection` when the model's averaged probability passes the cutoff."""

    ONSET = 0.5
    """Where the averaged probability first passes this the wake word has about ended."""

    def __init__(self, settings: WakeWordSettings) -> None:
        try:
            from pymicro_wakeword import MicroWakeWord, MicroWakeWordFeatures, Model
        except (ImportError, OSError) as exc:
            raise SpeechError(f"pymicro-wakeword is not usable: {exc}") from None
        if settings.model not in BUILTIN:
            _check_model_file(Path(settings.model))
        try:
            if settings.model in BUILTIN:
                self._model = MicroWakeWord.from_builtin(Model(settings.model))
            else:
                self._model = MicroWakeWord.from_config(settings.model)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            raise SpeechError(f"wake word model {settings.model}: cannot load it: {exc}") \
                from None
        self._features_cls = MicroWakeWordFeatures
        self._features = MicroWakeWordFeatures()
        self.settings = settings
        self.phrase = phrase_of(settings)
        self.cutoff = cutoff_for(self._model.probability_cutoff, settings.sensitivity)
        self._recent: deque[float] = deque(maxlen=2000 // FRAME_MS)

    def push(self, frame: bytes) -> Detection | None:
        """One 30 ms frame; a detection at most once until :meth:`reset`."""
        best = 0.0
        for features in self._features.process_streaming(frame):
            p = self._model.process_streaming_prob(features)
            best = max(best, p or 0.0)  # 0.0 between the model's strided steps
        self._recent.append(best)
        if best <= self.cutoff:
            return None
        # Walk back over the rise: its start is about where the word ended (the average of
        # the model's last few steps trails the word by ~60 ms more).
        run = 0
        for p in reversed(self._recent):
            if p < self.ONSET:
                break
            run += 1
        return Detection(self.phrase, best, run + 2)

    def reset(self) -> None:
        """Forget the audio so far (after a detection, or on a new stream)."""
        self._model.reset()
        self._features = self._features_cls()
        self._recent.clear()

    def close(self) -> None:
        self._model.close()
