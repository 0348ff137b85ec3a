"""What grounding reads from the tools' declarations, made once per toolbox.

A request's words are checked against the declarations (:mod:`.grounding`): which words
lead to a free-text value ("called" before a timer's label), which are a tool's own
phrasing (no value is made of them alone), which words every declaration uses (an action
verb none uses is no tool's: "pause the timer"), and which name another tool's thing
("the living room light" is no song). :class:`Grounds` holds all of it for a toolbox; the
tool caller makes it when it starts.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from appliance.english import (
    ACTION_VERBS,
    AMOUNT_WORDS,
    COMMAND_VERBS,
    POLITE_LEADS,
    POLITE_TAILS,
    share_said,
)
from appliance.messages import ToolCall
from appliance.tools import Tool, Toolbox

PLAIN_WORDS = frozenset({"the", "a", "an", "my", "some", "this", "that", "it", "please", "to",
                         "in", "on", "for", "of", "like", "is", "what's", "what", "me", "now"})
"""Words that are nobody's value on their own."""

COMMON = 3
"""In this many tools' declarations, a command verb is no tool's own (:attr:`Grounds.common`)."""

POLITE_WORDS = frozenset(w for p in POLITE_LEADS + POLITE_TAILS for w in p.split())
"""The words of what people say around a command ("can you", "for me")."""


def lead_words(tool: Tool) -> dict[str, frozenset[str]]:
    """For each free-text parameter, the words its values follow in the tool's phrasings
    ("called" before a timer's label), but plain ones ("for", "the")."""
    out: dict[str, set[str]] = {}
    for example in tool.examples:
        words = re.findall(r"[\w']+", example.say.lower())
        for key, value in example.arguments.items():
            schema = tool.properties.get(key, {})
            first = re.findall(r"[\w']+", str(value).lower())[:1]
            if "enum" in schema or schema.get("type", "string") != "string" or not first:
                continue
            out.setdefault(key, set()).update(
                words[i - 1] for i, w in enumerate(words)
                if i and w == first[0] and words[i - 1] not in PLAIN_WORDS)
    return {k: frozenset(v) for k, v in out.items()}


def phrase_words(tool: Tool) -> set[str]:
    """The words of the tool's example phrasings that are not argument values (neither in
    the example's arguments nor among a parameter's declared ``examples``)."""
    declared = {w for p in tool.properties.values() for v in p.get("examples", ())
                for w in re.findall(r"[\w']+", str(v).lower())}
    words: set[str] = set()
    for example in tool.examples:
        values = {w for v in example.arguments.values()
                  for w in re.findall(r"[\w']+", str(v).lower())}
        words |= set(re.findall(r"[\w']+", example.say.lower())) - values
    return words - declared


def _declared_words(tool: Tool) -> frozenset[str]:
    """Every word of a tool's declaration: name, description, phrasings, enum values."""
    texts = [tool.name.replace("_", " "), tool.description, *(e.say for e in tool.examples)]
    for p in tool.properties.values():
        texts += [str(p.get("description", "")), *map(str, p.get("enum", ()))]
    return frozenset(w for t in texts for w in re.findall(r"[\w']+", t.lower()))


def enum_words(tool: Tool) -> frozenset[str]:
    """The words of a tool's string enum values ("living", "room", "kitchen")."""
    return frozenset(w for p in tool.properties.values() for v in p.get("enum", ())
                     if isinstance(v, str) for w in re.findall(r"[\w']+", v.lower()))


def _claimed_words(tool: Tool) -> frozenset[str]:
    """The words a request for ``tool`` says that may be its own: its phrasings' words, its
    enum values and its name, less the plain and polite ones."""
    return frozenset(phrase_words(tool) | enum_words(tool) | set(tool.name.lower().split("_"))) \
        - PLAIN_WORDS - POLITE_WORDS


def vocabulary(toolbox: Toolbox) -> frozenset[str]:
    """Every word the declarations use: names, descriptions, phrasings, enum values."""
    return frozenset().union(*map(_declared_words, toolbox))


