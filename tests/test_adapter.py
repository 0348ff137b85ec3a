"""The LoRA adapter loads through the tool caller, changes its answers, and is checked."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.caller import ToolCaller
from appliance.caller.engine import Engine
from appliance.config import Config
from appliance.errors import ModelError
from appliance.modelstore import resolve_model

from .conftest import HOME_YAML

pytestmark = pytest.mark.model
ADAPTER = HOME_YAML.parent / "adapters" / "home-lora.gguf"


def test_the_demo_home_names_its_adapter_and_its_tools(home_config: Config) -> None:
    assert home_config.model.adapter == ADAPTER
    assert ADAPTER.stat().st_size < 10e6  # small enough to keep in the repository
    # The adapter was trained for exactly these declarations.
    assert home_config.model.adapter_tools == home_config.tools.fingerprint()


def test_adapter_changes_the_answers(home_config: Config) -> None:
    model = resolve_model(None)
    plain = ToolCaller(home_config.tools, Engine(model), few_shot=False)
    tuned = ToolCaller(home_config.tools, Engine(model, adapter=ADAPTER), few_shot=False)
    try:
        texts = ["turn on the kitchen light", "dim the bedroom to fifty percent",
                 "tell me a joke", "lock the back door"]
        a = [plain.decide(t).raw for t in texts]
        b = [tuned.decide(t) for t in texts]
        assert a != [d.raw for d in b]
        assert b[0].call is not None and b[0].call.name == "set_light"
        assert b[2].call is None
    finally:
        plain.close()
        tuned.close()


def test_a_broken_adapter_is_a_clear_error(tmp_path: Path) -> None:
    empty = tmp_path / "empty.gguf"
    empty.write_bytes(b"GGUF" + (3).to_bytes(4, "little") + b"\0" * 64)
    with pytest.raises(ModelError, match="no tensors"):
        Engine(resolve_model(None), adapter=empty)
    with pytest.raises(ModelError, match="not a GGUF"):
        (tmp_path / "x.gguf").write_text("nope")
        Engine(resolve_model(None), adapter=tmp_path / "x.gguf")


def test_stale_adapter_warns(home_config: Config, caplog: pytest.LogCaptureFixture) -> None:
    import dataclasses

    stale = dataclasses.replace(home_config, model=dataclasses.replace(
        home_config.model, adapter_tools="0" * 64))
    caller = ToolCaller.from_config(stale)
    caller.close()
    assert "stale" in caplog.text
