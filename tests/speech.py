"""Real test speech: espeak-ng says it, sox makes it the WAV a test needs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest


def _need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed (tools/setup installs it)")
    return path


def say(text: str, path: Path, *, voice: str = "en-us", speed: int = 150, rate: int = 16000,
        channels: int = 1, bits: int = 16, pad: tuple[float, float] = (0.4, 0.8)) -> Path:
    """Synthesize ``text`` into ``path`` (16 kHz mono 16-bit unless told otherwise)."""
    raw = path.with_suffix(".espeak.wav")
    subprocess.run([_need("espeak-ng"), "-v", voice, "-s", str(speed), "-w", str(raw), text],
                   check=True, capture_output=True)
    sox(raw, path, rate=rate, channels=channels, bits=bits, effects=["pad", *map(str, pad)])
    raw.unlink()
    return path


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
