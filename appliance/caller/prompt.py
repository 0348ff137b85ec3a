"""FunctionGemma's prompt format, rendered from the tool declarations.

Format (Google's "FunctionGemma formatting and best practices"): a developer turn
that starts with the activation sentence, then one
``<start_function_declaration>declaration:NAME{...}<end_function_declaration>`` per
tool; keys bare and sorted, types upper case, every string in ``<escape>``.
A call is ``<start_function_call>call:NAME{key:<escape>value<escape>,n:3}<end_function_call>``.

Everything here works on text, so the same prompt serves FunctionGemma (whose GGUF has
these markers as single tokens) and the base Gemma 3 (where they are ordinary text).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from appliance.messages import ToolCall
from appliance.tools import ESCAPE, Tool

BOS = "<bos>"
START_TURN = "<start_of_turn>"
END_TURN = "<end_of_turn>"
START_DECL = "<start_function_declaration>"
END_DECL = "<end_function_declaration>"
START_CALL = "<start_function_call>"
END_CALL = "<end_function_call>"
START_RESPONSE = "<start_function_response>"
ACTIVATION = "You are a model that can do function calling with the following functions"
STOP_STRINGS = (END_CALL, START_RESPONSE, END_TURN)

# What the model says when no tool applies, in worked examples and training data.
NO_CALL_REPLY = "Sorry, I can't do that."
# A request that needs a value it did not say: "Which minutes for start_timer?"
CLARIFY_REPLY = "Which"


def escape(text: str) -> str:
    return f"{ESCAPE}{text}{ESCAPE}"


def _schema_type(schema: Mapping[str, Any]) -> str:
    kind = schema.get("type")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    return str(kind).upper()


ENUM_SHOWN = 12
"""The most values of one enum the prompt spells out. The decoder is held to the full enum
whatever the prompt shows, so thirty device names need not cost the prompt thirty: the
first ones show the model what kind of value it is, and the description says how many."""


def render_schema(schema: Mapping[str, Any], *, enum_shown: int | None = ENUM_SHOWN) -> str:
    """One schema node as ``{description:...,enum:[...],...,type:<escape>T<escape>}``;
    ``enum_shown=None`` spells out every enum value."""
    fields: dict[str, str] = {}
    description = schema.get("description")
    values = list(schema.get("enum", ()))
    if "enum" in schema and enum_shown is not None and len(values) > enum_shown:
        more = f"one of {len(values)} values, the first {enum_shown} shown"
        description = f"{description} ({more})" if description else more.capitalize()
        values = values[:enum_shown]
    if description is not None:
        fields["description"] = escape(str(description))
    if "enum" in schema:
        fields["enum"] = "[" + ",".join(render_value(v) for v in values) + "]"
    kind = _schema_type(schema)
    if kind == "OBJECT":
        props = schema.get("properties", {})
        fields["properties"] = "{" + ",".join(
            f"{k}:{render_schema(props[k], enum_shown=enum_shown)}" for k in sorted(props)
        ) + "}"
        if schema.get("required"):
            fields["required"] = "[" + ",".join(escape(r) for r in schema["required"]) + "]"
    if kind == "ARRAY" and "items" in schema:
        fields["items"] = render_schema(schema["items"], enum_shown=enum_shown)
    fields["type"] = escape(kind)
    return "{" + ",".join(f"{k}:{fields[k]}" for k in sorted(fields)) + "}"


def render_declaration(tool: Tool, *, enum_shown: int | None = ENUM_SHOWN) -> str:
    fields = {"description": escape(tool.description)}
    params = tool.parameters
    if params.get("properties") or params.get("required"):
        fields["parameters"] = render_schema(params, enum_shown=enum_shown)
    body = ",".join(f"{k}:{fields[k]}" for k in sorted(fields))
    return f"{START_DECL}declaration:{tool.name}{{{body}}}{END_DECL}"


def render_value(value: Any) -> str:
    """A value in call syntax: strings escaped, numbers and booleans raw, keys bare."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, str):
        return escape(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
            return str(int(value))
        return json.dumps(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{k}:{render_value(value[k])}" for k in sorted(value)) + "}"
    if isinstance(value, Sequence):
        return "[" + ",".join(render_value(v) for v in value) + "]"
    return escape(str(value))


def render_call(call: ToolCall) -> str:
    return f"{START_CALL}call:{call.name}{render_value(dict(call.arguments))}{END_CALL}"


def developer_turn(tools: Iterable[Tool], *, enum_shown: int | None = ENUM_SHOWN) -> str:
    decls = "".join(render_declaration(t, enum_shown=enum_shown) for t in tools)
    return f"{START_TURN}developer\n{ACTIVATION}{decls}{END_TURN}\n"


def user_turn(text: str) -> str:
    """The per-request suffix: the user's words and the opening of the model's turn."""
    return f"{START_TURN}user\n{text}{END_TURN}\n{START_TURN}model\n"


def example_turns(examples: Iterable[tuple[str, ToolCall | None]]) -> str:
    """Worked examples as completed user/model exchanges."""
    out = []
    for say, call in examples:
        answer = render_call(call) if call is not None else NO_CALL_REPLY
        out.append(f"{user_turn(say)}{answer}{END_TURN}\n")
    return "".join(out)


def few_shot_examples(tools: Sequence[Tool]) -> list[tuple[str, ToolCall | None]]:
    """The first example phrasing of each tool, plus one request no tool serves."""
    shots: list[tuple[str, ToolCall | None]] = []
    for tool in tools:
        if tool.examples:
            ex = tool.examples[0]
            shots.append((ex.say, ToolCall(tool.name, dict(ex.arguments))))
    if shots:
        shots.insert(len(shots) // 2, ("tell me a joke about cats", None))
    return shots


def tool_prompt(tools: Sequence[Tool], *, few_shot: bool = True, bos: bool = True,
                enum_shown: int | None = ENUM_SHOWN) -> str:
    """The fixed part of every request: evaluated once per process and kept in the KV cache."""
    prefix = (BOS if bos else "") + developer_turn(tools, enum_shown=enum_shown)
    if few_shot:
        prefix += example_turns(few_shot_examples(tools))
    return prefix


MIN_CONTEXT = 2048
"""The context a caller opens with: the demo home's prompt (about 1,250 tokens) and room."""
REQUEST_ROOM = 512
"""Tokens kept free after the tool prompt: the request's words and every call it makes."""


def context_for(prompt_tokens: int) -> int:
    """The context for a prompt of ``prompt_tokens``: room for one exchange after it, in
    steps of 256 (llama.cpp's KV cache costs little: the sliding-window layers hold 512)."""
    return max(MIN_CONTEXT, -(-(prompt_tokens + REQUEST_ROOM) // 256) * 256)


def counts_in_minutes(tools: Sequence[Tool]) -> bool:
    """Whether durations should reach the model in minutes: some numeric parameter is in
    minutes (by its name or description) and none is in hours."""
    said = [f"{name} {schema.get('description', '')}".lower()
            for tool in tools for name, schema in tool.properties.items()
            if schema.get("type") in ("integer", "number")]
    return any("minute" in s for s in said) and not any("hour" in s for s in said)
