"""Everyday-language samples, made from the same templates as the plain ones.

From each tool's templates (its example phrasings with argument values as slots):

- several calls: two requests joined ("... and then ..."), and two values of one enum
  slot ("the kitchen and bedroom lights"): the calls in the order they were said;
- all: "the {room} light" becomes "all the lights" / "every light" / "both doors": one call
  per enum value, in the enum's order (only where the enum has at most ``max_calls``);
- negation: "don't" before a command: no call;
- missing values: a required slot left out: the declared ``default`` (the call without
  it) or, without one, a clarification naming the parameter;
- intensity words: "full", "all the way down", "half" for a 0-100 number; "full speed",
  "the lowest setting" for an ordered enum (one with low and high); "up"/"down" for
  open/close said last;
- questions about a thing's state ("is the garage door open"), where a tool sets that
  state and no tool of the config asks about that thing: no call.

English phrasing lives here (like :mod:`appliance.english`); the tools, values and
parameter names come from the declarations alone.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from appliance.english import BOTTOM, PERCENT_BOTTOM, PERCENT_HALF, PERCENT_TOP, TOP
from appliance.messages import ToolCall
from appliance.tools import Tool

JOINERS = [" and ", " and then ", " then ", " and also ", " and after that "]
NEGATIONS = ["don't ", "do not ", "please don't ", "no don't ", "never mind don't ",
             "you don't need to ", "i don't want you to ", "no wait don't ", "don't you dare "]
# Said last ("garage door up"): the enum value it stands for.
LAST_WORD = {"open": ["up"], "close": ["down"], "on": ["back on"], "off": ["back off"]}
# Commands that "don't" can go before ("don't turn ...", not "don't kitchen light on").
VERBS = frozenset({"turn", "switch", "set", "put", "make", "dim", "brighten", "lower", "raise",
                   "change", "start", "open", "close", "shut", "lock", "unlock", "play", "stop",
                   "cancel", "lift", "secure", "crank", "slow", "kill", "keep", "heat", "warm",
                   "cool", "bump", "listen", "shuffle", "throw", "get", "time", "count"})
# A state an enum value sets, as it is asked about ("is the garage door closed").
STATES = {"open": ["open"], "close": ["closed", "shut"], "closed": ["closed"], "lock": ["locked"],
          "unlock": ["unlocked"], "on": ["on"], "off": ["off"], "up": ["up"], "down": ["down"],
          "locked": ["locked"], "unlocked": ["unlocked"]}
ASK = ["is {thing} {state}", "is {thing} still {state}", "did i leave {thing} {state}",
       "can you check if {thing} is {state}", "tell me if {thing} is {state}",
       "is {thing} {state} right now", "was {thing} left {state}", "{thing} is it {state}"]
QUESTION_WORDS = frozenset({"is", "are", "was", "were", "did", "does", "do", "what", "which",
                            "how", "check", "tell"})
_GLUE = {"for", "to", "at", "in", "of", "by", "the", "a", "with", "called", "some", "my"}
_NOT_NOUNS = _GLUE | set(STATES) | {"you", "can", "speed", "please", "now", "is", "needs", "be",
                                    "and", "if", "me", "it", "all", "way", "i", "we"}


@dataclass(frozen=True)
class Template:
    """An example phrasing with slots, its fixed arguments and the values for each slot."""

    tool: Tool
    text: str
    fixed: Mapping[str, Any]
    choices: Mapping[str, list[Any]]


Render = Callable[[Any, random.Random], str]
Made = tuple[str, tuple[ToolCall, ...], tuple[str, str] | None]


def _fill(t: Template, rng: random.Random, render: Render,
          given: Mapping[str, Any] | None = None) -> tuple[str, dict[str, Any]]:
    """Fill every slot not already filled in ``t.text``: the text and the arguments."""
    args = dict(t.fixed)
    text = t.text
    for key, options in t.choices.items():
        value = (given or {}).get(key, rng.choice(options))
        args[key] = value
        text = text.replace("{" + key + "}", render(value, rng))
    return text, args


def _enum_slots(t: Template) -> list[str]:
    return [k for k in t.choices if "enum" in t.tool.properties.get(k, {})
            and "{" + k + "}" in t.text]


def several(templates: Sequence[Template], rng: random.Random, render: Render,
            count: int) -> list[Made]:
    """Two requests in one sentence, across tools or two values of one slot."""
    out: list[Made] = []
    if len({t.tool.name for t in templates}) < 2:
        return out
    for _ in range(count):
        a, b = rng.sample(list(templates), 2)
        if a.tool.name == b.tool.name:
            continue
        ta, aa = _fill(a, rng, render)
        tb, ab = _fill(b, rng, render)
        out.append((ta + rng.choice(JOINERS) + tb,
                    (ToolCall(a.tool.name, aa), ToolCall(b.tool.name, ab)), None))
    pairs = [(t, k) for t in templates for k in _enum_slots(t)
             if len(t.tool.properties[k]["enum"]) >= 3]
    for _ in range(count // 2 if pairs else 0):
        t, k = rng.choice(pairs)
        v1, v2 = rng.sample(list(t.tool.properties[k]["enum"]), 2)
        both = f"{v1} and {v2}" if rng.random() < 0.6 else f"{v1} and the {v2}"
        text, args = _fill(Template(t.tool, t.text.replace("{" + k + "}", both), t.fixed,
                                    {o: c for o, c in t.choices.items() if o != k}), rng, render)
        out.append((text, (ToolCall(t.tool.name, {**args, k: v1}),
                           ToolCall(t.tool.name, {**args, k: v2})), None))
    return out


def every(templates: Sequence[Template], rng: random.Random, render: Render, count: int,
          max_calls: int) -> list[Made]:
    """ "all the lights": one call per enum value, in order."""
    spots = [(t, k) for t in templates for k in _enum_slots(t)
             if f"the {{{k}}}" in t.text and 2 <= len(t.tool.properties[k]["enum"]) <= max_calls]
    out: list[Made] = []
    for _ in range(count if spots else 0):
        t, k = rng.choice(spots)
        values = list(t.tool.properties[k]["enum"])
        m = re.search(rf"the \{{{k}\}}( (\w+))?", t.text)
        assert m is not None
        said = m.group(2) if m.group(2) and m.group(2) not in _GLUE else None
        if not said:
            m = re.search(rf"the \{{{k}\}}", t.text)
            assert m is not None
        noun = said or k
        plural = noun if noun.endswith("s") else noun + "s"
        single = noun[:-1] if noun.endswith("s") and said else noun
        forms = [f"all the {plural}", f"every {single}", f"all {plural}",
                 f"the {plural} everywhere"]
        if len(values) == 2:
            forms += [f"both {plural}", f"both the {plural}"]
        if not said:
            forms = [f"every {k}", f"all the {k}s", f"each {k}"]
        text = t.text[: m.start()] + rng.choice(forms) + t.text[m.end():]
        rest = Template(t.tool, text, t.fixed, {o: c for o, c in t.choices.items() if o != k})
        said, args = _fill(rest, rng, render)
        out.append((said, tuple(ToolCall(t.tool.name, {**args, k: v}) for v in values), None))
    return out


def negated(templates: Sequence[Template], rng: random.Random, render: Render,
            count: int) -> list[Made]:
    """ "don't turn on the kitchen light": no call."""
    verbs = [t for t in templates if t.text.split()[0] in VERBS]
    return [(rng.choice(NEGATIONS) + _fill(rng.choice(verbs), rng, render)[0], (), None)
            for _ in range(count if verbs else 0)]


def _units(templates: Sequence[Template], tool: Tool, key: str) -> set[str]:
    """Words said right after a number slot ("minutes", "percent", "degrees")."""
    if tool.properties[key].get("type") not in ("integer", "number"):
        return set()
    said = f"{key} {tool.properties[key].get('description', '')}".lower()
    after = [m.group(1) for t in templates if t.tool is tool
             for m in re.finditer(rf"\{{{key}\}} (\w+)", t.text)]
    return {w for w in after if after.count(w) >= 2 or w.rstrip("s") in said}


def missing(templates: Sequence[Template], rng: random.Random, render: Render,
            count: int) -> list[Made]:
    """A required value left unsaid: its default, or a question naming it."""
    spots = [(t, k) for t in templates for k in t.choices
             if k in t.tool.parameters.get("required", ())
             or "default" in t.tool.properties.get(k, {})]
    out: list[Made] = []
    for _ in range(count if spots else 0):
        t, k = rng.choice(spots)
        words = t.text.split()
        i = words.index(next(w for w in words if "{" + k + "}" in w))
        if words[i] != "{" + k + "}":
            continue
        units = _units(templates, t.tool, k)
        j = i + 1 if i + 1 < len(words) and words[i + 1] in units else i
        kept = words[:i] + words[j + 1:]
        while kept and kept[-1] in _GLUE:
            kept.pop()
        while i > 0 and i <= len(kept) and kept[i - 1] in _GLUE and (
                i == len(kept) or kept[i] in _GLUE):
            kept.pop(i - 1)
            i -= 1
        if len(kept) < 2:
            continue
        rest = Template(t.tool, " ".join(kept), t.fixed,
                        {o: c for o, c in t.choices.items() if o != k})
        text, args = _fill(rest, rng, render)
        if "default" in t.tool.properties[k]:
            out.append((text, (ToolCall(t.tool.name, args),), None))
        else:
            out.append((text, (), (t.tool.name, k)))
    return out


def _ordered(values: Sequence[Any]) -> tuple[Any, Any] | None:
    """(lowest, highest) of an enum that is a scale with low and high."""
    names = [str(v) for v in values]
    if "low" in names and "high" in names:
        return "low", "high"
    return None


def intensity(templates: Sequence[Template], rng: random.Random, render: Render,
              count: int) -> list[Made]:
    """ "full", "all the way down", "half", "full speed", "garage door up"."""
    spots: list[tuple[Template, str, list[tuple[str, Any]]]] = []
    for t in templates:
        for k in t.choices:
            p = t.tool.properties.get(k, {})
            if p.get("type") in ("integer", "number") and (p.get("minimum"), p.get(
                    "maximum")) == (0, 100) and f"{{{k}}} percent" in t.text:
                lo, hi = p["minimum"], p["maximum"]
                words = ([(w, hi) for w in PERCENT_TOP] + [(w, lo) for w in PERCENT_BOTTOM]
                         + [(w, (lo + hi) // 2) for w in PERCENT_HALF])
                spots.append((Template(t.tool, t.text.replace(f"{{{k}}} percent", "{" + k + "}"),
                                       t.fixed, t.choices), k, words))
            elif "enum" in p and (scale := _ordered(p["enum"])) and "{" + k + "}" in t.text:
                spots.append((t, k, [(w, scale[1]) for w in TOP] + [(w, scale[0]) for w in BOTTOM]))
            elif "enum" in p and t.text.endswith("{" + k + "}"):
                words = [(w, v) for v in p["enum"] for w in LAST_WORD.get(str(v), [])]
                if words:
                    spots.append((t, k, words))
    out: list[Made] = []
    for _ in range(count if spots else 0):
        t, k, words = rng.choice(spots)
        word, value = rng.choice(words)
        rest = Template(t.tool, t.text.replace("{" + k + "}", word), t.fixed,
                        {o: c for o, c in t.choices.items() if o != k})
        text, args = _fill(rest, rng, render)
        out.append((text, (ToolCall(t.tool.name, {**args, k: value}),), None))
    return out


def questions(templates: Sequence[Template], rng: random.Random, render: Render,
              count: int) -> list[Made]:
    """ "is the back door locked": no call, where no tool asks about the thing."""
    asked = {w for t in templates if t.text.split()[0] in QUESTION_WORDS
             for w in re.findall(r"[a-z]+", t.text)}
    spots: list[tuple[Template, str, str]] = []
    for t in templates:
        for k in _enum_slots(t):
            if not any(str(v) in STATES for v in t.tool.properties[k]["enum"]):
                continue
            # The thing the command is about: "the", maybe a slot, one or two nouns.
            words = re.sub(r"\{" + k + r"\}", "", t.text).split()
            thing: list[str] = []
            for w in words[words.index("the") + 1:] if "the" in words else []:
                if w in _NOT_NOUNS or "'" in w or (w.startswith("{") and thing) \
                        or len(thing) == 3:
                    break
                thing.append(w)
            nouns = [w for w in thing if not w.startswith("{")]
            if not nouns or asked.intersection(nouns):
                continue
            spots.append((t, k, "the " + " ".join(thing)))
    out: list[Made] = []
    for _ in range(count if spots else 0):
        t, k, about = rng.choice(spots)
        value = str(rng.choice([v for v in t.tool.properties[k]["enum"] if str(v) in STATES]))
        text = rng.choice(ASK).format(thing=about, state=rng.choice(STATES[value]))
        rest_t = Template(t.tool, text, t.fixed, {o: c for o, c in t.choices.items() if o != k})
        out.append((_fill(rest_t, rng, render)[0], (), None))
    return out


def everyday(templates: Sequence[Template], rng: random.Random, render: Render, *,
             count: int, max_calls: int = 8) -> list[Made]:
    """About ``count`` samples of each behaviour, deterministic for a given ``rng``."""
    return [*several(templates, rng, render, count), *every(templates, rng, render, count,
                                                           max_calls),
            *negated(templates, rng, render, count), *missing(templates, rng, render, count),
            *intensity(templates, rng, render, count), *questions(templates, rng, render, count)]


def template_pattern(t: Template) -> re.Pattern[str]:
    """A template as a pattern over what the model reads: declared values, numbers, text."""
    out, last = [], 0
    for m in re.finditer(r"\{(\w+)\}", t.text):
        out.append(re.escape(t.text[last:m.start()]))
        p = t.tool.properties.get(m.group(1), {})
        if "enum" in p:
            out.append("(?:" + "|".join(re.escape(str(v)) for v in p["enum"]) + ")")
        elif p.get("type") in ("integer", "number"):
            out.append(r"\d+(?:\.\d+)?")
        else:
            out.append(r".+")
        last = m.end()
    out.append(re.escape(t.text[last:]))
    # Wrapped in a few filler words ("um ... please"), as the samples are.
    return re.compile(r"(?:[\w']+ ){0,3}" + "".join(out) + r"(?: [\w']+){0,3}")
