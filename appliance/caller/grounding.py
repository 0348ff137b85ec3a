"""After the walk: the calls as the words (:class:`.said.Said`) can have given them.

:func:`unfounded` takes out what the words cannot have given: a number
where the request says none ("start a timer" is asked about, not ``minutes: 1``), and free
text made only of the tool's own phrasing ("what's the weather like" is not
``location: the weather``; the declared default stands). A word that leads to a free-text
value in the tool's phrasings (:func:`.declared.lead_words`: "called" before a timer's label) makes
that optional argument said. A value an earlier call used still serves a later one when no
other is said ("turn off the fan and then the kitchen light": :meth:`Said.anywhere`). A call
whose free text names another tool's thing is not made (:func:`ground`; "stop the music" is
no timer's label). What the declarations give is made once (:class:`.declared.Grounds`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from appliance.caller.declared import (
    Grounds,
    elsewhere,
    outweighed,
    unamounted,
    unasked,
    unrelated,
)
from appliance.caller.said import SCALE_WORDS, TIMELY, Said, on_scale
from appliance.english import AMOUNT_WORDS
from appliance.errors import CallError
from appliance.messages import ToolCall
from appliance.tools import Toolbox


def unfounded(call: ToolCall, said: Said, grounds: Grounds) -> tuple[ToolCall, str | None]:
    """What the words do not give: a number where the request says none, or free text made
    only of the tool's own phrasing ("what's the weather like": ``location: the weather``).
    A number the model wrote short of the one said ("500 degrees": 50; "minus 3": 3) is the
    one said, so that validation refuses it rather than acting on another. An enum value
    the request does not say, where it names a thing the home lacks, is unfounded too
    (:meth:`Said.other_thing`: "the dining room light" is not the kitchen's).
    Such a value is dropped where the parameter has a ``default``; the required parameter
    whose value is unfounded is returned (then the caller asks for it instead of acting)."""
    if call.name not in grounds.toolbox:
        return call, None
    tool = grounds.toolbox[call.name]
    props = tool.properties
    plain = grounds.plain[call.name]
    required = set(tool.parameters.get("required", ()))
    share = said.share()
    args = dict(call.arguments)
    for key, value in call.arguments.items():
        schema = props.get(key, {})
        kind = schema.get("type", "string")
        if kind in ("integer", "number") and "enum" not in schema:
            bad = not said.has_number() and not AMOUNT_WORDS.intersection(said.tokens) \
                and share is None
            meant = said.meant_number(value) if isinstance(value, (int, float)) \
                and not isinstance(value, bool) else None
            if meant is not None:  # validated below as said: "500 is more than 90"
                args[key] = int(meant) if meant.is_integer() else meant
            elif isinstance(value, (int, float)) and said.as_duration(value):
                # "timer for the heat to 14 minute" is no temperature of 14
                about = f"{key} {schema.get('description', '')}".lower()
                bad = bad or not any(w in about for w in TIMELY)
            if share is not None and said.scaled(schema):
                args[key] = int(100 * share)  # "all the way down" is 0, however it was read
        elif kind == "string" and "enum" not in schema and isinstance(value, str):
            name = said.named(value)  # "the song hotel california": hotel california
            if name is not None and not set(re.findall(r"[\w']+", name)) <= plain:
                args[key] = name
            bad = set(re.findall(r"[\w']+", str(args[key]).lower())) <= plain
        elif isinstance(value, str) and "enum" in schema:
            scaled = on_scale(schema["enum"], share) if share is not None \
                and said.scaled(schema) else None
            if scaled is not None:
                args[key] = scaled  # "the fan all the way up" is high, however it was read
            bad = scaled is None and (said.other_thing(value, schema["enum"], grounds.words)
                                      is not None or (
                # "change the fan speed": the parameter named, none of its values said
                key.lower() in said.tokens and not said.anywhere(schema["enum"])
                and not (AMOUNT_WORDS | SCALE_WORDS).intersection(said.tokens)) or (
                key in required and said.invented(value, schema["enum"])))
        else:
            bad = False
        if bad and "default" in schema:
            del args[key]
        elif bad and key in required:
            return call, key
    return ToolCall(call.name, args), None


def ground(parsed: Sequence[ToolCall], said: Said | None,
           grounds: Grounds) -> tuple[ToolCall, ...] | str:
    """The parsed calls as they will run, or, where none can, why (errors as values):

    - a call whose free text names another tool's thing is left out (:func:`.elsewhere`:
      "stop the music" is no timer's label), and so is one of a tool the request says no
      word of where it names another's thing (:func:`.unrelated`), and, in a request that
      joins nothing, one whose words are another tool's and none its own alone
      (:func:`.outweighed`) or that says an amount its tool cannot take (:func:`.unamounted`);
      a question answered by a tool that answers none (:func:`.unasked`); none left, why;
    - a required value the words do not give: the question for it (:func:`unfounded`);
    - defaults filled in and every call validated: what is wrong with the first bad one.

    ``said`` None (strings not taken from the words): validated only."""
    calls: list[ToolCall] = []
    dropped: list[str] = []
    for made in parsed:
        call = made
        if said is not None:
            words = said.tokens
            why = unasked(made, words, grounds) or unrelated(made, words, grounds) or elsewhere(
                made, grounds, later=bool(calls or dropped)) or (None if said.joined else (
                    outweighed(made, words, grounds) or unamounted(made, words, grounds)))
            if why is not None:
                dropped.append(f"{made.name}: {why}")
                continue
            call, unsaid = unfounded(made, said, grounds)
            if unsaid is not None:
                return question(grounds.toolbox, call.name, unsaid)
        try:
            calls.append(grounds.toolbox.validate(with_defaults(call, grounds.toolbox)))
        except CallError as exc:
            return str(exc)
    return "; ".join(dropped) if dropped and not calls else tuple(calls)


def with_defaults(call: ToolCall, toolbox: Toolbox) -> ToolCall:
    """A parameter left out that declares a JSON-Schema ``default`` gets it."""
    if call.name not in toolbox:
        return call
    props = toolbox[call.name].properties
    missing = {k: p["default"] for k, p in props.items()
               if "default" in p and k not in call.arguments}
    return ToolCall(call.name, {**call.arguments, **missing}) if missing else call


def question(toolbox: Toolbox, tool: str, param: str) -> str:
    """What the appliance asks for a value it needs."""
    schema = toolbox[tool].properties.get(param, {})
    what = schema.get("description") or param
    options = f" ({', '.join(map(str, schema['enum']))})" if "enum" in schema else ""
    return f"{tool} needs {param}: {what}{options}?"
