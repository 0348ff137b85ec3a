"""Training samples, and their file form: one JSON object a line, as ``appliance train``
writes them beside an adapter (``<adapter>.train.jsonl``) and reads them back with
``--samples``."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from appliance.errors import ApplianceError, ConfigError
from appliance.messages import ToolCall
from appliance.tools import Toolbox


@dataclass(frozen=True)
class Sample:
    """One utterance and the calls it should produce (``None``: no tool applies), or the
    (tool, parameter) it should ask about because the words do not give it."""

    text: str
    call: ToolCall | None
    more: tuple[ToolCall, ...] = ()
    missing: tuple[str, str] | None = None

    @property
    def calls(self) -> tuple[ToolCall, ...]:
        return (self.call, *self.more) if self.call else ()


def iter_jsonl(rows: Sequence[Sample]) -> Iterator[dict[str, Any]]:
    """The rows of a samples file: ``text``, ``call`` (the first or null), ``calls`` when
    there are several, ``missing`` for a question back."""
    for s in rows:
        row: dict[str, Any] = {"text": s.text, "call": s.call.to_dict() if s.call else None}
        if s.more:
            row["calls"] = [c.to_dict() for c in s.calls]
        if s.missing:
            row["missing"] = list(s.missing)
        yield row


def read_samples(path: Path, toolbox: Toolbox) -> list[Sample]:
    """The samples an adapter was trained on, as ``appliance train`` wrote them; every call
    checked against the config's tools (a bad row is refused by its line)."""
    out: list[Sample] = []
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            rows = row.get("calls") or ([row["call"]] if row.get("call") else [])
            calls = [toolbox.validate(ToolCall(c["name"], c.get("arguments", {})))
                     for c in rows]
            missing = row.get("missing")
            out.append(Sample(str(row["text"]), calls[0] if calls else None, tuple(calls[1:]),
                              (str(missing[0]), str(missing[1])) if missing else None))
        except (ValueError, KeyError, TypeError, IndexError, ApplianceError) as exc:
            raise ConfigError(f"{path}:{n}: not a training sample: {exc}") from exc
    return out
