"""Messages passed between the stages of the pipeline: small, immutable, no I/O."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Transcript:
    """What the speech-to-text stage heard."""

    text: str
    engine: str = ""
    confidence: float | None = None
    audio_s: float = 0.0
    ms: float = 0.0


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

    @property
    def ok(self) -> bool:
        return self.error is None

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

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"tool": self.tool, "ok": self.ok, "done": self.done}
        if self.value is not None:
            out["value"] = self.value
        if self.error is not None:
            out["error"] = self.error
        if self.pending_confirmation is not None:
            out["pending_confirmation"] = self.pending_confirmation
        return out
