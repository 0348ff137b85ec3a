"""The decoding grammar, derived from the tool declarations.

One description of what a call may look like, in two forms:

- :func:`walk_call` walks the declarations and asks a :class:`Driver` to make each
  choice (which tool, which key next, which enum value) or to produce a free value
  (a string or a number). The fast decoder (:mod:`.decoder`) drives it with the model's
  logits; the replay driver drives it with a known call to get the exact tokens the
  decoder would emit (teacher forcing for fine-tuning).
- :func:`to_gbnf` writes the same language as a llama.cpp GBNF grammar, for the
  plain-grammar path and the baseline in tools/bench.

The language: ``call:NAME{k1:v1,k2:v2}`` with keys in sorted order (FunctionGemma's
convention), every required key present, optional keys optional, enum values from the
enum, numbers where numbers belong, strings in ``<escape>``. A required key whose schema
declares a ``default`` may be left out (the caller fills the default in). Several calls
are consecutive blocks (:func:`walk_calls`): after each, the model chooses between
another ``<start_function_call>`` and ``<start_function_response>`` (the end).

A request that names a tool but not a value it needs gets a clarification instead
(:func:`walk_clarification`): ``Which PARAM for TOOL?``, the parameter chosen by the model
among the required ones that have no default.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

from appliance.caller.prompt import END_CALL, START_CALL, START_RESPONSE
from appliance.caller.said import Said
from appliance.tools import ESCAPE, Tool

CALL_PREFIX = f"{START_CALL}call:"


class Driver(Protocol):
    """What the grammar walker needs from whoever produces the text."""

    def choose(self, alternatives: Sequence[str], *, weighed: bool = True) -> int:
        """Emit one of ``alternatives`` (none a prefix of another); return its index. A
        choice not ``weighed`` does not count toward the decision's confidence."""

    def force(self, text: str) -> None:
        """Emit ``text``."""

    def free_string(self, *, required: bool) -> str:
        """Emit string content up to (not including) the closing ``<escape>``."""

    def number(self, *, integer: bool, negative: bool, follow: Sequence[str],
               weighed: bool = True) -> str:
        """Emit a number's characters (digits, maybe ``-`` and one ``.``).

        ``follow`` are the texts that may come next; the number ends where the model
        prefers one of them to another digit; one not ``weighed`` (an amount the words say
        without a number, which grounding sets) does not count toward the confidence.
        """


def schema_type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind is None:
        return "object" if "properties" in schema else "string"
    return str(kind)


def required_keys(schema: Mapping[str, Any]) -> set[str]:
    """The keys a call must spell out: required, and with no ``default`` to fall back on."""
    props: Mapping[str, Mapping[str, Any]] = schema.get("properties", {})
    return {k for k in schema.get("required", ()) if "default" not in props.get(k, {})}


def walk_calls(d: Driver, tools: Sequence[Tool], *, max_calls: int = 1,
               said: Said | None = None) -> list[Tool]:
    """One call, then (up to ``max_calls``) another each time the model opens one. With
    ``said``, optional arguments are grounded in the request (:mod:`.said`); and a
    request that lists and joins nothing else ("turn off all the lights") ends after the
    first call whose listed value it replaces: the listing makes the other calls
    (:mod:`.quantifiers`), so whether the model would write them is not asked (a 270M
    model is unsure how many rooms to name, and its doubt is not about the request); so does
    one whose list of values, said outright, holds all its joining words ("lock the front
    and back doors": :func:`.quantifiers.spread`)."""
    chosen = [walk_call(d, tools, said)]
    while len(chosen) < max_calls:
        if said is not None and (said.in_series or (
                said.listing and said.listed and not said.joined)):
            break
        if d.choose([CALL_PREFIX, START_RESPONSE]) != 0:
            break
        chosen.append(walk_call(d, tools, said))
    return chosen


def clarifications(tools: Sequence[Tool]) -> list[tuple[str, str]]:
    """(tool, parameter) pairs a clarification may ask about."""
    return [(t.name, k) for t in tools for k in sorted(required_keys(t.parameters))]


