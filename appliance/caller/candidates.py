"""Logits for the candidate tokens only, from the final hidden state and the output rows.

A decision compares a handful of tokens (tool names, enum values, digits, the request's
words), yet the output layer scores all 262,144. Gemma 3 ties its output layer to the token
embedding, so the logit of token ``t`` is the dot product of the final normed hidden state
with row ``t`` of ``token_embd``. This module reads those rows straight from the GGUF
(``pread``: only the rows asked for are read, and none stay in the process's memory) and
scores them the way llama.cpp's CPU matmul does: the hidden state quantized to Q8_0
blocks, integer dot products per block, times both blocks' fp16 scales. The scores agree
with llama.cpp's own logits to float rounding (tests/test_engine_candidates.py asserts the
tolerance).
"""

from __future__ import annotations

import ctypes
import functools
import logging
import mmap
import os
import struct
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from appliance.errors import ModelError
from appliance.gguf import read_table

log = logging.getLogger(__name__)

F32, F16, Q4_0, Q8_0 = 0, 1, 2, 8
_TYPE_NAMES = {F32: "F32", F16: "F16", Q4_0: "Q4_0", Q8_0: "Q8_0"}
_BLOCK = 32  # values per Q4_0 / Q8_0 block
MADV_DONTNEED = 4  # Linux: drop a range's pages from this process (a file's stay cached)
_ROW_BYTES = {F32: lambda n: 4 * n, F16: lambda n: 2 * n,
              Q4_0: lambda n: n // _BLOCK * 18, Q8_0: lambda n: n // _BLOCK * 34}
Floats = npt.NDArray[np.float32]
TokenIds = Sequence[int] | npt.NDArray[np.int64]


def candidates_default() -> bool:
    """Candidate logits unless ``APPLIANCE_LOGITS=full`` asks for the full output layer."""
    value = os.environ.get("APPLIANCE_LOGITS", "candidates")
    if value not in ("candidates", "full"):
        raise ModelError(f"APPLIANCE_LOGITS must be 'candidates' or 'full', not {value!r}")
    return value == "candidates"


def _q8_0(x: Floats) -> tuple[Floats, npt.NDArray[np.int8]]:
    """Quantize like ggml's ``quantize_row_q8_0``: per-32 scale (fp16) and int8 values."""
    blocks = x.reshape(-1, _BLOCK)
    amax = np.abs(blocks).max(axis=1)
    d = (amax / np.float32(127)).astype(np.float16).astype(np.float32)
    with np.errstate(divide="ignore"):
        inv = np.where(amax > 0, np.float32(127) / amax, np.float32(0)).astype(np.float32)
    q = np.rint(blocks * inv[:, None]).astype(np.int8)
    return d, q


@functools.cache
def _libc_madvise() -> Any:
    madvise = ctypes.CDLL(None, use_errno=True).madvise
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    return madvise


def _madvise(start: int, size: int, advice: int) -> int:
    return int(_libc_madvise()(start, size, advice))


class OutputRows:
    """The output layer's rows (``output.weight``, else the tied ``token_embd.weight``)."""

    @classmethod
    def open(cls, path: Path, *, required: bool) -> OutputRows | None:
        """The rows, or None (and a warning) if the model's output layer cannot be scored
        here, unless ``required``."""
        try:
            return cls(path)
        except ModelError as exc:
            if required:
                raise
            log.warning("full logits at every decision: %s", exc)
            return None

    def __init__(self, path: Path):
        try:
            table = read_table(path)
            self._file = path.open("rb")
            tensors, data = table.tensors, table.data_start
        except (OSError, ValueError, struct.error) as exc:
            raise ModelError(f"cannot read the output layer of {path}: {exc}") from None
        name = "output.weight" if "output.weight" in tensors else "token_embd.weight"
        if name not in tensors:
            raise ModelError(f"{path} has neither output.weight nor token_embd.weight")
        kind, dims, offset = tensors[name]
        if kind not in _ROW_BYTES or len(dims) != 2:
            raise ModelError(
                f"candidate logits need {name} in {', '.join(_TYPE_NAMES.values())}, "
                f"not ggml type {kind} ({path})")
        self.kind = kind
        self.n_embd, self.n_vocab = dims
        self._row = _ROW_BYTES[kind](self.n_embd)
        self._start = data + offset
        self.path = path
        self._ranges: list[tuple[int, int]] | None = None

    @property
    def nbytes(self) -> int:
        """The size of the output layer (what a full-logit eval reads)."""
        return int(self._row * self.n_vocab)

    def _read(self, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]:
        """The rows' bytes. Read, not mapped: a mapped row would fault in 64 KB around it
        (measured: 500 rows added 32 MB of RSS), a read leaves it in the page cache."""
        if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= self.n_vocab):
            raise ModelError(f"token id out of range 0..{self.n_vocab - 1} ({self.path})")
        fd, row = self._file.fileno(), self._row
        data = b"".join(os.pread(fd, row, self._start + int(i) * row) for i in ids)
        if len(data) != row * len(ids):
            raise ModelError(f"{self.path} ends inside its output layer")
        return np.frombuffer(data, dtype=np.uint8).reshape(len(ids), row)

    def scores(self, hidden: Floats, tokens: TokenIds) -> Floats:
        """The logits of ``tokens`` for one final hidden state."""
        ids = np.asarray(tokens, dtype=np.int64)
        raw = self._read(ids)
        if self.kind == F32:
            return np.asarray(raw.view(np.float32) @ hidden, dtype=np.float32)
        if self.kind == F16:  # ggml converts the activations to fp16 for an F16 weight
            return (raw.view(np.float16).astype(np.float32)
                    @ hidden.astype(np.float16).astype(np.float32))
        dh, qh = _q8_0(hidden)
        blocks = raw.reshape(len(ids), -1, 34 if self.kind == Q8_0 else 18)
        dw = blocks[:, :, :2].copy().view(np.float16)[:, :, 0].astype(np.float32)
        if self.kind == Q8_0:
            qw = blocks[:, :, 2:].view(np.int8).astype(np.int32)
        else:  # Q4_0: low nibbles are values 0-15 of a block, high nibbles 16-31
            packed = blocks[:, :, 2:]
            qw = np.concatenate([packed & 0x0F, packed >> 4], axis=2).astype(np.int32) - 8
        isum = np.einsum("kbj,bj->kb", qw, qh.astype(np.int32))
        scaled = isum.astype(np.float32) * (dw * dh[None, :])
        return np.asarray(scaled.sum(axis=1, dtype=np.float32), dtype=np.float32)

    def release(self) -> int:
        """Take the rows' pages out of this process's resident memory; the bytes released.

        llama.cpp maps the whole model and touches every page at load (``MAP_POPULATE``),
        and each token it embeds maps 64 KB of the table around it (the kernel's fault-
        around), so the output layer, most of a Gemma 3 file, ends up resident although a
        decision scored here reads only a few of its rows. ``MADV_DONTNEED`` on that part
        of the read-only mapping drops the pages from the process and leaves them in the
        page cache: the next use faults them back in from memory. The engine calls this
        once the prompt is evaluated and at every rewind (about 0.1 ms). 0 off Linux."""
        if self._ranges is None:
            self._ranges = self._mapped_ranges()
        released = 0
        for start, size in self._ranges:
            if _madvise(start, size, MADV_DONTNEED) == 0:
                released += size
        return released

    def _mapped_ranges(self) -> list[tuple[int, int]]:
        """Where llama.cpp's mapping of this file holds the rows: (address, bytes) pages."""
        if sys.platform != "linux":
            return []
        try:
            maps = Path("/proc/self/maps").read_text()
        except OSError:
            return []
        target, page, ranges = os.path.realpath(self.path), mmap.PAGESIZE, []
        first, last = self._start, self._start + self.nbytes  # in the file
        for line in maps.splitlines():
            fields = line.split(maxsplit=5)
            if len(fields) < 6 or fields[5] != target or "w" in fields[1]:
                continue
            lo, hi = (int(x, 16) for x in fields[0].split("-"))
            base = lo - int(fields[2], 16)  # the address of the file's byte 0
            start = -(-max(lo, base + first) // page) * page
            end = min(hi, base + last) // page * page
            if end > start:
                ranges.append((start, end - start))
        return ranges

    def close(self) -> None:
        self._file.close()


class Scores:
    """The model's logits at one position: read from full logits, or computed on demand
    for the tokens asked from the final hidden state."""

    def __init__(self, *, logits: Floats | None = None, hidden: Floats | None = None,
                 rows: OutputRows | None = None):
        if logits is None and (hidden is None or rows is None):
            raise ValueError("Scores needs logits, or a hidden state and the output rows")
        self.logits = logits
        self._hidden = hidden
        self._rows = rows
        self._known: dict[int, float] = {}

    def at(self, tokens: TokenIds) -> Floats:
        """The logits of ``tokens``, in order."""
        if self.logits is not None:
            return self.logits[np.asarray(tokens, dtype=np.int64)]
        assert self._hidden is not None and self._rows is not None
        ids = [int(t) for t in tokens]
        missing = sorted({t for t in ids if t not in self._known})
        if missing:
            for t, s in zip(missing, self._rows.scores(self._hidden, missing), strict=True):
                self._known[t] = float(s)
        return np.array([self._known[t] for t in ids], dtype=np.float32)

    def __getitem__(self, token: int) -> float:
        if self.logits is not None:
            return float(self.logits[token])
        return float(self.at([token])[0])

    def best(self, tokens: TokenIds) -> int:
        """The token with the highest logit among ``tokens`` (the first on a tie)."""
        ids = np.asarray(tokens, dtype=np.int64)
        return int(ids[int(np.argmax(self.at(ids)))])
