"""The adapter merged into the weights (appliance/merge.py), on the real model and adapter."""

from __future__ import annotations

import filecmp
import shutil
from pathlib import Path

import numpy as np
import pytest

from appliance.caller.engine import Engine
from appliance.errors import ModelError
from appliance.merge import adapted, merge_in_place, merged_model
from appliance.modelstore import embedded_model, small_model
from tests.conftest import ROOT

ADAPTER = ROOT / "deploy" / "adapters" / "home-lora.gguf"
PROMPTS = ["turn on the kitchen light", "what's the weather in paris", "tell me a joke"]


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("merged")
    return merged_model(small_model(), ADAPTER, directory, source=embedded_model())


def _logits(engine: Engine) -> list[np.ndarray]:  # type: ignore[type-arg]
    out = []
    for text in PROMPTS:
        engine._clear()
        turn = f"<start_of_turn>user\n{text}<end_of_turn>\n<start_of_turn>model\n"
        out.append(engine.eval(engine.tokenize(turn), outputs=(-1,))[0])
    engine.close()
    return out


def test_the_merged_model_is_made_once_and_stays_under_200_mb(merged: Path) -> None:
    assert merged.stat().st_size < 200e6
    made = merged.stat().st_mtime_ns
    again = merged_model(small_model(), ADAPTER, merged.parent, source=embedded_model())
    assert again == merged and merged.stat().st_mtime_ns == made
    assert [p.name for p in merged.parent.iterdir()] == [merged.name]  # no F16 left over


def test_the_merged_model_scores_like_the_adapter_applied_at_every_eval(merged: Path) -> None:
    """Rounding apart, the merged weights are the adapter's: its logits are twenty times
    closer to the adapter's than the bare model's are, and it picks the same next token."""
    lora = _logits(Engine(small_model(), adapter=ADAPTER, context=512))
    bare = _logits(Engine(small_model(), context=512))
    same = _logits(Engine(merged, context=512))
    for text, a, b, m in zip(PROMPTS, lora, bare, same, strict=True):
        off, apart = float(np.abs(m - a).max()), float(np.abs(b - a).max())
        assert off < 0.1 * apart, (text, off, apart)
        assert int(m.argmax()) == int(a.argmax()), text


def test_an_engine_merges_when_told_to() -> None:
    merged = Engine(small_model(), adapter=ADAPTER, merge=True, context=512)
    applied = Engine(small_model(), adapter=ADAPTER, context=512)  # the default: not merged
    try:
        assert merged.merged and merged.adapter_path == ADAPTER
        assert "+home-lora-" in merged.model_path.name
        assert not applied.merged and applied.model_path == small_model()
    finally:
        merged.close()
        applied.close()


def test_an_adapter_with_half_a_lora_pair_is_refused_by_name(tmp_path: Path) -> None:
    broken = tmp_path / "broken.gguf"
    data = ADAPTER.read_bytes()
    name = b"blk.3.ffn_up.weight.lora_b"
    assert data.count(name) == 1
    broken.write_bytes(data.replace(name, b"blk.3.ffn_up.weight.lora_x"))
    with pytest.raises(ModelError, match=r"blk\.3\.ffn_up\.weight has lora_a and no lora_b"):
        adapted(broken)
    model = tmp_path / "model.gguf"
    shutil.copy(small_model(), model)
    with pytest.raises(ModelError, match="lora_b"):
        merge_in_place(model, broken)
    assert filecmp.cmp(model, small_model(), shallow=False)  # refused before any write
