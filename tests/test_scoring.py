"""The scorer follows BFCL's AST-matching rules; BFCL's data converts to served schemas."""

from __future__ import annotations

import pytest

from appliance.evaluation import bfcl
from appliance.evaluation.scoring import normalize, score

TRIANGLE = {"name": "calculate_triangle_area",
            "arguments": {"base": [10], "height": [5], "unit": ["units", ""]}}


def call(name: str, **arguments: object) -> dict[str, object]:
    return {"name": name, "arguments": arguments}


def test_exact_and_optional() -> None:
    assert score(TRIANGLE, call("calculate_triangle_area", base=10, height=5)).ok
    assert score(TRIANGLE, call("calculate_triangle_area", base=10, height=5, unit="units")).ok


def test_int_accepted_for_float_and_float_for_int() -> None:
    expected = {"name": "f", "arguments": {"x": [2.0]}}
    assert score(expected, call("f", x=2)).ok
    assert score({"name": "f", "arguments": {"x": [3]}}, call("f", x=3.0)).ok
    assert not score(expected, call("f", x=2.5)).ok


def test_strings_normalized_like_bfcl() -> None:
    expected = {"name": "w", "arguments": {"city": ["New York, NY"]}}
    assert score(expected, call("w", city="new york ny")).ok
    assert score(expected, call("w", city="New-York/NY")).ok
    assert not score(expected, call("w", city="Boston")).ok
    assert normalize("A_b*c^d.e") == "abcde"


@pytest.mark.parametrize("got,why", [
    (call("other", base=10, height=5), "expected calculate_triangle_area"),
    (call("calculate_triangle_area", base=10), "missing parameter 'height'"),
    (call("calculate_triangle_area", base=10, height=5, colour="red"), "unexpected parameter"),
    (call("calculate_triangle_area", base=11, height=5), "base=11"),
    (None, "got no call"),
])
def test_wrong_answers_say_why(got: dict[str, object] | None, why: str) -> None:
    verdict = score(TRIANGLE, got)
    assert not verdict.ok and why in verdict.reason


def test_irrelevance_passes_only_without_a_call() -> None:
    assert score(None, None).ok
    assert not score(None, call("f")).ok


def test_lists_and_nested_dicts() -> None:
    expected = {"name": "f", "arguments": {"xs": [[1, 2, 3]],
                                           "opt": [{"a": ["x"], "b": ["", 2]}]}}
    assert score(expected, call("f", xs=[1, 2, 3], opt={"a": "X"})).ok
    assert not score(expected, call("f", xs=[1, 2], opt={"a": "x"})).ok
    assert not score(expected, call("f", xs=[1, 2, 3], opt={"a": "y"})).ok


def test_bfcl_types_convert() -> None:
    schema = bfcl.convert_schema({"type": "dict", "properties": {
        "w": {"type": "float"}, "t": {"type": "tuple", "items": {"type": "integer"}},
        "d": {"type": "dict", "properties": {"k": {"type": "any"}}}}, "required": ["w", "gone"]})
    assert schema["type"] == "object"
    assert schema["properties"]["w"]["type"] == "number"
    assert schema["properties"]["t"] == {"type": "array", "items": {"type": "integer"}}
    assert schema["properties"]["d"]["properties"]["k"]["type"] == "string"
    assert schema["required"] == ["w"]


def test_bfcl_data_loads_with_answers() -> None:
    cases = list(bfcl.load("simple"))
    assert len(cases) == 400
    first = cases[0]
    assert first.expected is not None and first.expected["name"] == "calculate_triangle_area"
    assert score(first.expected, call("calculate_triangle_area", base=10, height=5)).ok
    assert all(c.expected is None for c in bfcl.load("irrelevance"))
    supported = sum(1 for c in cases if _supported(c))
    assert supported > 350


def _supported(case: bfcl.Case) -> bool:
    try:
        bfcl.toolbox(case)
    except Exception:
        return False
    return True
