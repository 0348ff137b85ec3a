"""The generated tool sets for the general adapter: deterministic, distinct, over every
domain, valid by the package's own checks, and sampled so that no request the samples say
no tool serves is served by a tool of its set."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import jsonschema
import pytest

from appliance.config import parse_config
from appliance.finetune.data import normalized, synthesize, template_of
from appliance.finetune.everyday import NEGATIONS, Template, template_pattern
from appliance.finetune.samples import Sample
from appliance.finetune.toolkinds_more import QUESTIONS, SOCIAL
from appliance.finetune.toolsets import (
    ALL_KINDS,
    DOMAINS,
    ToolSet,
    general_samples,
    generate,
    toolsets,
)
from appliance.messages import ToolCall
from appliance.tools import Tool, Toolbox

SETS = 300
BY_KEY = {k.spec.key: k for k in ALL_KINDS}


@pytest.fixture(scope="module")
def made() -> list[ToolSet]:
    return generate(SETS, seed=7)


@pytest.fixture(scope="module")
def sampled() -> list[tuple[tuple[Tool, ...], Sample]]:
    return general_samples(60, 16, seed=7)


def _key(tools: list[Tool] | tuple[Tool, ...]) -> str:
    return json.dumps([[t.declaration(), [[e.say, dict(e.arguments)] for e in t.examples]]
                       for t in tools], sort_keys=True)


def test_the_same_seed_makes_the_same_sets_and_another_seed_others(made: list[ToolSet]) -> None:
    again = toolsets(SETS, seed=7)
    assert [_key(s.tools) for s in made] == [_key(s) for s in again]
    assert len({_key(s.tools) for s in made}) == SETS
    other = {_key(s) for s in toolsets(20, seed=8)}
    assert not other & {_key(s.tools) for s in made}


def test_sets_cover_every_domain_and_kind_of_parameter(made: list[ToolSet]) -> None:
    assert {k.spec.domain for s in made for k in s.kinds} == set(DOMAINS)
    assert all(2 <= len(s.tools) <= 12 for s in made)
    assert {len(s.tools) for s in made} == set(range(2, 13))
    schemas = [p for s in made for t in s.tools for p in t.properties.values()]
    enums = [len(p["enum"]) for p in schemas if "enum" in p]
    assert min(enums) == 2 and max(enums) == 30
    types = Counter(p["type"] for p in schemas)
    assert {"string", "integer", "number", "boolean"} <= set(types)
    assert any(p["type"] == "string" and "enum" not in p for p in schemas)  # free text
    assert any("minimum" in p and "maximum" in p for p in schemas)
    assert any(p["type"] == "integer" and "minimum" not in p for p in schemas)
    defaults = [p for p in schemas if "default" in p]
    assert defaults and all(jsonschema.Draft202012Validator(p).is_valid(p["default"])
                            for p in defaults)
    tools = [t for s in made for t in s.tools]
    assert any(set(t.properties) - set(t.required) for t in tools)  # optional parameters
    assert any("_" in t.name for t in tools) and any(re.search("[a-z][A-Z]", t.name)
                                                       for t in tools)
    assert {len(t.examples) for t in tools} == {2, 3, 4}
    assert len({k.spec.key for s in made for k in s.kinds}) == len(ALL_KINDS)


def test_every_tool_passes_the_package_validation(made: list[ToolSet]) -> None:
    for index, s in enumerate(made):
        box = Toolbox(s.tools)  # check_tool: names, schema, examples against it
        if index % 10 == 0:  # and as a config file would declare them
            config = parse_config({"tools": [
                {"name": t.name, "description": t.description,
                 "parameters": dict(t.parameters),
                 "examples": [{"say": e.say, "arguments": dict(e.arguments)}
                              for e in t.examples]} for t in s.tools]})
            assert config.tools.names == box.names
        for tool in s.tools:  # the call each example stands for is a valid call
            for example in tool.examples:
                box.validate(ToolCall(tool.name, example.arguments))


def test_examples_are_literal_and_their_values_are_found_where_said(
        made: list[ToolSet]) -> None:
    for s in made:
        for tool in s.tools:
            for example in tool.examples:
                assert not re.search(r"[{}\[\]]", example.say), example.say
                slots = template_of(example)[1]
                said = {k for k, v in example.arguments.items() if not isinstance(v, bool)}
                assert set(slots) == said, (tool.name, example)


def test_refusals_are_for_kinds_the_set_lacks(made: list[ToolSet]) -> None:
    refused = 0
    for s in made:
        groups = {k.group for k in s.kinds}
        catch_all = any(k.spec.catch_all for k in s.kinds)
        words = [w for k in s.kinds for w in k.keywords]
        for text, key in s.refusals:
            refused += bool(key)
            if key:
                kind = BY_KEY[key]
                assert kind.group not in groups, (text, key)
                assert not (catch_all and kind.spec.query), (text, key)
            else:
                assert text in SOCIAL or (text in QUESTIONS and not catch_all)
            assert not any(re.search(rf"(?<![\w']){re.escape(w)}(?![\w'])", text)
                           for w in words), text
    assert refused >= 8 * SETS


def test_general_samples_are_balanced_and_repeatable(
        sampled: list[tuple[tuple[Tool, ...], Sample]]) -> None:
    assert general_samples(5, 16, seed=7) == sampled[:5 * 16]
    per_set: dict[str, list[Sample]] = {}
    for tools, sample in sampled:
        per_set.setdefault(_key(tools), []).append(sample)
    assert len(per_set) == 60
    for samples in per_set.values():
        assert len(samples) == 16
        no_calls = [s for s in samples if s.call is None and s.missing is None]
        assert len(no_calls) == 8
        assert sum(s.missing is not None for s in samples) <= 1
        assert len({s.text for s in samples}) == 16
    asked = Counter(len(s.calls) for _, s in sampled)
    assert asked[1] > asked[2] > 0


def _patterns(tools: tuple[Tool, ...]) -> list[re.Pattern[str]]:
    return [template_pattern(Template(t, template_of(e)[0].lower(), {}, {}))
            for t in tools for e in t.examples]


def test_no_call_samples_are_not_served_and_calls_are_valid(
        sampled: list[tuple[tuple[Tool, ...], Sample]]) -> None:
    boxes: dict[int, tuple[Toolbox, list[re.Pattern[str]]]] = {}
    for tools, sample in sampled:
        if id(tools) not in boxes:
            boxes[id(tools)] = Toolbox(tools), _patterns(tools)
        box, patterns = boxes[id(tools)]
        assert "{" not in sample.text
        for call in sample.calls:
            box.validate(call)
        negated = any(n.strip() in sample.text for n in NEGATIONS)
        if sample.call is None and sample.missing is None and not negated:
            said = normalized(sample.text)
            assert not any(p.fullmatch(said) for p in patterns), sample.text


def test_synthesize_makes_sane_samples_from_a_generated_set(made: list[ToolSet]) -> None:
    for s in made[:12]:
        box = Toolbox(s.tools)
        samples = synthesize(s.tools, no_tool=s.requests, per_tool=20)
        assert {c.name for x in samples for c in x.calls} == set(box.names)
        assert any(x.call is None and x.text in s.requests for x in samples)
        single = [x for x in samples if len(x.calls) == 1]
        for x in samples:
            for call in x.calls:
                box.validate(call)
        # A text value is said in the words (intensity words stand in for some enums).
        said = [all(str(v).lower() in x.text.lower() for v in _texts(x.calls[0].arguments))
                for x in single]
        assert sum(said) >= 0.9 * len(said)


def _texts(arguments: Any) -> list[str]:
    return [v for v in arguments.values() if isinstance(v, str)]
