"""Audio as the pipeline sees it: 16 kHz mono int16 frames of 30 ms, and WAV files.

Everything downstream (endpointing, speech to text) sees only :data:`FRAME_BYTES`-sized
frames at :data:`SAMPLE_RATE`, whatever the source. A WAV at another rate or with more
channels is mixed down and resampled, and says so; a file that is not PCM WAV is refused
with the reason. The microphone (:mod:`.audio`) gives the same frames.
"""

from __future__ import annotations

import logging
import math
import struct
from collections.abc import Iterator
from dataclasses import dataclass
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