@dataclass(frozen=True)
class Grounds:
    """What grounding reads from the declarations, made once per toolbox (a caller makes it
    when it starts, never per request)."""

    toolbox: Toolbox
    words: frozenset[str]
    """:func:`vocabulary`: every word of every declaration."""
    leads: Mapping[str, Mapping[str, frozenset[str]]]
    """Per tool, :func:`lead_words`."""
    plain: Mapping[str, frozenset[str]]
    """Per tool, the words no free text of it is made of alone: its phrasing and plain words."""
    theirs: Mapping[str, frozenset[str]]
    """Per tool, the other tools' name and phrasing words ("light", "music") that its own
    declaration lacks."""
    named: Mapping[str, frozenset[str]]
    """Per tool, the words of the other tools' enum values ("living room")."""
    own: Mapping[str, frozenset[str]]
    """Per tool, every word of its declaration."""
    nouns: Mapping[str, frozenset[str]]
    """Per tool, the other tools' names but their first word ("timer" of start_timer, "music"
    of play_music: the thing, not the verb) that its own declaration lacks."""
    claimed: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per tool, :func:`_claimed_words`: what a request for it may say of its own."""
    phrased: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Per tool, the words of its phrasings (:func:`phrase_words`)."""
    common: frozenset[str] = frozenset()
    """Command verbs of :data:`COMMON` or more tools' declarations ("set", "turn", "switch"
    in a big home): saying one points at none of them."""

    @classmethod
    def of(cls, toolbox: Toolbox) -> Grounds:
        phrasing = {t.name: frozenset(phrase_words(t)) for t in toolbox}
        parts = {t.name: t.name.lower().split("_") for t in toolbox}
        called = {name: frozenset(p) for name, p in parts.items()}
        declared = {t.name: _declared_words(t) for t in toolbox}
        values = {t.name: enum_words(t) for t in toolbox}
        theirs, named, nouns = {}, {}, {}
        for name, own in declared.items():
            others = [o for o in declared if o != name]
            theirs[name] = frozenset().union(*(phrasing[o] | called[o] for o in others)) \
                - own - PLAIN_WORDS
            named[name] = frozenset().union(*(values[o] for o in others))
            nouns[name] = frozenset(w for o in others for w in parts[o][1:]) - own
        return cls(toolbox=toolbox, words=vocabulary(toolbox),
                   leads={t.name: lead_words(t) for t in toolbox},
                   plain={n: p | PLAIN_WORDS for n, p in phrasing.items()},
                   theirs=theirs, named=named, own=declared, nouns=nouns,
                   claimed={t.name: _claimed_words(t) for t in toolbox},
                   phrased={n: frozenset(p) for n, p in phrasing.items()},
                   common=frozenset(w for w, n in Counter(
                       w for words in declared.values() for w in words).items()
                       if n >= COMMON and w in COMMAND_VERBS))


def elsewhere(call: ToolCall, grounds: Grounds, *, later: bool = False) -> str | None:
    """Free text of ``call`` that names another tool's thing and nothing of its own ("play
    the beatles and turn the living room light on": ``query: the living room light``, a
    second play_music where set_light was meant; "stop the music" as a timer's label): what
    it names, for the reason the call is not made. A value with a word of its own tool or a
    word no declaration has ("play set fire to the rain") stands, and so does a value that is
    only another tool's enum value ("a kitchen timer"), but in a ``later`` call of the
    request, one the model added after "and": there a value made only of other tools' words
    and amounts is not one ("brighten the kitchen all the way" once added a play_music with
    ``query: the kitchen``, "all the way up" one with ``the way``)."""
    if call.name not in grounds.toolbox:
        return None
    props = grounds.toolbox[call.name].properties
    theirs, named = grounds.theirs[call.name], grounds.named[call.name]
    for key, value in call.arguments.items():
        schema = props.get(key, {})
        if "enum" in schema or schema.get("type", "string") != "string" \
                or not isinstance(value, str):
            continue
        words = set(re.findall(r"[\w']+", value.lower())) - PLAIN_WORDS
        if words & theirs and words <= theirs | named:
            return f"{key}={value!r} names another tool's {', '.join(sorted(words & theirs))}"
        if later and words and words <= named | AMOUNT_WORDS:
            return f"{key}={value!r} is no value of {call.name}"
    return None


def undeclared_action(heard: str, words: frozenset[str]) -> str | None:
    """An action verb in the request that no declaration's ``words`` use ("pause the
    timer" where no tool pauses): no tool does what was asked."""
    return next((t for t in re.findall(r"[\w']+", heard.lower())
                 if t in ACTION_VERBS and t not in words), None)


NEGATED = re.compile(r"\b(?:don't|dont|do not|never)\b(?! forget| mind| worry)")
"""A request that says not to do something ("don't turn on the porch lamp", "i don't want
any music", "no wait do not open the garage"): no call. "don't forget to lock the door"
and "never mind" are other things."""


QUESTIONS = frozenset({"did", "is", "are", "was", "were", "has", "have", "does", "do", "what",
                       "what's", "whats", "how", "how's", "which", "when", "where", "who",
                       "why", "isn't", "aren't", "didn't"})
"""First words of a question ("did i lock the front door", "is the garage door open")."""


def answers(tool: Tool) -> bool:
    """Whether a tool answers questions: one of its phrasings is one."""
    return any(_first_word(e.say) in QUESTIONS for e in tool.examples)


