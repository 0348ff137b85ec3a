"""Training data synthesized from the tool declarations.

Every example phrasing in the config is a template: the argument values found in its
words become slots, refilled with every enum value, numbers written as digits and as
words (as speech-to-text writes them), and the values a string parameter lists under
``examples``. Paraphrase patterns wrap them; most samples are lower case without
punctuation, like a transcript. Requests that no tool serves are added as no-call samples.

Nothing here knows the demo home: it works from the declarations alone.
"""

from __future__ import annotations

import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from appliance.messages import ToolCall
from appliance.tools import Tool

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
         "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen",
         "eighteen", "nineteen"]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

PREFIXES = ["", "", "", "please ", "hey ", "can you ", "could you ", "would you ", "ok ",
            "i want to ", "go ahead and ", "i'd like you to ", "quick ", "um "]
SUFFIXES = ["", "", "", " please", " now", " for me", " thanks", " right now", " thank you"]

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
]


def number_words(n: int) -> str:
    """English words for 0..9999, the way speech-to-text writes them."""
    if n < 0:
        return "minus " + number_words(-n)
    if n < 20:
        return _ONES[n]
    if n < 100:
        return _TENS[n // 10] + ("" if n % 10 == 0 else " " + _ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return _ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + number_words(rest))
    rest = n % 1000
    return number_words(n // 1000) + " thousand" + ("" if rest == 0 else " " + number_words(rest))


def stt_style(text: str) -> str:
    """Lower case, no punctuation except apostrophes: what a transcript looks like."""
    text = re.sub(r"[^\w\s'-]", " ", text.lower())
    return " ".join(text.split())


@dataclass(frozen=True)
class Sample:
    """One utterance and the call it should produce (``None``: no tool applies)."""

    text: str
    call: ToolCall | None


def _slots(tool: Tool, say: str, arguments: Mapping[str, Any]) -> tuple[str, dict[str, str]]:
    """Turn an example phrasing into a template: found argument values become {slots}."""
    template = say
    slots: dict[str, str] = {}
    # Longest values first, so "living room" is found before "room".
    for key, value in sorted(arguments.items(), key=lambda kv: -len(str(kv[1]))):
        text = str(value)
        match = re.search(rf"(?<![\w]){re.escape(text)}(?![\w])", template, re.IGNORECASE)
        if match:
            template = template[: match.start()] + "{" + key + "}" + template[match.end():]
            slots[key] = text
    return template, slots


def _values(schema: Mapping[str, Any], rng: random.Random, count: int) -> list[Any]:
    if "enum" in schema:
        return list(schema["enum"])
    kind = schema.get("type")
    if kind in ("integer", "number"):
        lo = int(schema.get("minimum", 1))
        hi = int(min(schema.get("maximum", 100), lo + 120))
        picks = {rng.randint(lo, hi) for _ in range(count)}
        picks.update(v for v in (lo, hi) if lo <= v <= hi)
        return sorted(picks)
    pool = schema.get("examples")
    if isinstance(pool, list) and pool:
        return list(pool)
    return []


def _render(value: Any, rng: random.Random) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return number_words(value) if rng.random() < 0.5 else str(value)
    return str(value)


def synthesize(tools: Sequence[Tool], *, seed: int = 7, per_template: int = 12,
               no_tool: Sequence[str] = NO_TOOL) -> list[Sample]:
    """Training samples for ``tools``: paraphrased, slot-filled, plus no-call requests."""
    rng = random.Random(seed)
    samples: dict[str, Sample] = {}
    for tool in tools:
        props = tool.properties
        for example in tool.examples:
            template, slots = _slots(tool, example.say, example.arguments)
            fixed = {k: v for k, v in example.arguments.items() if k not in slots}
            choices = {k: _values(props[k], rng, per_template) or [slots[k]] for k in slots}
            for _ in range(per_template):
                args = dict(fixed)
                text = template
                for key in slots:
                    value = rng.choice(choices[key])
                    args[key] = value
                    text = text.replace("{" + key + "}", _render(value, rng))
                text = rng.choice(PREFIXES) + text + rng.choice(SUFFIXES)
                text = stt_style(text) if rng.random() < 0.85 else text
                samples.setdefault(text, Sample(text, ToolCall(tool.name, args)))
    for text in no_tool:
        for variant in {text, stt_style(rng.choice(PREFIXES) + text)}:
            samples.setdefault(variant, Sample(variant, None))
    out = list(samples.values())
    rng.shuffle(out)
    return out


def normalized(text: str) -> str:
    return " ".join(stt_style(text).split())


def leaks(train: Sequence[Sample], test_texts: Sequence[str]) -> list[str]:
    """Test utterances that also appear in the training data (after normalization)."""
    seen = {normalized(s.text) for s in train}
    return [t for t in test_texts if normalized(t) in seen]


def iter_jsonl(rows: Sequence[Sample]) -> Iterator[dict[str, Any]]:
    for s in rows:
        yield {"text": s.text, "call": s.call.to_dict() if s.call else None}
