"""Run the tool caller over a test set and count what it gets right, per category."""

from __future__ import annotations

import json
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

from appliance.caller import ToolCaller
from appliance.caller.engine import Engine
from appliance.errors import ConfigError
from appliance.evaluation import bfcl
from appliance.evaluation.scoring import Verdict, score

log = logging.getLogger(__name__)


@dataclass
class Tally:
    """Right and wrong answers per category, with the failures."""

    right: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    unsupported: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    failures: list[dict[str, Any]] = field(default_factory=list)
    ms: list[float] = field(default_factory=list)
    behaviours: dict[str, list[int]] = field(default_factory=lambda: defaultdict(lambda: [0, 0]))
    """Per behaviour (single call, several, all, negation...): [right, total]."""
    false_actions: int = 0
    """Requests answered with a call where none was wanted, or with a wrong call."""
    requests: int = 0
    confidences: list[tuple[float, bool]] = field(default_factory=list)
    """For each request answered with calls: the decoder's confidence, and whether right."""
    asked: list[bool] = field(default_factory=list)
    """For each request whose calls were asked back (``model.ask_below``): whether a yes
    would have made the right calls. Neither right at once nor an action."""

    def add(self, category: str, ok: bool, failure: dict[str, Any] | None = None) -> None:
        self.total[category] += 1
        self.right[category] += ok
        if not ok and failure is not None:
            self.failures.append({"category": category, **failure})

    def add_behaviour(self, behaviour: str, ok: bool, *, acted_wrongly: bool) -> None:
        self.behaviours[behaviour][0] += ok
        self.behaviours[behaviour][1] += 1
        self.requests += 1
        self.false_actions += acted_wrongly

    def behaviour_rows(self) -> list[dict[str, Any]]:
        return [{"behaviour": b, "right": r, "total": n, "percent": round(100.0 * r / n, 1)}
                for b, (r, n) in sorted(self.behaviours.items())]

    def calibration(self, edges: Sequence[float] = (0.5, 0.7, 0.9, 0.97)) -> list[dict[str, Any]]:
        """Per confidence band: how many requests were answered with calls, and how many right."""
        bounds = [0.0, *edges, 1.0]
        out = []
        for lo, hi in pairwise(bounds):
            inside = [ok for c, ok in self.confidences if lo <= c < hi or (hi == 1.0 and c == 1.0)]
            out.append({"from": lo, "to": hi, "calls": len(inside), "right": sum(inside)})
        return out

    @property
    def false_action_rate(self) -> float:
        return 100.0 * self.false_actions / max(1, self.requests)

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
        if not isinstance(row, dict) or "text" not in row or (
                "call" not in row and not isinstance(row.get("calls"), list)):
            raise ConfigError('each line needs "text" and "call" (or a list "calls")',
                              source=str(path), path=f"line {n}")
        rows.append(row)
    return rows


# The behaviours the everyday sets are written for; other rows count as a single call or
# a request no tool serves.
BEHAVIOURS = ("multi", "all", "negation", "question", "undeclared", "missing", "antonym")


def expected_calls(row: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The calls a row wants, in order (none for a request no tool serves)."""
    if isinstance(row.get("calls"), list):
        return list(row["calls"])
    return [row["call"]] if row.get("call") else []


def score_calls(expected: Sequence[Mapping[str, Any]],
                got: Sequence[Mapping[str, Any]]) -> Verdict:
    """Every call right and in order; no call exactly when none is wanted."""
    if not expected or not got:
        return score(expected[0] if expected else None, got[0] if got else None)
    if len(got) != len(expected):
        return Verdict(False, f"expected {len(expected)} calls, got {len(got)}")
    for i, (want, have) in enumerate(zip(expected, got, strict=True)):
        verdict = score(want, have)
        if not verdict.ok:
            return Verdict(False, f"call {i + 1}: {verdict.reason}" if i else verdict.reason)
    return Verdict(True)


def run_home(caller: ToolCaller, rows: Iterable[dict[str, Any]], tally: Tally, *,
             ask_below: float = 0.0) -> Tally:
    """Score ``caller`` on a home-style set; calls less sure than ``ask_below`` are asked
    back (the request core holds them for a yes): counted apart, not as right or acted."""
    for row in rows:
        d = caller.decide(row["text"])
        tally.ms.append(d.ms)
        got = [c.to_dict() for c in d.calls]
        want = expected_calls(row)
        category = row.get("category") or (want[0]["name"] if want else "none")
        verdict = score_calls(want, got)
        asked = d.asks_back(ask_below)
        if asked:
            tally.asked.append(verdict.ok)
        ok = verdict.ok and not asked
        shown: Any = got[0] if len(got) == 1 else (got or None)
        why = verdict.reason or d.error or (
            (f"asked back: {d.doubt}" if d.doubt else
             f"asked back ({d.confidence:.2f} < {ask_below:g})") if asked else None)
        tally.add(category, ok, {"text": row["text"], "expected": want or None,
                                 "got": shown, "why": why, "asked": asked,
                                 "confidence": d.confidence})
        overall = "no tool" if not want else "tool"
        tally.add(f"all ({overall})", ok)
        behaviour = category if category in BEHAVIOURS else "single" if want else "no tool"
        tally.add_behaviour(behaviour, ok,
                            acted_wrongly=bool(got) and not verdict.ok and not asked)
        if got and d.confidence is not None:
            tally.confidences.append((d.confidence, verdict.ok))
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
