"""The parser for FunctionGemma's call syntax: valid calls parse, anything else is a value."""

from __future__ import annotations

import pytest

from appliance.caller.syntax import parse_call, parse_calls, parse_output
from appliance.errors import CallSyntaxError
from appliance.messages import ToolCall


def test_parses_strings_numbers_booleans_lists_objects() -> None:
    text = ("<start_function_call>call:f{a:<escape>x, {y}: z<escape>,b:-12,c:2.5,d:true,"
            "e:[1,<escape>q<escape>],g:{h:null}}<end_function_call>")
    assert parse_calls(text) == (ToolCall("f", {"a": "x, {y}: z", "b": -12, "c": 2.5, "d": True,
                                                "e": [1, "q"], "g": {"h": None}}),)


def test_dotted_names_and_missing_end_marker() -> None:
    assert parse_call("call:math.factorial{n:5}") == ToolCall("math.factorial", {"n": 5})
    assert parse_calls("<start_function_call>call:f{}") == (ToolCall("f", {}),)


def test_plain_text_has_no_calls() -> None:
    assert parse_calls("Sorry, I can't do that.") == ()


def test_several_calls() -> None:
    text = "<start_function_call>call:a{}<end_function_call><start_function_call>call:b{x:1}"
    assert [c.name for c in parse_calls(text)] == ["a", "b"]


@pytest.mark.parametrize("bad", [
    "call:f{a:<escape>unterminated}",
    "call:f{a:1",
    "call:f{a:1,}",
    "call:f{a:1,a:2}",
    "call:f{:1}",
    "call:{a:1}",
    "call:f{a:1}trailing",
    "call:f{a:[1,2}",
    "call:f{a:nope}",
    "call:f{a:" + "[" * 40 + "1" + "]" * 40 + "}",
])
def test_malformed_output_is_an_error_value_never_an_exception(bad: str) -> None:
    with pytest.raises(CallSyntaxError):
        parse_call(bad)
    parsed = parse_output("<start_function_call>" + bad)
    assert parsed.calls == ()
    assert parsed.error
