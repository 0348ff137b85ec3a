"""The words of a request (:class:`Said`): optional arguments come from what was said.

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
pick of one room is a guess, and an unsure one, that the listing throws away). After the
walk, :mod:`.grounding` checks the calls against the same words.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from appliance.caller.declared import PLAIN_WORDS, POLITE_WORDS, Grounds, lead_words
from appliance.caller.quantifiers import ALL_VALUES, JOINING, series
from appliance.english import BOTTOM, TOP, lookalikes, share_said
from appliance.tools import Tool

NUMBER = re.compile(r"\d+(?:\.\d+)?")
NEGATIVE = frozenset({"minus", "negative"})

DURATIONS = frozenset({"second", "sec", "minute", "min", "hour", "hr"})
TIMELY = ("minute", "hour", "second", "time", "duration", "length", "delay", "long", "timer")
"""Words of a parameter's name or description that take a length of time."""

SCALE_WORDS = frozenset(w for p in TOP + BOTTOM for w in p.split()) - {"the", "setting", "speed"}
"""Words that say where on an ordered enum ("the slowest speed", "full blast")."""

STOPPING = frozenset({"kill", "stop", "cut", "shut", "halt", "disable", "deactivate"})
"""Verbs that say ``off`` without the word ("kill the fan")."""

NUMBER_WORDS = frozenset({"single", "double", "triple", "quad", "quadruple", "twice", "once"})
"""Words that are numbers without digits ("a double shot": 2)."""

KINDS = frozenset({"song", "track", "tune", "album", "record", "artist", "band", "singer",
                   "playlist", "station", "podcast", "show", "movie", "film", "city", "town"})
"""Words that say what kind of thing a name is ("the song hotel california"), not the name."""

FILLERS = ("a little bit of ", "a little ", "a bit of ")
"""Leading words of a free-text value that say how much, not what ("a little miles davis")."""

AFTER_NAMES = frozenset({"again", "too", "also", "instead", "anyway", "here", "there", "today",
                         "tonight", "louder", "quieter", "loud", "quietly", "on", "off"})
"""Words after a kind that are no name ("play the song again" names no song)."""


