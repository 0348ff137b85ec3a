"""Optional arguments in every combination, not only the examples' own.

A config's phrasings show a few combinations of a tool's optional arguments ("large latte
with oat milk", "iced americano with three shots and caramel syrup"); people name any of
them, in any mix. For a tool with several optional parameters, each phrasing is cut into
segments, one per slot with the words that belong to it ("with {milk} milk", "and {syrup}
syrup", or a bare modifier before another slot, "{size} {drink}"), and new templates are
made from a phrasing by dropping some of its optional segments and adding others' from the
tool's other phrasings: a modifier before the slot it modified, the rest after the last
slot, joined with "with" and "and". The training data then hold combinations no example
shows, and every value of every optional parameter.
"""

from __future__ import annotations

import random
import re
from collections.abc import Sequence
from dataclasses import dataclass

CONNECTORS = frozenset({"with", "and", "plus"})
_POLITE = frozenset({"please", "thanks", "for", "now", "today"})
MIN_OPTIONAL = 3
"""Tools with fewer optional parameters keep only their examples' combinations."""

_SLOT = re.compile(r"^\{(\w+)\}([,.!?]?)$")


@dataclass(frozen=True)
class Segment:
    key: str
    words: tuple[str, ...]
    """The segment's words, its ``{key}`` among them."""
    before: str | None = None
    """A modifier: the slot it stands before ("{size}" before "{drink}")."""


def _slot(token: str) -> str | None:
    m = _SLOT.match(token)
    return m.group(1) if m else None


def segments(template: str) -> list[Segment]:
    """Each slot of ``template`` with its words (see the module)."""
    tokens = template.split()
    out = []
    for i, tok in enumerate(tokens):
        key = _slot(tok)
        if key is None:
            continue
        nxt = _slot(tokens[i + 1]) if i + 1 < len(tokens) else None
        if nxt is not None:
            out.append(Segment(key, (tok,), before=nxt))
            continue
        start = i - 1 if i > 0 and tokens[i - 1] in CONNECTORS else i
        end = i + 1
        while end < len(tokens) and _slot(tokens[end]) is None \
                and tokens[end] not in CONNECTORS and tokens[end] not in _POLITE and end - i <= 2:
            end += 1
        out.append(Segment(key, tuple(tokens[start:end])))
    return out


def recombined(templates: Sequence[str], optional: set[str], rng: random.Random,
               count: int) -> list[str]:
    """Up to ``count`` new templates with other mixes of the ``optional`` slots."""
    pool: dict[str, list[Segment]] = {}
    for t in templates:
        for seg in segments(t):
            if seg.key in optional:
                pool.setdefault(seg.key, []).append(seg)
    if len(pool) < 2:
        return []
    made: set[str] = set(templates)
    out: list[str] = []
    for attempt in range(count * 10):
        if len(out) >= count:
            break
        base = templates[attempt % len(templates)].split()
        # Drop some of the base's optional segments.
        for seg in segments(" ".join(base)):
            if seg.key in optional and rng.random() < 0.5:
                base = _without(base, seg)
        have = {k for k in (_slot(t) for t in base) if k}
        missing = [k for k in pool if k not in have]
        rng.shuffle(missing)
        for key in missing[:rng.randint(0, min(3, len(missing)))]:
            base = _with(base, rng.choice(pool[key]))
        text = " ".join(base)
        if text not in made and _slot_count(text) >= 1:
            made.add(text)
            out.append(text)
    return out


def _slot_count(text: str) -> int:
    return sum(_slot(t) is not None for t in text.split())


def _without(tokens: list[str], seg: Segment) -> list[str]:
    n = len(seg.words)
    for i in range(len(tokens) - n + 1):
        if tuple(tokens[i:i + n]) == seg.words:
            rest = tokens[:i] + tokens[i + n:]
            if seg.words[0] == "with" and i < len(rest) and rest[i] == "and":
                rest[i] = "with"  # "with 3 shots and caramel syrup" -> "with caramel syrup"
            return rest
    return tokens


def _with(tokens: list[str], seg: Segment) -> list[str]:
    slots = [i for i, t in enumerate(tokens) if _slot(t) is not None]
    if seg.before is not None:
        at = next((i for i in slots if _slot(tokens[i]) == seg.before), None)
        if at is not None:
            return tokens[:at] + list(seg.words) + tokens[at:]
    words = list(seg.words)
    if words[0] not in CONNECTORS:
        words = ["with", *words]
    if any(t == "with" for t in tokens):
        words[0] = "and"
    if not slots:
        return tokens + words
    last = slots[-1] + 1  # after the last slot and the words that belong to it
    while last < len(tokens) and last - slots[-1] <= 2 and _slot(tokens[last]) is None \
            and tokens[last] not in CONNECTORS and tokens[last] not in _POLITE:
        last += 1
    return tokens[:last] + words + tokens[last:]

