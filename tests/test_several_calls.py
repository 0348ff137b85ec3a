"""Several calls per request: the messages that carry them, the request core that runs them
in order (confirmation per call), and how the evaluation scores them."""

from __future__ import annotations

import json

from gpiozero.pins.mock import MockFactory

from appliance.evaluation.runner import Tally, expected_calls, run_home, score_calls
from appliance.executors.dispatch import Dispatcher
from appliance.executors.gpio import GpioExecutor
from appliance.executors.pins import SharedPins
from appliance.handler import RequestHandler
from appliance.messages import Decision, Outcome, Request, ToolCall
from appliance.settings import Config

KITCHEN_ON = ToolCall("set_light", {"room": "kitchen", "state": "on"})
BEDROOM_ON = ToolCall("set_light", {"room": "bedroom", "state": "on"})
GARAGE_OPEN = ToolCall("garage_door", {"action": "open"})


class Says:
    """A decider that answers every request with the same calls."""

    def __init__(self, *calls: ToolCall) -> None:
        self.calls = calls

    def decide(self, text: str) -> Decision:
        return Decision(text, calls=self.calls)


def test_messages_keep_call_as_the_first_of_calls() -> None:
    d = Decision("x", calls=(KITCHEN_ON, BEDROOM_ON))
    assert d.call == KITCHEN_ON and d.to_dict()["calls"][1]["arguments"]["room"] == "bedroom"
    assert Decision("x", call=KITCHEN_ON).calls == (KITCHEN_ON,)
    assert Decision("x").calls == () and Decision("x").call is None
    out = Outcome("r", "x", call=KITCHEN_ON)
    assert out.calls == (KITCHEN_ON,) and out.to_dict()["calls"] == [KITCHEN_ON.to_dict()]
    assert Outcome("r", "x").to_dict()["calls"] == []


def test_several_calls_run_in_order_each_confirmed_on_its_own(config: Config,
                                                              factory: MockFactory) -> None:
    dispatcher = Dispatcher.from_config(
        config, executors={"gpio": GpioExecutor(SharedPins(factory=factory))})
    core = RequestHandler.from_config(config, Says(KITCHEN_ON, GARAGE_OPEN, BEDROOM_ON),
                                      dispatcher=dispatcher)
    out = core.handle(Request("r1", "test", text="kitchen light, garage and bedroom light"))
    assert out.calls == (KITCHEN_ON, GARAGE_OPEN, BEDROOM_ON) and out.call == KITCHEN_ON
    assert [r.tool for r in out.results] == ["set_light", "garage_door", "set_light"]
    assert out.results[0].ok and out.results[2].ok and out.results[1].pending_confirmation
    factory.pin(17).assert_states([False, True])
    factory.pin(22).assert_states([False, True])
    data = json.loads(json.dumps(out.to_dict()))
    assert [c["name"] for c in data["calls"]] == ["set_light", "garage_door", "set_light"]
    assert data["call"]["name"] == "set_light" and len(data["results"]) == 3
    assert not out.ok and out.held == out.results[1].pending_confirmation
    confirmed = core.confirm("r1", token=out.held)
    assert confirmed.ok and confirmed.call == GARAGE_OPEN
    core.close()


def test_scoring_several_calls_in_order() -> None:
    a = {"name": "set_light", "arguments": {"room": ["kitchen"], "state": ["on"]}}
    b = {"name": "set_light", "arguments": {"room": ["bedroom"], "state": ["on"]}}
    ka, kb = KITCHEN_ON.to_dict(), BEDROOM_ON.to_dict()
    assert score_calls([a, b], [ka, kb]).ok
    assert not score_calls([a, b], [kb, ka]).ok
    assert not score_calls([a, b], [ka]).ok
    assert score_calls([], []).ok and not score_calls([], [ka]).ok
    assert expected_calls({"text": "", "calls": [a, b]}) == [a, b]
    assert expected_calls({"text": "", "call": None}) == []


def test_eval_counts_behaviours_and_false_actions() -> None:
    class Fixed:
        def decide(self, text: str) -> Decision:
            return Decision(text, calls=(KITCHEN_ON,) if "kitchen" in text else ())

    rows = [{"text": "kitchen light on", "call": {"name": "set_light", "arguments": {
        "room": ["kitchen"], "state": ["on"]}}},
            {"text": "don't turn on the kitchen light", "category": "negation", "call": None},
            {"text": "hello", "call": None}]
    tally = run_home(Fixed(), rows, Tally())  # type: ignore[arg-type]
    got = {r["behaviour"]: (r["right"], r["total"]) for r in tally.behaviour_rows()}
    assert got == {"single": (1, 1), "negation": (0, 1), "no tool": (1, 1)}
    assert tally.false_actions == 1 and tally.requests == 3


def test_the_speaker_says_every_action_back_in_order() -> None:
    from appliance.messages import ActionResult
    from appliance.voice import spoken

    two = Outcome("a", "kitchen and bedroom lights on", calls=(KITCHEN_ON, BEDROOM_ON),
                  results=(ActionResult("set_light", True, said="kitchen light on"),
                           ActionResult("set_light", True, done="bedroom: on")))
    assert spoken(two) == "kitchen light on. bedroom: on"
    failed = Outcome("b", "x", calls=(KITCHEN_ON,),
                     results=(ActionResult("set_light", False, error="pin 17 is busy"),))
    assert spoken(failed) == "pin 17 is busy"
    asks = Outcome("c", "start a timer", error="start_timer needs minutes: Length?")
    assert spoken(asks) == "start_timer needs minutes: Length?"
    assert spoken(Outcome("d", "tell me a joke")) == "sorry, I can't do that"
    # Held calls are asked once, together: one yes answers them all.
    held = Outcome("e", "x", calls=(KITCHEN_ON, BEDROOM_ON), results=tuple(
        ActionResult("set_light", False, pending_confirmation=t, said=f"should I turn on the {r}?")
        for t, r in (("t1", "kitchen light"), ("t2", "bedroom light"))))
    assert spoken(held) == "should I turn on the kitchen light and turn on the bedroom light?"
