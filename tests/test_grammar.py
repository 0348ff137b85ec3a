"""The GBNF grammar derived from the declarations is accepted by llama.cpp's parser."""

from __future__ import annotations

from appliance.caller.grammar import to_gbnf
from appliance.config import load_config

from .conftest import HOME_YAML


def test_home_grammar_parses_in_llama_cpp() -> None:
    import llama_cpp

    text = to_gbnf(list(load_config(HOME_YAML).tools))
    assert '"set_light"' in text and '"kitchen"' in text
    grammar = llama_cpp.LlamaGrammar.from_string(text, verbose=False)
    assert grammar is not None


def test_required_keys_cannot_be_skipped() -> None:
    text = to_gbnf(list(load_config(HOME_YAML).tools))
    # set_light's only way to open its object is with its first (required) key.
    line = next(row for row in text.splitlines() if row.startswith("set-light-k0f"))
    assert '"room:"' in line and '"state:"' not in line and '"}"' not in line
