"""Real test speech: espeak-ng (or flite) says it, sox makes it the WAV a test needs."""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path

import numpy as np
import pytest


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed (tools/setup installs it)")
    return path


def say(text: str, path: Path, *, voice: str = "en-us", speed: int = 150, rate: int = 16000,
        channels: int = 1, bits: int = 16, pad: tuple[float, float] = (0.4, 0.8),
        trim: bool = False) -> Path:
    """Synthesize ``text`` into ``path`` (16 kHz mono 16-bit unless told otherwise).

    ``voice`` is an espeak-ng voice, or ``flite:NAME`` for one of flite's. ``trim`` cuts the
    synthesizer's own leading silence, so the file starts with the first word.
    """
    raw = path.with_suffix(".synth.wav")
    if voice.startswith("flite:"):
        subprocess.run([_need("flite"), "-voice", voice[6:], "-t", text, "-o", str(raw)],
                       check=True, capture_output=True)
    else:
        subprocess.run([_need("espeak-ng"), "-v", voice, "-s", str(speed), "-w", str(raw),
                        text], check=True, capture_output=True)
    effects = ["silence", "1", "0.01", "1%"] if trim else []
    sox(raw, path, rate=rate, channels=channels, bits=bits,
        effects=[*effects, "pad", *map(str, pad)])
    raw.unlink()
    return path


def samples(path: Path) -> np.ndarray:
    """A 16-bit mono WAV's samples."""
    with wave.open(str(path)) as w:
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


def write(path: Path, x: np.ndarray, rate: int = 16000) -> Path:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(np.clip(np.round(x), -32768, 32767).astype("<i2").tobytes())
    return path


def mix(speech: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    """``speech`` with ``noise`` under it at ``snr_db`` (speech RMS over its loud part)."""
    s = speech.astype(np.float64)
    loud = s[np.abs(s) > 0.05 * np.abs(s).max()]
    n = np.resize(noise.astype(np.float64), len(s))
    gain = np.sqrt(np.mean(loud**2)) / np.sqrt(np.mean(n**2)) / 10 ** (snr_db / 20)
    return s + gain * n


def sox(src: Path | None, dst: Path, *, rate: int = 16000, channels: int = 1, bits: int = 16,
        effects: list[str] | None = None, synth: list[str] | None = None) -> Path:
    """Convert ``src`` (or synthesize, with ``synth``) into ``dst``."""
    inputs = ["-n"] if src is None else [str(src)]
    out = ["-r", str(rate), "-c", str(channels), "-b", str(bits), str(dst)]
    generate = ["synth", *synth] if synth else []
    subprocess.run([_need("sox"), "-q", *inputs, *out, *generate, *(effects or [])],
                   check=True, capture_output=True)
    return dst


def concat(parts: list[Path], dst: Path) -> Path:
    subprocess.run([_need("sox"), "-q", *map(str, parts), str(dst)], check=True,
                   capture_output=True)
    return dst


def content_words(text: str) -> list[str]:
    """The words that carry meaning (articles and politeness left out), for comparing what
    was heard with what was said."""
    from appliance.english import OPTIONAL

    return [w for w in text.split() if w not in OPTIONAL]


def home_pipeline(tools: object) -> object:
    """A voice pipeline on the default settings with the demo home's tools."""
    from appliance.speech.pipeline import VoicePipeline, make_recognizer
    from appliance.speech.settings import SpeechSettings

    settings = SpeechSettings()
    return VoicePipeline(settings, make_recognizer(settings, tools))  # type: ignore[arg-type]
