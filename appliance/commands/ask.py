"""``appliance ask``: words in, one call out (and, with a config, the action carried out)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.caller import ToolCaller
from appliance.caller.engine import Engine
from appliance.commands.common import add_config_arg, config_from, print_json
from appliance.errors import ConfigError
from appliance.messages import ActionResult, Decision
from appliance.modelstore import cache_dir, resolve_model
from appliance.tools import load_openai_tools

if TYPE_CHECKING:
    from appliance.executors import Dispatcher


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "ask", help="choose the tool call for an utterance (and carry it out)",
        description="Choose one tool call for TEXT (or for each line of standard input, "
                    "loading the model once). With --config the call is carried out; with "
                    "--tools (an OpenAI-style tool list) nothing is executed.")
    add_config_arg(p)
    p.add_argument("--tools", type=Path, metavar="TOOLS.json",
                   help="an OpenAI-style tool list instead of a config; nothing is executed")
    p.add_argument("--model", type=Path, metavar="GGUF", help="the GGUF model to use")
    p.add_argument("--threads", type=int, default=None, help="CPU threads for inference")
    p.add_argument("--json", action="store_true", help="one JSON object per utterance")
    p.add_argument("--dry-run", action="store_true", help="say what would be done, do nothing")
    p.add_argument("--yes", action="store_true",
                   help="confirm calls to tools marked confirm: true without asking")
    p.add_argument("text", nargs="?", metavar="TEXT", help="the utterance (default: stdin lines)")
    p.set_defaults(func=run)


def _utterances(args: argparse.Namespace) -> Iterator[tuple[str | None, str | None]]:
    """Each utterance as (text, error); undecodable input is an error, not a crash."""
    if args.text is not None:
        try:
            args.text.encode("utf-8")
        except UnicodeEncodeError:
            yield None, "utterance is not valid UTF-8"
            return
        yield args.text, None
        return
    for n, raw in enumerate(sys.stdin.buffer, start=1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            yield None, f"line {n}: not valid UTF-8 (byte {exc.start})"
            continue
        if line.strip():
            yield line.rstrip("\n"), None


def run(args: argparse.Namespace) -> int:
    if args.tools and args.config:
        raise ConfigError("give either --config or --tools, not both")
    dispatcher: Dispatcher | None = None
    if args.tools:
        try:
            text = args.tools.read_bytes().decode("utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read: {exc.strerror}", source=str(args.tools)) from None
        except UnicodeDecodeError:
            raise ConfigError("not UTF-8", source=str(args.tools)) from None
        toolbox = load_openai_tools(text, source=str(args.tools))
        engine = Engine(resolve_model(args.model), threads=args.threads)
        caller = ToolCaller(toolbox, engine, few_shot=False, cache_dir=cache_dir())
    else:
        config = config_from(args)
        caller = ToolCaller.from_config(config, model_path=args.model, threads=args.threads)
        from appliance.executors import Dispatcher

        dispatcher = Dispatcher.from_config(config)
    failures = 0
    try:
        for text, error in _utterances(args):
            if error is not None or text is None:
                decision = Decision(text="", error=error)
            else:
                decision = caller.decide(text)
            result = None
            if dispatcher is not None and decision.call is not None:
                result = dispatcher.execute(decision.call, dry_run=args.dry_run,
                                            confirmed=args.yes)
                result = _maybe_confirm(dispatcher, result, interactive=args.text is not None)
            failures += decision.error is not None or (result is not None and not result.ok
                                                       and not result.pending_confirmation)
            _report(decision, result, as_json=args.json)
    finally:
        if dispatcher is not None:
            dispatcher.close()
        caller.close()
    return 1 if failures else 0


def _maybe_confirm(dispatcher: Dispatcher, result: ActionResult, *,
                   interactive: bool) -> ActionResult:
    token = result.pending_confirmation
    if token is None or not interactive or not sys.stdin.isatty():
        return result
    answer = input(f"{result.done} - carry it out? [y/N] ").strip().lower()
    return dispatcher.confirm(token) if answer in ("y", "yes") else result


def _report(decision: Decision, result: ActionResult | None, *, as_json: bool) -> None:
    if as_json:
        out = decision.to_dict()
        if result is not None:
            out["result"] = result.to_dict()
        print_json(out)
        return
    if decision.error is not None:
        print(f"error: {decision.error}", file=sys.stderr)
        return
    call = str(decision.call) if decision.call else "(no tool applies)"
    print(f"{call}  [{decision.ms:.0f} ms]")
    if result is not None:
        if result.pending_confirmation:
            print(f"  needs confirmation: {result.done} (run again with --yes)")
        elif result.ok:
            value = f" -> {result.value}" if result.value is not None else ""
            print(f"  done: {result.done}{value}")
        else:
            print(f"  failed: {result.error}")
