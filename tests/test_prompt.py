"""FunctionGemma's prompt format, checked against Google's published example."""

from __future__ import annotations

from appliance.caller import prompt
from appliance.messages import ToolCall
from appliance.tools import Tool

# Google's "FunctionGemma formatting and best practices" example, character for character.
GOOGLE_DECLARATION = (
    "<start_function_declaration>declaration:get_current_weather{description:<escape>Gets the "
    "current weather in a given location.<escape>,parameters:{properties:{location:{description:"
    "<escape>The city and state<escape>,type:<escape>STRING<escape>},unit:{description:<escape>"
    "The unit<escape>,enum:[<escape>celsius<escape>,<escape>fahrenheit<escape>],type:<escape>"
    "STRING<escape>}},required:[<escape>location<escape>],type:<escape>OBJECT<escape>}}"
    "<end_function_declaration>"
)
GOOGLE_CALL = (
    "<start_function_call>call:get_current_weather{location:<escape>Tokyo, Japan<escape>}"
    "<end_function_call>"
)

WEATHER = Tool(
    name="get_current_weather",
    description="Gets the current weather in a given location.",
    parameters={
        "type": "object",
        "properties": {
            # Deliberately unsorted: the format sorts keys.
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"],
                     "description": "The unit"},
            "location": {"description": "The city and state", "type": "string"},
        },
        "required": ["location"],
    },
)


def test_declaration_matches_googles_example() -> None:
    assert prompt.render_declaration(WEATHER) == GOOGLE_DECLARATION


def test_developer_turn_starts_with_the_activation_sentence() -> None:
    turn = prompt.developer_turn([WEATHER])
    assert turn == (
        "<start_of_turn>developer\nYou are a model that can do function calling with the "
        f"following functions{GOOGLE_DECLARATION}<end_of_turn>\n"
    )


def test_call_matches_googles_example() -> None:
    call = ToolCall("get_current_weather", {"location": "Tokyo, Japan"})
    assert prompt.render_call(call) == GOOGLE_CALL


def test_values_numbers_raw_strings_escaped_keys_sorted() -> None:
    call = ToolCall("f", {"z": 1.5, "a": True, "m": [1, "x"], "n": {"b": 2, "a": None}, "i": 3.0})
    assert prompt.render_call(call) == (
        "<start_function_call>call:f{a:true,i:3,m:[1,<escape>x<escape>],"
        "n:{a:null,b:2},z:1.5}<end_function_call>"
    )


def test_nested_schema_types_upper_case() -> None:
    tool = Tool("t", "d", {"type": "object", "properties": {
        "xs": {"type": "array", "items": {"type": "integer"}, "description": "list"},
        "o": {"type": "object", "properties": {"k": {"type": "boolean"}}, "required": ["k"]},
    }})
    decl = prompt.render_declaration(tool)
    assert "xs:{description:<escape>list<escape>,items:{type:<escape>INTEGER<escape>}," in decl
    assert ("o:{properties:{k:{type:<escape>BOOLEAN<escape>}},required:[<escape>k<escape>],"
            "type:<escape>OBJECT<escape>}") in decl


def test_tool_prompt_has_bos_examples_and_no_call_example() -> None:
    from appliance.tools import Example

    tool = Tool("set_fan", "Set the fan.", {"type": "object", "properties": {
        "speed": {"type": "string", "enum": ["low", "high"]}}, "required": ["speed"]},
        examples=(Example("fan to high", {"speed": "high"}),))
    text = prompt.tool_prompt([tool], few_shot=True)
    assert text.startswith("<bos><start_of_turn>developer\n")
    assert ("<start_of_turn>user\nfan to high<end_of_turn>\n<start_of_turn>model\n"
            "<start_function_call>call:set_fan{speed:<escape>high<escape>}<end_function_call>"
            "<end_of_turn>\n") in text
    assert prompt.NO_CALL_REPLY in text
    assert prompt.NO_CALL_REPLY not in prompt.tool_prompt([tool], few_shot=False)


def test_a_long_enum_shows_its_first_values_and_says_how_many() -> None:
    lamps = [f"lamp {i}" for i in range(30)]
    tool = Tool("set_lamp", "Switch a lamp.", {"type": "object", "properties": {
        "lamp": {"type": "string", "enum": lamps, "description": "Which lamp"},
        "state": {"type": "string", "enum": ["on", "off"]}}, "required": ["lamp", "state"]})
    compact = prompt.render_declaration(tool)
    assert "Which lamp (one of 30 values, the first 12 shown)" in compact
    assert "lamp 11<escape>]" in compact and "lamp 12" not in compact
    assert "enum:[<escape>on<escape>,<escape>off<escape>]" in compact  # short enums whole
    full = prompt.render_declaration(tool, enum_shown=None)
    assert "lamp 29<escape>]" in full and "values" not in full
    # Nothing changes for a config whose enums are all short (the demo home's adapter).
    assert prompt.render_declaration(WEATHER, enum_shown=1) != GOOGLE_DECLARATION
    assert prompt.render_declaration(WEATHER, enum_shown=2) == GOOGLE_DECLARATION
