"""``appliance train``: fit the tool caller to a config's tools (a LoRA adapter for llama.cpp).

Reproducible: the data are synthesized from the declarations with a fixed seed (the same
in every process), written beside the adapter (``<adapter>.train.jsonl``; ``--samples``
trains on such a file again), and no sample contains a held-out sentence (every
``eval/*.jsonl`` beside the config, or the sets given). Needs the finetune extra:
``pip install -e '.[finetune]'`` (CPU torch is enough).
"""

from __future__ import annotations

import argparse
import importlib.util
import itertools
import json
import os
import re
import sys
import time
from pathlib import Path
from typing import Any

from appliance.commands.common import add_config_arg, config_from
from appliance.errors import ConfigError
from appliance.finetune.samples import iter_jsonl, read_samples
from appliance.tools import Toolbox


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "train", help="train the tool caller's adapter for a config's tools",
        description=__doc__.split("\n\n")[0] if __doc__ else None)
    add_config_arg(p)
    p.add_argument("--out", type=Path, metavar="ADAPTER.gguf",
                   help="where to write it (default: adapters/<config name>-lora.gguf beside "
                        "the config)")
    p.add_argument("--write-config", action="store_true",
                   help="point the config's model.adapter and model.adapter_tools at it")
    p.add_argument("--heldout", type=Path, action="append", metavar="SET.jsonl",
                   help="a set no training sample may contain (repeatable; default: every "
                        "set in eval/ beside the config)")
    p.add_argument("--samples", type=Path, metavar="TRAIN.jsonl",
                   help="train on exactly these samples (as written beside an adapter: "
                        "<adapter>.train.jsonl) instead of making them from the config")
    p.add_argument("--per-template", type=int, default=6)
    p.add_argument("--per-tool", type=int, default=130)
    p.add_argument("--epochs", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--micro-batch", type=int, default=4,
                   help="samples held in memory at once (the batch is summed from them)")
    p.add_argument("--rank", type=int, default=16)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--start", metavar="ADAPTER.gguf",
                   help="start from this adapter's weights instead of from zero; 'general': "
                        "the general adapter that ships with the appliance")
    p.add_argument("--general", action="store_true",
                   help="train the general adapter instead: on --sets procedurally generated "
                        "tool sets (appliance/finetune/toolsets.py), no config")
    p.add_argument("--sets", type=int, default=300)
    p.add_argument("--per-set", type=int, default=16)
    p.add_argument("--show-leaks", action="store_true",
                   help="print the held-out sentences that training samples would contain")
    p.set_defaults(func=run)


# What the finetune extra brings (pyproject.toml); looked for before minutes of data making.
FINETUNE_MODULES = ("torch", "transformers", "peft", "gguf")


def run(args: argparse.Namespace) -> int:
    missing = [name for name in FINETUNE_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        raise ConfigError(f"training needs the finetune extra ({', '.join(missing)} missing): "
                          "pip install -e '.[finetune]'")
    from appliance.caller import ToolCaller
    from appliance.finetune.data import drop_leaks, leaks, synthesize
    from appliance.finetune.train import export_lora_gguf, train
    from appliance.modelstore import embedded_model

    if args.general:
        return _general(args)
    config = config_from(args)
    source = Path(config.source)
    out: Path = args.out or source.parent / "adapters" / f"{source.stem}-lora.gguf"
    tools = list(config.tools)
    test: list[str] = []
    for heldout in args.heldout or sorted((source.parent / "eval").glob("*.jsonl")):
        test += [json.loads(line)["text"] for line in heldout.read_text().splitlines()
                 if line.strip()]
    # Samples that would contain a held-out sentence are not made (and replaced by others).
    samples = read_samples(args.samples, config.tools) if args.samples else synthesize(
        tools, per_template=args.per_template, per_tool=args.per_tool, avoid=test)
    if test and args.samples:
        if leaks(samples, test):
            raise ConfigError(f"{args.samples}: a held-out sentence is in the samples")
    elif test:
        samples, leaked = drop_leaks(samples, test)
        if leaked or leaks(samples, test):
            raise ConfigError("a held-out sentence is in the training data")
        would = leaks(synthesize(tools, per_template=args.per_template,
                                 per_tool=args.per_tool), test)
        # Not printed unless asked: whoever writes phrasings stays blind to the test set.
        shown = f": {would}" if args.show_leaks else " (--show-leaks lists them)"
        print(f"{len(samples)} training samples; {len(would)} of the {len(test)} held-out "
              f"sentences would have been in generated samples, which were not made{shown}; "
              "no held-out sentence is in the training data")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.with_suffix(".train.jsonl").write_text(
        "".join(json.dumps(r) + "\n" for r in iter_jsonl(samples)))
    base = embedded_model()
    # The adapter is trained for the prompt it will be used with: no worked examples.
    caller = ToolCaller.open(config.tools, base, few_shot=False,
                             enum_shown=config.model.enum_shown)
    settings = _settings(args)
    t0 = time.perf_counter()
    model = train(caller, samples, base, settings, progress=_Progress(t0),
                  start=_start(args.start))
    fingerprint = config.tools.fingerprint()
    export_lora_gguf(model, out, alpha=settings.alpha, fingerprint=fingerprint,
                     base=base.name)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - t0:.0f} s")
    adapter = os.path.relpath(out, source.parent)
    if args.write_config and _write_config(source, adapter, fingerprint):
        print(f"{source}: model.adapter and model.adapter_tools now name it")
    else:
        print(f"in {source}:\nmodel:\n  adapter: {adapter}\n  adapter_tools: {fingerprint}")
    return 0


