"""The sub-200 MB model and the on-disk prompt cache."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance import modelstore
from appliance.caller import ToolCaller
from appliance.caller.engine import Engine
from appliance.config import Config

pytestmark = pytest.mark.model


def test_requantized_model_is_under_200_mb_and_loads(tmp_path: Path) -> None:
    out = modelstore.quantize(modelstore.embedded_model(), tmp_path / "small.gguf")
    assert out.stat().st_size < 200e6
    engine = Engine(out)
    try:
        logits = engine.eval(engine.tokenize("<bos>The capital of France is"))[0]
        assert logits.shape == (engine.n_vocab,)
    finally:
        engine.close()


def test_prompt_cache_is_saved_and_reused(tmp_path: Path, home_config: Config) -> None:
    model = modelstore.resolve_model(None)
    first = ToolCaller(home_config.tools, Engine(model), cache_dir=tmp_path)
    files = list((tmp_path / "prompt-cache").glob("*.kv"))
    assert len(files) == 1
    a = first.decide("set the fan to high")
    first.close()
    second = ToolCaller(home_config.tools, Engine(model), cache_dir=tmp_path)
    try:
        assert second.decide("set the fan to high").raw == a.raw
    finally:
        second.close()
    # A cache for another prompt is never used for this one.
    other = ToolCaller(home_config.tools, Engine(model), few_shot=False, cache_dir=tmp_path)
    other.close()
    assert len(list((tmp_path / "prompt-cache").glob("*.kv"))) == 2


def test_a_corrupt_prompt_cache_is_ignored(tmp_path: Path, home_config: Config) -> None:
    model = modelstore.resolve_model(None)
    caller = ToolCaller(home_config.tools, Engine(model), cache_dir=tmp_path)
    caller.close()
    for f in (tmp_path / "prompt-cache").glob("*.kv"):
        f.write_bytes(b"garbage")
    caller = ToolCaller(home_config.tools, Engine(model), cache_dir=tmp_path)
    try:
        assert caller.decide("open the garage door").error is None
    finally:
        caller.close()