def unasked(call: ToolCall, tokens: Sequence[str], grounds: Grounds) -> str | None:
    """A question ("did i lock the front door") answered with a call of a tool that answers
    none (its phrasings are all commands): why the call is not made."""
    if call.name not in grounds.toolbox or _first_word(" ".join(tokens)) not in QUESTIONS \
            or answers(grounds.toolbox[call.name]):
        return None
    return f"the request is a question, and {call.name} answers none"


def _first_word(text: str) -> str:
    words = [w for w in re.findall(r"[\w']+", text.lower())]
    while words and words[0] in POLITE_WORDS - {"will", "would", "can", "could"}:
        words.pop(0)
    return words[0] if words else ""


def negated(heard: str) -> str | None:
    """The words by which the request says not to act; ``None`` where it does not."""
    found = NEGATED.search(heard.lower())
    return found.group(0) if found else None


def unrelated(call: ToolCall, tokens: Sequence[str], grounds: Grounds) -> str | None:
    """A request (its ``tokens``) that says no word of the call's tool but names another
    tool's thing ("how long is left on my timer" is no get_light_state), or nothing the call
    holds either ("what's the capital of portugal" as ``set_hvac_mode(eco, downstairs)``:
    every value invented): why the call is not made. A value taken from the words (a city,
    a number said) is something the call holds."""
    if call.name not in grounds.toolbox:
        return None
    said = set(tokens) - PLAIN_WORDS
    if said & (grounds.own[call.name] - grounds.common):
        return None
    other = said & grounds.nouns[call.name]
    if other:
        return f"the request names {', '.join(sorted(other))}, not {call.name}"
    held = {w for v in call.arguments.values() for w in re.findall(r"[\w.']+", str(v).lower())}
    return None if held & said else f"nothing said is {call.name}'s, nor any value it has"



def outweighed(call: ToolCall, tokens: Sequence[str], grounds: Grounds) -> str | None:
    """A request (its ``tokens``) that says a word only another tool claims and none that
    only the call's tool claims, against that other tool ("set a timer for the eggs" is no
    cancel_timer: "set" is start_timer's, and nothing said is cancel_timer's alone; "dim the
    lights in the bedroom" is no set_light): what the other tool has, for the reason the call
    is not made. A word of the call's tool's name counts as its own unless the other tool's
    phrasings use it ("lower the garage" is garage_door's, though "garage" is also a room
    whose brightness is set). Words are compared after :data:`PLAIN_WORDS` and politeness
    are left out; one request about one thing (no "and") is what this weighs."""
    found = outweighing(call, tokens, grounds)
    if not found:
        return None
    other, words = found[0]
    return (f"the request says {', '.join(sorted(words))} as {other} does, "
            f"and nothing of {call.name}'s own")


def outweighing(call: ToolCall, tokens: Sequence[str],
                grounds: Grounds) -> list[tuple[str, set[str]]]:
    """The tools that outweigh ``call`` in a request (see :func:`outweighed`), in declared
    order, each with the words that are its alone."""
    if call.name not in grounds.toolbox or call.name not in grounds.claimed:
        return []
    said = set(tokens) - PLAIN_WORDS - POLITE_WORDS
    mine = grounds.claimed[call.name]
    name = set(call.name.lower().split("_"))
    found = []
    for other, theirs in grounds.claimed.items():
        if other == call.name:
            continue
        for_other = said & (theirs - mine)
        for_call = (said & (mine - theirs)) | (said & (name - grounds.phrased[other]))
        if for_other and not for_call:
            found.append((other, for_other))
    return found


def takes_amount(tool: Tool) -> bool:
    """Whether a tool's call can say how much: a number, or a scale (an enum with low and
    high)."""
    return any((p.get("type") in ("integer", "number") and "enum" not in p)
               or {"low", "high"} <= set(map(str, p.get("enum", ())))
               for p in tool.properties.values())


def amount_takers(call: ToolCall, tokens: Sequence[str], grounds: Grounds) -> list[str]:
    """A request that says an amount without a number ("set the living room lights to half",
    "all the way up") for a call of a tool that takes none (set_light): the tools that take
    a 0-100 percent and share a word with the request; empty where the request says no
    amount or the call's tool takes one."""
    if call.name not in grounds.toolbox or share_said(" ".join(tokens)) is None \
            or takes_amount(grounds.toolbox[call.name]):
        return []
    said = set(tokens) - PLAIN_WORDS
    return [t.name for t in grounds.toolbox if t.name != call.name
            and any(p.get("type") in ("integer", "number")
                    and (p.get("minimum"), p.get("maximum")) == (0, 100)
                    for p in t.properties.values())
            and said & (grounds.own[t.name] - grounds.common)]


def unamounted(call: ToolCall, tokens: Sequence[str], grounds: Grounds) -> str | None:
    """An amount said for a call whose tool takes none (:func:`amount_takers`): why the
    call is not made."""
    if not amount_takers(call, tokens, grounds):
        return None
    return f"the request says an amount, and {call.name} takes none"