def _general(args: argparse.Namespace) -> int:
    """The general adapter: many generated tool sets, each batch under its own set's prompt."""
    from appliance.caller import ToolCaller
    from appliance.caller.engine import Engine
    from appliance.caller.prompt import MIN_CONTEXT
    from appliance.finetune.toolsets import general_samples
    from appliance.finetune.train import export_lora_gguf, train_sets
    from appliance.modelstore import embedded_model

    if args.out is None:
        raise ConfigError("--general needs --out (where to write the general adapter)")
    rows = general_samples(args.sets, args.per_set, seed=7)  # each set's samples together
    grouped = [(Toolbox(tools), [s for _, s in group])
               for tools, group in itertools.groupby(rows, key=lambda row: row[0])]
    base = embedded_model()
    engine = Engine(base, context=MIN_CONTEXT)  # for tokenizing only: no prompt is evaluated
    sets = [(ToolCaller(box, engine, few_shot=False, warm=False), samples)
            for box, samples in grouped]
    settings = _settings(args)
    t0 = time.perf_counter()
    model = train_sets(sets, base, settings, progress=_Progress(t0))
    export_lora_gguf(model, args.out, alpha=settings.alpha, fingerprint="general",
                     base=base.name)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB) in "
          f"{time.perf_counter() - t0:.0f} s")
    return 0


def _start(name: str | None) -> Path | None:
    """The adapter ``--start`` names: a file, or ``general`` for the packaged one."""
    if name is None:
        return None
    if name == "general":
        from appliance.modelstore import GENERAL_ADAPTER, general_adapter

        found = general_adapter()
        if found is None:
            raise ConfigError(f"--start general: this install has no general adapter "
                              f"({GENERAL_ADAPTER}); make one with `appliance train --general "
                              f"--out {GENERAL_ADAPTER}`")
        return found
    path = Path(name).expanduser()
    if not path.is_file():
        raise ConfigError(f"--start: {path} is not a file")
    return path


def _settings(args: argparse.Namespace) -> Any:
    """The run's hyper-parameters from the command line (a TrainSettings)."""
    from appliance.finetune.train import TrainSettings

    return TrainSettings(rank=args.rank, alpha=2.0 * args.rank, lr=args.lr, batch=args.batch,
                         micro_batch=args.micro_batch, epochs=args.epochs, threads=args.threads)


class _Progress:
    """Training's step lines, with the time still to go."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0

    def __call__(self, message: str) -> None:
        m = re.match(r"step (\d+)/(\d+)", message)
        if m and int(m[1]) > 0:
            done, total = int(m[1]), int(m[2])
            left = (time.perf_counter() - self.t0) / done * (total - done)
            message += f", about {left / 60:.0f} min to go"
        print(message, flush=True)
        sys.stdout.flush()


def _write_config(path: Path, adapter: str, fingerprint: str) -> bool:
    """Set ``adapter:`` and ``adapter_tools:`` under ``model:`` in place (comments kept);
    ``False`` when the file has no such lines to change."""
    text = path.read_text()
    new, n = re.subn(r"(?m)^(\s+adapter:\s*)\S.*?(\s*(#.*)?)$",
                     lambda m: f"{m[1]}{adapter}{m[2]}", text, count=1)
    new, k = re.subn(r"(?m)^(\s+adapter_tools:\s*)\S.*?(\s*(#.*)?)$",
                     lambda m: f"{m[1]}{fingerprint}{m[2]}", new, count=1)
    if not (n and k):
        return False
    path.write_text(new)
    return True
