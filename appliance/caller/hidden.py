"""The final hidden state, caught inside llama.cpp's graph before the output layer runs.

llama.cpp always multiplies the final normed hidden state by the whole 262k-row output
matrix, even with embeddings on (measured: a one-token eval takes as long either way, and
``embeddings=True`` even marks every token of a batch as an output). Its scheduler's eval
callback (``cb_eval``) may stop a graph after any node: asked for the node named
``result_norm`` and returning false once it is computed, it leaves the output projection
undone, and the hidden state is read from that node. Scores for the few tokens a decision
compares then come from :mod:`.candidates`.

The callback is asked about every node of every graph (about 800 for Gemma 3 270M); it is
cheap (measured: a full eval takes as long with it as without).
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np

from appliance.caller.candidates import Floats
from appliance.errors import ModelError

HIDDEN_NODE = b"result_norm\0"  # the graph's name for the final normed hidden state

class HiddenTap:
    """A ``cb_eval`` for one context: with :attr:`stop` set, graphs end at the final norm."""

    def __init__(self, llama_cpp: Any):
        from llama_cpp._ctypes_extensions import load_shared_library

        try:
            ggml = load_shared_library("ggml-base", llama_cpp.llama_cpp._base_path)
        except (OSError, RuntimeError, FileNotFoundError) as exc:
            raise ModelError(f"cannot load ggml-base from llama_cpp's library folder: {exc}")\
                from None
        self._get_name = ggml.ggml_get_name
        self._get_name.restype, self._get_name.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
        self._get_data = ggml.ggml_get_data_f32
        self._get_data.restype, self._get_data.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
        self._nelements = ggml.ggml_nelements
        self._nelements.restype, self._nelements.argtypes = ctypes.c_int64, [ctypes.c_void_p]
        self._name_at: int | None = None  # offset of ggml_tensor.name, found on first call
        self.stop = False
        self.hidden: Floats | None = None
        self.callback = llama_cpp.ggml_backend_sched_eval_callback(self._on_node)

    def _on_node(self, tensor: int | None, ask: bool, _user: int | None) -> bool:
        if not self.stop or tensor is None:
            return not ask  # need no node; go on after each
        if ask:
            if self._name_at is None:
                self._name_at = int(self._get_name(tensor)) - tensor
            return ctypes.string_at(tensor + self._name_at, len(HIDDEN_NODE)) == HIDDEN_NODE
        n = int(self._nelements(tensor))
        data = ctypes.cast(self._get_data(tensor), ctypes.POINTER(ctypes.c_float))
        self.hidden = np.ctypeslib.as_array(data, shape=(n,)).copy() if n else \
            np.zeros(0, dtype=np.float32)
        return False  # the rest of the graph (the output layer) is not computed

    def take(self, n_embd: int, n_outputs: int) -> Floats:
        """The hidden states of the last graph's outputs, one row each."""
        hidden, self.hidden = self.hidden, None
        if hidden is None or hidden.size != n_embd * n_outputs:
            raise ModelError(
                f"the graph had no {HIDDEN_NODE[:-1].decode()} node of {n_outputs} x {n_embd} "
                "values (another architecture?); set APPLIANCE_LOGITS=full")
        return hidden.reshape(n_outputs, n_embd)
