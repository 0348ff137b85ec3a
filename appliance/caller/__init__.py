"""The tool caller: words in, one validated FunctionGemma call (or none) out.

- :mod:`.prompt`  renders FunctionGemma's prompt from the tool declarations;
- :mod:`.grammar` derives the decoding grammar (GBNF for llama.cpp, and the walker the
  fast decoder drives) from the same declarations;
- :mod:`.engine`  wraps llama-cpp-python: the tool prompt's KV cache, evals, logits;
- :mod:`.decoder` constrained decoding over token tries, forced runs in one batch;
- :mod:`.syntax`  parses FunctionGemma's call syntax into :class:`~appliance.messages.ToolCall`;
- :mod:`.caller`  ties them together: ``ToolCaller.decide(text) -> Decision``.
"""

from appliance.caller.caller import ToolCaller

__all__ = ["ToolCaller"]