class Said:
    """The words of a request, for grounding optional arguments in them."""

    def __init__(self, heard: str, *, listing: bool = False,
                 grounds: Grounds | None = None) -> None:
        self.tokens = re.findall(r"[\w']+", heard.lower())
        self._grounds = grounds
        self._claimed: set[int] = set()
        self.listing = listing
        """The request asks for every value of something (:func:`.quantifiers.quantified`)."""
        self.joined = bool(JOINING.intersection(self.tokens))
        """The request joins several things ("... and lock the door"): a listing in it may
        be followed by a call of another tool."""
        self.listed = 0
        """How many choices the listing replaces (see :meth:`listed_key`)."""
        self.in_series = 0
        """How many choices a list said outright replaces (see :meth:`series`)."""
        self.leads: Mapping[str, frozenset[str]] = {}
        """The tool being walked's :func:`lead_words` (see :meth:`walking`)."""

    def walking(self, tool: Tool) -> None:
        """The decoder walks a call of ``tool`` next: its lead words apply."""
        self.leads = self._grounds.leads[tool.name] if self._grounds is not None \
            and tool.name in self._grounds.leads else lead_words(tool)

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

    def numbers(self) -> list[tuple[int, str]]:
        """The request's numbers written in digits, with their places."""
        return [(i, t) for i, t in enumerate(self.tokens) if NUMBER.fullmatch(t)]

    def as_duration(self, value: float) -> bool:
        """Whether ``value`` is said only as a length of time ("14 minutes", "2 hours")."""
        said = [i for i, t in self.numbers() if float(t) == value]
        return bool(said) and all(i + 1 < len(self.tokens) and self.tokens[i + 1].rstrip("s")
                                  in DURATIONS for i in said)

    def named(self, value: str) -> str | None:
        """The name in a free-text ``value`` that says its kind ("the band queen": queen;
        "a little miles davis": miles davis) or, where the copy stopped at the kind ("the
        song" of "play the song hotel california"), the words said after it, to a joining
        word; ``None`` where there is no other name."""
        low = value.lower().strip()
        for filler in FILLERS:
            if low.startswith(filler) and low[len(filler):].strip():
                return low[len(filler):].strip()
        words = re.findall(r"[\w']+", low)
        at = next((i for i, w in enumerate(words) if w in KINDS), None)
        if at is None or any(w not in ("the", "a", "an") for w in words[:at]):
            return None  # "that song", "my playlist": one known already, not named
        if at < len(words) - 1:
            return " ".join(words[at + 1:])
        n = len(words)
        starts = [i for i in range(len(self.tokens) - n + 1) if self.tokens[i:i + n] == words]
        rest: list[str] = []
        for token in self.tokens[starts[0] + n:] if starts else ():
            if token in JOINING:
                break
            rest.append(token)
        while rest and rest[-1] in POLITE_WORDS | AFTER_NAMES:
            rest.pop()
        return " ".join(rest) or None

    def share(self) -> float | None:
        """The share of a bounded amount said without a number (:func:`.share_said`)."""
        return None if self.has_number() else share_said(" ".join(self.tokens))

    def scaled(self, schema: Mapping[str, Any]) -> bool:
        """Whether the words set a value of ``schema`` without saying it: a 0-100 number, or
        an ordered enum (:func:`on_scale`) none of whose values is said ("full blast")."""
        if (share := self.share()) is None:
            return False
        if "enum" in schema:
            return not self.anywhere(schema["enum"]) \
                and on_scale(schema["enum"], share) is not None
        return (schema.get("minimum"), schema.get("maximum")) == (0, 100)

    def has_number(self) -> bool:
        return bool(self.numbers()) or bool(NUMBER_WORDS.intersection(self.tokens))

    def meant_number(self, value: float) -> float | None:
        """The number the request says where the model wrote ``value`` short of it: "500"
        for 50 (it stopped a digit early), -3 for "minus 3"; ``None`` when ``value`` is
        said as it is, or no said number fits."""
        said = self.numbers()
        written = f"{value:g}"
        if any(t == written for _, t in said) and value >= 0:
            for i, t in said:
                if t == written and i and self.tokens[i - 1] in NEGATIVE:
                    return -float(t)
            return None
        longer = [t for _, t in said if t.startswith(written) and t != written]
        return float(longer[0]) if len(longer) == 1 else None

    def other_thing(self, value: str, enum: Sequence[Any], known: frozenset[str]) -> str | None:
        """A thing like the enum's values that the request names instead of ``value``, which
        it does not say ("switch off the dining room light" is no kitchen's): a
        :data:`.english.LOOKALIKES` word no declaration (``known``) has. ``None`` where the
        value is said or no such word is. A word that is part of several values and whole
        of none ("room" of bedroom, bathroom and living room: "off room lights to one
        hundred percent", a misheard "bathroom") names none of them either."""
        if self.anywhere([value]):
            return None
        alike = set(lookalikes(enum)) - known
        names = [str(v).lower() for v in enum if isinstance(v, str)]
        return next((t for t in self.tokens if t in alike or (
            len(t) >= 3 and t not in names and t not in PLAIN_WORDS and t not in POLITE_WORDS
            and sum(t in n for n in names) > 1)), None)

    def invented(self, value: str, enum: Sequence[Any]) -> bool:
        """Whether a required enum's ``value`` is the model's alone: of more than two values
        ("on"/"off" and "lock"/"unlock" follow from the verb), none is said, nor begun ("hall"
        for hallway), in a request that lists nothing and says no place on a scale ("on its
        slowest"), and no verb that stops says ``off`` ("kill the fan"). "vacuum the landing
        upstairs" is no ``set_hvac_mode(eco)``."""
        starts = [w for v in enum if isinstance(v, str) for w in v.lower().split()]
        return len(enum) > 2 and not self.listing and not self.anywhere(enum) \
            and not SCALE_WORDS.intersection(self.tokens) and not any(
            len(t) >= 4 and any(w.startswith(t) for w in starts) for t in self.tokens) and not (
            value.lower() == "off" and STOPPING.intersection(self.tokens))

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
                  and not self.anywhere(props[k]["enum"])]
        if len(unsaid) != 1 or any(str(v).lower() in ALL_VALUES
                                   for v in props[unsaid[0]]["enum"]):
            return None
        return unsaid[0]

    def series(self, enum: Sequence[Any]) -> list[str]:
        """The enum's values the request lists outright (:func:`.quantifiers.series`)."""
        return series(self.tokens, enum)

    def anywhere(self, enum: Sequence[Any]) -> list[Any]:
        """The enum's values in the request's words, used by an earlier value or not."""
        return Said(" ".join(self.tokens)).values(enum)

    def demands(self, schema: Mapping[str, Any], key: str = "") -> bool:
        """Whether an optional argument was said for sure: an enum value in the words, or
        free text after a word that leads to it in the tool's phrasings ("called pizza")."""
        enum = schema.get("enum") or ()
        if schema.get("type", "string") != "string":
            return False
        if enum:
            return bool(self.values(enum))
        leads = self.leads.get(key, frozenset())
        return any(t in leads for t in self.tokens[:-1])


def _inside(short: str, long: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(short)}(?!\w)", long) is not None


def _like(word: str, token: str) -> bool:
    if word == token or token in (word + "s", word + "es"):
        return True
    return len(word) >= 4 and token.startswith(word)


def on_scale(enum: Sequence[Any], share: float) -> str | None:
    """The value of an ordered enum (one with ``low`` and ``high``) at ``share`` of it: high
    at the top, low at the bottom (never ``off``), medium halfway where it has one."""
    values = {str(v).lower(): str(v) for v in enum}
    if not {"low", "high"} <= values.keys():
        return None
    return values.get({1.0: "high", 0.0: "low"}.get(share, "medium"))
