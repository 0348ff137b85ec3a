"""From 30 ms frames to what was said: endpointing, streaming speech to text, wake word.

The same :class:`VoicePipeline` serves the microphone (the daemon, ``appliance listen``)
and WAV files (``appliance listen --wav``): frames in, :class:`Heard` out, one per
utterance. Time is stream time (frames counted), so a file gives the same answer at any
speed. Activation: with neither a wake word nor a button every utterance is a command;
otherwise an utterance must start with the wake word, or come while the pipeline is armed
(the wake word said alone, the button pressed, or a "listen now" request).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import SpeechError
from appliance.speech.audio import FRAME_MS
from appliance.speech.endpoint import Endpointer, Utterance
from appliance.speech.settings import SpeechSettings
from appliance.speech.stt import (
    PocketsphinxRecognizer,
    Recognizer,
    Transcript,
    VoskRecognizer,
)
from appliance.tools import Tool

log = logging.getLogger(__name__)


def make_recognizer(settings: SpeechSettings, tools: Iterable[Tool]) -> Recognizer:
    """The configured engine, with the command grammar in command mode."""
    grammar = (list(tools), settings.wake_word) if settings.mode == "command" else None
    if settings.engine == "vosk":
        if settings.model is None:
            raise SpeechError("speech.engine vosk needs speech.model (the model directory)")
        return VoskRecognizer(Path(settings.model), grammar)
    return PocketsphinxRecognizer(grammar, model_dir=settings.model)


@dataclass(frozen=True)
class Heard:
    """One utterance, what the recogniser made of it, and whether it is a command."""

    start_s: float
    end_s: float
    ended_by: str
    transcript: Transcript
    command: str | None
    """The words to act on (wake word removed); ``None`` when this is not a command."""
    note: str | None = None
    """Why it is not a command, or what it did (armed the pipeline)."""
    silence_ms: int = 0
    """How long the endpointer waited after the speech before ending the utterance."""

    @property
    def rtf(self) -> float:
        """Real-time factor of speech to text: decoding time over audio time."""
        seconds = self.end_s - self.start_s
        return self.transcript.decode_ms / 1000 / seconds if seconds > 0 else 0.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 2), "end_s": round(self.end_s, 2),
            "ended_by": self.ended_by, "heard": self.transcript.heard,
            "text": self.command, "rejected": self.transcript.rejected, "note": self.note,
            "stt_ms": {"final": round(self.transcript.final_ms, 1),
                       "total": round(self.transcript.decode_ms, 1)},
            "stt_rtf": round(self.rtf, 3),
        }


class VoicePipeline:
    def __init__(self, settings: SpeechSettings, recognizer: Recognizer) -> None:
        self.settings = settings
        self.recognizer = recognizer
        self.endpointer = Endpointer(settings.endpoint)
        self.gated = settings.wake_word is not None or settings.button_pin is not None
        self._wake = " ".join(settings.wake_word.lower().split()) if settings.wake_word else ""
        self._frames = 0
        self._armed_until = -1.0
        self._decoding = False

    @property
    def now_s(self) -> float:
        return self._frames * FRAME_MS / 1000

    @property
    def armed(self) -> bool:
        return self.now_s <= self._armed_until

    def arm(self, seconds: float | None = None) -> None:
        """Take the next utterance as a command without the wake word."""
        self._armed_until = self.now_s + (seconds or self.settings.wake_timeout_s)

    def disarm(self) -> None:
        self._armed_until = -1.0

    def reset(self) -> None:
        """Start over on a new stream (the next WAV file, a reopened microphone)."""
        if self._decoding:
            self.recognizer.end()
            self._decoding = False
        self.endpointer = Endpointer(self.settings.endpoint)
        self._frames = 0
        self.disarm()

    def push(self, frame: bytes) -> Iterator[Heard]:
        self._frames += 1
        for kind, value in self.endpointer.push(frame):
            yield from self._event(kind, value)

    def finish(self) -> Iterator[Heard]:
        for kind, value in self.endpointer.finish():
            yield from self._event(kind, value)

    def run(self, frames: Iterable[bytes]) -> Iterator[Heard]:
        for frame in frames:
            yield from self.push(frame)
        yield from self.finish()

    def _event(self, kind: str, value: Any) -> Iterator[Heard]:
        if kind == "start":
            self.recognizer.begin()
            self._decoding = True
        elif kind == "frame" and self._decoding:
            self.recognizer.feed(value)
        elif kind == "drop" and self._decoding:
            self.recognizer.end()
            self._decoding = False
            log.debug("speech: dropped a sound (%s)", value)
        elif kind == "end" and self._decoding:
            self._decoding = False
            yield self._decide(value, self.recognizer.end())

    def _decide(self, utt: Utterance, transcript: Transcript) -> Heard:
        silence = self.settings.endpoint.silence_ms if utt.reason == "silence" else 0

        def heard(command: str | None, note: str | None) -> Heard:
            return Heard(utt.start_s, utt.end_s, utt.reason, transcript, command, note, silence)

        if not transcript.text:
            return heard(None, transcript.rejected or "no words recognised")
        words = transcript.text
        woken = False
        if self._wake and (words == self._wake or words.startswith(self._wake + " ")):
            woken, words = True, words[len(self._wake):].strip()
        if woken and not words:
            self.arm()
            return heard(None, "wake word: listening")
        if self.gated and not woken and not self.armed:
            return heard(None, "no wake word")
        self.disarm()
        return heard(words, None)
