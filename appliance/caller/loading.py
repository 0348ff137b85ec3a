"""How the engine's model is loaded: threads, llama.cpp's buffer types, the adapter."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

from appliance.errors import ModelError
from appliance.gguf import check_complete
from appliance.merge import merged_model
from appliance.modelstore import SMALL_NAME, cache_dir, embedded_model

log = logging.getLogger(__name__)


def default_threads() -> int:
    """Two threads beat one on a 2-core machine for this model (tools/bench); cap at 4."""
    return max(1, min(4, os.cpu_count() or 1))


_DEFAULTS_LOCK = threading.Lock()


@contextlib.contextmanager
def load_params(llama_cpp: object, *, repack: bool, cb_eval: object | None = None
                ) -> Iterator[None]:
    """Create a ``Llama`` with two settings ``Llama()`` does not expose, by standing in for
    llama.cpp's default-parameter functions while it is made (one lock for both).

    ``repack``: the model's ``use_extra_bufts``. Weight repacking (llama.cpp's CPU_REPACK
    buffers) keeps a second, re-laid-out copy of the Q4_0 weights next to the mapped file:
    ~150 MB more resident memory for ~10% faster evals on this model (tools/bench). On a
    1 GB Pi the memory matters more.
    ``cb_eval``: the context's eval callback (:class:`appliance.caller.hidden.HiddenTap`).
    """
    module = llama_cpp.llama.llama_cpp  # type: ignore[attr-defined]
    model_defaults = module.llama_model_default_params
    context_defaults = module.llama_context_default_params

    def model() -> object:
        p = model_defaults()
        p.use_extra_bufts = repack
        return p

    def context() -> object:
        p = context_defaults()
        if cb_eval is not None:
            p.cb_eval = cb_eval
        return p

    with _DEFAULTS_LOCK:
        module.llama_model_default_params = model
        module.llama_context_default_params = context
        try:
            yield
        finally:
            module.llama_model_default_params = model_defaults
            module.llama_context_default_params = context_defaults


def merged_or_applied(model: Path, adapter: Path) -> tuple[Path, Path | None]:
    """The model with ``adapter`` merged in, and no adapter; or both as they are (logged)
    where no merged model can be made."""
    directory = cache_dir()
    # The default model is quantized from the embedded Q4_K_M, which the adapter was trained
    # on: the merge starts there.
    source = embedded_model() if model == directory / SMALL_NAME else None
    try:
        return merged_model(model, adapter, directory, source=source), None
    except (ModelError, OSError) as exc:
        log.warning("adapter %s applied at every eval, not merged: %s", adapter, exc)
        return model, adapter


def check_adapter(path: Path) -> None:
    """An adapter must be a complete GGUF: a truncated one would crash llama.cpp."""
    check_complete(path, "adapter")
