"""Training data synthesized from the tool declarations.

Every example phrasing in the config is a template: the argument values found in its
words become slots, refilled with every enum value, numbers written as digits and as
words (as speech-to-text writes them), and the values a string parameter lists under
``examples``. Paraphrase patterns wrap them (fillers before and after, dropped articles);
most samples are lower case without punctuation, like a transcript. Every tool gets about
the same number of samples. Requests that no tool serves are added as no-call samples. The
tool caller writes spelled numbers as digits before the model reads a sample, as it does
for every request, and the held-out check compares utterances in that form.

Nothing here knows the demo home: it works from the declarations alone.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from appliance.english import (
    durations_in_minutes,
    lookalikes,
    normalize_numbers,
    spell_number,
    stt_style,
)
from appliance.finetune.everyday import Template, everyday, template_pattern
from appliance.finetune.samples import Sample
from appliance.messages import ToolCall
from appliance.tools import Example, Tool

PREFIXES = ["", "", "", "", "", "please ", "hey ", "can you ", "could you ", "would you ",
            "ok ", "okay ", "i want to ", "go ahead and ", "i'd like you to ", "quick ", "um ",
            "can you please ", "hey can you ", "would you mind ", "i need you to ", "alright ",
            "so ", "uh ", "please could you "]
SUFFIXES = ["", "", "", "", "", " please", " now", " for me", " thanks", " right now",
            " thank you", " please thanks", " if you can", " real quick", " for me please"]
# Words a terse speaker (or a speech recognizer) drops.
_DROPPABLE = frozenset({"the", "a", "please", "to", "my", "some"})

# Requests a home appliance hears that no declared tool serves. Deliberately generic,
# and checked against the held-out test set so that no test sentence is trained on.
NO_TOOL = [
    "what's the population of canada", "tell me something interesting", "how old is the earth",
    "who wrote hamlet", "what does photosynthesis mean", "convert ten miles to kilometers",
    "turn on the radio", "switch on the coffee machine", "open the blinds",
    "start the washing machine", "turn on the sprinklers", "lower the blinds in the bedroom",
    "turn on the television in the living room", "play the next episode", "call mom",
    "text dave that i'm late", "email my boss", "what day is it today", "wake me up at six",
    "set an alarm for tomorrow", "buy more coffee", "order a taxi", "what's for dinner",
    "how do i boil an egg", "remind me to call the dentist", "what's on my calendar",
    "how are you today", "what's your name", "good night", "hello there", "never mind",
    "stop", "that's all", "what can you do", "tell me a story", "recite a poem",
    "what is two plus two", "how many days until christmas", "spell necessary",
    "how tall is mount everest", "who is the president", "what's the news today",
    "put eggs on the shopping list", "turn on the dishwasher", "clean the kitchen",
    "walk the dog", "is the door open", "where is my phone", "find my wallet",
    "how much is a bitcoin", "what's the exchange rate for euros", "recommend a movie",
    "lock the car", "open the trunk", "turn on the heated seats", "start the lawn mower",
    "charge the car", "turn on the hot tub", "open the gate", "ring the doorbell",
    "what's the wifi password", "restart the router", "take a picture", "record a video",
    "translate thank you into french", "define serendipity", "flip a coin", "roll a die",
    "yes", "no", "maybe later", "okay", "thanks a lot", "you're welcome", "bye",
    # Near misses: things a home hears about the same devices that no declaration can do.
    "pause the music", "stop the music", "skip this song", "turn the volume up",
    "how much time is left on the timer", "is the front door locked",
    "is the garage door open", "preheat the oven to three hundred fifty degrees",
    "turn on the oven", "open the window", "close the curtains", "start the robot vacuum",
    "water the plants", "feed the cat", "what time is it", "set an alarm for seven thirty",
    "how's the traffic on the way to work", "what's the score of the game",
    "who sang that song", "what song is this", "add milk to my shopping list",
    "turn on the air purifier", "what's the humidity inside", "how much battery is left",
    "read me my messages", "what's my next meeting", "is it a holiday today",
    "set an alarm for six am", "wake me up at seven", "remind me to take out the trash tonight",
    "sing me a song", "let's play a game", "what's playing right now", "tell me a joke",
    "how long do i boil pasta", "what's the thermostat set to",
    # Questions about a device's state, and actions on them that no tool declares.
    "is the heating on", "is the fan still running", "are the doors locked", "is the oven on",
    "is the garage closed", "what speed is the fan on", "what temperature is it set to",
    "is the tv on", "are the windows shut", "is the back door open", "is the alarm set",
    "what's the brightness in here", "how bright is it in the living room",
    "undo that", "undo", "go back", "pause", "resume", "resume the song", "rewind a bit",
    "next song", "previous track", "play the last song again", "snooze", "pause the timer",
    "add two minutes to the timer", "mute", "make it louder", "quieter please",
    "repeat that", "shuffle", "like this song", "stop the alarm", "turn off the alarm",
    "translate good night into german", "what's french for cheese",
]


# Sums a home hears ("what's twelve times eight"): numbers that are not a timer or a
# temperature. Made with numbers drawn per sample.
ARITHMETIC = ["what's {a} times {b}", "what is {a} plus {b}", "how much is {a} minus {b}",
              "what's {a} divided by {b}", "{a} times {b}", "{a} plus {b}",
              "what is {a} percent of {b}", "how many minutes are in {a} hours",
              "convert {a} degrees fahrenheit to celsius", "what's the square root of {b}"]


def template_of(example: Example) -> tuple[str, dict[str, str]]:
    """An example phrasing as a template: each argument value it says becomes ``{key}``;
    and those values by key, as said."""
    template = example.filled({key: "{" + key + "}" for key in example.spans})
    return template, {key: str(example.arguments[key]) for key in example.spans}


def _values(schema: Mapping[str, Any], rng: random.Random, count: int) -> list[Any]:
    if "enum" in schema:
        return list(schema["enum"])
    kind = schema.get("type")
    if kind in ("integer", "number"):
        lo = int(schema.get("minimum", 1))
        hi = int(min(schema.get("maximum", 100), lo + 120))
        picks: set[float] = {rng.randint(lo, hi) for _ in range(count)}
        picks.update(v for v in (lo, hi) if lo <= v <= hi)
        if kind == "number" and hi > lo:  # halves too: "nineteen and a half" is 19.5
            picks.update(rng.randint(lo, hi - 1) + 0.5 for _ in range(max(1, count // 3)))
        return sorted(picks)
    pool = schema.get("examples")
    if isinstance(pool, list) and pool:
        return list(pool)
    return []


def _render(value: Any, rng: random.Random) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return spell_number(value) if rng.random() < 0.5 else str(value)
    if isinstance(value, float) and value.is_integer():
        return _render(int(value), rng)
    if isinstance(value, float) and (value * 2).is_integer():
        whole = spell_number(int(value))
        return rng.choice([str(value), f"{whole} and a half", f"{whole} point five"])
    return str(value)


def _terse(text: str, rng: random.Random) -> str:
    """Drop a filler word or two, as terse speech and recognizers do."""
    words = text.split()
    keep = [w for w in words if w.lower() not in _DROPPABLE or rng.random() < 0.5]
    return " ".join(keep) if len(keep) >= 2 else text


def synthesize(tools: Sequence[Tool], *, seed: int = 7, per_template: int = 12,
               per_tool: int = 0, no_tool: Sequence[str] = NO_TOOL,
               avoid: Sequence[str] = (), string_weight: float = 1.6,
               decoy_share: float = 0.3, everyday_count: int = 70,
               max_calls: int = 8) -> list[Sample]:
    """Training samples for ``tools``: paraphrased, slot-filled, plus no-call requests.

    Each example phrasing gives ``per_template`` draws; a tool with fewer than ``per_tool``
    distinct samples after that (few phrasings, few argument values) gets more draws from
    its phrasings, so that every tool is about equally represented; a tool with a free string
    parameter gets ``string_weight`` times as many (copying a value word for word is the
    hardest decision: over the whole vocabulary, one per token). Where a phrasing names
    something from an enum ("the {room} light"), about ``decoy_share`` x ``per_tool`` more
    samples put an undeclared lookalike there ("the garden light") and expect no call: a
    name the tool does not have must not be forced onto one it has. A sample that contains
    one of the ``avoid`` utterances (held-out sentences, see :func:`leaks`) is not made.
    About ``everyday_count`` samples of each everyday behaviour (:mod:`.everyday`: several
    calls, all, negation, missing values, intensity words) are added. A no-call sample
    that reads as an instance of a tool's phrasing (its values from the declaration) is
    not made: no-call samples never contradict the tools.
    """
    rng = random.Random(seed)
    samples: dict[str, Sample] = {}
    held = HeldOut(avoid)
    # A no-call sample must never read as one of the tools' own phrasings.
    patterns = [template_pattern(Template(tool, template_of(e)[0].lower(),
                                          {}, {}))
                for tool in tools for e in tool.examples]
    every_template: list[Template] = []

    def contradicts(text: str) -> bool:
        said = normalized(text)
        return any(p.fullmatch(said) for p in patterns)

    def put(text: str, call: ToolCall | None, more: tuple[ToolCall, ...] = (),
            missing: tuple[str, str] | None = None, *, negation: bool = False) -> bool:
        """Wrap ``text`` in a filler, maybe as a transcript; keep it if new and not held out."""
        text = rng.choice(PREFIXES) + text + rng.choice(SUFFIXES)
        text = stt_style(text) if rng.random() < 0.85 else text
        if text in samples or held.found(text):
            return False
        if call is None and missing is None and not negation and contradicts(text):
            return False
        samples[text] = Sample(text, call, more, missing)
        return True

    for tool in tools:
        props = tool.properties
        templates = []
        for example in tool.examples:
            template, slots = template_of(example)
            fixed = {k: v for k, v in example.arguments.items() if k not in slots}
            choices = {k: _values(props[k], rng, per_template) or [slots[k]] for k in slots}
            templates.append((template, fixed, choices))
            every_template.append(Template(tool, template, fixed, choices))
        count = 0

        def draw(template: str, fixed: Mapping[str, Any], choices: Mapping[str, list[Any]],
                 name: str = tool.name) -> bool:
            args = dict(fixed)
            # Terse before filling the slots, so that values keep every word.
            text = _terse(template, rng) if rng.random() < 0.15 else template
            for key, options in choices.items():
                value = rng.choice(options)
                args[key] = value
                text = text.replace("{" + key + "}", _render(value, rng))
            return put(text, ToolCall(name, args))

        for template, fixed, choices in templates:
            for _ in range(per_template):
                count += draw(template, fixed, choices)
        free = any(p.get("type", "string") == "string" and "enum" not in p
                   for p in props.values())
        target = int(per_tool * (string_weight if free else 1.0))
        tries = 0
        while templates and count < target and tries < 50 * target:
            count += draw(*templates[tries % len(templates)])
            tries += 1
        # Near misses: a named thing (an enum value after "the") that the tool does not have.
        decoys = {k: lookalikes(p.get("enum", ())) for k, p in props.items() if "enum" in p}
        named = [(t, c, k) for t, _, c in templates for k in c
                 if decoys.get(k) and f"the {{{k}}}" in t]
        made, tries = 0, 0
        while named and made < decoy_share * per_tool and tries < 50 * per_tool:
            template, choices, key = named[tries % len(named)]
            tries += 1
            text = template.replace("{" + key + "}", rng.choice(decoys[key]))
            for other, options in choices.items():  # the decoy's own slot is already filled
                text = text.replace("{" + other + "}", _render(rng.choice(options), rng))
            made += put(text, None)
    for text, calls, missing in everyday(every_template, rng, _render, count=everyday_count,
                                         max_calls=max_calls):
        put(text, calls[0] if calls else None, calls[1:], missing,
            negation=not calls and missing is None)
    for template in ARITHMETIC:
        for _ in range(3):
            a, b = rng.randint(2, 60), rng.randint(2, 144)
            put(template.format(a=_render(a, rng), b=_render(b, rng)), None)
    for text in no_tool:
        for variant in sorted({text, stt_style(rng.choice(PREFIXES) + text)}):
            if not held.found(variant) and not contradicts(variant):
                samples.setdefault(variant, Sample(variant, None))
    out = list(samples.values())
    rng.shuffle(out)
    return out


def normalized(text: str) -> str:
    """The form in which two utterances count as the same: what the model would read."""
    # Durations too: "one hour" and "60 minutes" read the same where the tools count minutes.
    return " ".join(durations_in_minutes(normalize_numbers(stt_style(text))).split())


# Politeness around a request ("um ... please") does not change it. Ties in alphabetical
# order: a set's order (and so the data) changes with the hash seed.
_AROUND = sorted({" ".join(stt_style(p).split()) for p in (*PREFIXES, *SUFFIXES)} - {""},
                 key=lambda filler: (-len(filler), filler))
# A held-out sentence this long also counts as seen inside a longer sample ("start a timer
# for 45 minutes called tea"); a shorter one ("set a timer", "lock the back door") is a
# part of many different requests, and only counts as seen in a sample that is it with
# politeness around it (else the model learns to refuse the commonest ways to ask).
CONTAINED_WORDS = 6


def _core(text: str) -> str:
    """``text`` (normalized) without the politeness it starts and ends with."""
    words = f" {text} "
    changed = True
    while changed:
        changed = False
        for filler in _AROUND:
            if words.startswith(f" {filler} ") and len(words) > len(filler) + 2:
                words, changed = words[len(filler) + 1:], True
            if words.endswith(f" {filler} ") and len(words) > len(filler) + 2:
                words, changed = words[: -len(filler) - 1], True
    return words.strip()


class HeldOut:
    """Held-out sentences, and which of them a training sample would be."""

    def __init__(self, texts: Sequence[str]) -> None:
        self._cores: dict[str, list[str]] = {}
        self._long: list[tuple[str, str]] = []
        for text in texts:
            said = normalized(text)
            self._cores.setdefault(_core(said), []).append(text)
            if len(said.split()) >= CONTAINED_WORDS:
                self._long.append((f" {said} ", text))

    def found(self, sample: str) -> list[str]:
        """The held-out sentences that ``sample`` is (politeness aside) or contains whole."""
        said = normalized(sample)
        inside = f" {said} "
        return [*self._cores.get(_core(said), ()), *(t for n, t in self._long if n in inside)]


def leaks(train: Sequence[Sample], test_texts: Sequence[str]) -> list[str]:
    """Test utterances that the training data contain (after normalization)."""
    held = HeldOut(test_texts)
    hit = {t for s in train for t in held.found(s.text)}
    return [t for t in test_texts if t in hit]


def drop_leaks(train: Sequence[Sample],
               test_texts: Sequence[str]) -> tuple[list[Sample], list[str]]:
    """``train`` without the samples that contain a test utterance; and those utterances."""
    held = HeldOut(test_texts)
    keep: list[Sample] = []
    hit: set[str] = set()
    for s in train:
        found = held.found(s.text)
        hit.update(found)
        if not found:
            keep.append(s)
    return keep, sorted(hit)
