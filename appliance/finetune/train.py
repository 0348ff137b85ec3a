"""Train a LoRA adapter for the declared tools on the CPU, and export it for llama.cpp.

What makes this affordable on a 2-core CPU:

- the tool prompt (the same ~1,100 tokens for every sample) is run once every few steps
  without gradients and its KV cache shared by the whole batch, so a step only runs each
  sample's words and answer (~50 tokens);
- the loss is taken only where the decoder makes a decision (which tool, which value,
  where a number ends; see :class:`~appliance.finetune.replay.DecisionPoint`), over exactly
  the candidates the decoder compares: forced tokens need no loss, and the 262k-row output
  layer is only used for the few free-text decisions.

Needs the ``finetune`` extra (torch, transformers, peft, gguf); the appliance itself does not.
"""

from __future__ import annotations

import copy
import logging
import math
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.caller import ToolCaller
from appliance.finetune.replay import answer
from appliance.finetune.samples import Sample
from appliance.messages import ToolCall

log = logging.getLogger(__name__)

TARGET_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
# Hugging Face module names -> llama.cpp tensor names.
GGUF_NAMES = {"q_proj": "attn_q", "k_proj": "attn_k", "v_proj": "attn_v", "o_proj": "attn_output",
              "gate_proj": "ffn_gate", "up_proj": "ffn_up", "down_proj": "ffn_down"}


@dataclass(frozen=True)
class Encoded:
    """One sample as token ids, with the positions whose predictions are trained."""

    ids: tuple[int, ...]  # the words and the answer (after the cached tool prompt)
    positions: tuple[int, ...]  # index in ids of the token whose logits make the decision
    candidates: tuple[tuple[int, ...] | None, ...]
    targets: tuple[int, ...]
    more: tuple[bool, ...] = ()
    """Which decisions are "another call, or done?" (after each call)."""


@dataclass(frozen=True)
class TrainSettings:
    """Hyper-parameters of one run."""

    rank: int = 16
    alpha: float = 32.0
    lr: float = 2e-3
    batch: int = 16
    epochs: float = 2.0
    micro_batch: int = 4
    """Samples whose activations are held at once (the batch is their sum): with the demo
    home's 1,250-token prompt, all sixteen of a batch at once held 15.7 GB."""
    refresh_prefix: int = 4
    """Recompute the shared tool-prompt cache (with the current adapter) every N steps."""
    seed: int = 7
    threads: int = 2


def encode(caller: ToolCaller, samples: Sequence[Sample]) -> list[Encoded]:
    out = []
    more = _more_candidates(caller)
    for s in samples:
        request = caller.request_tokens(s.text)
        tokens, points = answer(caller, s.call, more=s.more, missing=s.missing, stop=True)
        last = max(p.index for p in points)
        ids = tuple(request + tokens[:last])
        # The token at answer index i is predicted by the position just before it.
        positions = tuple(len(request) + p.index - 1 for p in points)
        out.append(Encoded(ids, positions, tuple(p.candidates for p in points),
                           tuple(p.target for p in points),
                           tuple(more is not None and p.candidates == more for p in points)))
    return out


def _more_candidates(caller: ToolCaller) -> tuple[int, ...] | None:
    """The candidates of the decision after a call: open another, or the response."""
    tool = next((t for t in caller.tools if not t.required), None)
    if tool is None:
        return None
    _, points = answer(caller, ToolCall(tool.name, {}), stop=True)
    return points[-1].candidates


def load_model(gguf: Path, threads: int) -> Any:
    import torch
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(threads)
    return AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name,
                                                dtype=torch.float32)


def _prefix_cache(model: Any, prefix: Sequence[int]) -> Any:
    import torch

    with torch.no_grad():
        out = model(input_ids=torch.tensor([list(prefix)]), use_cache=True)
    return out.past_key_values


