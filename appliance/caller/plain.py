"""The obvious way, kept as a reference: the whole prompt, a GBNF grammar, ``Llama.__call__``.

tools/bench measures it as the baseline, and the tests check that the fast decoder
reaches the same calls. It uses llama-cpp-python's defaults (its own prompt-prefix
reuse, n_batch 512) and its grammar sampler, which checks every one of the 262,144
candidates against the grammar at every step.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

from appliance.caller import prompt
from appliance.caller.caller import clean_utterance
from appliance.caller.grammar import to_gbnf
from appliance.caller.loading import load_params
from appliance.caller.syntax import parse_calls
from appliance.errors import CallError
from appliance.messages import Decision
from appliance.tools import Tool, Toolbox


class PlainGrammarCaller:
    """Tool calling through ``Llama.create_completion`` with a GBNF grammar (greedy)."""

    def __init__(self, toolbox: Toolbox, model_path: Path, *, few_shot: bool = True,
                 threads: int | None = None, adapter: Path | None = None,
                 n_ctx: int = 2048, n_batch: int = 512):
        import llama_cpp

        self.toolbox = toolbox
        tools: Sequence[Tool] = tuple(toolbox)
        # Without llama.cpp's repacked weight buffers, as the fast caller loads them: on a
        # CPU with AMX tiles their repacked path crashed here (SIGSEGV in decode).
        with load_params(llama_cpp, repack=False):
            self.llm = llama_cpp.Llama(model_path=str(model_path), n_ctx=n_ctx,
                                       n_batch=n_batch, n_threads=threads,
                                       n_threads_batch=threads,
                                       lora_path=str(adapter) if adapter else None,
                                       verbose=False)
        from llama_cpp.llama_grammar import LlamaGrammar

        self.grammar = LlamaGrammar.from_string(to_gbnf(tools), verbose=False)
        self.prefix = prompt.tool_prompt(tools, few_shot=few_shot, bos=False)

    def decide(self, text: str) -> Decision:
        t0 = time.perf_counter()
        words = clean_utterance(text)
        # Greedy for real: llama-cpp-python's default repeat_penalty (1.1) applies even at
        # temperature 0 and pushes the model off the tokens the tool prompt repeats
        # ("escape", "function"...), into spellings it never uses.
        out = self.llm.create_completion(
            self.prefix + prompt.user_turn(words), max_tokens=96, temperature=0.0,
            repeat_penalty=1.0, grammar=self.grammar, stop=[prompt.END_CALL, prompt.END_TURN],
        )
        raw = str(out["choices"][0]["text"])  # type: ignore[index]
        ms = (time.perf_counter() - t0) * 1000
        if not raw.startswith(prompt.START_CALL):
            return Decision(text=words, raw=raw, ms=ms)
        try:
            call = self.toolbox.validate(parse_calls(raw)[0])
        except (CallError, IndexError) as exc:
            return Decision(text=words, raw=raw, error=str(exc), ms=ms)
        return Decision(text=words, call=call, raw=raw, ms=ms)

    def close(self) -> None:
        self.llm.close()
