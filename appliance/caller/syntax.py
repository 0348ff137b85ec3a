"""Parser for FunctionGemma's call syntax.

``<start_function_call>call:NAME{key:<escape>text<escape>,n:3,flag:true,xs:[1,2]}<end_function_call>``

Strings are delimited only by ``<escape>``; keys are bare; numbers and booleans raw.
Any malformed input raises :class:`~appliance.errors.CallSyntaxError` with the offset;
:func:`parse_output` turns that into a value for loops that must survive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from appliance.caller.prompt import END_CALL, START_CALL
from appliance.errors import CallSyntaxError
from appliance.messages import ToolCall
from appliance.tools import ESCAPE

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*|[0-9]+)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_MAX_DEPTH = 16


@dataclass(frozen=True)
class Parsed:
    """The result of parsing model output: calls, or an error message; never both."""

    calls: tuple[ToolCall, ...] = ()
    error: str | None = None


class _Reader:
    def __init__(self, text: str):
        self.text = text
        self.pos = 0

    def fail(self, what: str) -> CallSyntaxError:
        snippet = self.text[self.pos : self.pos + 24]
        return CallSyntaxError(f"{what} at offset {self.pos} (near {snippet!r})")

    def expect(self, literal: str) -> None:
        if not self.text.startswith(literal, self.pos):
            raise self.fail(f"expected {literal!r}")
        self.pos += len(literal)

    def match(self, pattern: re.Pattern[str], what: str) -> str:
        m = pattern.match(self.text, self.pos)
        if not m:
            raise self.fail(f"expected {what}")
        self.pos = m.end()
        return m.group()

    def value(self, depth: int) -> Any:
        if depth > _MAX_DEPTH:
            raise self.fail("nesting too deep")
        t = self.text
        if t.startswith(ESCAPE, self.pos):
            start = self.pos + len(ESCAPE)
            end = t.find(ESCAPE, start)
            if end < 0:
                raise self.fail("unterminated string")
            self.pos = end + len(ESCAPE)
            return t[start:end]
        if t.startswith("{", self.pos):
            return self.mapping(depth + 1)
        if t.startswith("[", self.pos):
            self.pos += 1
            items: list[Any] = []
            if t.startswith("]", self.pos):
                self.pos += 1
                return items
            while True:
                items.append(self.value(depth + 1))
                if t.startswith(",", self.pos):
                    self.pos += 1
                    continue
                self.expect("]")
                return items
        for word, val in (("true", True), ("false", False), ("null", None)):
            if t.startswith(word, self.pos):
                self.pos += len(word)
                return val
        number = self.match(_NUMBER, "a value")
        if re.fullmatch(r"-?[0-9]+", number):
            return int(number)
        return float(number)

    def mapping(self, depth: int) -> dict[str, Any]:
        self.expect("{")
        out: dict[str, Any] = {}
        if self.text.startswith("}", self.pos):
            self.pos += 1
            return out
        while True:
            key = self.match(_KEY, "a key")
            if key in out:
                raise self.fail(f"duplicate key {key!r}")
            self.expect(":")
            out[key] = self.value(depth)
            if self.text.startswith(",", self.pos):
                self.pos += 1
                continue
            self.expect("}")
            return out


def parse_call(text: str) -> ToolCall:
    """Parse exactly one ``call:NAME{...}`` (markers optional); raise on anything else."""
    body = text.strip()
    if body.startswith(START_CALL):
        body = body[len(START_CALL) :]
    if body.endswith(END_CALL):
        body = body[: -len(END_CALL)]
    reader = _Reader(body)
    reader.expect("call:")
    name = reader.match(_NAME, "a function name")
    args = reader.mapping(1)
    if reader.pos != len(body):
        raise reader.fail("unexpected text after the call")
    return ToolCall(name, args)


def parse_calls(text: str) -> tuple[ToolCall, ...]:
    """Every call block in model output, in order; text outside blocks is ignored."""
    calls = []
    pos = 0
    while (start := text.find(START_CALL, pos)) >= 0:
        end = text.find(END_CALL, start)
        if end < 0:
            # Generation stops at <end_function_call>, so the last block may lack it.
            end = len(text)
        calls.append(parse_call(text[start + len(START_CALL) : end]))
        pos = end + len(END_CALL)
    return tuple(calls)


def parse_output(text: str) -> Parsed:
    """Like :func:`parse_calls`, but a malformed call is a value, not an exception."""
    try:
        return Parsed(calls=parse_calls(text))
    except CallSyntaxError as exc:
        return Parsed(error=str(exc))
    except RecursionError:
        return Parsed(error="call nested too deeply")
