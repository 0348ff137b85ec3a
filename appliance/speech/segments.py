"""Utterances in a stream of 30 ms frames: what both endpointers share (:mod:`.endpoint`)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from appliance.speech.wav import FRAME_MS


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


class Segments:
    """What both endpointers share: an utterance closed, and the input's end."""

    _in_speech: bool
    _utt: list[bytes]
    _utt_start: int
    _complete: bool = False
    _check_frames: int = 0
    _complete_frames: int = 0

    def mark_complete(self) -> None:
        """The words so far make a complete call: end after ``complete_ms`` of this pause."""
        if self._in_speech and self._complete_frames:
            self._complete = True

    def _pause(self, quiet_run: int, speech: bool) -> Iterator[tuple[str, Any]]:
        """The pause events of a frame inside an utterance (before the silence check)."""
        if speech:
            self._complete = False  # more words: the check must be made again
        elif self._complete_frames and quiet_run == self._check_frames:
            yield "pause", quiet_run * FRAME_MS

    def push(self, frame: bytes) -> Iterator[tuple[str, Any]]:
        raise NotImplementedError

    def _end(self, reason: str) -> Iterator[tuple[str, Any]]:
        raise NotImplementedError

    def finish(self) -> Iterator[tuple[str, Any]]:
        """The input ended: close an utterance in progress."""
        if self._in_speech:
            yield from self._end("end_of_input")

    def _close(self, reason: str, counted: int, minimum: int,
               what: str) -> Iterator[tuple[str, Any]]:
        """The utterance so far, or a drop when it held too little ``what``."""
        self._in_speech = False
        self._complete = False
        audio = b"".join(self._utt)
        start = self._utt_start * FRAME_MS / 1000
        self._utt = []
        if counted < minimum:
            yield "drop", f"only {counted * FRAME_MS} ms of {what}"
            return
        yield "end", Utterance(audio, start, start + len(audio) / 32000, reason)

    def utterances(self, frames: Iterable[bytes]) -> Iterator[Utterance]:
        for frame in frames:
            for kind, value in self.push(frame):
                if kind == "end":
                    yield value
        for kind, value in self.finish():
            if kind == "end":
                yield value
