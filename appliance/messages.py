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
    """The tool caller's answer to one utterance: a validated call, no call, or an error.

    ``call is None and error is None`` means the model chose not to call any tool.
    """

    text: str
    call: ToolCall | None = None
    error: str | None = None
    ms: float = 0.0
    raw: str = ""
    tokens_evaluated: int = 0
    evals: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "text": self.text,
            "call": self.call.to_dict() if self.call else None,
            "ms": round(self.ms, 1),
        }
        if self.error is not None:
            out["error"] = self.error
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
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Request:
        """What :meth:`to_dict` wrote (the journal's rows)."""
        call = data.get("call")
        return cls(id=str(data["id"]), source=str(data.get("source", "")),
                   text=data.get("text"),
                   call=ToolCall(call["name"], call.get("arguments", {})) if call else None,
                   error=data.get("error"), dry_run=bool(data.get("dry_run", False)),
                   confirmed=bool(data.get("confirmed", False)))


@dataclass(frozen=True)
class Outcome:
    """What became of a request: its call, the action's result or an error, and timings."""

    id: str
    text: str
    call: ToolCall | None = None
    result: ActionResult | None = None
    error: str | None = None
    ms: float = 0.0
    """From the request to its outcome."""
    decide_ms: float = 0.0
    """Of which the tool caller's decision."""

    @property
    def ok(self) -> bool:
        """No error, and the action (if any) done; a call held for confirmation is not."""
        return self.error is None and (self.result is None or self.result.ok)

    @property
    def held(self) -> str | None:
        """The confirmation token when the call waits for one."""
        return self.result.pending_confirmation if self.result else None

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
        return out
