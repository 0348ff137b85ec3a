"""Endpointing: where an utterance starts and ends in a stream of 30 ms frames.

Two detectors decide, frame by frame, speech from non-speech; the same state machine
turns that into utterances (speech for ``start_ms`` starts one, ``silence_ms`` without
speech ends it, ``max_utterance_s`` cuts it), with ``pre_roll_ms`` of audio from before the
start so the first word is whole:

- :class:`VadEndpointer` (the default, ``detector: vad``): pymicro-vad, the trained
  detector Home Assistant's voice pipeline uses. It needs no noise floor, so a stream that
  starts with speech, or speech in loud noise, is found as well as speech after silence.
- :class:`Endpointer` (``detector: energy``): energy against an adaptive noise floor,
  seeded from the first frames (so speech at the very start becomes the floor: the reason
  the VAD is the default; tools/bench_voice compares the two).

Endpoint by meaning: after ``check_ms`` of a pause an endpointer yields ``("pause", ms)``
once; whoever decodes may then look at the words so far and, when they already make a
complete call, :meth:`~Segments.mark_complete` the utterance: it ends after ``complete_ms``
of silence (reason ``complete``) instead of ``silence_ms``, unless speech resumes first.
The check runs while the pause goes on, so its work is hidden in the wait.

Pure code: frames in, events out, no clock and no device, so it is tested on real WAVs.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from appliance.errors import SpeechError
from appliance.speech.segments import Segments
from appliance.speech.vad import VoiceActivity
from appliance.speech.wav import FRAME_MS

DETECTORS = ("vad", "energy")

SILENCE_DB = -96.0


def level_db(frame: bytes) -> float:
    """Frame level in dB relative to full scale (digital silence is -96)."""
    x = np.frombuffer(frame, dtype="<i2").astype(np.float64)
    if not len(x):
        return SILENCE_DB
    power = float(np.mean(x * x))
    return max(SILENCE_DB, 10 * math.log10(power / 32768.0**2)) if power > 0 else SILENCE_DB


@dataclass(frozen=True)
class EndpointSettings:
    detector: str = "vad"
    """``vad`` (pymicro-vad, trained) or ``energy`` (level above an adaptive floor)."""
    silence_ms: int = 600
    """Silence that ends an utterance (the fallback: see ``complete_ms``)."""
    complete_ms: int = 180
    """Silence that ends an utterance whose words already make a complete call (0: off)."""
    check_ms: int = 90
    """The pause after which the words so far are checked for a complete call."""
    max_utterance_s: float = 8.0
    """An utterance is cut here, speech or not."""
    start_ms: int = 90
    """Loud frames in a row that start an utterance (clicks are shorter)."""
    min_speech_ms: int = 200
    """Utterances with less loud audio than this are dropped."""
    pre_roll_ms: int | None = None
    """Audio kept from before the start, so the first word is whole (the detector's own
    default when unset: 450 ms for the VAD, which decides ~200 ms late; 240 ms for energy)."""
    threshold_db: float = 12.0
    """energy: how far above the noise floor speech must be."""
    min_level_db: float = -55.0
    """energy: never speech below this level, however quiet the room."""
    vad_threshold: float = 0.5
    """vad: the speech probability above which a 10 ms step is speech."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EndpointSettings:
        return cls(**dict(data))