def _batch_loss(model: Any, cache: Any, prefix_len: int, batch: Sequence[Encoded]) -> Any:
    import torch
    import torch.nn.functional as F

    n = max(len(e.ids) for e in batch)
    ids = torch.zeros((len(batch), n), dtype=torch.long)
    for i, e in enumerate(batch):
        ids[i, : len(e.ids)] = torch.tensor(e.ids)
    # Right padding needs no mask: with causal attention no real token sees a pad.
    c = copy.deepcopy(cache)
    c.batch_repeat_interleave(len(batch))
    positions = torch.arange(prefix_len, prefix_len + n).unsqueeze(0).expand(len(batch), n)
    out = model.model(input_ids=ids, past_key_values=c, position_ids=positions, use_cache=True)
    hidden = out.last_hidden_state
    weight = model.lm_head.weight
    per_sample = []
    for i, e in enumerate(batch):
        losses: list[Any] = []
        more: list[Any] = []
        for pos, cands, target, after_call in zip(e.positions, e.candidates, e.targets,
                                                  e.more or (False,) * len(e.targets),
                                                  strict=True):
            h = hidden[i, pos]
            if cands is None:
                logits = weight @ h
                losses.append(F.cross_entropy(logits[None], torch.tensor([target])))
            else:
                idx = torch.tensor(cands)
                logits = weight[idx] @ h
                loss = F.cross_entropy(logits[None], torch.tensor([cands.index(target)]))
                (more if after_call else losses).append(loss)
        # The first decision (a call, no call or a question back) weighs the same in every
        # sample, the call's own decisions together as much again, and so do the decisions
        # whether another call follows. Averaged over all decisions, a no-call answer (one
        # decision) would weigh a tenth of a call (ten) and the adapter would call
        # everything; averaged per sample, a call's first decision would weigh a tenth of a
        # no-call's and it would refuse; among a call's decisions, "another?" would be one
        # in ten and it would never make a second call.
        gate, rest = losses[0], losses[1:]
        total = gate + torch.stack(rest).mean() if rest else gate
        per_sample.append(total + torch.stack(more).mean() if more else total)
    return torch.stack(per_sample).mean()


def train(caller: ToolCaller, samples: Sequence[Sample], gguf: Path,
          settings: TrainSettings = TrainSettings(),
          progress: Callable[[str], None] = print, start: Path | None = None) -> Any:
    """Train a LoRA adapter for one config's tools (from ``start``'s weights, an adapter
    GGUF, when given); returns the peft model."""
    import torch

    random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    data = encode(caller, samples)
    prefix = caller.prompt_tokens()
    steps = math.ceil(len(data) * settings.epochs / settings.batch)
    model, params, opt, sched = _setup(gguf, settings, steps, start)
    inner = model.base_model.model  # Gemma3ForCausalLM with LoRA layers
    progress(f"{len(data)} samples, {steps} steps of {settings.batch}, prompt "
             f"{len(prefix)} tokens, {sum(p.numel() for p in params) / 1e6:.1f}M parameters")
    order: list[Encoded] = []
    cache = None
    t0 = time.perf_counter()
    for step in range(steps):
        if len(order) < settings.batch:
            extra = list(data)
            random.shuffle(extra)
            order += extra
        batch, order = order[: settings.batch], order[settings.batch:]
        if cache is None or step % settings.refresh_prefix == 0:
            model.eval()
            cache = _prefix_cache(inner, prefix)
            model.train()
        loss = _step(inner, params, opt, sched, cache, len(prefix), batch, settings)
        if step % 5 == 0 or step == steps - 1:
            progress(f"step {step + 1}/{steps} loss {loss:.4f} "
                     f"({time.perf_counter() - t0:.0f} s)")
    return model


def train_sets(sets: Sequence[tuple[ToolCaller, Sequence[Sample]]], gguf: Path,
               settings: TrainSettings = TrainSettings(),
               progress: Callable[[str], None] = print) -> Any:
    """Train one adapter over many tool sets (the general adapter): each batch is one set's
    samples under that set's own prompt, whose KV cache is computed for the batch."""
    import torch

    random.seed(settings.seed)
    torch.manual_seed(settings.seed)
    encoded = [(caller.prompt_tokens(), encode(caller, samples)) for caller, samples in sets]
    batches = [(prefix, data[i : i + settings.batch]) for prefix, data in encoded
               for i in range(0, len(data), settings.batch)]
    rounds = max(1, round(settings.epochs))
    plan = [b for _ in range(rounds) for b in random.sample(batches, len(batches))]
    model, params, opt, sched = _setup(gguf, settings, len(plan), None)
    inner = model.base_model.model
    progress(f"{sum(len(d) for _, d in encoded)} samples in {len(sets)} tool sets, "
             f"{len(plan)} steps of up to {settings.batch}")
    t0 = time.perf_counter()
    for step, (prefix, batch) in enumerate(plan):
        model.eval()
        cache = _prefix_cache(inner, prefix)
        model.train()
        loss = _step(inner, params, opt, sched, cache, len(prefix), batch, settings)
        if step % 5 == 0 or step == len(plan) - 1:
            progress(f"step {step + 1}/{len(plan)} loss {loss:.4f} "
                     f"({time.perf_counter() - t0:.0f} s)")
    return model


