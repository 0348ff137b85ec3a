"""Audio in: WAV files and the microphone, both as 16 kHz mono int16 frames of 30 ms.

Everything downstream (endpointing, speech to text) sees only :data:`FRAME_BYTES`-sized
frames at :data:`SAMPLE_RATE`, whatever the source. A WAV at another rate or with more
channels is mixed down and resampled, and says so; a file that is not PCM WAV is refused
with the reason. The microphone is a sounddevice input stream whose callback only puts
the block on a queue (never blocking it); overflows and dropped blocks are counted.
"""

from __future__ import annotations

import contextlib
import logging
import math
import queue
import struct
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from appliance.errors import AudioError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
FRAME_MS = 30
FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * 2
MAX_WAV_SECONDS = 3600
"""Longer files are refused rather than read into memory."""

Samples = npt.NDArray[np.int16]


# -- resampling ---------------------------------------------------------------------------


class Resampler:
    """Streaming band-limited resampler (windowed sinc), float in, float out.

    Feed chunks of any size with :meth:`process`; call :meth:`flush` at the end. The
    cut-off is just under the lower of the two Nyquist frequencies, so 44.1 or 48 kHz
    audio does not fold its top octave into the speech band.
    """

    def __init__(self, in_rate: int, out_rate: int, *, half_taps: int = 16) -> None:
        if in_rate <= 0 or out_rate <= 0:
            raise AudioError(f"bad sample rates {in_rate} -> {out_rate}")
        self.in_rate = in_rate
        self.out_rate = out_rate
        self.step = in_rate / out_rate          # input samples per output sample
        self.cutoff = 0.95 * min(1.0, out_rate / in_rate)
        self.half = half_taps if in_rate <= out_rate else math.ceil(half_taps * self.step)
        self._buf = np.zeros(self.half, dtype=np.float64)  # left context: silence
        self._t = float(self.half)             # next output position, in _buf coordinates

    def process(self, chunk: npt.NDArray[Any]) -> npt.NDArray[np.float64]:
        self._buf = np.concatenate([self._buf, chunk.astype(np.float64)])
        last = len(self._buf) - self.half - 1      # the last position with full right context
        if self._t > last:
            return np.zeros(0)
        positions = np.arange(self._t, last + 1e-9, self.step)
        out = self._interpolate(positions)
        self._t = positions[-1] + self.step
        drop = max(0, int(self._t) - self.half)
        self._buf = self._buf[drop:]
        self._t -= drop
        return out

    def flush(self) -> npt.NDArray[np.float64]:
        """The output still held back for want of right context (padded with silence)."""
        return self.process(np.zeros(self.half + 1))

    def _interpolate(self, positions: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        out = np.empty(len(positions))
        offsets = np.arange(-self.half + 1, self.half + 1)
        for start in range(0, len(positions), 4096):      # bounded memory for long files
            pos = positions[start:start + 4096]
            base = np.floor(pos).astype(np.int64)
            idx = base[:, None] + offsets[None, :]
            dist = pos[:, None] - idx
            out[start:start + len(pos)] = (self._buf[idx] * self._kernel(dist)).sum(axis=1)
        return out

    def _kernel(self, dist: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        window = 0.5 + 0.5 * np.cos(np.pi * np.clip(dist / self.half, -1.0, 1.0))
        result: npt.NDArray[np.float64] = self.cutoff * np.sinc(self.cutoff * dist) * window
        return result


def resample(samples: npt.NDArray[Any], in_rate: int, out_rate: int = SAMPLE_RATE) -> Samples:
    """Resample a whole signal (int or float samples in the int16 range) to ``out_rate``."""
    if in_rate == out_rate:
        return np.asarray(samples).astype(np.int16)
    r = Resampler(in_rate, out_rate)
    out = np.concatenate([r.process(np.asarray(samples)), r.flush()])
    n = round(len(samples) * out_rate / in_rate)
    return np.clip(np.round(out[:n]), -32768, 32767).astype(np.int16)


# -- WAV files ------------------------------------------------------------------------------


@dataclass(frozen=True)
class WavAudio:
    """A WAV file as the pipeline sees it: 16 kHz mono int16, and what was done to get there."""

    path: Path
    samples: Samples
    source_rate: int
    source_channels: int
    notes: tuple[str, ...] = ()

    @property
    def seconds(self) -> float:
        return len(self.samples) / SAMPLE_RATE


def read_wav(path: Path) -> WavAudio:
    """Read a WAV file (PCM or float, plain or extensible) into 16 kHz mono int16.

    Raises :class:`AudioError` that says what is wrong with the file.
    """
    try:
        with path.open("rb") as f:
            fmt, data = _riff_chunks(f, path)
    except AudioError:
        raise
    except FileNotFoundError:
        raise AudioError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise AudioError(f"{path}: is a directory, not a WAV file") from None
    except OSError as exc:
        raise AudioError(f"{path}: cannot read: {exc.strerror}") from None
    tag, channels, rate, bits = fmt
    if rate < 4000 or rate > 384000 or channels < 1 or channels > 64:
        raise AudioError(f"{path}: {channels} channels at {rate} Hz is not audio this can use")
    if not 1 <= bits <= 64:
        raise AudioError(f"{path}: {bits} bits per sample is not audio (a broken header?)")
    try:
        samples = _decode(data, tag, bits, path)
    except AudioError:
        raise
    except (ValueError, ArithmeticError, MemoryError) as exc:  # a header that lies
        raise AudioError(f"{path}: cannot decode the samples: {exc}") from None
    samples = samples[: len(samples) - len(samples) % channels]
    notes: list[str] = []
    if channels > 1:
        samples = samples.reshape(-1, channels).mean(axis=1)
        notes.append(f"{channels} channels mixed down to mono")
    if rate != SAMPLE_RATE:
        notes.append(f"resampled from {rate} Hz to {SAMPLE_RATE} Hz")
        out = resample(samples, rate, SAMPLE_RATE)
    else:
        out = np.clip(np.round(samples), -32768, 32767).astype(np.int16)
    return WavAudio(path, out, rate, channels, tuple(notes))


_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE


def _riff_chunks(f: Any, path: Path) -> tuple[tuple[int, int, int, int], bytes]:
    """The format (tag, channels, rate, bits) and the sample bytes of a RIFF/WAVE file."""
    head = f.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"WAVE":
        raise AudioError(f"{path}: not a WAV file (no RIFF/WAVE header)")
    fmt: tuple[int, int, int, int] | None = None
    while True:
        chunk = f.read(8)
        if len(chunk) < 8:
            raise AudioError(f"{path}: not a PCM WAV file (no "
                             f"{'data' if fmt else 'fmt'} chunk; truncated?)")
        cid, size = chunk[:4], struct.unpack("<I", chunk[4:])[0]
        if cid == b"fmt ":
            body = f.read(size + (size & 1))
            if len(body) < 16:
                raise AudioError(f"{path}: not a PCM WAV file (short fmt chunk)")
            tag, channels, rate, _, _, bits = struct.unpack("<HHIIHH", body[:16])
            if channels < 1 or rate < 1:
                raise AudioError(f"{path}: {channels} channels at {rate} Hz is not audio "
                                 f"this can use")
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID's first field
            fmt = (tag, channels, rate, bits)
        elif cid == b"data":
            if fmt is None:
                raise AudioError(f"{path}: not a PCM WAV file (data before fmt)")
            limit = MAX_WAV_SECONDS * fmt[2] * fmt[1] * max(1, fmt[3] // 8)
            if size > limit and size != 0xFFFFFFFF:
                raise AudioError(f"{path}: more than {MAX_WAV_SECONDS} s of audio")
            data = f.read(min(size, limit))
            return fmt, data
        else:
            f.seek(size + (size & 1), 1)


def _decode(raw: bytes, tag: int, bits: int, path: Path) -> npt.NDArray[np.float64]:
    """Sample bytes to floats in the int16 range."""
    if tag == _FLOAT and bits in (32, 64):
        x = np.frombuffer(raw[: len(raw) - len(raw) % (bits // 8)],
                          dtype="<f4" if bits == 32 else "<f8")
        return np.nan_to_num(x.astype(np.float64)) * 32767.0
    if tag != _PCM:
        raise AudioError(f"{path}: compressed WAV (format {tag:#x}) is not supported; "
                         f"convert it to PCM (sox in.wav -b 16 out.wav)")
    width = (bits + 7) // 8
    raw = raw[: len(raw) - len(raw) % width]
    if width == 1:
        return (np.frombuffer(raw, dtype=np.uint8).astype(np.float64) - 128.0) * 256.0
    if width == 2:
        return np.frombuffer(raw, dtype="<i2").astype(np.float64)
    if width == 3:
        b = np.frombuffer(raw, dtype=np.uint8).reshape(-1, 3)
        v = b[:, 0].astype(np.int32) | (b[:, 1].astype(np.int32) << 8) | (
            b[:, 2].astype(np.int32) << 16)
        v = np.where(v >= 1 << 23, v - (1 << 24), v)
        return v.astype(np.float64) / 256.0
    if width == 4:
        return np.frombuffer(raw, dtype="<i4").astype(np.float64) / 65536.0
    raise AudioError(f"{path}: {bits}-bit samples are not supported")


class DcBlocker:
    """Removes a DC offset (a cheap microphone's, a bad preamp's) from 30 ms frames.

    The offset is followed as a slow average of the frames' means (about 0.6 s), so speech
    itself is untouched; the first frame seeds it, so an offset present from the start is
    gone from the first frame on.
    """

    def __init__(self) -> None:
        self._dc: float | None = None

    def process(self, frame: bytes) -> bytes:
        x = np.frombuffer(frame, dtype="<i2")
        if not len(x):
            return frame
        mean = float(x.mean())
        self._dc = mean if self._dc is None else self._dc + 0.05 * (mean - self._dc)
        if abs(self._dc) < 64:  # inaudible: leave the samples exactly as they were
            return frame
        y = np.clip(np.round(x - self._dc), -32768, 32767).astype("<i2")
        return y.tobytes()


def frames_of(samples: Samples) -> Iterator[bytes]:
    """The signal as whole 30 ms frames; a last partial frame is padded with silence."""
    data = samples.astype("<i2").tobytes()
    for start in range(0, len(data), FRAME_BYTES):
        frame = data[start:start + FRAME_BYTES]
        yield frame if len(frame) == FRAME_BYTES else frame.ljust(FRAME_BYTES, b"\0")


# -- the microphone ---------------------------------------------------------------------------


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
