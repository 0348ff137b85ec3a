"""Requests that join whole commands: "lock the back door and close the garage".

The decoder makes several calls in one walk, deciding after each whether another follows;
over two different tools it often stops after the first ("play the beatles and turn the
living room light on": only the music) or carries the first call's words into the second
("... and close the garage": ``set_light(garage, off)``). Where every part of a request is
a command of its own, each is decided alone, as if it had been said alone, and the calls
are made in the order said. A part that needs what another part says ("turn off the
kitchen and the hallway lights", "the fan and then the kitchen light") does not start with
a verb, so such a request is left to the joint walk, which sees all of it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from appliance.english import COMMAND_VERBS, POLITE_LEADS
from appliance.messages import Decision, ToolCall

_JOINS = re.compile(r"[\s,;]*\b(?:and then|and also|and|then)\b[\s,;]*")
_LEADS = sorted(POLITE_LEADS, key=len, reverse=True)


def commands_in(words: str) -> list[str] | None:
    """The parts of ``words`` when it joins two or more whole commands, each beginning with
    a command verb (after a polite lead: "and could you lock the door"); ``None`` when it
    joins fewer, or when any part is not a command on its own ("living room and kitchen
    lights on", "rock and roll", "nineteen and a half degrees")."""
    parts = [p.strip(" ,;") for p in _JOINS.split(words)]
    if len(parts) < 2 or not all(_starts_command(p) for p in parts):
        return None
    return parts


def _starts_command(part: str) -> bool:
    text = part.lower()
    for lead in _LEADS:
        if text.startswith(lead + " "):
            text = text[len(lead) + 1:]
            break
    first = text.split()[0] if text.split() else ""
    return first in COMMAND_VERBS


def decide_parts(words: str, parts: Sequence[str], decide: Callable[[str], Decision],
                 max_calls: int) -> Decision | None:
    """Each part decided alone (``decide``), the calls joined in order; ``None`` when a
    part gives no call, an error or a question (the joint walk decides then), or when the
    calls would be more than ``max_calls``. The confidence is the least sure part's."""
    decisions = [decide(p) for p in parts]
    if any(d.error is not None or not d.calls for d in decisions):
        return None
    calls: list[ToolCall] = []
    for d in decisions:
        calls.extend(c for c in d.calls if c not in calls)
    if len(calls) > max_calls:
        return None
    confidences = [d.confidence for d in decisions if d.confidence is not None]
    return Decision(text=words, calls=tuple(calls), raw="".join(d.raw for d in decisions),
                    tokens_evaluated=sum(d.tokens_evaluated for d in decisions),
                    evals=sum(d.evals for d in decisions),
                    confidence=min(confidences) if confidences else None)
