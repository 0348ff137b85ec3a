"""``appliance eval``: accuracy per category on home-style sets and BFCL, with the failures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from appliance.caller import ToolCaller
from appliance.caller.engine import Engine
from appliance.commands.common import add_config_arg, config_from, print_json
from appliance.evaluation import bfcl
from appliance.evaluation.runner import Tally, read_jsonl, run_bfcl, run_home
from appliance.modelstore import general_adapter, resolve_model


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "eval", help="measure the tool caller's accuracy on test sets")
    add_config_arg(p)
    p.add_argument("--set", type=Path, action="append", default=[], metavar="FILE.jsonl",
                   help="a home-style set: {text, call: {name, arguments: {k: [ok...]}}|null}")
    p.add_argument("--bfcl", default="", metavar="CATS",
                   help=f"comma-separated BFCL categories ({', '.join(bfcl.CATEGORIES)})")
    p.add_argument("--limit", type=int, default=None, help="first N cases of each BFCL category")
    p.add_argument("--model", type=Path, help="the GGUF model (default: the config's)")
    p.add_argument("--adapter", type=Path,
                   help="a LoRA adapter: instead of the config's for --set, and for --bfcl")
    p.add_argument("--no-adapter", action="store_true", help="ignore the config's adapter")
    p.add_argument("--failures", type=int, default=20, help="how many failures to list")
    p.add_argument("--json", action="store_true", help="print the results as JSON")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    tally = Tally()
    adapter_name = "-"
    if args.set:
        config = config_from(args)
        if args.no_adapter or args.adapter:
            from dataclasses import replace

            # --adapter stands in for the config's own (trained for the same tools).
            config = replace(config, model=replace(config.model, adapter=args.adapter,
                                                   adapter_tools=None, general_adapter=False))
        adapter_name = config.model.adapter.name if config.model.adapter else "-"
        if adapter_name == "-" and config.model.general_adapter and config.model.path is None \
                and args.model is None and general_adapter() is not None:
            adapter_name = "general (embedded)"
        caller = ToolCaller.from_config(config, model_path=args.model)
        for path in args.set:
            run_home(caller, read_jsonl(path), tally, ask_below=config.model.ask_below)
        caller.close()
    if args.bfcl:
        adapter = args.adapter
        if adapter is None and not args.no_adapter and args.model is None:
            adapter = general_adapter()  # what the embedded default runs with
        engine = Engine(resolve_model(args.model), adapter=adapter)
        run_bfcl(engine, [c.strip() for c in args.bfcl.split(",") if c.strip()], tally,
                 limit=args.limit, progress=lambda m: print(m, file=sys.stderr))
        engine.close()
    rows = tally.rows()
    if args.json:
        print_json({"adapter": adapter_name, "rows": rows, "behaviours": tally.behaviour_rows(),
                    "false_actions": tally.false_actions, "requests": tally.requests,
                    "calibration": tally.calibration(),
                    "asked": {"requests": len(tally.asked), "right": sum(tally.asked)},
                    "failures": tally.failures})
        return 0
    print("| category | right | total | accuracy % | unsupported |")
    print("|---|---|---|---|---|")
    for r in rows:
        published = bfcl.PUBLISHED.get(r["category"].removeprefix("bfcl "))
        extra = f" (FunctionGemma card: {published})" if published else ""
        print(f"| {r['category']} | {r['right']} | {r['total']} | {r['percent']}{extra} "
              f"| {r['unsupported']} |")
    if tally.requests:
        print("\n| behaviour | right | total | accuracy % |\n|---|---|---|---|")
        for b in tally.behaviour_rows():
            print(f"| {b['behaviour']} | {b['right']} | {b['total']} | {b['percent']} |")
        print(f"\nfalse actions (a call where none was wanted, or a wrong call): "
              f"{tally.false_actions} / {tally.requests} = {tally.false_action_rate:.1f}%")
        if tally.asked:
            print(f"asked back (model.ask_below), not acted on: {len(tally.asked)} / "
                  f"{tally.requests}, of which a yes would have been right: {sum(tally.asked)}")
        print("\n| confidence | answered with calls | right % |\n|---|---|---|")
        for band in tally.calibration():
            right = f"{100.0 * band['right'] / band['calls']:.1f}" if band["calls"] else "-"
            print(f"| {band['from']:.2f}-{band['to']:.2f} | {band['calls']} | {right} |")
    if tally.ms:
        ordered = sorted(tally.ms)
        print(f"\nmedian {ordered[len(ordered) // 2]:.0f} ms per utterance")
    for f in tally.failures[: args.failures]:
        print(f"  FAIL [{f['category']}] {f.get('text', '')!r}: {f.get('why')}")
    return 0
