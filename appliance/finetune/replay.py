"""Training's view of the decoder: the exact tokens and decisions it makes for a known call.

:class:`ReplayDriver` walks the same grammar code as the live decoder
(:class:`~appliance.caller.decoder.LiveDriver`) with a known call instead of logits, so a
training sample's answer is tokenized exactly as the decoder would emit it, and training
puts its loss exactly at the decisions, over exactly the candidates the decoder compares.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from appliance.caller import prompt
from appliance.caller.caller import ToolCaller
from appliance.caller.decoder import LiveDriver, Vocab
from appliance.caller.engine import Engine
from appliance.caller.grammar import (
    CALL_PREFIX,
    clarification_text,
    walk_calls,
    walk_clarification,
)
from appliance.errors import CallSyntaxError
from appliance.messages import ToolCall
from appliance.tools import ESCAPE

FULL_VOCAB = None  # a decision over (nearly) the whole vocabulary: free text


@dataclass(frozen=True)
class DecisionPoint:
    """Where the decoder asks the model, what it may choose from, and the right choice."""

    index: int  # index into the driver's committed tokens of the chosen token
    candidates: tuple[int, ...] | None  # None: the whole vocabulary (free string)
    target: int


class ReplayDriver(LiveDriver):
    """Walks the grammar along a known answer; records the tokens the decoder would emit.

    It also records every decision point with its candidates: training puts its loss
    exactly there (forced tokens need none), over exactly the tokens the decoder compares.
    """

    def __init__(self, engine: Engine, vocab: Vocab, target: str):
        super().__init__(engine, vocab, logits=None)
        self.target = target
        self.cursor = 0
        self._want: int | None = None
        self.points: list[DecisionPoint] = []

    def _fail(self, what: str) -> CallSyntaxError:
        near = self.target[self.cursor : self.cursor + 20]
        return CallSyntaxError(f"the call does not fit the grammar: {what} at {near!r}")

    def choose(self, alternatives: Sequence[str], *, weighed: bool = True) -> int:
        matches = [i for i, a in enumerate(alternatives) if self.target.startswith(a, self.cursor)]
        if not matches:
            raise self._fail(f"expected one of {list(alternatives)}")
        self._want = max(matches, key=lambda i: len(alternatives[i]))
        self.cursor += len(alternatives[self._want])
        chosen = super().choose(alternatives, weighed=weighed)
        if chosen != self._want:  # pragma: no cover - only with non-prefix-free alternatives
            raise self._fail("ambiguous alternatives")
        return chosen

    def _pick_branch(self, options: dict[int, list[int]], alternatives: Sequence[str], *,
                     weighed: bool = True) -> int:
        for token, indices in options.items():
            if self._want in indices:
                cands = set(options)
                if self.points and self.points[-1].index == len(self.tokens):
                    # The number's end decision at this same position: one decision.
                    cands |= set(self.points.pop().candidates or ())
                self.points.append(DecisionPoint(len(self.tokens), tuple(sorted(cands)), token))
                return token
        raise self._fail("no branch")  # pragma: no cover

    def force(self, text: str) -> None:
        if not self.target.startswith(text, self.cursor):
            raise self._fail(f"expected {text!r}")
        self.cursor += len(text)
        super().force(text)

    def free_string(self, *, required: bool) -> str:
        end = self.target.find(ESCAPE, self.cursor)
        if end < 0:
            raise self._fail("unterminated string")
        value = self.target[self.cursor : end]
        self.cursor = end
        self._commit_pending()
        for token in self.engine.tokenize(value, special=False):
            self.points.append(DecisionPoint(len(self.tokens), FULL_VOCAB, token))
            self._commit([token])
        # The closing <escape> is the next token; whether to stop is a decision too.
        self.points.append(DecisionPoint(len(self.tokens), FULL_VOCAB, self.vocab.escape_first))
        return value

    def number(self, *, integer: bool, negative: bool, follow: Sequence[str],
               weighed: bool = True) -> str:
        end = self.cursor
        while end < len(self.target) and (self.target[end].isdigit() or self.target[end] in "-."):
            end += 1
        value = self.target[self.cursor : end]
        if not value:
            raise self._fail("expected a number")
        self.cursor = end
        self._commit_pending()
        v = self.vocab
        closers = {self.engine.tokenize(f)[0] for f in follow if f}
        extra = {t for t in (v.minus, v.dot) if t is not None}
        cands = tuple(sorted(set(map(int, v.digits)) | closers | extra))
        for token in self.engine.tokenize(value):
            self.points.append(DecisionPoint(len(self.tokens), cands, token))
            self._commit([token])
        # Ending the number is a decision too (another digit, or what follows); its target
        # is whatever token comes next, filled in once the answer is complete.
        self.points.append(DecisionPoint(len(self.tokens), cands, -1))
        return value


def answer_tokens(caller: ToolCaller, call: ToolCall | None) -> list[int]:
    """Exactly the tokens the decoder emits for ``call`` (or the no-call reply)."""
    return answer(caller, call)[0]


def answer(caller: ToolCaller, call: ToolCall | None, *, more: Sequence[ToolCall] = (),
           missing: tuple[str, str] | None = None,
           stop: bool = False) -> tuple[list[int], list[DecisionPoint]]:
    """The answer's tokens and the decisions the decoder makes in them.

    ``more`` are calls after ``call``; with ``stop`` the decision not to make another one
    is part of the answer (the decoder asks it when the words could hold several calls).
    ``missing`` (tool, parameter) is a clarification instead of a call.
    The first decision, call or no call, is over the whole vocabulary at index 0.
    """
    engine = caller.engine
    if missing is not None:
        opening = engine.tokenize(prompt.CLARIFY_REPLY)
        target = clarification_text(*missing) + prompt.END_TURN
        driver = ReplayDriver(engine, caller.vocab, target)
        walk_clarification(driver, caller.tools)
        driver.force(prompt.END_TURN)
        return _answer(opening, driver)
    if call is None:
        tokens = engine.tokenize(prompt.NO_CALL_REPLY + prompt.END_TURN)
        return tokens, [DecisionPoint(0, None, tokens[0])]
    calls = [call, *more]
    for c in calls:
        caller.toolbox.validate(c)
    body = "".join(prompt.render_call(c) for c in calls)[len(CALL_PREFIX):]
    driver = ReplayDriver(engine, caller.vocab, body + (prompt.START_RESPONSE if stop else ""))
    walk_calls(driver, caller.tools, max_calls=len(calls) + stop)
    return _answer(caller.call_prefix, driver)


def _answer(opening: list[int], driver: ReplayDriver) -> tuple[list[int], list[DecisionPoint]]:
    tokens = opening + driver.all_tokens()
    shift = len(opening)
    points = [DecisionPoint(0, None, opening[0])]
    for p in driver.points:
        i = p.index + shift
        target = tokens[i] if p.target == -1 and i < len(tokens) else p.target
        points.append(DecisionPoint(i, p.candidates, target))
    return tokens, [p for p in points if p.index < len(tokens) and tokens[p.index] == p.target
                    and (p.candidates is None or p.target in p.candidates)]