def clarification_text(tool: str, param: str) -> str:
    return f" {param} for {tool}?"


def walk_clarification(d: Driver, tools: Sequence[Tool]) -> tuple[str, str]:
    """After ``Which``: the missing parameter and its tool."""
    pairs = clarifications(tools)
    return pairs[d.choose([clarification_text(t, k) for t, k in pairs])]


def walk_call(d: Driver, tools: Sequence[Tool], said: Said | None = None) -> Tool:
    """Walk one call after ``<start_function_call>call:``; return the tool chosen."""
    index = d.choose([f"{t.name}{{" for t in tools])
    tool = tools[index]
    if said is not None:
        said.walking(tool)
    # The closing brace carries the end marker so that "}<" tokenizes as the model writes it.
    walk_object_body(d, tool.parameters, close=f"}}{END_CALL}", said=said)
    return tool


def _opener(schema: Mapping[str, Any]) -> str:
    kind = schema_type(schema)
    return {"string": ESCAPE, "object": "{", "array": "["}.get(kind, "")


def walk_object_body(d: Driver, schema: Mapping[str, Any], *, close: str = "}",
                     said: Said | None = None) -> None:
    """After ``{``: the keys in sorted order, required ones never skipped, then ``close``;
    with ``said``, an optional key only where the request holds a value for it."""
    props: Mapping[str, Mapping[str, Any]] = schema.get("properties", {})
    keys = sorted(props)
    required = required_keys(schema)

    def alternatives(i: int, first: bool) -> list[tuple[str, int | None]]:
        out: list[tuple[str, int | None]] = []
        for j in range(i, len(keys)):
            if keys[j] not in required and said is not None and not said.offers(props[keys[j]]):
                continue
            sep = "" if first else ","
            out.append((f"{sep}{keys[j]}:{_opener(props[keys[j]])}", j))
            if keys[j] in required or (said is not None
                                       and said.demands(props[keys[j]], keys[j])):
                return out
        out.append((close, None))
        return out

    listed = said.listed_key(props, required) if said is not None else None
    alts = alternatives(0, True)
    while True:
        picked = alts[d.choose([a for a, _ in alts])][1]
        if picked is None:
            return
        alts = alternatives(picked + 1, False)
        walk_value(d, props[keys[picked]], required=keys[picked] in required,
                   follow=[a for a, _ in alts], said=said, listed=keys[picked] == listed)


def walk_value(d: Driver, schema: Mapping[str, Any], *, required: bool = True,
               follow: Sequence[str] = (",", "}", "]"), said: Said | None = None,
               listed: bool = False) -> None:
    """A value whose opener (``<escape>``, ``{``, ``[``) has already been emitted; with
    ``said``, an enum value among the longest said (only those, for an optional one), or
    among those an earlier call used when no other was said. The
    choice of a ``listed`` enum (:meth:`Said.listed_key`) is not weighed: the listing
    replaces it with every value; nor is the choice among a list said outright
    (:meth:`Said.series`), nor an amount said without a number (:meth:`Said.scaled`)."""
    kind = schema_type(schema)
    if "enum" in schema and kind == "string":
        # Among the values said and not yet used; else among those said at all ("turn off
        # the fan and the hallway light": the second call's "off" is the first's word too).
        values = (said.values(schema["enum"]) or said.anywhere(schema["enum"])
                  if said is not None else None) or schema["enum"]
        scaled = said is not None and said.scaled(schema)  # grounding sets it
        outright = said.series(schema["enum"]) if said is not None else []
        chosen = values[d.choose([f"{v}{ESCAPE}" for v in values],
                                 weighed=not listed and not scaled and not outright)]
        if said is not None:
            said.claim(chosen)
            said.listed += listed
            said.in_series += chosen in outright
    elif kind == "string":
        d.free_string(required=required)
        d.force(ESCAPE)
    elif kind in ("integer", "number"):
        # Numeric enums are numbers too; the schema check after parsing enforces the enum.
        minimum = schema.get("minimum", schema.get("exclusiveMinimum"))
        d.number(integer=kind == "integer", negative=minimum is None or minimum < 0,
                 follow=follow, weighed=said is None or not said.scaled(schema))
    elif kind == "boolean":
        d.choose(["true", "false"])
    elif kind == "object":
        walk_object_body(d, schema)
    elif kind == "array":
        walk_array_body(d, schema.get("items", {"type": "string"}))
    else:  # check_tool rejects other types before we get here
        raise ValueError(f"unsupported type {kind!r}")


