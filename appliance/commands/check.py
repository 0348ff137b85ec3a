"""``appliance check``: validate a config file (and the files it names) without loading models."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from appliance.commands.common import add_config_arg, config_from
from appliance.errors import ApplianceError
from appliance.gguf import check_complete


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "check", help="validate a config file; exit non-zero with the errors")
    add_config_arg(p)
    p.add_argument("--strict", action="store_true",
                   help="warnings are errors too (a stale adapter): what a deployment runs")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        config = config_from(args)
    except ApplianceError as exc:
        print(f"appliance: error: {exc}", file=sys.stderr)
        return 1
    problems: list[str] = []
    warnings: list[str] = []
    for what, path in (("model.path", config.model.path), ("model.adapter", config.model.adapter)):
        if path is not None:
            try:
                check_complete(path, what)
            except ApplianceError as exc:
                hint = (f"; train one with `appliance train --config {config.source} "
                        "--write-config`" if what == "model.adapter" else "")
                problems.append(f"{config.source}: {what}: {exc}{hint}")
    speech = config.speech
    if speech.engine == "vosk":
        from appliance.speech.vosk_engine import check_vosk_model

        try:
            check_vosk_model(speech.model or config.base_dir, grammar=speech.mode == "command")
        except ApplianceError as exc:
            problems.append(f"{config.source}: speech.model: {exc}")
    if config.model.adapter is not None and config.model.adapter_tools not in (
            None, config.tools.fingerprint()):
        warnings.append(f"{config.source}: model.adapter_tools: the adapter was trained for "
                        "other tool declarations (stale); retrain it with "
                        f"`appliance train --config {config.source} --write-config`")
    if args.strict:
        problems += warnings  # a fleet refuses what a person at a desk is warned about
        warnings = []
    for w in warnings:
        print(f"appliance: warning: {w}", file=sys.stderr)
    for p in problems:
        print(f"appliance: error: {p}", file=sys.stderr)
    if problems:
        return 1
    print(f"{config.source}: ok ({len(config.tools)} tools: {', '.join(config.tools.names)})")
    return 0
