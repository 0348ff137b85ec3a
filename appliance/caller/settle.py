"""From the calls the model wrote to the calls that run, and the tool the words say instead.

:func:`settled` takes a walk's raw text through parsing, grounding in the words
(:mod:`.grounding`), repeats (:func:`without_repeats`), each call's own part of the request
(:func:`paired`), requests for later (:func:`for_later`), listings ("all the lights") and
lists said outright ("the front and back doors": :func:`.quantifiers.spread`) and the
confidence floor: every way a written call can fail comes back as ``Decision.error``.

:func:`towards` and :func:`instead`: where the model chose a tool the words contradict
("brighten the kitchen all the way" as ``set_light``: "brighten" is set_brightness's and
nothing said is set_light's alone, :func:`.declared.outweighed`), and the words point at
exactly one other tool, that tool's call is walked instead. Where only the words' weight
says so, it is asked back, never made at once ("should I set the kitchen brightness to 100
percent?"), because the model's own first choice was another tool; where the request says an
amount (half, all the way, as bright as possible) that the model's tool cannot take and
only the other takes, the model's call could not have been what was asked, and the other's
is answered like any call (asked back only when unsure). Where the words do not give what
that tool needs, its question is the answer ("set a timer for the eggs": how many minutes?).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from appliance.caller import quantifiers
from appliance.caller.declared import Grounds, amount_takers, outweighing
from appliance.caller.grounding import ground
from appliance.caller.quantifiers import JOINING
from appliance.caller.said import Said
from appliance.caller.syntax import parse_calls
from appliance.english import LATER
from appliance.errors import CallError
from appliance.messages import Decision, ToolCall
from appliance.tools import Toolbox


def settled(done: Decision, heard: str, said: Said | None, grounds: Grounds, *,
            max_calls: int, min_confidence: float) -> Decision:
    """``done`` (a walk's raw text and confidence) with its calls as they will run, or the
    reason none will. ``said`` None: strings were not copied from the words; validated only."""
    try:
        parsed = parse_calls(done.raw)
    except CallError as exc:
        return replace(done, error=str(exc))
    calls = ground(list(map(_strip_strings, parsed)), said, grounds)
    if isinstance(calls, str):
        return replace(done, error=calls)
    if said is not None:
        calls = paired(without_repeats(calls, heard, grounds.toolbox), heard, grounds.toolbox)
        if (later := for_later(heard, calls)) is not None:
            return replace(done, error=later)
        if said.listed and not any(quantifiers.expands(c, heard, grounds.toolbox)
                                   for c in calls):
            return replace(done, error=f"not sure what 'all' covers in {heard!r}")
    calls = quantifiers.expand(calls, heard, grounds.toolbox, max_calls)
    if said is not None:
        calls = quantifiers.spread(calls, heard, grounds.toolbox, max_calls)
    confidence = done.confidence if done.confidence is not None else 1.0
    if confidence < min_confidence:
        return replace(done, error=f"not sure enough to act: {', '.join(map(str, calls))} "
                                   f"({confidence:.2f} < {min_confidence:g})")
    return replace(done, calls=calls)


def towards(done: Decision, said: Said, grounds: Grounds) -> tuple[str, str, bool] | None:
    """Where ``done`` made no call because its one call was of a tool the words outweigh,
    or that cannot take the amount they say: that tool, the one tool the words say, and
    whether it is the amount (the model's tool cannot take it); ``None`` otherwise (a
    request that joins several, or whose words point at more than one tool, is left as it
    is)."""
    if done.calls or not done.raw or said.joined:
        return None
    try:
        parsed = parse_calls(done.raw)
    except CallError:
        return None
    if len(parsed) != 1:
        return None
    takers = amount_takers(parsed[0], said.tokens, grounds)
    others = [o for o, _ in outweighing(parsed[0], said.tokens, grounds)] or takers
    return (parsed[0].name, others[0], others == takers) if len(others) == 1 else None


def instead(done: Decision, other: Decision, chosen: str, *, amount: bool = False) -> Decision:
    """What is answered when the words' tool was walked (``other``) after ``done``, whose
    call of ``chosen`` was dropped: its calls, asked back (``Decision.doubt``) unless the
    request said an ``amount`` ``chosen`` cannot take (``other``'s confidence counts the
    model's choice to call at all); its question for a value the words do not give; else
    ``done``'s reason."""
    tokens, evals = done.tokens_evaluated + other.tokens_evaluated, done.evals + other.evals
    if other.calls and amount:
        return replace(other, tokens_evaluated=tokens, evals=evals)
    if other.calls:
        return replace(other, tokens_evaluated=tokens, evals=evals,
                       doubt=f"the model chose {chosen}; the words say {other.calls[0].name}")
    if other.error is not None and other.error.endswith("?"):  # grounding.question
        return replace(other, tokens_evaluated=tokens, evals=evals)
    return replace(done, tokens_evaluated=tokens, evals=evals)


def without_repeats(calls: Sequence[ToolCall], heard: str,
                    toolbox: Toolbox) -> tuple[ToolCall, ...]:
    """The calls, without a later one that says nothing new: every enum value it has was
    already used by the calls before it ("a cappuccino with soy milk and cocoa powder" is
    one order, though "and" let the model open a second). A call without enum values (a
    timer's minutes) is kept; so is the first."""
    said = Said(heard)
    kept: list[ToolCall] = []
    for call in calls:
        props = toolbox[call.name].properties if call.name in toolbox else {}
        enums = [v for k, v in call.arguments.items()
                 if isinstance(v, str) and props.get(k, {}).get("enum")]
        fresh = sum(said.claim(v) for v in enums)
        if call in kept or (kept and enums and not fresh):
            continue
        kept.append(call)
    return tuple(kept)


def paired(calls: Sequence[ToolCall], heard: str, toolbox: Toolbox) -> tuple[ToolCall, ...]:
    """Calls given the values said in their own part of the request: "turn the bedroom light
    on and the kitchen light off" is the bedroom's on and the kitchen's off, however the
    model paired them ("turn the kitchen light on and the fan off" is not the kitchen's
    off). A call's part (split at :data:`.quantifiers.JOINING` words) is the one that says
    its thing: the value, of the enum with the most values, that no other call of its tool
    has and one part alone says; where that part says exactly one value of another of its
    enums, that value is the call's."""
    parts = [Said(p) for p in re.split(rf"\b(?:{'|'.join(JOINING)})\b", heard.lower())]
    if len(parts) < 2:
        return tuple(calls)
    out: list[ToolCall] = []
    for call in calls:
        props = toolbox[call.name].properties if call.name in toolbox else {}
        enums = {k: props[k]["enum"] for k, v in call.arguments.items()
                 if isinstance(v, str) and "enum" in props.get(k, {})}
        others = [c for c in calls if c is not call and c.name == call.name]
        homes = {k: [p for p in parts if p.anywhere([call.arguments[k]])] for k in enums
                 if all(o.arguments.get(k) != call.arguments[k] for o in others)}
        things = sorted((k for k, h in homes.items() if len(h) == 1), key=lambda k: -len(enums[k]))
        args = dict(call.arguments)
        for key in [k for k in enums if k != things[0]] if things else ():
            said = homes[things[0]][0].anywhere(enums[key])
            if len(said) == 1:
                args[key] = said[0]
        out.append(ToolCall(call.name, args))
    return tuple(out)


def for_later(heard: str, calls: Sequence[ToolCall]) -> str | None:
    """A request for later that no call waits for ("turn off the kitchen light in 10
    minutes" as set_light now): why it is not done. Calls with a number, or a value with
    digits (a washer's ``delay_hours``, an alarm's time, a message that says when), take
    the time in; then ``None``."""
    later = LATER.search(heard)
    if later is None or any(
            (isinstance(v, (int, float)) and not isinstance(v, bool))
            or (isinstance(v, str) and any(ch.isdigit() for ch in v))
            for c in calls for v in c.arguments.values()):
        return None
    return f"no tool here waits: {later.group(0)!r} is not now"


def _strip_strings(call: ToolCall) -> ToolCall:
    args = {k: v.strip() if isinstance(v, str) else v for k, v in call.arguments.items()}
    return ToolCall(call.name, args)
