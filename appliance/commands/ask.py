"""``appliance ask``: words in, one call out (and, with a config, the action carried out).

Each utterance is a request to the request core, like an MQTT command.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

from appliance.caller import ToolCaller
from appliance.commands.common import add_config_arg, config_from, print_json
from appliance.errors import ConfigError
from appliance.executors.dispatch import Dispatcher
from appliance.handler import RequestHandler
from appliance.messages import Outcome, Request
from appliance.modelstore import cache_dir, resolve_model
from appliance.tools import Toolbox, load_openai_tools


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
    if args.tools:
        toolbox = _openai_tools(args.tools)
        caller = ToolCaller.open(toolbox, resolve_model(args.model), threads=args.threads,
                                 few_shot=False, cache_dir=cache_dir())
        # Nothing is executed for a plain tool list: every call is a dry run of no action.
        core = RequestHandler(toolbox, Dispatcher(toolbox, {}), caller)
        execute = False
    else:
        config = config_from(args)
        caller = ToolCaller.from_config(config, model_path=args.model, threads=args.threads)
        core = RequestHandler.from_config(config, caller)
        execute = True
    failures = 0
    try:
        for n, (text, error) in enumerate(_utterances(args), start=1):
            request = Request(f"ask-{n}", "cli", text=text, error=error,
                              dry_run=args.dry_run, confirmed=args.yes)
            decision = core.decide(request)
            if execute:
                outcome = core.act(request, decision)
                outcome = _maybe_confirm(core, outcome, interactive=args.text is not None)
            else:
                outcome = Outcome(request.id, text or "", decision.call, error=decision.error,
                                  ms=decision.ms, decide_ms=decision.ms, calls=decision.calls)
            failures += outcome.error is not None or (outcome.result is not None
                                                      and not outcome.ok and not outcome.held)
            _report(outcome, as_json=args.json, executed=execute)
    finally:
        core.close()
        caller.close()
    return 1 if failures else 0


def _openai_tools(path: Path) -> Toolbox:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", source=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8", source=str(path)) from None
    return load_openai_tools(text, source=str(path))


def _maybe_confirm(core: RequestHandler, outcome: Outcome, *, interactive: bool) -> Outcome:
    """Ask about each held call in turn (a request may hold several); a yes runs it."""
    if outcome.held is None or not interactive or not sys.stdin.isatty():
        return outcome
    results = list(outcome.results)
    for i, result in enumerate(results):
        if result.pending_confirmation is None:
            continue
        answer = input(f"{result.done} - carry it out? [y/N] ").strip().lower()
        if answer in ("y", "yes"):
            ran = core.confirm(token=result.pending_confirmation)
            if ran.result is not None:
                results[i] = ran.result
    return replace(outcome, call=None, result=None, results=tuple(results))


def _report(outcome: Outcome, *, as_json: bool, executed: bool) -> None:
    if as_json:
        out = outcome.to_dict()
        if not executed:
            out.pop("result", None)
            out.pop("results", None)
        print_json(out)
        return
    if outcome.error is not None:
        print(f"error: {outcome.error}", file=sys.stderr)
        return
    if not outcome.calls:
        print(f"(no tool applies)  [{outcome.decide_ms:.0f} ms]")
    for n, call in enumerate(outcome.calls):  # several calls: each with its own result
        print(f"{call}  [{outcome.decide_ms:.0f} ms]" if n == 0 else str(call))
        result = outcome.results[n] if n < len(outcome.results) else None
        if result is None:
            continue
        if result.pending_confirmation:
            asked = f"{result.said} " if result.said else ""
            print(f"  needs confirmation: {asked}{result.done} (run again with --yes)")
        elif result.ok:
            value = f" -> {result.value}" if result.value is not None else ""
            print(f"  done: {result.done}{value}")
        else:
            print(f"  failed: {result.error}")
