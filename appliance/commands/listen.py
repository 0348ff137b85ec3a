"""``appliance listen``: speech to a tool call, from WAV files or the microphone.

With ``--wav`` each file takes the microphone's path (endpointing, speech to text, wake
word, the tool caller, the executors or ``--dry-run``) and every utterance in it is
reported with its transcript, its call and the time of each stage.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from appliance.asking import Answering, OpenQuestion
from appliance.caller import ToolCaller
from appliance.commands.common import add_config_arg, config_from, print_json
from appliance.errors import AudioError
from appliance.handler import RequestHandler
from appliance.messages import Outcome, Request
from appliance.settings import Config

if TYPE_CHECKING:
    from appliance.speech.heard import Heard


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser(
        "listen", help="speech to a tool call, from WAV files or the microphone",
        description="Turn speech into tool calls. With --wav, each file goes through the "
                    "same path as the microphone; without, listen until Ctrl-C.")
    add_config_arg(p)
    p.add_argument("--wav", type=Path, nargs="+", metavar="FILE", help="WAV files to run")
    p.add_argument("--json", action="store_true", help="one JSON object per file")
    p.add_argument("--dry-run", action="store_true", help="say what would be done, do nothing")
    p.add_argument("--engine", choices=["pocketsphinx", "vosk"], help="override speech.engine")
    p.add_argument("--model", type=Path, metavar="DIR", help="override speech.model")
    p.add_argument("--mode", choices=["command", "open"], help="override speech.mode")
    p.add_argument("--no-call", action="store_true",
                   help="only transcribe: do not load the language model")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from appliance.speech.pipeline import VoicePipeline, completes_call, make_recognizer

    config = config_from(args)
    overrides = {k: v for k, v in (("engine", args.engine), ("model", args.model),
                                   ("mode", args.mode)) if v is not None}
    settings = dataclasses.replace(config.speech, **overrides)
    recognizer = make_recognizer(settings, config.tools)
    pipeline = VoicePipeline(settings, recognizer)
    act = _Actor(config, pipeline, dry_run=args.dry_run, enabled=not args.no_call)
    if act.caller is not None:
        pipeline.complete = completes_call(act.caller.decide)
    try:
        if args.wav:
            return _files(args, pipeline, act)
        from appliance.voice import MicrophoneLoop

        def heard(h: Heard) -> Outcome | None:
            report, outcome = act(h)
            _print_utterance(report, as_json=args.json)
            return outcome

        loop = MicrophoneLoop(settings, pipeline, heard)
        print("listening (Ctrl-C to stop)", file=sys.stderr)
        loop.run_forever(fail_fast=True)
        return 0
    finally:
        act.close()
        recognizer.close()


class _Actor:
    """What happens to a spoken command: a request to the request core; a held call is
    asked back, and the next words may answer it (``answer`` in the report)."""

    def __init__(self, config: Config, pipeline: Any, *, dry_run: bool,
                 enabled: bool) -> None:
        self.core: RequestHandler | None = None
        self.caller: ToolCaller | None = None
        self.pipeline = pipeline
        # Timed in the audio's seconds: a file is heard faster than it plays.
        self.question = OpenQuestion(config.speech.wake_timeout_s, lambda: pipeline.now_s)
        self.dry_run = dry_run
        self.n = 0
        if enabled:
            self.caller = ToolCaller.from_config(config)
            self.core = RequestHandler.from_config(config, self.caller)

    def __call__(self, heard: Heard) -> tuple[dict[str, Any], Outcome | None]:
        out: dict[str, Any] = heard.to_dict()
        out.update(call=None, result=None, error=None)
        ms = out["ms"] = {"stt_final": out.pop("stt_ms")["final"],
                          "stt_total": round(heard.transcript.decode_ms, 1)}
        t = heard.transcript
        words = self.question.words(heard.command, t.heard, t.confidence)
        if words is not None and words != heard.command:
            out["text"], out["note"] = words, None  # an answer the recogniser refused
        if words is None or self.core is None:
            return out, None
        core = self.core
        settled = self.question.settle(words, Answering(
            lambda i, tok: core.confirm(i, token=tok), core.decline))
        if settled is not None:  # an answer to the question, not a command
            yes, outcome = settled
            out["answer"] = "yes" if yes else "no"
            out["call"] = outcome.call.to_dict() if outcome.call else None
            out["error"] = outcome.error if yes else None
            out["result"] = outcome.result.to_dict() if outcome.result else None
            return out, outcome
        self.n += 1
        request = Request(f"listen-{self.n}", "voice", text=words, unsure=t.unsure,
                          dry_run=self.dry_run)
        outcome = core.handle(request)
        if self.question.ask(outcome) is not None:
            self.pipeline.arm(self.question.timeout_s)  # the answer needs no wake word
        ms["call"] = round(outcome.decide_ms, 1)
        # From the end of speech: the endpointer's wait (with the check of the words made
        # during it), the last of the decoding, the call.
        ms["speech_end_to_call"] = round(heard.wait_ms + heard.transcript.final_ms
                                         + outcome.decide_ms, 1)
        if outcome.result is not None:
            ms["action"] = round(outcome.ms - outcome.decide_ms, 1)
        answer = outcome.to_dict()
        out["call"], out["error"] = answer["call"], outcome.error
        out["result"] = answer["result"] if outcome.result is not None else None
        return out, outcome

    def close(self) -> None:
        if self.core is not None:
            self.core.close()
        if self.caller is not None:
            self.caller.close()


def _files(args: argparse.Namespace, pipeline: Any, act: _Actor) -> int:
    from appliance.speech.wav import frames_of, read_wav

    failures = 0
    for path in args.wav:
        report: dict[str, Any] = {"file": str(path), "seconds": None, "notes": [],
                                  "utterances": [], "error": None}
        try:
            audio = read_wav(path)
        except AudioError as exc:
            report["error"] = str(exc)
            failures += 1
        else:
            report["seconds"] = round(audio.seconds, 2)
            report["notes"] = list(audio.notes)
            pipeline.reset()
            act.question.close()  # a file's question is not answered by the next file
            for heard in pipeline.run(frames_of(audio.samples)):
                report["utterances"].append(act(heard)[0])
            failures += any(u["error"] for u in report["utterances"])
        _print_file(report, as_json=args.json)
    return 1 if failures else 0


def _print_file(report: dict[str, Any], *, as_json: bool) -> None:
    if as_json:
        print_json(report)
        return
    if report["error"]:
        print(f"{report['file']}: error: {report['error']}")
        return
    notes = "; ".join([f"{report['seconds']} s", *report["notes"]])
    print(f"{report['file']} ({notes})")
    if not report["utterances"]:
        print("  (no speech)")
    for u in report["utterances"]:
        _print_utterance(u, as_json=False, indent="  ")


def _print_utterance(u: dict[str, Any], *, as_json: bool, indent: str = "") -> None:
    if as_json:
        print_json(u)
        return
    said = f'"{u["heard"]}"' if u["heard"] else "(nothing recognised)"
    head = f"{indent}{u['start_s']:.2f}-{u['end_s']:.2f} s {said}"
    ms = u["ms"]
    if u["text"] is None:
        print(f"{head}: not a command ({u['rejected'] or u['note']})")
        return
    if u["error"]:
        print(f"{head} -> error: {u['error']}")
        return
    if u["call"] is None:
        what = "(no tool applies)" if "call" in ms else "(not sent to the tool caller)"
    else:
        args = ", ".join(f"{k}={v!r}" for k, v in u["call"]["arguments"].items())
        what = f"{u['call']['name']}({args})"
    print(f"{head} -> {what}")
    stages = [f"speech-to-text {ms['stt_total']:.0f} ms (rtf {u['stt_rtf']:.2f}), "
              f"{ms['stt_final']:.0f} ms after the end"]
    if "call" in ms:
        stages.append(f"call {ms['call']:.0f} ms")
        stages.append(f"end of speech to call {ms['speech_end_to_call']:.0f} ms")
    print(f"{indent}  {'; '.join(stages)}")
    result = u.get("result")
    if result:
        print(f"{indent}  {'done' if result.get('ok') else 'failed'}: "
              f"{result.get('done') or result.get('error')}")
