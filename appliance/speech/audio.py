"""Audio in from a device: the microphone, or a WAV file replayed as one.

The microphone is a sounddevice input stream whose callback only puts the block on a queue
(never blocking it); overflows and dropped blocks are counted. Both give the frames of
:mod:`.wav` (16 kHz mono int16, 30 ms).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from appliance.errors import AudioError
from appliance.speech.wav import (
    FRAME_BYTES,
    FRAME_MS,
    SAMPLE_RATE,
    Resampler,
    Samples,
    frames_of,
    read_wav,
)

log = logging.getLogger(__name__)


def _sounddevice() -> Any:
    try:
        import sounddevice
    except OSError as exc:  # the PortAudio library is missing
        raise AudioError(f"audio is not available: {exc} (install libportaudio2)") from None
    return sounddevice


@dataclass(frozen=True)
class InputDevice:
    index: int
    name: str
    channels: int
    default_rate: float
    is_default: bool = False


def input_devices() -> list[InputDevice]:
    """The capture devices PortAudio sees (an empty list when there are none)."""
    sd = _sounddevice()
    try:
        devices = sd.query_devices()
        default_in = sd.default.device[0]
    except Exception as exc:  # PortAudioError and friends
        raise AudioError(f"cannot list audio devices: {exc}") from None
    return [InputDevice(i, str(d["name"]), int(d["max_input_channels"]),
                        float(d["default_samplerate"]), i == default_in)
            for i, d in enumerate(devices) if int(d.get("max_input_channels", 0)) > 0]


def find_input_device(spec: str | int | None) -> InputDevice:
    """The device named by index, by (part of) its name, or the default one."""
    devices = input_devices()
    if not devices:
        raise AudioError("no audio input device found (is a microphone connected?)")
    if spec is None:
        return next((d for d in devices if d.is_default), devices[0])
    if isinstance(spec, int) or (isinstance(spec, str) and spec.isdigit()):
        for d in devices:
            if d.index == int(spec):
                return d
        raise AudioError(f"no audio input device with index {spec} "
                         f"(see `appliance audio devices`)")
    matches = [d for d in devices if spec.lower() in d.name.lower()]
    if not matches:
        raise AudioError(f"no audio input device named like {spec!r} "
                         f"(see `appliance audio devices`)")
    return matches[0]


@dataclass
class CaptureStats:
    blocks: int = 0
    overflows: int = 0
    dropped: int = 0


@dataclass
class Microphone:
    """Capture from a sounddevice input stream as 30 ms frames at 16 kHz.

    The stream runs at 16 kHz when the device can, otherwise at its own rate and is
    resampled here (off the audio thread). :meth:`frames` yields frames and raises
    :class:`AudioError` when the device stops delivering (unplugged, or gone).
    """

    device: str | int | None = None
    stall_s: float = 2.0
    queue_blocks: int = 200
    stats: CaptureStats = field(default_factory=CaptureStats)

    def __post_init__(self) -> None:
        self._queue: queue.Queue[bytes] = queue.Queue(maxsize=self.queue_blocks)
        self._stream: Any = None
        self._resampler: Resampler | None = None
        self._pending = b""
        self._lock = threading.Lock()
        self.name = ""

    def _callback(self, indata: Any, frames: int, time_info: Any, status: Any) -> None:
        # The audio thread: count and hand over, nothing else.
        self.stats.blocks += 1
        if status and getattr(status, "input_overflow", False):
            self.stats.overflows += 1
        try:
            self._queue.put_nowait(bytes(indata))
        except queue.Full:
            self.stats.dropped += 1

    def open(self) -> None:
        sd = _sounddevice()
        dev = find_input_device(self.device)
        self.name = dev.name
        rate = SAMPLE_RATE
        try:
            sd.check_input_settings(device=dev.index, channels=1, dtype="int16",
                                    samplerate=SAMPLE_RATE)
        except Exception:
            rate = int(dev.default_rate)
            log.info("audio: %s cannot capture at %d Hz; capturing at %d Hz and resampling",
                     dev.name, SAMPLE_RATE, rate)
            self._resampler = Resampler(rate, SAMPLE_RATE)
        try:
            self._stream = sd.RawInputStream(
                samplerate=rate, blocksize=rate * FRAME_MS // 1000, device=dev.index,
                channels=1, dtype="int16", callback=self._callback)
            self._stream.start()
        except Exception as exc:
            raise AudioError(f"cannot open audio input {dev.name!r}: {exc}") from None
        log.info("audio: capturing from %s (device %d) at %d Hz", dev.name, dev.index, rate)

    def frames(self) -> Iterator[bytes]:
        last = time.monotonic()
        reported = (0, 0)
        next_report = last + 10.0
        while self._stream is not None:
            if time.monotonic() > next_report:  # the audio thread only counts; we log
                now = (self.stats.overflows, self.stats.dropped)
                if now != reported:
                    log.warning("audio: %d input overflows and %d dropped blocks so far "
                                "(is the CPU saturated?)", *now)
                    reported = now
                next_report = time.monotonic() + 10.0
            try:
                block = self._queue.get(timeout=0.25)
            except queue.Empty:
                if not self._stream.active or time.monotonic() - last > self.stall_s:
                    raise AudioError(f"audio input {self.name!r} stopped delivering "
                                     f"(unplugged?)") from None
                continue
            last = time.monotonic()
            if self._resampler is not None:
                floats = self._resampler.process(np.frombuffer(block, dtype="<i2"))
                block = np.clip(np.round(floats), -32768, 32767).astype("<i2").tobytes()
            self._pending += block
            while len(self._pending) >= FRAME_BYTES:
                frame, self._pending = (self._pending[:FRAME_BYTES],
                                        self._pending[FRAME_BYTES:])
                yield frame

    def drain(self) -> None:
        """Forget what was captured so far (after speaking a confirmation, say)."""
        with contextlib.suppress(queue.Empty):
            while True:
                self._queue.get_nowait()
        self._pending = b""

    def close(self) -> None:
        stream, self._stream = self._stream, None
        if stream is not None:
            with contextlib.suppress(Exception):
                stream.stop()
                stream.close()
        if self.stats.overflows or self.stats.dropped:
            log.warning("audio: %d overflows, %d blocks dropped in %d", self.stats.overflows,
                        self.stats.dropped, self.stats.blocks)


@dataclass
class WavReplay:
    """A WAV file as the microphone (``input_device: file:PATH``): a recording replayed.

    Frames come at the pace of real time, then silence, as from a quiet room. For demos,
    for checking a field recording on the real pipeline, and for the daemon's tests.
    """

    path: Path
    stats: CaptureStats = field(default_factory=CaptureStats)

    def __post_init__(self) -> None:
        self._samples: Samples | None = None
        self._stopped = False

    def open(self) -> None:
        self._samples = read_wav(self.path).samples
        log.info("audio: replaying %s as the microphone", self.path)

    def frames(self) -> Iterator[bytes]:
        if self._samples is None:
            raise AudioError(f"{self.path}: not opened")
        t0 = time.monotonic()
        silence = bytes(FRAME_BYTES)
        n = 0
        recorded = frames_of(self._samples)
        while not self._stopped:
            frame = next(recorded, silence)
            n += 1
            self.stats.blocks += 1
            delay = t0 + n * FRAME_MS / 1000 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            yield frame

    def drain(self) -> None:
        pass

    def close(self) -> None:
        self._stopped = True


def open_input(device: str | int | None) -> Microphone | WavReplay:
    """The capture source ``speech.input_device`` names (not yet opened)."""
    if isinstance(device, str) and device.startswith("file:"):
        return WavReplay(Path(device[len("file:"):]).expanduser())
    return Microphone(device)
