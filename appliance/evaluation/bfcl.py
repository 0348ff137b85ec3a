"""The Berkeley Function Calling Leaderboard's categories, read from the bfcl-eval package."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any

from appliance.errors import ConfigError
from appliance.tools import Tool, Toolbox

CATEGORIES = {
    "simple": "BFCL_v4_simple_python.json",
    "multiple": "BFCL_v4_multiple.json",
    "irrelevance": "BFCL_v4_irrelevance.json",
}
# FunctionGemma's model card, zero-shot (irrelevance: 73.7, 70.6 in another revision).
PUBLISHED = {"simple": 61.6, "multiple": 63.5, "irrelevance": 73.7}

# BFCL's Python-flavoured types -> JSON Schema types.
_TYPES = {"dict": "object", "float": "number", "tuple": "array", "any": "string",
          "list": "array", "int": "integer", "bool": "boolean", "str": "string"}


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    functions: tuple[Mapping[str, Any], ...]
    expected: Mapping[str, Any] | None  # one acceptable call, or None (irrelevance)


def convert_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """BFCL's parameter schema in the JSON-Schema subset the tool caller serves."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "type":
            out["type"] = _TYPES.get(str(value), value)
        elif key == "properties" and isinstance(value, Mapping):
            out["properties"] = {k: convert_schema(v) for k, v in value.items()}
        elif key == "items" and isinstance(value, Mapping):
            out["items"] = convert_schema(value)
        elif key in ("description", "enum", "required", "minimum", "maximum"):
            out[key] = value
        elif key == "default":
            out["default"] = value
    if out.get("type") == "array" and "items" not in out:
        out["items"] = {"type": "string"}
    if "required" in out and "properties" in out:
        out["required"] = [r for r in out["required"] if r in out["properties"]]
    return out


def toolbox(case: Case) -> Toolbox:
    """The case's functions as a Toolbox; raises ConfigError/SchemaError if unsupported."""
    tools = [Tool(name=f["name"], description=f.get("description", ""),
                  parameters=convert_schema(f.get("parameters", {"type": "dict"})))
             for f in case.functions]
    return Toolbox(tools, source=case.id)


def load(category: str) -> Iterator[Case]:
    if category not in CATEGORIES:
        raise ConfigError(f"unknown BFCL category {category!r} (known: {', '.join(CATEGORIES)})")
    try:
        data_dir = resources.files("bfcl_eval") / "data"
    except ModuleNotFoundError:
        raise ConfigError("bfcl-eval is not installed: pip install --no-deps "
                          "bfcl-eval==2026.3.23") from None
    name = CATEGORIES[category]
    answers: dict[str, Any] = {}
    answer_file = data_dir / "possible_answer" / name
    if answer_file.is_file():
        for line in answer_file.read_text().splitlines():
            row = json.loads(line)
            answers[row["id"]] = row["ground_truth"]
    for line in (data_dir / name).read_text().splitlines():
        row = json.loads(line)
        turns = row["question"][0]
        text = " ".join(m["content"] for m in turns if m["role"] == "user")
        truth = answers.get(row["id"])
        expected = None
        if truth:
            fname, args = next(iter(truth[0].items()))
            expected = {"name": fname, "arguments": args}
        yield Case(row["id"], text, tuple(row["function"]), expected)
