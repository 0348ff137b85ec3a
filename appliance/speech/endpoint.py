"""Endpointing: where an utterance starts and ends in a stream of 30 ms frames.

Energy against an adaptive noise floor: speech starts when the level stays a few dB
above the floor for ``start_ms``, and ends after ``silence_ms`` below it, or at
``max_utterance_s``. The floor follows the room while nobody speaks (fast down, slow up)
and is seeded from the first frames, so a fan or steady hiss is not speech. Pure code:
frames in, events out, no clock and no device, so it is tested on real WAV files.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from appliance.speech.audio import FRAME_MS

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
    silence_ms: int = 600
    """Silence that ends an utterance."""
    max_utterance_s: float = 8.0
    """An utterance is cut here, speech or not."""
    start_ms: int = 90
    """Loud frames in a row that start an utterance (clicks are shorter)."""
    min_speech_ms: int = 200
    """Utterances with less loud audio than this are dropped."""
    pre_roll_ms: int = 240
    """Audio kept from before the start, so soft first consonants are not cut."""
    threshold_db: float = 12.0
    """How far above the noise floor speech must be."""
    min_level_db: float = -55.0
    """Never speech below this level, however quiet the room."""

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> EndpointSettings:
        return cls(**dict(data))


@dataclass(frozen=True)
class Utterance:
    """The audio of one utterance and where it lies in the stream."""

    audio: bytes
    start_s: float
    end_s: float
    reason: str
    """Why it ended: ``silence``, ``max_length`` or ``end_of_input``."""

    @property
    def seconds(self) -> float:
        return len(self.audio) / 32000


@dataclass
class Endpointer:
    """Feed frames with :meth:`push`; it yields events as speech starts, goes on and ends.

    Events: ``("start", frames_so_far)``, ``("frame", frame)`` for each frame inside an
    utterance, ``("end", Utterance)`` and ``("drop", reason)`` for one too short to be speech.
    A streaming recogniser consumes the frames as they come; :meth:`utterances` collects
    whole utterances for simple uses.
    """

    settings: EndpointSettings = field(default_factory=EndpointSettings)
    floor_db: float | None = None

    def __post_init__(self) -> None:
        s = self.settings
        self._start_frames = max(1, s.start_ms // FRAME_MS)
        self._end_frames = max(1, s.silence_ms // FRAME_MS)
        self._max_frames = max(1, int(s.max_utterance_s * 1000) // FRAME_MS)
        self._min_loud = max(1, s.min_speech_ms // FRAME_MS)
        self._pre: deque[bytes] = deque(maxlen=max(self._start_frames,
                                                   s.pre_roll_ms // FRAME_MS))
        self._seed: list[float] = []
        self._frames = 0
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
        if self._loud(db):
            self._quiet_run = 0
            self._loud_total += 1
        else:
            self._quiet_run += 1
        if self._quiet_run >= self._end_frames:
            yield from self._end("silence")
        elif len(self._utt) >= self._max_frames:
            # Cut. Speech has pauses; steady noise has none: its quiet end is the new floor.
            quiet = float(np.percentile(self._utt_db, 10))
            if self.floor_db is not None and quiet > self.floor_db:
                self.floor_db = quiet
            yield from self._end("max_length")

    def finish(self) -> Iterator[tuple[str, Any]]:
        """The input ended: close an utterance in progress."""
        if self._in_speech:
            yield from self._end("end_of_input")

    def _end(self, reason: str) -> Iterator[tuple[str, Any]]:
        self._in_speech = False
        self._loud_run = 0
        audio = b"".join(self._utt)
        start = self._utt_start * FRAME_MS / 1000
        self._utt = []
        if self._loud_total < self._min_loud:
            yield "drop", f"only {self._loud_total * FRAME_MS} ms of sound"
            return
        yield "end", Utterance(audio, start, start + len(audio) / 32000, reason)

    def utterances(self, frames: Iterator[bytes]) -> Iterator[Utterance]:
        for frame in frames:
            for kind, value in self.push(frame):
                if kind == "end":
                    yield value
        for kind, value in self.finish():
            if kind == "end":
                yield value
