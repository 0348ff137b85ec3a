"""`appliance train`: the first-class way to fit the caller to a config (the training itself
runs in tools and benchmarks, not here: it takes minutes)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from appliance.cli import main
from appliance.commands import train as train_command
from appliance.commands.train import _write_config
from appliance.config import load_config

from .conftest import HOME_YAML


def test_write_config_points_the_model_at_the_new_adapter(tmp_path: Path) -> None:
    path = tmp_path / "home.yaml"
    path.write_text(HOME_YAML.read_text())
    assert _write_config(path, "adapters/new-lora.gguf", "ab" * 32)
    text = path.read_text()
    assert "  adapter: adapters/new-lora.gguf\n" in text
    assert f"  adapter_tools: {'ab' * 32}\n" in text
    # Comments and everything else stay as they were.
    assert text.replace("adapters/new-lora.gguf", "adapters/home-lora.gguf").replace(
        "ab" * 32, load_config(HOME_YAML).model.adapter_tools or "") == HOME_YAML.read_text()
    bare = tmp_path / "bare.yaml"
    bare.write_text("tools: []\n")
    assert not _write_config(bare, "a.gguf", "cd" * 32)
    assert bare.read_text() == "tools: []\n"


def test_without_the_finetune_extra_it_says_what_to_install(
        capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    # Where the extra is installed, a module that is not stands for it.
    if all(importlib.util.find_spec(name) for name in train_command.FINETUNE_MODULES):
        monkeypatch.setattr(train_command, "FINETUNE_MODULES", ("no_such_module_here",))
    assert main(["train", "--config", str(HOME_YAML)]) == 2
    out, err = capsys.readouterr()
    assert "pip install -e '.[finetune]'" in err and "missing" in err
    assert "training samples" not in out     # said before any data are made


@pytest.mark.model
@pytest.mark.skipif(not all(importlib.util.find_spec(n) for n in train_command.FINETUNE_MODULES),
                    reason="needs the finetune extra (torch)")
def test_an_exported_adapter_loads_back_as_the_start_of_training(tmp_path: Path) -> None:
    """`appliance train --start` (from the general adapter) reads what the export wrote."""
    import torch

    from appliance.finetune.train import TrainSettings, export_lora_gguf, lora_model
    from appliance.modelstore import embedded_model

    base = embedded_model()
    settings = TrainSettings(rank=2, alpha=4.0, threads=1)
    model = lora_model(base, settings)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.normal_()
    path = export_lora_gguf(model, tmp_path / "a.gguf", alpha=4.0, fingerprint="x",
                            base=base.name)
    again = lora_model(base, settings, path)
    ours = {n: p for n, p in model.named_parameters() if "lora_" in n}
    theirs = {n: p for n, p in again.named_parameters() if "lora_" in n}
    assert ours.keys() == theirs.keys() and len(ours) == 18 * 7 * 2
    for n, p in ours.items():  # f16 in the file
        assert torch.allclose(p.half().float(), theirs[n], atol=1e-3), n
    wider = TrainSettings(rank=4, alpha=8.0, threads=1)
    with pytest.raises(ValueError, match="no LoRA tensor"):
        lora_model(base, wider, path)
