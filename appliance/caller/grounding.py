"""Optional arguments come from what was said, never from nowhere.

A 270M model asked "another argument?" after each one is often wrong in both directions: it
drops optional arguments that were said and invents ones that were not ("a flat white with
soy" -> ``size: small``). With ``strings: words`` (the voice appliance's mode, where every
free-text value is a span of the request) the decoder offers an optional argument only
when the request holds something it could be:

- an enum of strings: one of its values in the request's words (a plural, or a word that
  starts with the value's word, counts: "skimmed" for "skim"), and only those values;
- a number: a number in the request (digits, as normalization writes them) or a word that
  is one ("single", "double", "triple", "quad", "twice");
- anything else (free text, booleans): as before.

And the other way: an optional enum argument whose value was said is not skipped, and an
enum value is chosen among the longest values said ("chai latte", not "latte"). Words a
chosen value used are not grounds for a later argument ("a hot chocolate" says no
``temperature: hot``). A required argument nobody said is still the model's choice, but
one: in a request that asks for all of something ("turn off all the lights"), the choice
of the one required enum of a call that no word gives does not count toward the
decision's confidence, because :mod:`.quantifiers` lists its every value (the model's
pick of one room is a guess, and an unsure one, that the listing throws away).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from appliance.caller.quantifiers import ALL_VALUES
from appliance.messages import ToolCall
from appliance.tools import Toolbox

NUMBER_WORDS = frozenset({"single", "double", "triple", "quad", "quadruple", "twice", "once"})
"""Words that are numbers without digits ("a double shot": 2)."""


class Said:
    """The words of a request, for grounding optional arguments in them."""

    def __init__(self, heard: str, *, listing: bool = False) -> None:
        self.tokens = re.findall(r"[\w']+", heard.lower())
        self._claimed: set[int] = set()
        self.listing = listing
        """The request asks for every value of something (:func:`.quantifiers.quantified`)."""
        self.listed = 0
        """How many choices the listing replaces (see :meth:`listed_key`)."""

    def claim(self, value: Any) -> int:
        """A chosen value's words are used: they ground nothing after it. Returns how many
        of the request's words it took."""
        if not isinstance(value, str):
            return 0
        taken = 0
        for w in re.findall(r"[\w']+", value.lower()):
            for i, t in enumerate(self.tokens):
                if i not in self._claimed and _like(w, t):
                    self._claimed.add(i)
                    taken += 1
                    break
        return taken

    def has(self, value: str) -> bool:
        """Every word of ``value`` is in the request (plural or longer form allowed)."""
        words = re.findall(r"[\w']+", value.lower())
        free = [t for i, t in enumerate(self.tokens) if i not in self._claimed]
        return bool(words) and all(any(_like(w, t) for t in free) for w in words)

    def has_number(self) -> bool:
        return any(t[0].isdigit() or t in NUMBER_WORDS for t in self.tokens)

    def offers(self, schema: Mapping[str, Any]) -> bool:
        """Whether an optional argument of ``schema`` could have been said."""
        kind = schema.get("type")
        enum = schema.get("enum")
        if enum and kind == "string":
            return bool(self.values(enum))
        if kind in ("integer", "number") and not enum:
            return self.has_number()
        return True

    def values(self, enum: Sequence[Any]) -> list[Any]:
        """The enum's values in the request, without those inside a longer one said."""
        found = [v for v in enum if isinstance(v, str) and self.has(v)]
        return [v for v in found
                if not any(o != v and _inside(v.lower(), o.lower()) for o in found)]

    def listed_key(self, props: Mapping[str, Mapping[str, Any]],
                   required: set[str]) -> str | None:
        """In a request that lists (``listing``), the one required enum of strings with no
        value anywhere in the words (an earlier call's claim aside): the listing gives its
        values, so the choice of one is not weighed."""
        if not self.listing:
            return None
        unsaid = [k for k in sorted(required) if props[k].get("type", "string") == "string"
                  and len(props[k].get("enum", ())) > 1
                  and not Said(" ".join(self.tokens)).values(props[k]["enum"])]
        if len(unsaid) != 1 or any(str(v).lower() in ALL_VALUES
                                   for v in props[unsaid[0]]["enum"]):
            return None
        return unsaid[0]

    def demands(self, schema: Mapping[str, Any]) -> bool:
        """Whether an optional argument was said for sure (an enum value in the words)."""
        enum = schema.get("enum") or ()
        return schema.get("type") == "string" and bool(self.values(enum))


def _inside(short: str, long: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(short)}(?!\w)", long) is not None


def _like(word: str, token: str) -> bool:
    if word == token or token in (word + "s", word + "es"):
        return True
    return len(word) >= 4 and token.startswith(word)


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
