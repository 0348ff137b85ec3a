"""llama-cpp-python behind one seam: tokens, the cached tool prompt, evals and logits.

The tool prompt is evaluated once; its KV state is kept as a snapshot (and on disk, so a
restart does not evaluate it again) and every request starts from that snapshot and
evaluates only its own tokens. Gemma 3's local layers use a sliding-window cache that
evicts positions a request's tokens push out of the window, so simply truncating the cache
after a request would silently lose prefix positions; restoring the snapshot (~4 ms for
~12 MB) is exact, and keeps the small window cache, which makes attention cheaper than a
full-size one (``swa_full``) would.

Costs that shape this module (measured, see tools/bench): an eval that gives full logits
streams the whole 262k-row output layer once, a fixed cost; every token in a batch adds
compute. Callers batch forced tokens into as few evals as possible and ask for logits
only where a decision is made (``outputs``). :meth:`Engine.eval_scores` skips the output
layer: it stops the graph at the final hidden state (:mod:`.hidden`) and scores only the
tokens a decision compares (:mod:`.candidates`); ``APPLIANCE_LOGITS=full`` turns that off,
so both paths can be compared.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from appliance.caller.candidates import OutputRows, Scores, candidates_default
from appliance.caller.hidden import HiddenTap
from appliance.caller.loading import check_adapter, default_threads, load_params, merged_or_applied
from appliance.errors import ModelError
from appliance.gguf import check_gguf

log = logging.getLogger(__name__)

Logits = npt.NDArray[np.float32]
_T = TypeVar("_T")


@dataclass
class EvalStats:
    """Counters for one request (reset by :meth:`Engine.rewind`)."""

    tokens: int = 0
    evals: int = 0


class Engine:
    """One llama.cpp model and context, with a cached prefix."""

    def __init__(
        self,
        model_path: str | Path,
        *,
        adapter: str | Path | None = None,
        threads: int | None = None,
        context: int = 2048,
        batch: int = 32,
        repack: bool = False,
        candidates: bool | None = None,
        merge: bool = False,
    ):
        """``candidates`` (default: :func:`candidates_default`) lets :meth:`eval_scores`
        skip the output layer; ``merge`` loads the model with the adapter merged into its
        weights (:mod:`appliance.merge`, made once into the cache) where it can be."""
        import llama_cpp

        self._llama_cpp = llama_cpp
        path = Path(model_path)
        check_gguf(path)
        self.adapter_path = Path(adapter) if adapter else None
        self.merged = False
        if adapter is not None:
            check_adapter(Path(adapter))
            if merge:
                path, adapter = merged_or_applied(path, Path(adapter))
                self.merged = adapter is None
        n_threads = threads or default_threads()
        wanted = candidates_default() if candidates is None else candidates
        self._rows = OutputRows.open(path, required=candidates is True) if wanted else None
        self.candidates = self._rows is not None
        self._tap = HiddenTap(llama_cpp) if self.candidates else None
        try:
            with load_params(llama_cpp, repack=repack,
                             cb_eval=self._tap.callback if self._tap else None):
                self.llm = llama_cpp.Llama(
                    model_path=str(path),
                    n_ctx=context,
                    n_batch=batch,
                    n_ubatch=batch,
                    n_threads=n_threads,
                    n_threads_batch=n_threads,
                    logits_all=False,
                    swa_full=False,
                    verbose=False,
                )
        except (ValueError, RuntimeError, OSError) as exc:
            raise ModelError(f"llama.cpp could not load model {path}: {exc}") from None
        self._adapter = self._set_adapter(Path(adapter), path) if adapter else None
        self.model_path = path
        self.threads = n_threads
        self.context = context
        self.batch = batch
        self.n_vocab: int = self.llm.n_vocab()
        self._ctx = self.llm._ctx.ctx
        self._mem = llama_cpp.llama_get_memory(self._ctx)
        self._llama_batch = llama_cpp.llama_batch_init(batch, 0, 1)
        self.n_past = 0
        self.prefix: tuple[int, ...] = ()
        self._snapshot: ctypes.Array[ctypes.c_uint8] | None = None
        self.stats = EvalStats()

    def _set_adapter(self, adapter: Path, model: Path) -> object:
        """Apply a LoRA adapter to the mapped model (``Llama(lora_path=)`` would load the
        whole model into memory instead of mapping it)."""
        lib = self._llama_cpp
        lora = lib.llama_adapter_lora_init(self.llm._model.model, str(adapter).encode())
        if not lora:
            self.llm.close()
            raise ModelError(f"llama.cpp could not load adapter {adapter} on model {model}")
        adapters, scales = (lib.llama_adapter_lora_p_ctypes * 1)(lora), (ctypes.c_float * 1)(1.0)
        if lib.llama_set_adapters_lora(self.llm._ctx.ctx, adapters, 1, scales):
            lib.llama_adapter_lora_free(lora)
            self.llm.close()
            raise ModelError(f"llama.cpp could not apply adapter {adapter} to model {model}")
        return lora

    def close(self) -> None:
        if self._llama_batch is not None:
            self._llama_cpp.llama_batch_free(self._llama_batch)
            self._llama_batch = None
        if self._adapter is not None:
            self._llama_cpp.llama_adapter_lora_free(self._adapter)
            self._adapter = None
        self.llm.close()
        if self._rows is not None:
            self._rows.close()
            self._rows = None

    # -- tokens ---------------------------------------------------------------------

    def tokenize(self, text: str, *, special: bool = True) -> list[int]:
        """Token ids for ``text`` (no BOS added); ``special=False`` for untrusted text."""
        return list(self.llm.tokenize(text.encode("utf-8"), add_bos=False, special=special))

    def detokenize(self, tokens: Sequence[int]) -> str:
        return self.llm.detokenize(list(tokens), special=True).decode("utf-8", errors="replace")

    @functools.lru_cache(maxsize=4096)  # noqa: B019 - one engine per process, bounded
    def piece(self, token: int) -> str:
        """The text of one token."""
        lib = self._llama_cpp
        vocab = lib.llama_model_get_vocab(self.llm._model.model)
        buf = ctypes.create_string_buffer(256)
        n = lib.llama_token_to_piece(vocab, token, buf, len(buf), 0, True)
        return buf.raw[: max(n, 0)].decode("utf-8", errors="replace")

    def all_pieces(self) -> Iterator[str]:
        """The text of every token in the vocabulary, in order (not kept in memory)."""
        lib = self._llama_cpp
        vocab = lib.llama_model_get_vocab(self.llm._model.model)
        buf = ctypes.create_string_buffer(256)
        for tok in range(self.n_vocab):
            n = lib.llama_token_to_piece(vocab, tok, buf, len(buf), 0, True)
            yield buf.raw[: max(n, 0)].decode("utf-8", errors="replace")

    def is_control(self, token: int) -> bool:
        lib = self._llama_cpp
        vocab = lib.llama_model_get_vocab(self.llm._model.model)
        return bool(lib.llama_vocab_is_control(vocab, token))

    # -- evaluation ------------------------------------------------------------------

    def set_prefix(self, tokens: Sequence[int], *, cache_file: Path | None = None) -> bool:
        """Evaluate the tool prompt once (or load its saved state); return True if loaded."""
        if len(tokens) >= self.context - 64:
            raise ModelError(
                f"the tool prompt is {len(tokens)} tokens but the context is {self.context}; "
                "raise model.context or declare fewer tools"
            )
        self.prefix = tuple(tokens)
        loaded = cache_file is not None and self._load_snapshot(cache_file)
        if not loaded:
            self._clear()
            self.eval(tokens, outputs=())
            self._take_snapshot()
            if cache_file is not None:
                self._save_snapshot(cache_file)
        if self._rows is not None:
            log.debug("output layer: %.0f MB out of resident memory", self._rows.release() / 1e6)
        self.stats = EvalStats()
        return loaded

    def rewind(self) -> None:
        """Return to the state right after the prefix; reset the per-request counters."""
        if self.n_past != len(self.prefix):
            self._restore()
        if self._rows is not None:
            self._rows.release()  # the rows the last request embedded
        self.stats = EvalStats()

    def _clear(self) -> None:
        self._llama_cpp.llama_memory_seq_rm(self._mem, 0, -1, -1)
        self.n_past = 0

    def _take_snapshot(self) -> None:
        lib = self._llama_cpp
        size = lib.llama_state_seq_get_size(self._ctx, 0)
        buf = (ctypes.c_uint8 * size)()
        if lib.llama_state_seq_get_data(self._ctx, buf, size, 0) != size:
            raise ModelError("could not snapshot the tool prompt's KV cache")
        self._snapshot = buf

    def _restore(self) -> None:
        if self._snapshot is None:
            raise ModelError("no tool prompt has been evaluated")
        self._clear()
        size = len(self._snapshot)
        if self._llama_cpp.llama_state_seq_set_data(self._ctx, self._snapshot, size, 0) != size:
            raise ModelError("could not restore the tool prompt's KV cache")
        self.n_past = len(self.prefix)

    def _save_snapshot(self, path: Path) -> None:
        assert self._snapshot is not None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
            tmp.write_bytes(bytes(self._snapshot))
            tmp.replace(path)
        except OSError as exc:  # a read-only cache only costs start-up time
            log.warning("could not save the prompt cache %s: %s", path, exc.strerror)

    def _load_snapshot(self, path: Path) -> bool:
        try:
            data = path.read_bytes()
        except OSError:
            return False
        buf = (ctypes.c_uint8 * len(data)).from_buffer_copy(data)
        self._snapshot = buf
        try:
            self._restore()
        except ModelError:
            log.warning("ignoring unusable prompt cache %s", path)
            self._snapshot = None
            return False
        return True

    def eval(self, tokens: Sequence[int], outputs: Sequence[int] = (-1,)) -> list[Logits]:
        """Evaluate ``tokens`` after what is cached; return logits at the ``outputs`` indices.

        Indices are into ``tokens`` (negative counts from the end). Returned arrays are
        copies, valid after later evals.
        """
        lib = self._llama_cpp

        def read(marked: list[int]) -> list[Logits]:
            return [np.ctypeslib.as_array(lib.llama_get_logits_ith(self._ctx, j),
                                          shape=(self.n_vocab,)).copy() for j in marked]

        return self._decode(tokens, outputs, read, stop=False)

    def eval_scores(self, tokens: Sequence[int], outputs: Sequence[int] = (-1,), *,
                    full: bool = False) -> list[Scores]:
        """Like :meth:`eval`, but each output's logits are computed for the tokens asked
        only, from the final hidden state; ``full=True`` (or an engine without candidates)
        gives full logits behind the same interface."""
        if full or self._tap is None or self._rows is None:
            return [Scores(logits=x) for x in self.eval(tokens, outputs)]
        rows, tap = self._rows, self._tap

        def read(marked: list[int]) -> list[Scores]:
            hidden = tap.take(rows.n_embd, len(marked)) if marked else np.empty((0, 0), np.float32)
            return [Scores(hidden=h, rows=rows) for h in hidden]

        return self._decode(tokens, outputs, read, stop=True)

    def _decode(self, tokens: Sequence[int], outputs: Sequence[int],
                read: Callable[[list[int]], list[_T]], *, stop: bool) -> list[_T]:
        """Evaluate in chunks of ``batch``; ``read`` gets a chunk's output positions after
        its decode; ``stop`` ends each graph at the final hidden state."""
        if not tokens:
            raise ValueError("nothing to evaluate")
        if self.n_past + len(tokens) > self.context:
            raise ModelError(f"context full ({self.context} tokens)")
        n = len(tokens)
        wanted = {i % n for i in outputs}
        lib = self._llama_cpp
        b = self._llama_batch
        results: dict[int, _T] = {}
        if self._tap is not None:
            self._tap.stop = stop
        for start in range(0, n, self.batch):
            chunk = tokens[start : start + self.batch]
            b.n_tokens = len(chunk)
            marked = [j for j in range(len(chunk)) if start + j in wanted]
            for j, tok in enumerate(chunk):
                b.token[j] = tok
                b.pos[j] = self.n_past + j
                b.n_seq_id[j] = 1
                b.seq_id[j][0] = 0
                b.logits[j] = j in marked
            rc = lib.llama_decode(self._ctx, b)
            if rc != 0:
                raise ModelError(f"llama_decode failed with code {rc}")
            results.update(zip([start + j for j in marked], read(marked), strict=True))
            self.n_past += len(chunk)
            self.stats.evals += 1
        self.stats.tokens += n
        return [results[i % n] for i in outputs]
