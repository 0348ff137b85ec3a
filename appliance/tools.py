"""Tool declarations: the one place a tool is described.

A :class:`Tool` is read once from the config (or an OpenAI-style tools file) and
feeds everything else: the model's prompt (:mod:`appliance.caller.prompt`), the
decoding grammar (:mod:`appliance.caller.grammar`), argument validation
(:meth:`Toolbox.validate`) and dispatch (:mod:`appliance.executors`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar

import jsonschema

from appliance.errors import ArgumentError, ConfigError, SchemaError, UnknownToolError
from appliance.messages import ToolCall

# Names may contain dots (BFCL's ``math.factorial``) but nothing that would break
# FunctionGemma's ``call:NAME{`` syntax.
TOOL_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.\-]{0,63}$")
PARAM_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
ESCAPE = "<escape>"

SCALAR_TYPES = ("string", "integer", "number", "boolean")
SUPPORTED_TYPES = (*SCALAR_TYPES, "array", "object")
# Keywords the caller understands; annotations are accepted and ignored.
_SCHEMA_KEYWORDS = {
    "type", "description", "enum", "properties", "required", "items",
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "minLength", "maxLength", "minItems", "maxItems", "additionalProperties",
}
_ANNOTATIONS = {"title", "default", "examples", "format", "$comment", "deprecated"}
_UNSUPPORTED = {
    "$ref", "$defs", "definitions", "oneOf", "anyOf", "allOf", "not", "if", "then", "else",
    "pattern", "patternProperties", "dependentRequired", "dependentSchemas", "const",
    "prefixItems", "unevaluatedProperties", "propertyNames", "multipleOf",
}


@dataclass(frozen=True)
class Example:
    """A phrasing a user might say and the arguments it should produce."""

    say: str
    arguments: Mapping[str, Any] = field(default_factory=dict)

    @functools.cached_property
    def spans(self) -> Mapping[str, tuple[int, int]]:
        """Where :attr:`say` says each argument's value: its first whole-word,
        case-insensitive occurrence that no value found before overlaps, longest values
        first (so "living room" is found before "room"). An argument whose value is not
        said is left out."""
        found: dict[str, tuple[int, int]] = {}
        for key, value in sorted(self.arguments.items(), key=lambda kv: -len(str(kv[1]))):
            pattern = rf"(?<![\w]){re.escape(str(value))}(?![\w])"
            for match in re.finditer(pattern, self.say, re.IGNORECASE):
                if all(match.end() <= start or match.start() >= end
                       for start, end in found.values()):
                    found[key] = match.span()
                    break
        return found

    def filled(self, said: Mapping[str, str]) -> str:
        """:attr:`say` with the value of each argument in ``said`` (where :meth:`spans`
        finds it) replaced by ``said[key]``."""
        text = self.say
        for key, (start, end) in sorted(self.spans.items(), key=lambda kv: -kv[1][0]):
            if key in said:
                text = text[:start] + said[key] + text[end:]
        return text


@dataclass(frozen=True)
class Action:
    """A tool's ``action:`` block, parsed once when the config loads.

    Each executor kind defines its own subclass with its own typed fields.
    """

    kind: ClassVar[str] = ""
    template_keys: ClassVar[tuple[str, ...]] = ()
    """The fields that are Jinja2 templates."""

    def templates(self) -> dict[str, str]:
        """The block's templates by key (their names are checked when the config loads)."""
        values = {key: getattr(self, key) for key in self.template_keys}
        return {key: value for key, value in values.items() if value is not None}

    def check(self, tool: Tool) -> None:
        """:class:`ConfigError` (path relative to the block) if it cannot serve ``tool``."""


@dataclass(frozen=True)
class Tool:
    """One declared tool: what the model sees, what the arguments must be, what it does."""

    name: str
    description: str
    parameters: Mapping[str, Any]
    examples: tuple[Example, ...] = ()
    confirm: bool = False
    action: Action | None = None
    say: str | None = None
    """What the appliance says back when the action is done: a template over the
    arguments, the action's ``value`` and its ``done`` summary."""

    def declaration(self) -> dict[str, Any]:
        """The part of the tool the model sees (and that an adapter is trained on)."""
        return {"name": self.name, "description": self.description, "parameters": self.parameters}

    @property
    def properties(self) -> Mapping[str, Mapping[str, Any]]:
        props: Mapping[str, Mapping[str, Any]] = self.parameters.get("properties", {})
        return props

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(self.parameters.get("required", ()))


