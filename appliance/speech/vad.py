"""pymicro-vad, Home Assistant's trained voice activity detector, over 30 ms frames."""

from __future__ import annotations

from appliance.errors import SpeechError


class VoiceActivity:
    """pymicro-vad over 30 ms frames: the speech probability of each frame (0-1)."""

    STEP = 320
    """pymicro-vad takes 10 ms: 160 samples of 16-bit audio."""

    def __init__(self) -> None:
        try:
            from pymicro_vad import MicroVad
        except ImportError as exc:
            raise SpeechError(f"pymicro-vad is not installed: {exc}") from None
        self._vad = MicroVad()
        self._warm_up()

    def _warm_up(self) -> None:
        # The model says nothing (-1) until it has ~760 ms of context: give it silence, so
        # a stream that starts with speech is judged from its first frame.
        for _ in range(200):
            if self._vad.process_10ms(bytes(self.STEP)) >= 0:
                break

    def reset(self) -> None:
        self._vad.reset()
        self._warm_up()

    def probability(self, frame: bytes) -> float:
        """The highest of the frame's three 10 ms probabilities (short words count)."""
        probs = [self._vad.process_10ms(frame[i:i + self.STEP])
                 for i in range(0, len(frame) - self.STEP + 1, self.STEP)]
        return max(0.0, *probs) if probs else 0.0
