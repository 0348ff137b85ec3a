"""Messages passed between the stages of the pipeline: small, immutable, no I/O.

A way in (MQTT, voice, the command line) makes a :class:`Request`; the request core
(:mod:`appliance.handler`) answers it with an :class:`Outcome`, which knows its own JSON
form. In between, the tool caller gives a :class:`Decision` and an executor an
:class:`ActionResult`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

NO_CALL = "no tool applies"


@dataclass(frozen=True)
class ToolCall:
    """One call to a declared tool, as chosen by the model or sent directly."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "arguments": dict(self.arguments)}

    def __str__(self) -> str:
        args = ", ".join(f"{k}={json.dumps(v)}" for k, v in self.arguments.items())
        return f"{self.name}({args})"


@dataclass(frozen=True)
class Decision:
    """The tool caller's answer to one utterance: validated calls, no call, or an error.

    ``calls`` are carried out in order; ``call`` is the first (either may be given).
    ``call is None and error is None`` means the model chose not to call any tool.
    """

    text: str
    call: ToolCall | None = None
    error: str | None = None
    ms: float = 0.0
    raw: str = ""
    tokens_evaluated: int = 0
    evals: int = 0
    calls: tuple[ToolCall, ...] = ()
    confidence: float | None = None
    """The model's probability for its least certain choice (None: no choice was scored)."""
    doubt: str | None = None
    """Why the calls are asked back however sure the model was of them: it chose another
    tool than the words say, and these are the words' tool's (:mod:`.caller.settle`)."""

    def __post_init__(self) -> None:
        _first_of(self, "call", "calls")

    def asks_back(self, ask_below: float) -> bool:
        """Whether its calls are asked back ("should I ...?") rather than made: a doubt, or
        less confidence than ``ask_below`` (``model.ask_below``)."""
        return bool(self.calls) and (self.doubt is not None or (
            self.confidence is not None and self.confidence < ask_below))

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "call": self.call.to_dict() if self.call else None,
            "ms": round(self.ms, 1),
        }
        if len(self.calls) > 1:
            out["calls"] = [c.to_dict() for c in self.calls]
        if self.error is not None:
            out["error"] = self.error
        if self.doubt is not None:
            out["doubt"] = self.doubt
        return out


@dataclass(frozen=True)
class ActionResult:
    """What an executor did with one call: ``ok``, a human summary, a value, or an error."""

    tool: str
    ok: bool
    done: str = ""
    value: Any = None
    error: str | None = None
    pending_confirmation: str | None = None
    said: str | None = None
    """What the appliance says back (the tool's ``say:`` template), when it declares one."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tool": self.tool, "ok": self.ok, "done": self.done}
        if self.said is not None:
            out["say"] = self.said
        if self.value is not None:
            out["value"] = self.value
        if self.error is not None:
            out["error"] = self.error
        if self.pending_confirmation is not None:
            out["pending_confirmation"] = self.pending_confirmation
        return out


@dataclass(frozen=True)
class Request:
    """One request from any way in: words for the tool caller, or a call sent directly.

    ``error`` is set when the way in could not read what it was sent: the request is
    answered with that error and nothing else happens.
    """

    id: str
    source: str
    """Where it came from: ``mqtt``, ``voice``, ``cli``."""
    text: str | None = None
    call: ToolCall | None = None
    error: str | None = None
    dry_run: bool = False
    """Say what would be done, do nothing."""
    confirmed: bool = False
    """Calls to tools marked ``confirm: true`` run without waiting for a confirmation."""
    unsure: bool = False
    """The way in is unsure of the words (a transcript the recogniser doubts): every call
    they lead to is asked back, as a call the tool caller is unsure of is."""

    @property
    def said(self) -> str:
        """The request as a person reads it."""
        return self.text if self.text is not None else str(self.call) if self.call else ""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "source": self.source}
        if self.text is not None:
            out["text"] = self.text
        if self.call is not None:
            out["call"] = self.call.to_dict()
        if self.error is not None:
            out["error"] = self.error
        if self.dry_run:
            out["dry_run"] = True
        if self.confirmed:
            out["confirmed"] = True
        if self.unsure:
            out["unsure"] = True
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Request:
        """What :meth:`to_dict` wrote (the journal's rows)."""
        call = data.get("call")
        return cls(id=str(data["id"]), source=str(data.get("source", "")),
                   text=data.get("text"),
                   call=ToolCall(call["name"], call.get("arguments", {})) if call else None,
                   error=data.get("error"), dry_run=bool(data.get("dry_run", False)),
                   confirmed=bool(data.get("confirmed", False)),
                   unsure=bool(data.get("unsure", False)))


@dataclass(frozen=True)
class Outcome:
    """What became of a request: its calls, the actions' results or an error, and timings.

    ``call`` and ``result`` are the first of ``calls`` and ``results`` (for clients that
    know one call per request); either form may be given.
    """

    id: str
    text: str
    call: ToolCall | None = None
    result: ActionResult | None = None
    error: str | None = None
    ms: float = 0.0
    """From the request to its outcome."""
    decide_ms: float = 0.0
    """Of which the tool caller's decision."""
    calls: tuple[ToolCall, ...] = ()
    results: tuple[ActionResult, ...] = ()

    def __post_init__(self) -> None:
        _first_of(self, "call", "calls")
        _first_of(self, "result", "results")

    @property
    def ok(self) -> bool:
        """No error, and every action (if any) done; a call held for confirmation is not."""
        return self.error is None and all(r.ok for r in self.results)

    @property
    def held(self) -> str | None:
        """The confirmation token when the (first held) call waits for one."""
        return next((r.pending_confirmation for r in self.results if r.pending_confirmation),
                    None)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form every way out uses (MQTT ``result``, ``ask --json``, the journal)."""
        out: dict[str, Any] = {"id": self.id, "text": self.text,
                               "call": self.call.to_dict() if self.call else None,
                               "ok": self.ok, "ms": round(self.ms, 1)}
        if self.error is not None:
            out["error"] = self.error
        if self.result is not None:
            out["result"] = self.result.to_dict()
        elif self.error is None:
            out["result"] = {"done": NO_CALL}
        out["calls"] = [c.to_dict() for c in self.calls]
        out["results"] = [r.to_dict() for r in self.results]
        return out


def _first_of(message: Any, one: str, many: str) -> None:
    """Keep a message's single field and its tuple in step: the single is the first."""
    single, several = getattr(message, one), tuple(getattr(message, many))
    if not several and single is not None:
        several = (single,)
    object.__setattr__(message, many, several)
    if several and single is None:
        object.__setattr__(message, one, several[0])