def walk_array_body(d: Driver, items: Mapping[str, Any]) -> None:
    """After ``[``: one or more items separated by commas, then ``]``."""
    while True:
        opener = _opener(items)
        if opener:
            d.force(opener)
        walk_value(d, items, follow=(",", "]"))
        if d.choose([",", "]"]) == 1:
            return


# -- GBNF ---------------------------------------------------------------------------


def _lit(text: str) -> str:
    return json.dumps(text, ensure_ascii=False)


class _Gbnf:
    def __init__(self) -> None:
        self.rules: dict[str, str] = {}
        self.count = 0

    def rule(self, hint: str, body: str) -> str:
        self.count += 1
        name = f"{''.join(c if c.isalnum() else '-' for c in hint)[:40]}-{self.count}"
        self.rules[name] = body
        return name

    def value(self, schema: Mapping[str, Any], hint: str) -> str:
        kind = schema_type(schema)
        if "enum" in schema:
            if kind == "string":
                alts = " | ".join(_lit(str(v)) for v in schema["enum"])
                return f"{_lit(ESCAPE)} ( {alts} ) {_lit(ESCAPE)}"
            return "( " + " | ".join(_lit(json.dumps(v)) for v in schema["enum"]) + " )"
        if kind == "string":
            return f"{_lit(ESCAPE)} [^<]+ {_lit(ESCAPE)}"
        if kind == "integer":
            return '"-"? [0-9]{1,12}'
        if kind == "number":
            return '"-"? [0-9]{1,12} ("." [0-9]{1,6})?'
        if kind == "boolean":
            return '( "true" | "false" )'
        if kind == "array":
            item = self.rule(f"{hint}-item", self.value(schema.get("items", {}), hint))
            return f'"[" {item} ( "," {item} )* "]"'
        return self.obj(schema, hint)

    def obj(self, schema: Mapping[str, Any], hint: str) -> str:
        props: Mapping[str, Mapping[str, Any]] = schema.get("properties", {})
        keys = sorted(props)
        required = required_keys(schema)
        values = {k: self.rule(f"{hint}-{k}", self.value(props[k], f"{hint}-{k}")) for k in keys}
        # rest[i]: what may follow once keys before i are done (first: nothing emitted yet).
        rest: dict[tuple[int, bool], str] = {}
        for i in range(len(keys), -1, -1):
            for first in (True, False):
                alts = []
                for j in range(i, len(keys)):
                    sep = "" if first else ","
                    nxt = rest[(j + 1, False)]
                    alts.append(f"{_lit(sep + keys[j] + ':')} {values[keys[j]]} {nxt}")
                    if keys[j] in required:
                        break
                else:
                    alts.append('"}"')
                rest[(i, first)] = self.rule(f"{hint}-k{i}{'f' if first else 'r'}",
                                             " | ".join(alts))
        return f'"{{" {rest[(0, True)]}'


def to_gbnf(tools: Sequence[Tool], *, allow_no_call: bool = True) -> str:
    """A GBNF grammar for one call to a declared tool, or (optionally) a plain-text answer."""
    g = _Gbnf()
    calls = [
        g.rule(f"call-{t.name}", f"{_lit(t.name)} {g.obj(t.parameters, t.name)}") for t in tools
    ]
    call = f"{_lit(CALL_PREFIX)} ( {' | '.join(calls)} ) {_lit(END_CALL)}"
    root = f"{call} | no-call" if allow_no_call else call
    lines = [f"root ::= {root}"]
    if allow_no_call:
        lines.append(r'no-call ::= [^<\n] [^\n]{0,80}')
    lines += [f"{name} ::= {body}" for name, body in g.rules.items()]
    return "\n".join(lines) + "\n"
