"""Asking back: the request core holds a call it should not make without a yes (a tool
marked ``confirm: true``, a call the caller is unsure of), says it as a question in the
tool's own phrasing, and a yes runs it once while a no drops it. Real mock pins, the demo
home's declarations; the spoken path (WAVs through ``appliance listen``) is in
tests/test_listen.py."""

from __future__ import annotations

from dataclasses import replace

import pytest
from gpiozero.pins.mock import MockFactory

from appliance.asking import (
    Answering,
    OpenQuestion,
    answer_of,
    answer_words,
    phrase,
    question,
    reply,
)
from appliance.checks import check_config
from appliance.errors import ConfigError
from appliance.executors.dispatch import Dispatcher
from appliance.executors.gpio import GpioExecutor
from appliance.executors.pins import SharedPins
from appliance.handler import RequestHandler
from appliance.messages import Decision, Request, ToolCall
from appliance.settings import Config
from appliance.speech.grammar import CommandGrammar
from appliance.speech.lm import sample

BEDROOM_ON = ToolCall("set_light", {"room": "bedroom", "state": "on"})


def core_for(config: Config, factory: MockFactory) -> RequestHandler:
    dispatcher = Dispatcher.from_config(
        config, executors={"gpio": GpioExecutor(SharedPins(factory=factory))})
    return RequestHandler.from_config(config, None, dispatcher=dispatcher)


@pytest.mark.parametrize(("words", "answer"), [
    ("yes", True), ("Yes please.", True), ("yeah", True), ("go ahead", True),
    ("um yes", True), ("no", False), ("no thanks", False), ("cancel", False),
    ("never mind", False), ("no, the kitchen light", None), ("turn on the light", None),
    ("yes turn off the fan", None), ("", None), ("please", None),
])
def test_what_answers_a_question(words: str, answer: bool | None) -> None:
    assert answer_of(words) is answer


def test_a_held_call_is_asked_in_the_tools_own_words(config: Config) -> None:
    tools = config.tools
    assert question(tools["set_light"], BEDROOM_ON) == "should I turn on the bedroom light?"
    off = ToolCall("set_light", {"room": "living room", "state": "off"})
    # The phrasing that shares most values: "off" is said the way an "off" example says it.
    assert phrase(tools["set_light"], off) == "switch off the lights in the living room"
    assert phrase(tools["set_fan"], ToolCall("set_fan", {"speed": "off"})) \
        == "switch the fan off"  # not "turn the fan up to off"
    assert phrase(tools["garage_door"], ToolCall("garage_door", {"action": "close"})) \
        == "close the garage"
    # Without the politeness of the phrasing it came from ("can you ... for me").
    unlock = ToolCall("lock_door", {"door": "front", "action": "unlock"})
    assert question(tools["lock_door"], unlock) == "should I unlock the front door?"
    # A phrasing that starts with a verb, in the person asked: not "should I is it going to
    # rain in london?" (the example sharing the value), nor "should I weather in london?".
    london = ToolCall("get_weather", {"location": "london"})
    assert question(tools["get_weather"], london) == "should I tell you the weather in london?"
    # No example says exactly these arguments: the tool and its arguments, named.
    odd = ToolCall("set_light", {"room": "garage"})
    assert phrase(tools["set_light"], odd) == "set light with room garage"


def test_a_value_that_spells_another_arguments_name_is_still_said_right() -> None:
    from appliance.tools import Example, Tool

    # Placeholders made of the argument's name let a later value ("room") be found inside
    # the first one's ("room": "big hall"): the words came out wrong.
    tool = Tool("move", "Move a lamp", {"properties": {
        "room": {"type": "string"}, "place": {"type": "string"}}},
        examples=(Example("put the big hall lamp in the room",
                          {"room": "big hall", "place": "room"}),))
    call = ToolCall("move", {"room": "attic", "place": "cupboard"})
    assert phrase(tool, call) == "put the attic lamp in the cupboard"


def test_an_unsure_call_is_asked_back_and_a_yes_runs_it_once(config: Config,
                                                             factory: MockFactory) -> None:
    assert config.model.ask_below > config.model.min_confidence
    core = core_for(config, factory)
    unsure = Decision("bedroom light on", calls=(BEDROOM_ON,),
                      confidence=config.model.ask_below - 0.05)
    held = core.act(Request("u1", "voice", text="bedroom light on"), unsure)
    assert not held.ok and held.held and held.error is None
    assert held.result is not None and held.result.said == "should I turn on the bedroom light?"
    assert held.to_dict()["result"]["say"] == "should I turn on the bedroom light?"
    assert 22 not in factory.pins  # nothing done yet
    asked = OpenQuestion(10.0).ask(held)
    assert asked is not None and asked.tokens == (held.held,)
    answering = Answering(lambda i, t: core.confirm(i, token=t), core.decline)
    done = reply(asked, True, "yes", answering)
    assert done.ok and done.call == BEDROOM_ON and done.id == "u1"
    factory.pin(22).assert_states([False, True])
    again = reply(asked, True, "yes", answering)
    assert not again.ok and "expired" in (again.error or "")  # once only
    # Sure enough: done at once; a call sent directly has no confidence and is not asked.
    sure = Decision("x", calls=(ToolCall("set_light", {"room": "kitchen", "state": "on"}),),
                    confidence=config.model.ask_below + 0.05)
    assert core.act(Request("u2", "voice", text="x"), sure).ok
    assert core.handle(Request("u3", "mqtt", call=ToolCall(
        "set_light", {"room": "hallway", "state": "on"}))).ok
    assert core.waiting() == 0
    core.close()


