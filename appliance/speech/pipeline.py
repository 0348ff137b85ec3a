"""From 30 ms frames to what was said: endpointing, streaming speech to text, wake word.

The same :class:`VoicePipeline` serves the microphone (the daemon, ``appliance listen``)
and WAV files (``appliance listen --wav``): frames in, :class:`Heard` out, one per
utterance. Time is stream time (frames counted), so a file gives the same answer at any
speed. Activation:

- neither a wake word nor a button: every utterance is decoded and reported;
- a wake word model (``wake_word: {model: ...}``) and/or a button: only the wake word model
  runs until it fires, the button is pressed or :meth:`VoicePipeline.arm` is called; then
  the next utterance is decoded. The audio of the last second and a half is kept, so a
  command said straight after the wake word (or already begun when the button is pressed)
  is heard from its first word;
- a wake word as a string (the old way): every utterance is decoded and must start with
  that word, or come while armed.

Endpoint by meaning: given ``complete`` (words -> do they make a complete call? the tool
caller's decision, :func:`completes_call`), the words so far are decoded at each pause of
``endpoint.check_ms``; when they make a complete call and do not end in a word that wants
more ("and", "the", "to"), the utterance ends after ``endpoint.complete_ms`` of silence
instead of ``silence_ms``. An incomplete command ("set a timer for") waits the full
``silence_ms``, as does everything without ``complete``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from appliance.english import OPTIONAL
from appliance.errors import SpeechError
from appliance.messages import Decision
from appliance.speech.endpoint import AnyEndpointer, make_endpointer
from appliance.speech.grammar import PREFIXES, SUFFIXES
from appliance.speech.heard import Heard
from appliance.speech.pocketsphinx_engine import PocketsphinxRecognizer
from appliance.speech.segments import Utterance
from appliance.speech.settings import SpeechSettings
from appliance.speech.stt import Recognizer, Transcript
from appliance.speech.vad import VoiceActivity
from appliance.speech.vosk_engine import VoskRecognizer
from appliance.speech.wakeword import (
    Detection,
    WakeWordDetector,
    WakeWordSettings,
    phrase_of,
)
from appliance.speech.wav import FRAME_MS, DcBlocker
from appliance.tools import Tool

log = logging.getLogger(__name__)

FILLER_WORDS = frozenset({w for p in (*PREFIXES, *SUFFIXES) for w in p.split()} | OPTIONAL)
"""Words that are never a command on their own ("hey", "please", "thank you")."""

MAX_CLIPPED = 0.05
"""An utterance with more of its samples at full scale is not trusted (words get misheard:
"open the garage door" 18 dB over full scale was heard as "put garage door")."""

OPEN_ENDS = frozenset({"and", "then", "also", "or", "but", "plus", "the", "a", "an", "to",
                       "for", "at", "of", "with", "by", "my", "into", "from", "until"})
"""Words after which a command goes on: a pause there never ends it early."""

WAKE_SLACK_S = -0.1
"""Words whose middle lies before the wake word's estimated end, plus this, are its tail
(the estimate comes from the model's rising probability: it is rarely early by more)."""


def completes_call(decide: Callable[[str], Decision]) -> Callable[[str], bool]:
    """The endpoint-by-meaning check from a tool caller: the words give validated calls
    (every required argument decided, confident enough) and no question back."""
    def complete(words: str) -> bool:
        decision = decide(words)
        return bool(decision.calls) and decision.error is None
    return complete


def make_recognizer(settings: SpeechSettings, tools: Iterable[Tool]) -> Recognizer:
    """The configured engine, steered to the tools' words in command mode.

    With a wake word model the recogniser knows the wake word too: a command said straight
    after it may start with the wake word's last sound, which is then heard and removed.
    """
    ws = settings.wake_word
    wake = ws if isinstance(ws, str) else phrase_of(ws) if ws is not None else None
    grammar = (list(tools), wake) if settings.mode == "command" else None
    if settings.engine == "vosk":
        if settings.model is None:
            raise SpeechError("speech.engine vosk needs speech.model (the model directory)")
        return VoskRecognizer(Path(settings.model), grammar, accept=settings.accept)
    return PocketsphinxRecognizer(grammar, model_dir=settings.model, accept=settings.accept)


@dataclass
class _Pending:
    """An utterance under way while the pipeline is not armed: kept, not decoded."""

    frames: list[bytes] = field(default_factory=list)


class VoicePipeline:
    def __init__(self, settings: SpeechSettings, recognizer: Recognizer, *,
                 wake: WakeWordDetector | None = None,
                 complete: Callable[[str], bool] | None = None) -> None:
        self.settings = settings
        self.recognizer = recognizer
        self.complete = complete
        """Do these words make a complete call? (endpoint by meaning; None: off)"""
        self._checked_ms: float | None = None  # the check that marked the utterance complete
        ws = settings.wake_word
        if wake is None and isinstance(ws, WakeWordSettings):
            wake = WakeWordDetector(ws)
        self.wake = wake
        self._wake = " ".join(ws.lower().split()) if isinstance(ws, str) else ""
        self.gated = ws is not None or settings.button_pin is not None
        # Recognition runs only when armed (wake word model, button), not on all speech.
        self._on_demand = self.gated and not self._wake
        self._vad = VoiceActivity() if settings.endpoint.detector == "vad" else None
        self.endpointer: AnyEndpointer = make_endpointer(settings.endpoint, self._vad)
        self._dc = DcBlocker()
        self._frames = 0
        self._wake_end_s = -1.0
        self._armed_until = -1.0
        self._decoding = False
        self._pending: _Pending | None = None
        self._woken_at: float | None = None

    @property
    def now_s(self) -> float:
        return self._frames * FRAME_MS / 1000

    @property
    def armed(self) -> bool:
        return self.now_s <= self._armed_until

    @property
    def in_speech(self) -> bool:
        """Whether an utterance is under way (decoded or not)."""
        return self.endpointer.in_speech

    def arm(self, seconds: float | None = None) -> None:
        """Take the next utterance as a command without the wake word (button, "listen")."""
        self._armed_until = self.now_s + (seconds or self.settings.wake_timeout_s)

    def disarm(self) -> None:
        self._armed_until = -1.0

    def reset(self) -> None:
        """Start over on a new stream (the next WAV file, a reopened microphone)."""
        if self._decoding:
            self.recognizer.end()
            self._decoding = False
        if self._vad is not None:
            self._vad.reset()
        self.endpointer = make_endpointer(self.settings.endpoint, self._vad)
        if self.wake is not None:
            self.wake.reset()
        self._dc = DcBlocker()
        self._wake_end_s = -1.0
        self._frames = 0
        self._pending = None
        self._woken_at = None
        self._checked_ms = None
        self.disarm()

    def push(self, frame: bytes) -> Iterator[Heard]:
        self._frames += 1
        frame = self._dc.process(frame)
        for kind, value in self.endpointer.push(frame):
            yield from self._event(kind, value)
        if self._pending is not None and self.armed:
            self._begin(self._pending.frames)  # armed while speaking: decode it after all
        if self.wake is None:
            return
        if not self.armed and not self._decoding:
            detection = self.wake.push(frame)
            if detection is not None:
                yield from self._woken(detection)
        if (self._woken_at is not None and not self.armed and not self._decoding
                and not self.in_speech):
            yield self._nothing_after_wake()

    def finish(self) -> Iterator[Heard]:
        for kind, value in self.endpointer.finish():
            yield from self._event(kind, value)
        if self._woken_at is not None and not self._decoding:
            yield self._nothing_after_wake()

    def run(self, frames: Iterable[bytes]) -> Iterator[Heard]:
        for frame in frames:
            yield from self.push(frame)
        yield from self.finish()

    # -- the wake word model ----------------------------------------------------------

    def _woken(self, detection: Detection) -> Iterator[Heard]:
        if self.wake is not None:
            self.wake.reset()
        self.arm()
        end = self.now_s - detection.frames_since_end * FRAME_MS / 1000
        self._woken_at = self._wake_end_s = end
        log.info("speech: wake word %r (p=%.2f)", detection.phrase, detection.probability)
        yield Heard(max(0.0, end - 1.0), end, "wake_word", Transcript("", detection.phrase),
                    None, "wake word: listening")
        # The utterance under way holds the wake word and whatever follows it without a
        # pause: decode it whole; the words that ended before the wake word did are dropped.

    def _nothing_after_wake(self) -> Heard:
        at = self._woken_at or self.now_s
        self._woken_at = None
        return Heard(at, self.now_s, "timeout", Transcript(""), None,
                     f"wake word heard, then nothing said within "
                     f"{self.settings.wake_timeout_s:g} s")

    # -- utterances ---------------------------------------------------------------------

    def _begin(self, frames: Iterable[bytes]) -> None:
        self.recognizer.begin()
        self._decoding = True
        self._checked_ms = None
        for f in frames:
            self.recognizer.feed(f)
        self._pending = None

    def _event(self, kind: str, value: Any) -> Iterator[Heard]:
        if kind == "start":
            if self._on_demand and not self.armed:
                self._pending = _Pending()
            else:
                self._begin(())
        elif kind == "frame":
            if self._decoding:
                self.recognizer.feed(value)
            elif self._pending is not None:
                self._pending.frames.append(value)
        elif kind == "pause":
            if self._decoding and self.complete is not None:
                self._check(value)
        elif kind == "drop":
            self._pending = None
            if self._decoding:
                self.recognizer.end()
                self._decoding = False
            log.debug("speech: dropped a sound (%s)", value)
        elif kind == "end":
            if self._pending is not None:
                self._pending = None
                log.debug("speech: %.1f s of speech without the wake word: not decoded",
                          value.seconds)
            elif self._decoding:
                self._decoding = False
                checked, self._checked_ms = self._checked_ms, None
                if value.reason == "complete" and checked is not None:
                    yield self._decide(value, self.recognizer.end(reuse_peek=True), checked)
                else:
                    yield self._decide(value, self.recognizer.end())

    def _check(self, pause_ms: int) -> None:
        """A pause: when the words so far make a complete call, end the utterance soon
        (words the recogniser doubts wait for the whole silence: more may make it sure)."""
        t = time.perf_counter()
        transcript = self.recognizer.peek()
        words = transcript.text
        if self.wake is not None:
            words = _strip_wake(transcript, self.wake.phrase).text
        ok = bool(words) and not transcript.unsure and words.split()[-1] not in OPEN_ENDS \
            and not set(words.split()) <= FILLER_WORDS \
            and self.complete is not None and self.complete(words)
        spent = pause_ms + (time.perf_counter() - t) * 1000
        log.debug("speech: after a %d ms pause %r %s (%.0f ms)", pause_ms, words,
                  "is a complete call" if ok else "is not complete", spent - pause_ms)
        if ok:
            self._checked_ms = spent
            self.endpointer.mark_complete()

    def _decide(self, utt: Utterance, transcript: Transcript, checked_ms: float = 0.0) -> Heard:
        silence = {"silence": self.settings.endpoint.silence_ms,
                   "complete": self.settings.endpoint.complete_ms}.get(utt.reason, 0)

        def heard(command: str | None, note: str | None) -> Heard:
            return Heard(utt.start_s, utt.end_s, utt.reason, transcript, command, note, silence,
                         checked_ms)

        if self.wake is not None and self._wake_end_s > utt.start_s:
            # Decoded from before the wake word: what ended before it is not the command.
            transcript = transcript.without_words_before(self._wake_end_s - utt.start_s
                                                         + WAKE_SLACK_S)
            transcript = _strip_wake(transcript, self.wake.phrase)
        if transcript.heard and set(transcript.heard.split()) <= FILLER_WORDS:
            transcript = replace(transcript, text="", rejected="only filler words, no command")
        if self._on_demand:
            if (transcript.heard and not transcript.rejected) or not self.armed:
                self.disarm()
                self._woken_at = None
            else:  # nothing, or only the wake word: still listening for the command
                return heard(None, "only the wake word" if utt.start_s <= self._wake_end_s
                             else transcript.rejected or "no words recognised")
        clipped = clipped_share(utt.audio)
        if clipped > MAX_CLIPPED:
            return heard(None, f"the input is clipped ({clipped:.0%} of the samples at full "
                               f"scale): turn the microphone gain down")
        if utt.reason == "max_length":
            return heard(None, f"longer than {self.settings.endpoint.max_utterance_s:g} s "
                               f"of speech: not taken as a command")
        if not transcript.text:
            return heard(None, transcript.rejected or "no words recognised")
        words = transcript.text
        woken = False
        if self._wake and (words == self._wake or words.startswith(self._wake + " ")):
            woken, words = True, words[len(self._wake):].strip()
        if woken and not words:
            self.arm()
            return heard(None, "wake word: listening")
        if self._wake and not woken and not self.armed:
            return heard(None, "no wake word")
        self.disarm()
        return heard(words, None)


def clipped_share(pcm: bytes) -> float:
    """The share of 16-bit samples at (or within 1% of) full scale."""
    x = np.frombuffer(pcm, dtype="<i2")
    return float(np.mean(np.abs(x.astype(np.int32)) >= 32440)) if len(x) else 0.0


def _strip_wake(transcript: Transcript, phrase: str) -> Transcript:
    """Without the words of the wake word it starts with ("jarvis turn on" -> "turn on")."""
    wake = set(phrase.split())
    heard = transcript.heard.split()
    n = 0
    while n < len(heard) and heard[n] in wake:
        n += 1
    if not n:
        return transcript
    rest = " ".join(heard[n:])
    return replace(transcript, heard=rest, text=rest if transcript.text else "",
                   words=transcript.words[n:])
