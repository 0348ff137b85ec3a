"""Run the tool caller over a test set and count what it gets right, per category."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from appliance.caller import ToolCaller
from appliance.caller.engine import Engine
from appliance.errors import ConfigError
from appliance.evaluation import bfcl
from appliance.evaluation.scoring import score

log = logging.getLogger(__name__)


@dataclass
class Tally:
    """Right and wrong answers per category, with the failures."""

    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unsupported: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: list[dict[str, Any]] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)

    def add(self, category: str, ok: bool, failure: dict[str, Any] | None = None) -> None:
        self.total[category] += 1
        self.right[category] += ok
        if not ok and failure is not None:
            self.failures.append({"category": category, **failure})

    def percent(self, category: str) -> float:
        return 100.0 * self.right[category] / max(1, self.total[category])

    def rows(self) -> list[dict[str, Any]]:
        out = []
        for cat in sorted(set(self.total) | set(self.unsupported)):
            out.append({"category": cat, "right": self.right[cat], "total": self.total[cat],
                        "percent": round(self.percent(cat), 1),
                        "unsupported": self.unsupported[cat]})
        return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    try:
        lines = path.read_text().splitlines()
    except OSError as exc:
        raise ConfigError(f"cannot read: {exc.strerror}", source=str(path)) from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"not JSON: {exc.msg}", source=str(path), path=f"line {n}") from None
        if not isinstance(row, dict) or "text" not in row or "call" not in row:
            raise ConfigError('each line needs "text" and "call"', source=str(path),
                              path=f"line {n}")
        rows.append(row)
    return rows


def run_home(caller: ToolCaller, rows: Iterable[dict[str, Any]], tally: Tally) -> Tally:
    for row in rows:
        d = caller.decide(row["text"])
        tally.ms.append(d.ms)
        got = d.call.to_dict() if d.call else None
        category = row.get("category") or (row["call"]["name"] if row["call"] else "none")
        verdict = score(row["call"], got)
        tally.add(category, verdict.ok, {"text": row["text"], "expected": row["call"],
                                         "got": got, "why": verdict.reason or d.error})
        overall = "no tool" if row["call"] is None else "tool"
        tally.add(f"all ({overall})", verdict.ok)
    return tally


def run_bfcl(engine: Engine, categories: Sequence[str], tally: Tally, *,
             limit: int | None = None, progress: Callable[[str], None] | None = None) -> Tally:
    """Each case brings its own functions, so its tool prompt is evaluated fresh."""
    for category in categories:
        name = f"bfcl {category}"
        for i, case in enumerate(bfcl.load(category)):
            if limit is not None and i >= limit:
                break
            try:
                box = bfcl.toolbox(case)
            except ConfigError as exc:
                tally.unsupported[name] += 1
                log.info("%s: unsupported: %s", case.id, exc)
                continue
            caller = ToolCaller(box, engine, few_shot=False)
            t0 = time.perf_counter()
            d = caller.decide(case.text)
            tally.ms.append((time.perf_counter() - t0) * 1000)
            got = d.call.to_dict() if d.call else None
            required = []
            if case.expected is not None and case.expected["name"] in box:
                required = list(box[case.expected["name"]].required)
            verdict = score(case.expected, got, required)
            tally.add(name, verdict.ok, {"id": case.id, "text": case.text[:120],
                                         "got": got, "why": verdict.reason or d.error})
            if progress and (i + 1) % 10 == 0:
                progress(f"{name}: {i + 1} cases, {tally.percent(name):.1f}% right")
    return tally