def test_a_call_the_caller_doubts_is_asked_back_however_sure(config: Config,
                                                            factory: MockFactory) -> None:
    """The model chose another tool than the words say, and the words' tool's call was
    walked instead (caller.settle): asked back, never done at once."""
    core = core_for(config, factory)
    doubted = Decision("bedroom light on", calls=(BEDROOM_ON,), confidence=0.99,
                       doubt="the model chose set_fan; the words say set_light")
    assert doubted.asks_back(0.0) and not replace(doubted, doubt=None).asks_back(0.5)
    assert doubted.to_dict()["doubt"].startswith("the model chose")
    held = core.act(Request("t1", "voice", text="bedroom light on"), doubted)
    assert held.held and held.result is not None
    assert held.result.said == "should I turn on the bedroom light?"
    assert 22 not in factory.pins
    core.close()


def test_words_the_way_in_doubts_are_asked_back_however_sure_the_caller(
        config: Config, factory: MockFactory) -> None:
    core = core_for(config, factory)
    sure = Decision("x", calls=(BEDROOM_ON,), confidence=0.99)
    request = Request("d1", "voice", text="bedroom light on", unsure=True)
    assert Request.from_dict(request.to_dict()) == request  # the journal keeps it
    held = core.act(request, sure)
    assert held.held and held.result is not None
    assert held.result.said == "should I turn on the bedroom light?"
    assert 22 not in factory.pins  # nothing done until a yes
    assert core.confirm("d1").ok
    factory.pin(22).assert_states([False, True])
    core.close()


def test_a_no_drops_the_held_calls_and_nothing_is_done(config: Config,
                                                       factory: MockFactory) -> None:
    core = core_for(config, factory)
    two = Decision("x", calls=(BEDROOM_ON, ToolCall("garage_door", {"action": "open"})),
                   confidence=0.65)
    held = core.act(Request("n1", "voice", text="x"), two)
    assert [r.pending_confirmation is not None for r in held.results] == [True, True]
    open_question = OpenQuestion(10.0)
    asked = open_question.ask(held)
    assert asked is not None and len(asked.tokens) == 2
    answering = Answering(lambda i, t: core.confirm(i, token=t), core.decline)
    settled = open_question.settle("no thanks", answering)
    assert settled is not None
    yes, out = settled
    assert not yes and not out.ok and "declined" in (out.error or "")
    assert open_question.settle("yes", answering) is None  # answered: closed
    assert core.waiting() == 0 and 22 not in factory.pins and 6 not in factory.pins
    assert not core.decline("n1", asked.tokens[0])  # nothing left to decline
    core.close()


def test_an_open_question_expires_and_is_answered_once() -> None:
    now = [0.0]
    from appliance.messages import ActionResult, Outcome

    held = Outcome("q1", "x", calls=(BEDROOM_ON,), results=(
        ActionResult("set_light", False, pending_confirmation="tok"),))
    q = OpenQuestion(8.0, lambda: now[0])
    assert q.ask(Outcome("q0", "x")) is None and q.open is None  # nothing held, no question
    q.ask(held)
    answered = q.answer("yes")
    assert answered is not None and answered[1] is True and q.open is None
    q.ask(held)
    answered = q.answer("turn on the kitchen light")  # a new command, not an answer
    assert answered is not None and answered[1] is None and q.open is None
    q.ask(held)
    now[0] = 8.5
    assert q.open is None and q.answer("yes") is None  # too late: nothing answered
    # A short answer the recogniser refused as a command still answers, if it is sure,
    # and only while a question is open.
    assert answer_words("yes", 0.5) == "yes"
    assert answer_words("yes", 0.2) is None and answer_words("turn it on", 0.9) is None
    now[0] = 0.0
    assert q.words(None, "yes", 0.5) is None  # no question: refused words stay refused
    q.ask(held)
    assert q.words(None, "yes", 0.5) == "yes" and q.words(None, "yes", 0.2) is None
    assert q.words("turn it on", "turn it on", 0.9) == "turn it on"
    # A new command instead of an answer: the held call is declined, the words go on.
    declined: list[tuple[str, str]] = []
    answering = Answering(lambda i, t: None, lambda i, t: declined.append((i, t)) is None)
    assert q.settle("turn on the kitchen light", answering) is None
    assert declined == [("q1", "tok")] and q.open is None


def test_the_recogniser_is_steered_to_answers(config: Config) -> None:
    grammar = CommandGrammar.from_tools(list(config.tools))
    for words in ("yes", "no thanks", "go ahead", "cancel"):
        assert grammar.accepts(words), words
    assert ["yes"] in sample(grammar, 2000)


def test_asking_below_the_refusal_threshold_is_refused_by_check(config: Config) -> None:
    bad = replace(config, model=replace(config.model, ask_below=config.model.min_confidence))
    with pytest.raises(ConfigError, match=r"model\.ask_below"):
        check_config(bad)
    check_config(config)
