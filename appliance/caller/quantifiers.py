""""All the lights", "both doors", "everywhere": a quantifier resolved against the tools.

The model chooses the tool and what the sentence says (``state: off``); it cannot be
trusted to list every room, and a 270M model mostly names one. Here, where the request
has a quantifier and a call holds exactly one enum argument whose value the request does
not say, that call becomes one call per value of the enum, in the order the tool declares
them ("turn off all the lights" -> ``set_light`` for each room, ``state: off`` in each). A
tool that declares a value for all ("all", "everywhere", "whole house") is left to the
model: that value is the call. Values named after "except", "but", "apart from",
"besides" or "excluding" are left out ("all the lights except the garage": the five other
rooms), whatever the model chose (it often names the excepted room). Nothing is expanded
when the exception names no value, for "other" or "not" ("all the other lights"), when
the enum value was said before any exception ("all the lights in the kitchen": one call),
or when more than one enum argument is unsaid (the quantifier is ambiguous).

A list said outright is resolved the same way (:func:`series`, :func:`spread`): "lock the
front and back doors", "the kitchen, hallway and bedroom lights" name values of one enum
joined only by "and" (and "the", or a comma), and a call with one of them becomes one call
per value, in the order said, where the list holds every joining word of the request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from itertools import pairwise
from typing import Any

from appliance.messages import ToolCall
from appliance.tools import Toolbox

JOINING = frozenset({"and", "then", "also", "plus", "too"})
"""Words that join one request to another in a sentence."""

SERIES_GAPS = frozenset({"and", "the"})
"""Words between the values of a list said outright ("the front and the back door")."""

QUANTIFIERS = frozenset({"all", "every", "everything", "everywhere", "both", "each"})
"""Words that ask for every value of something."""

EXCEPTIONS = frozenset({"except", "but", "apart", "besides", "excluding"})
"""Words after which the request names values to leave out of the listing."""

UNSURE = frozenset({"other", "not"})
"""Words before an exception that leave the listing to the model: "all the other lights"
(other than what?), "not all the lights"."""

TIMES = frozenset({"morning", "day", "days", "night", "evening", "afternoon", "week", "weekday",
                   "weekend", "hour", "minute", "second", "time", "times", "month", "year",
                   "monday", "tuesday", "wednesday", "thursday", "friday", "saturday",
                   "sunday", "along", "right", "set", "done", "good", "way"})
"""Words after which a quantifier is about time or idiom ("every morning", "all day", "all
right", "all the way up"), not about devices."""

ALL_VALUES = frozenset({"all", "everywhere", "every room", "whole house", "house", "both",
                        "everything", "all rooms", "entire house"})
"""Enum values that already mean all of them."""


def said(value: str, words: str) -> bool:
    """Whether ``value`` is in ``words`` as whole words (plural "s" allowed)."""
    return re.search(rf"(?<!\w){re.escape(value.lower())}s?(?!\w)", words) is not None


def _parts(heard: str) -> tuple[list[str], list[str]]:
    """The request's words before its first exception word, and the words after it."""
    tokens = re.findall(r"[\w']+", heard.lower())
    cut = next((i for i, t in enumerate(tokens) if t in EXCEPTIONS), len(tokens))
    return tokens[:cut], tokens[cut + 1:]


def quantified(heard: str) -> bool:
    """Whether the request asks for every value of something (some maybe left out after an
    exception word)."""
    before, _ = _parts(heard)
    return not UNSURE.intersection(before) and any(
        t in QUANTIFIERS and _about_things(before[i + 1:]) for i, t in enumerate(before))


def expands(call: ToolCall, heard: str, toolbox: Toolbox) -> bool:
    """Whether :func:`expand` makes ``call`` (of a quantified request) into several."""
    before, after = _parts(heard)
    return len(_each(call, " ".join(before), " ".join(after), toolbox)) > 1


def expand(calls: Sequence[ToolCall], heard: str, toolbox: Toolbox,
           max_calls: int) -> tuple[ToolCall, ...]:
    """``calls`` with each quantified one expanded over its enum (see the module)."""
    if not quantified(heard):
        return tuple(calls)
    before, after = (" ".join(p) for p in _parts(heard))
    out: list[ToolCall] = []
    for call in calls:
        for made in _each(call, before, after, toolbox):
            if made not in out:
                out.append(made)
    return tuple(out[:max_calls])


def _about_things(after: list[str]) -> bool:
    """The words after a quantifier: not a time ("every morning") or an idiom ("all right")."""
    rest = [w for w in after[:3] if w not in ("the", "of", "my", "our", "these", "those")]
    return not rest or rest[0] not in TIMES


def _each(call: ToolCall, words: str, left_out: str, toolbox: Toolbox) -> list[ToolCall]:
    """``call`` once per value of its one enum argument that ``words`` (the request up to
    an exception) do not say, but for the values ``left_out`` names."""
    if call.name not in toolbox:
        return [call]
    props = toolbox[call.name].properties
    unsaid = [name for name, value in call.arguments.items()
              if isinstance(value, str) and len(props.get(name, {}).get("enum", ())) > 1
              and not said(value, words)]
    if len(unsaid) != 1:
        return [call]
    name = unsaid[0]
    values = [v for v in props[name]["enum"] if isinstance(v, str)]
    if any(v.lower() in ALL_VALUES for v in values):
        return [call]  # the tool has its own "all": the model's choice stands
    kept = [v for v in values if not said(v, left_out)]
    if left_out and len(kept) == len(values):
        return [call]  # an exception that names none of them: the model's calls stand
    return [ToolCall(call.name, {**call.arguments, name: v}) for v in kept]


def series(tokens: Sequence[str], enum: Sequence[Any]) -> list[str]:
    """The enum's values a request lists outright, in the order said: two or more, with only
    :data:`SERIES_GAPS` between them and an "and" before the last, where the list holds every
    joining word the request has ("the front and back doors"; not "turn the bedroom light on
    and the kitchen light off"). Empty otherwise."""
    found: list[tuple[int, int, str]] = []
    for value in sorted((v for v in enum if isinstance(v, str)), key=len, reverse=True):
        words = value.lower().split()
        n = len(words)
        for i in range(len(tokens) - n + 1):
            if all(t in (w, w + "s") for t, w in zip(tokens[i:i + n], words, strict=True)) \
                    and not any(s <= i < e or i <= s < i + n for s, e, _ in found):
                found.append((i, i + n, value))
    found.sort()
    gaps = [tokens[a[1]:b[0]] for a, b in pairwise(found)]
    joins = sum(t in JOINING for t in tokens)
    if len(found) < 2 or not all(set(g) <= SERIES_GAPS for g in gaps) \
            or "and" not in gaps[-1] or sum(g.count("and") for g in gaps) != joins:
        return []
    return list(dict.fromkeys(v for _, _, v in found))


def spread(calls: Sequence[ToolCall], heard: str, toolbox: Toolbox,
           max_calls: int) -> tuple[ToolCall, ...]:
    """``calls`` with each call whose enum value is in a list said outright (:func:`series`)
    made once per value of the list, in the order said."""
    tokens = re.findall(r"[\w']+", heard.lower())
    out: list[ToolCall] = []
    for call in calls:
        made = [call]
        props = toolbox[call.name].properties if call.name in toolbox else {}
        for key, value in call.arguments.items():
            listed = series(tokens, props.get(key, {}).get("enum", ()))
            if value in listed:
                made = [ToolCall(call.name, {**call.arguments, key: v}) for v in listed]
                break
        out.extend(m for m in made if m not in out)
    return tuple(out[:max_calls])
