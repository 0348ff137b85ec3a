"""GGUF files: is this file one, before llama.cpp is handed it; its metadata and tensors."""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass
from pathlib import Path

from appliance.errors import ModelError, ModelNotFoundError

GGUF_MAGIC = b"GGUF"


def check_gguf(path: Path, what: str = "model") -> None:
    """Raise a clear error unless ``path`` is an existing GGUF file."""
    if not path.exists():
        raise ModelNotFoundError(f"{what} file not found: {path}")
    if not path.is_file():
        raise ModelError(f"{what} path is not a file: {path}")
    try:
        with path.open("rb") as f:
            magic = f.read(4)
    except OSError as exc:
        raise ModelError(f"cannot read {what} file {path}: {exc.strerror}") from None
    if magic != GGUF_MAGIC:
        raise ModelError(f"{what} file is not a GGUF file (bad magic {magic!r}): {path}")


# ggml tensor types: (bytes per block, values per block). Types not listed are not sized.
_BLOCKS = {0: (4, 1), 1: (2, 1), 2: (18, 32), 3: (20, 32), 6: (22, 32), 7: (24, 32),
           8: (34, 32), 9: (36, 32), 10: (84, 256), 11: (110, 256), 12: (144, 256),
           13: (176, 256), 14: (210, 256), 15: (292, 256), 24: (1, 1), 25: (2, 1),
           26: (4, 1), 27: (8, 1), 28: (8, 1), 30: (2, 1)}


def check_complete(path: Path, what: str = "model") -> TensorTable:
    """The GGUF's tensor table; :class:`ModelError` unless its header parses and every
    tensor it declares lies inside the file: a truncated adapter is refused here, where
    llama.cpp would crash on it."""
    check_gguf(path, what)
    size = path.stat().st_size
    try:
        table = read_table(path)
        if not table.tensors:
            raise ValueError("it has no tensors")
    except (OSError, ValueError, struct.error) as exc:
        raise ModelError(f"{what} file is not a complete GGUF: {exc}: {path}") from None
    end = 0
    for kind, dims, offset in table.tensors.values():
        count = 1
        for d in dims:
            count *= d
        per_block, values = _BLOCKS.get(kind, (0, 1))
        end = max(end, offset + count // values * per_block)
    if table.data_start + end > size:
        raise ModelError(f"{what} file is truncated: its tensors need {table.data_start + end} "
                         f"bytes, the file has {size}: {path}")
    return table


_FORMATS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q",
            11: "<q", 12: "<d"}


@dataclass(frozen=True)
class TensorTable:
    """A GGUF's scalar and string metadata, and each tensor's (type, dims, offset)."""

    metadata: dict[str, object]
    tensors: dict[str, tuple[int, list[int], int]]
    data_start: int
    """Where the data section starts (tensor offsets count from here)."""


def read_table(path: Path) -> TensorTable:
    """The tensor table of the GGUF file at ``path``; OSError or ValueError if it has none."""
    with path.open("rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buf:
        return tensor_table(buf)


def tensor_table(buf: mmap.mmap | bytes) -> TensorTable:
    """Parse a GGUF header held in ``buf`` (arrays are skipped); ValueError if it is not one."""
    pos = 0

    def take(fmt: str) -> object:
        nonlocal pos
        size = struct.calcsize(fmt)
        if pos + size > len(buf):
            raise ValueError(f"ends inside its header (at byte {pos})")
        (value,) = struct.unpack_from(fmt, buf, pos)
        pos += size
        return value

    def count(fmt: str) -> int:
        value = take(fmt)
        assert isinstance(value, int)
        return value

    def string() -> str:
        nonlocal pos
        n = count("<Q")
        if pos + n > len(buf):
            raise ValueError(f"a string runs past the end (at byte {pos})")
        text = bytes(buf[pos : pos + n]).decode("utf-8", errors="replace")
        pos += n
        return text

    def value(kind: int) -> object:
        nonlocal pos
        if kind in _FORMATS:
            return take(_FORMATS[kind])
        if kind == 8:
            return string()
        if kind == 9:
            item, n = count("<I"), count("<Q")
            if item in _FORMATS:
                pos += n * struct.calcsize(_FORMATS[item])
            else:
                for _ in range(n):
                    value(item)
            return None
        raise ValueError(f"unknown GGUF value type {kind}")

    if bytes(buf[:4]) != GGUF_MAGIC:
        raise ValueError("not a GGUF file")
    pos = 4
    version = take("<I")
    if version not in (2, 3):
        raise ValueError(f"unknown GGUF version {version}")
    n_tensors, n_kv = count("<Q"), count("<Q")
    metadata: dict[str, object] = {}
    for _ in range(n_kv):
        key = string()
        metadata[key] = value(count("<I"))
    alignment = metadata.get("general.alignment")
    align = alignment if isinstance(alignment, int) and alignment > 0 else 32
    tensors: dict[str, tuple[int, list[int], int]] = {}
    for _ in range(n_tensors):
        name = string()
        dims = [count("<Q") for _ in range(count("<I"))]
        kind, offset = count("<I"), count("<Q")
        tensors[name] = (kind, dims, offset)
    return TensorTable(metadata, tensors, -(-pos // align) * align)
