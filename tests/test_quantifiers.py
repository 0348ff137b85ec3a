""""All the lights", "both doors": quantifiers resolved against the demo home's enums."""

from __future__ import annotations

from appliance.caller.quantifiers import expand
from appliance.messages import ToolCall

ROOMS = ["kitchen", "living room", "bedroom", "bathroom", "hallway", "garage"]


def _light(room: str, state: str) -> ToolCall:
    return ToolCall("set_light", {"room": room, "state": state})


def test_all_the_lights_is_one_call_per_room_in_declared_order(home_config) -> None:  # type: ignore[no-untyped-def]
    tools = home_config.tools
    for said in ("turn off all the lights", "switch off every light", "all lights off",
                 "turn off the lights everywhere please"):
        assert expand([_light("bedroom", "off")], said, tools, 8) == tuple(
            _light(r, "off") for r in ROOMS), said
    both = expand([ToolCall("lock_door", {"door": "back", "action": "unlock"})],
                  "unlock both doors", tools, 8)
    assert [c.arguments["door"] for c in both] == ["front", "back"]
    # The model's own calls for some of the rooms are not repeated.
    some = expand([_light("kitchen", "on"), _light("garage", "on")], "turn on all the lights",
                  tools, 8)
    assert some == tuple(_light(r, "on") for r in ROOMS)
    assert len(expand([_light("kitchen", "on")], "turn on all the lights", tools, 4)) == 4


def test_nothing_is_expanded_without_a_plain_quantifier(home_config) -> None:  # type: ignore[no-untyped-def]
    tools = home_config.tools
    one = (_light("kitchen", "off"),)
    for said in ("turn off the kitchen light",                 # no quantifier
                 "turn off all the lights in the kitchen",     # the value was said
                 "turn off all the lights except the kitchen",  # an exception
                 "turn off the light every morning",           # time, not rooms
                 "all right turn off the light",               # an idiom
                 "turn the kitchen light all the way off"):    # "all the way": how much
        assert expand(one, said, tools, 8) == one, said
    # Two enum arguments unsaid: which one "all" is about is not known.
    assert expand([ToolCall("lock_door", {"door": "front", "action": "lock"})],
                  "do all of it", tools, 8) == (ToolCall("lock_door", {"door": "front",
                                                                        "action": "lock"}),)
    # Not an enum: a song is not expanded.
    music = (ToolCall("play_music", {"query": "the beatles"}),)
    assert expand(music, "play all the beatles songs", tools, 8) == music
