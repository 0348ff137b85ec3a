"""What the voice pipeline reports for each utterance (or wake word): :class:`Heard`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from appliance.speech.stt import Transcript


@dataclass(frozen=True)
class Heard:
    """One utterance (or a wake word), what the recogniser made of it, and whether to act."""

    start_s: float
    end_s: float
    ended_by: str
    """``silence``, ``max_length``, ``end_of_input``; ``wake_word`` for a wake word heard by
    the model, ``timeout`` when nothing was said after it."""
    transcript: Transcript
    command: str | None
    """The words for the tool caller (wake word removed); ``None`` when not a command."""
    note: str | None = None
    """Why it is not a command, or what it did (armed the pipeline)."""
    silence_ms: int = 0
    """How long the endpointer waited after the speech before ending the utterance."""
    check_ms: float = 0.0
    """Ended by meaning: the pause at which the words were checked plus the check's work
    (decoding so far, the tool caller); it runs during the pause, so it counts only where it
    outlasts ``silence_ms``."""

    @property
    def wait_ms(self) -> float:
        """From the end of speech to the end of the utterance, the check's work included."""
        return max(float(self.silence_ms), self.check_ms)

    @property
    def rtf(self) -> float:
        """Real-time factor of speech to text: decoding time over audio time."""
        seconds = self.end_s - self.start_s
        return self.transcript.decode_ms / 1000 / seconds if seconds > 0 else 0.0

    @property
    def confidence(self) -> float | None:
        """The recogniser's confidence in the transcript (0-1), where it gives one."""
        return self.transcript.confidence

    def to_dict(self) -> dict[str, Any]:
        return {
            "start_s": round(self.start_s, 2), "end_s": round(self.end_s, 2),
            "ended_by": self.ended_by, "heard": self.transcript.heard,
            "text": self.command, "rejected": self.transcript.rejected, "note": self.note,
            "confidence": (None if self.transcript.confidence is None
                           else round(self.transcript.confidence, 3)),
            "alternatives": list(self.transcript.alternatives),
            "stt_ms": {"final": round(self.transcript.final_ms, 1),
                       "total": round(self.transcript.decode_ms, 1)},
            "stt_rtf": round(self.rtf, 3), "wait_ms": round(self.wait_ms, 1),
            **({"unsure": True} if self.transcript.unsure else {}),
        }