def lora_model(gguf: Path, settings: TrainSettings, start: Path | None = None) -> Any:
    """The base model in torch with LoRA layers: zero, or ``start``'s weights."""
    from peft import LoraConfig, get_peft_model

    model = get_peft_model(load_model(gguf, settings.threads), LoraConfig(
        r=settings.rank, lora_alpha=int(settings.alpha), lora_dropout=0.0,
        target_modules=list(TARGET_MODULES), bias="none"))
    if start is not None:
        load_lora_gguf(model, start)
    return model


def _setup(gguf: Path, settings: TrainSettings, steps: int,
           start: Path | None) -> tuple[Any, list[Any], Any, Any]:
    import torch

    model = lora_model(gguf, settings, start)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=settings.lr, weight_decay=0.0)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=settings.lr, total_steps=steps,
                                                pct_start=0.1)
    return model, params, opt, sched


def _step(inner: Any, params: list[Any], opt: Any, sched: Any, cache: Any, prefix_len: int,
          batch: Sequence[Encoded], settings: TrainSettings) -> float:
    """One optimizer step over ``batch``, in slices of ``micro_batch`` samples whose
    gradients are summed: memory grows with a slice (its copies of the prompt's KV cache
    and their activations), not with the batch."""
    import torch

    opt.zero_grad()
    loss = 0.0
    for i in range(0, len(batch), settings.micro_batch):
        part = batch[i : i + settings.micro_batch]
        part_loss = _batch_loss(inner, cache, prefix_len, part) * (len(part) / len(batch))
        part_loss.backward()
        loss += float(part_loss.item())
    torch.nn.utils.clip_grad_norm_(params, 1.0)
    opt.step()
    sched.step()
    return loss


def load_lora_gguf(model: Any, path: Path) -> None:
    """Set a peft model's LoRA weights from an adapter GGUF that :func:`export_lora_gguf`
    wrote (the general adapter, to start a config's own training from)."""
    import gguf
    import numpy as np
    import torch

    tensors = {t.name: np.array(t.data) for t in gguf.GGUFReader(str(path)).tensors}
    for name, param in model.named_parameters():
        if "lora_" in name:
            array = tensors.get(_gguf_name(name))
            if array is None or array.shape != tuple(param.shape):
                raise ValueError(f"{path}: no LoRA tensor {_gguf_name(name)} of shape "
                                 f"{tuple(param.shape)} (a rank or a model of its own?)")
            with torch.no_grad():
                param.copy_(torch.from_numpy(array.astype(np.float32)))


def _gguf_name(name: str) -> str:
    """``...layers.{i}.self_attn.q_proj.lora_A.default.weight`` -> ``blk.{i}.attn_q.weight.
    lora_a``."""
    parts = name.split(".")
    layer = int(parts[parts.index("layers") + 1])
    module = next(p for p in parts if p in GGUF_NAMES)
    kind = "lora_a" if "lora_A" in parts else "lora_b"
    return f"blk.{layer}.{GGUF_NAMES[module]}.weight.{kind}"


def export_lora_gguf(model: Any, path: Path, *, alpha: float, fingerprint: str,
                     base: str) -> Path:
    """Write the adapter in llama.cpp's LoRA GGUF format (f16 tensors)."""
    import gguf
    import numpy as np

    writer = gguf.GGUFWriter(str(path), arch="gemma3")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(alpha))
    writer.add_string("general.name", "appliance tool adapter")
    writer.add_string("appliance.tools_fingerprint", fingerprint)
    writer.add_string("appliance.base_model", base)
    count = 0
    for name, tensor in model.named_parameters():
        if "lora_" not in name:
            continue
        array = tensor.detach().float().numpy().astype(np.float16)
        writer.add_tensor(_gguf_name(name), array)
        count += 1
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    log.info("wrote %d LoRA tensors to %s", count, path)
    return path