class Toolbox:
    """The declared tools, by name, with validation of calls against their schemas."""

    def __init__(self, tools: Iterable[Tool], *, source: str | None = None):
        self._tools: dict[str, Tool] = {}
        self._validators: dict[str, jsonschema.protocols.Validator] = {}
        for index, tool in enumerate(tools):
            where = f"tools[{index}]"
            if tool.name in self._tools:
                raise ConfigError(f"duplicate tool name {tool.name!r}", source=source, path=where)
            check_tool(tool, source=source, path=where)
            self._tools[tool.name] = tool
            self._validators[tool.name] = jsonschema.Draft202012Validator(tool.parameters)
        if not self._tools:
            raise ConfigError("no tools are declared", source=source, path="tools")

    def __iter__(self) -> Iterator[Tool]:
        return iter(self._tools.values())

    def __len__(self) -> int:
        return len(self._tools)

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __getitem__(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownToolError(f"unknown tool {name!r}") from None

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(self._tools)

    def fingerprint(self) -> str:
        """sha256 of what the model sees of the tools; an adapter records the one it learned."""
        blob = json.dumps([t.declaration() for t in self], sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()

    def validate(self, call: ToolCall) -> ToolCall:
        """Check a call against its schema; raise :class:`ArgumentError` naming the problem."""
        tool = self[call.name]
        errors = sorted(
            self._validators[tool.name].iter_errors(dict(call.arguments)),
            key=lambda e: list(e.absolute_path),
        )
        if errors:
            first = errors[0]
            where = "/".join(str(p) for p in first.absolute_path) or "arguments"
            raise ArgumentError(f"{tool.name}: {where}: {first.message}")
        if tool.parameters.get("additionalProperties") is not True:
            extra = sorted(set(call.arguments) - set(tool.properties))
            if extra:
                raise ArgumentError(f"{tool.name}: {', '.join(extra)}: not a parameter of "
                                    f"{tool.name} (it has: {', '.join(tool.properties)})")
        for key, value in call.arguments.items():
            if not _finite(value):
                raise ArgumentError(f"{tool.name}: {key}: numbers must be finite")
        return call


def _finite(value: Any) -> bool:
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, Mapping):
        return all(_finite(v) for v in value.values())
    if isinstance(value, list | tuple):
        return all(_finite(v) for v in value)
    return True


def check_tool(tool: Tool, *, source: str | None = None, path: str = "tool") -> None:
    """Raise :class:`ConfigError`/:class:`SchemaError` if the tool cannot be served."""
    if not TOOL_NAME.match(tool.name):
        raise ConfigError(
            f"tool name {tool.name!r} must match {TOOL_NAME.pattern}", source=source, path=path
        )
    if ESCAPE in tool.description:
        raise ConfigError(f"description may not contain {ESCAPE}", source=source, path=path)
    params = tool.parameters
    if params.get("type", "object") != "object":
        raise SchemaError("parameters must be an object schema", source=source,
                          path=f"{path}.parameters.type")
    _check_schema(params, source=source, path=f"{path}.parameters", top=True)
    try:
        jsonschema.Draft202012Validator.check_schema(params)
    except jsonschema.SchemaError as exc:
        raise SchemaError(f"invalid JSON Schema: {exc.message}", source=source,
                          path=f"{path}.parameters") from None
    for i, example in enumerate(tool.examples):
        try:
            jsonschema.validate(dict(example.arguments), params)
        except jsonschema.ValidationError as exc:
            raise ConfigError(f"example arguments do not fit the schema: {exc.message}",
                              source=source, path=f"{path}.examples[{i}]") from None


def _check_schema(schema: Mapping[str, Any], *, source: str | None, path: str, top: bool) -> None:
    if not isinstance(schema, Mapping):
        raise SchemaError("a schema must be a mapping", source=source, path=path)
    for key in schema:
        if key in _UNSUPPORTED:
            raise SchemaError(f"unsupported JSON Schema construct {key!r}", source=source,
                              path=f"{path}.{key}")
        if key not in _SCHEMA_KEYWORDS and key not in _ANNOTATIONS:
            raise SchemaError(f"unknown JSON Schema keyword {key!r}", source=source,
                              path=f"{path}.{key}")
    kind = schema.get("type", "object" if "properties" in schema else None)
    if "enum" in schema and kind is None:
        kind = "string"
    if kind not in SUPPORTED_TYPES:
        raise SchemaError(f"unsupported type {kind!r} (use one of {', '.join(SUPPORTED_TYPES)})",
                          source=source, path=f"{path}.type")
    for text in [schema.get("description", "")] + [e for e in schema.get("enum", []) if
                                                   isinstance(e, str)]:
        if isinstance(text, str) and ESCAPE in text:
            raise SchemaError(f"text may not contain {ESCAPE}", source=source, path=path)
    if "enum" in schema:
        values = schema["enum"]
        if not isinstance(values, list) or not values:
            raise SchemaError("enum must be a non-empty list", source=source, path=f"{path}.enum")
        if kind in ("array", "object"):
            raise SchemaError("enum is only supported on scalar types", source=source,
                              path=f"{path}.enum")
    if kind == "object":
        props = schema.get("properties", {})
        if not isinstance(props, Mapping):
            raise SchemaError("properties must be a mapping", source=source,
                              path=f"{path}.properties")
        for name, sub in props.items():
            if not PARAM_NAME.match(str(name)):
                raise SchemaError(f"parameter name {name!r} must match {PARAM_NAME.pattern}",
                                  source=source, path=f"{path}.properties")
            _check_schema(sub, source=source, path=f"{path}.properties.{name}", top=False)
        for name in schema.get("required", []):
            if name not in props:
                raise SchemaError(f"required parameter {name!r} is not in properties",
                                  source=source, path=f"{path}.required")
    if kind == "array":
        items = schema.get("items")
        if items is None:
            raise SchemaError("an array needs an items schema", source=source, path=path)
        _check_schema(items, source=source, path=f"{path}.items", top=False)


def tool_from_mapping(data: Mapping[str, Any], action: Action | None = None) -> Tool:
    """Build a :class:`Tool` from an already schema-validated mapping and its parsed action."""
    examples = tuple(
        Example(say=e["say"], arguments=e.get("arguments", {})) for e in data.get("examples", [])
    )
    return Tool(
        name=data["name"],
        description=data.get("description", ""),
        parameters=data.get("parameters", {"type": "object", "properties": {}}),
        examples=examples,
        confirm=bool(data.get("confirm", False)),
        action=action,
        say=data.get("say"),
    )


_OPENAI_TOOL_SCHEMA: dict[str, Any] = {
    "type": "array",
    "minItems": 1,
    "items": {
        "type": "object",
        "required": ["type", "function"],
        "additionalProperties": False,
        "properties": {
            "type": {"const": "function"},
            "function": {
                "type": "object",
                "required": ["name"],
                "additionalProperties": False,
                "properties": {
                    "name": {"type": "string"},
                    "description": {"type": "string"},
                    "parameters": {"type": "object"},
                    "strict": {"type": "boolean"},
                },
            },
        },
    },
}


def load_openai_tools(text: str, *, source: str = "<tools>") -> Toolbox:
    """Read an OpenAI-style tool list (``[{"type": "function", "function": {...}}]``)."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                          source=source) from None
    errors = sorted(jsonschema.Draft202012Validator(_OPENAI_TOOL_SCHEMA).iter_errors(data),
                    key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err.absolute_path)
        raise ConfigError(err.message, source=source, path=where or "(top level)")
    tools = [
        tool_from_mapping(
            {
                "name": item["function"]["name"],
                "description": item["function"].get("description", ""),
                "parameters": item["function"].get("parameters")
                or {"type": "object", "properties": {}},
            }
        )
        for item in data
    ]
    return Toolbox(tools, source=source)