@dataclass
class Endpointer(Segments):
    """Feed frames with :meth:`push`; it yields events as speech starts, goes on and ends.

    Events: ``("start", frames_so_far)``, ``("frame", frame)`` for each frame inside an
    utterance, ``("end", Utterance)`` and ``("drop", reason)`` for one too short to be speech.
    A streaming recogniser consumes the frames as they come; :meth:`utterances` collects
    whole utterances for simple uses.
    """

    settings: EndpointSettings = field(default_factory=EndpointSettings)
    floor_db: float | None = None
    start_frame: int = 0
    """Frames of the stream before the first one pushed here (utterance times count them)."""

    def __post_init__(self) -> None:
        s = self.settings
        self._start_frames = max(1, s.start_ms // FRAME_MS)
        self._end_frames = max(1, s.silence_ms // FRAME_MS)
        self._check_frames, self._complete_frames = _meaning_frames(s, self._end_frames)
        self._max_frames = max(1, int(s.max_utterance_s * 1000) // FRAME_MS)
        self._min_loud = max(1, s.min_speech_ms // FRAME_MS)
        pre_roll = 240 if s.pre_roll_ms is None else s.pre_roll_ms
        self._pre: deque[bytes] = deque(maxlen=max(self._start_frames, pre_roll // FRAME_MS))
        self._seed: list[float] = []
        self._frames = self.start_frame
        self._loud_run = 0
        self._in_speech = False
        self._utt: list[bytes] = []
        self._utt_start = 0
        self._quiet_run = 0
        self._loud_total = 0
        self._utt_db: list[float] = []

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def _loud(self, db: float) -> bool:
        floor = self.floor_db if self.floor_db is not None else SILENCE_DB
        return db > self.settings.min_level_db and db > floor + self.settings.threshold_db

    def _track_floor(self, db: float) -> None:
        if self.floor_db is None:
            self._seed.append(db)
            if len(self._seed) >= 5:  # 150 ms seed: the median of the room
                self.floor_db = float(np.median(self._seed))
            return
        if db < self.floor_db:
            self.floor_db += 0.3 * (db - self.floor_db)      # falls fast
        else:
            self.floor_db += 0.02 * min(db - self.floor_db, 20.0)  # rises slowly

    def push(self, frame: bytes) -> Iterator[tuple[str, Any]]:
        self._frames += 1
        db = level_db(frame)
        if not self._in_speech:
            loud = self._loud(db) and self.floor_db is not None
            self._pre.append(frame)
            self._loud_run = self._loud_run + 1 if loud else 0
            if not loud:
                self._track_floor(db)
            if self._loud_run >= self._start_frames:
                self._in_speech = True
                self._utt = list(self._pre)
                self._utt_start = self._frames - len(self._utt)
                self._quiet_run = 0
                self._loud_total = self._loud_run
                self._utt_db = []
                self._pre.clear()
                yield "start", len(self._utt)
                for f in self._utt:
                    yield "frame", f
            return
        self._utt.append(frame)
        self._utt_db.append(db)
        yield "frame", frame
        loud = self._loud(db)
        if loud:
            self._quiet_run = 0
            self._loud_total += 1
        else:
            self._quiet_run += 1
        yield from self._pause(self._quiet_run, loud)
        if self._complete and self._quiet_run >= self._complete_frames:
            yield from self._end("complete")
        elif self._quiet_run >= self._end_frames:
            yield from self._end("silence")
        elif len(self._utt) >= self._max_frames:
            # Cut. Speech has pauses; steady noise has none: its quiet end is the new floor.
            quiet = float(np.percentile(self._utt_db, 10))
            if self.floor_db is not None and quiet > self.floor_db:
                self.floor_db = quiet
            yield from self._end("max_length")

    def _end(self, reason: str) -> Iterator[tuple[str, Any]]:
        self._loud_run = 0
        yield from self._close(reason, self._loud_total, self._min_loud, "sound")


@dataclass
class VadEndpointer(Segments):
    """The same events as :class:`Endpointer`, with pymicro-vad deciding what is speech.

    :meth:`push` takes an optional probability already computed for the frame, so a
    pipeline can replay frames it kept (after a wake word) without feeding the model twice.
    After an utterance is cut at ``max_utterance_s`` (a monologue, the radio), no new one
    starts until speech pauses for ``silence_ms``: the rest of a monologue is not a command.
    """

    settings: EndpointSettings = field(default_factory=EndpointSettings)
    vad: VoiceActivity | None = None
    start_frame: int = 0
    """Frames of the stream before the first one pushed here (utterance times count them)."""

    def __post_init__(self) -> None:
        s = self.settings
        self._vad = self.vad if self.vad is not None else VoiceActivity()
        self._start_frames = max(1, s.start_ms // FRAME_MS)
        self._end_frames = max(1, s.silence_ms // FRAME_MS)
        self._check_frames, self._complete_frames = _meaning_frames(s, self._end_frames)
        self._max_frames = max(1, int(s.max_utterance_s * 1000) // FRAME_MS)
        self._min_speech = max(1, s.min_speech_ms // FRAME_MS)
        pre_roll = 450 if s.pre_roll_ms is None else s.pre_roll_ms
        self._pre: deque[bytes] = deque(maxlen=max(self._start_frames, pre_roll // FRAME_MS))
        self._frames = self.start_frame
        self._speech_run = 0
        self._in_speech = False
        self._overrun = False
        self._utt: list[bytes] = []
        self._utt_start = 0
        self._quiet_run = 0
        self._speech_total = 0
        self.last_probability = 0.0

    @property
    def in_speech(self) -> bool:
        return self._in_speech

    def push(self, frame: bytes, probability: float | None = None) -> Iterator[tuple[str, Any]]:
        p = self._vad.probability(frame) if probability is None else probability
        self.last_probability = p
        speech = p >= self.settings.vad_threshold
        self._frames += 1
        if not self._in_speech:
            self._pre.append(frame)
            if self._overrun:
                self._quiet_run = 0 if speech else self._quiet_run + 1
                self._overrun = self._quiet_run < self._end_frames
                return
            self._speech_run = self._speech_run + 1 if speech else 0
            if self._speech_run >= self._start_frames:
                self._in_speech = True
                self._utt = list(self._pre)
                self._utt_start = self._frames - len(self._utt)
                self._quiet_run = 0
                self._speech_total = self._speech_run
                self._pre.clear()
                yield "start", len(self._utt)
                for f in self._utt:
                    yield "frame", f
            return
        self._utt.append(frame)
        yield "frame", frame
        if speech:
            self._quiet_run = 0
            self._speech_total += 1
        else:
            self._quiet_run += 1
        yield from self._pause(self._quiet_run, speech)
        if self._complete and self._quiet_run >= self._complete_frames:
            yield from self._end("complete")
        elif self._quiet_run >= self._end_frames:
            yield from self._end("silence")
        elif len(self._utt) >= self._max_frames:
            self._overrun, self._quiet_run = True, 0
            yield from self._end("max_length")

    def _end(self, reason: str) -> Iterator[tuple[str, Any]]:
        self._speech_run = 0
        yield from self._close(reason, self._speech_total, self._min_speech, "speech")


def _meaning_frames(s: EndpointSettings, end_frames: int) -> tuple[int, int]:
    """Frames of pause before the check and before a complete call ends (0, 0: off)."""
    complete = min(end_frames, s.complete_ms // FRAME_MS)
    if complete <= 0 or complete >= end_frames:
        return 0, 0
    return max(1, min(complete, s.check_ms // FRAME_MS)), complete


AnyEndpointer = Endpointer | VadEndpointer


def make_endpointer(settings: EndpointSettings, vad: VoiceActivity | None = None, *,
                    start_frame: int = 0) -> AnyEndpointer:
    """The endpointer ``settings.detector`` names (``vad`` reuses ``vad`` when given)."""
    if settings.detector == "energy":
        return Endpointer(settings, start_frame=start_frame)
    if settings.detector != "vad":
        raise SpeechError(f"unknown speech detector {settings.detector!r} "
                          f"(one of {', '.join(DETECTORS)})")
    return VadEndpointer(settings, vad, start_frame)
