"""Asking back: a held call put as a question, and the yes or no that answers it.

The request core holds a call that needs a yes before it runs (a tool marked ``confirm:
true``, or a call the tool caller is unsure of: ``model.ask_below``) and says it as a
question made from the tool's own example phrasings (:func:`question`: "should I turn on
the bedroom light?"). A way in that can hear the answer (the microphone) keeps the open
question in an :class:`OpenQuestion` and gives the next words to :func:`answer_of`: a yes
runs the held call once, a no (or a new command instead of an answer, or silence until
the question expires) drops it. Over MQTT the held result carries the question and the
confirmation token, and ``confirm`` answers it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from appliance.english import COMMAND_VERBS, POLITE_LEADS, POLITE_TAILS
from appliance.messages import Outcome, ToolCall
from appliance.tools import Tool

YES = ("yes", "yeah", "yep", "yup", "sure", "correct", "right", "ok", "okay", "do it",
       "go ahead", "confirm", "that's right", "yes please", "please do", "of course")
"""What answers a question with yes, alone or after "yes"; nothing longer."""
NO = ("no", "nope", "nah", "cancel", "don't", "do not", "stop", "never mind", "wrong",
      "no thanks", "no thank you", "not that", "forget it")
"""What answers it with no."""
_FILLER = frozenset({"please", "thanks", "thank", "you", "um", "uh", "oh", "well"})
_YES = frozenset(YES)
_NO = frozenset(NO)


def answer_of(words: str) -> bool | None:
    """``True`` for a yes, ``False`` for a no, ``None`` for words that answer nothing (a
    new command: "no" inside "no, the kitchen light" is not taken)."""
    said = re.findall(r"[\w']+", words.lower())
    core = " ".join(w for w in said if w not in _FILLER) or " ".join(said)
    if core in _NO or " ".join(said) in _NO:
        return False
    if core in _YES or " ".join(said) in _YES:
        return True
    return None


ANSWER_CONFIDENCE = 0.4
"""The recogniser's confidence a transcript that is only a yes or a no needs to be taken as
the answer to an open question (one or two words score lower than a command: "yes" alone,
heard exactly, 0.5); a command needs more."""


def answer_words(heard: str, confidence: float | None) -> str | None:
    """Words the recogniser heard but refused as a command, to take as the answer to an
    open question: only a yes or a no, and only if it was sure enough of them."""
    if heard and answer_of(heard) is not None and (confidence is None
                                                   or confidence >= ANSWER_CONFIDENCE):
        return heard
    return None


def question(tool: Tool, call: ToolCall) -> str:
    """The held ``call`` as a question, in the words of an example phrasing of ``tool``
    that says every argument the call has, the one sharing most of its values first ("turn
    on the kitchen light" for ``set_light(room=bedroom, state=on)``: "should I turn on the
    bedroom light?"); a tool whose examples do not fit is named with its arguments."""
    return f"{ASK}{phrase(tool, call)}?"


ASK = "should I "


def together(questions: Sequence[str]) -> str:
    """The questions of one request's held calls as one ("should I turn off the kitchen
    light and lock the front door?"): one yes answers them all."""
    if len(questions) == 1 or not all(q.startswith(ASK) and q.endswith("?")
                                      for q in questions):
        return " ".join(questions)
    asked = [q[len(ASK):-1] for q in questions]
    return f"{ASK}{', '.join(asked[:-1])} and {asked[-1]}?"


def phrase(tool: Tool, call: ToolCall) -> str:
    """``call`` in the words of one of ``tool``'s example phrasings (see :func:`question`)."""
    # The examples with the same arguments: one that starts with a verb first ("is it going
    # to rain in london" or "weather in madrid" is no way to ask "should I ...?"), then the
    # one that shares most values (an "up to high" phrasing is no way to say "off").
    same = sorted((e for e in tool.examples if set(e.arguments) == set(call.arguments)),
                  key=lambda e: (_mood(e.say), -sum(e.arguments[k] == v
                                                     for k, v in call.arguments.items())))
    for example in same:
        if len(example.spans) == len(example.arguments):  # every value is said
            said = _plain(example.filled({k: _spoken(v) for k, v in call.arguments.items()}))
            return " ".join(_TURNED.get(w, w) for w in said.split(" "))
    named = tool.name.replace("_", " ")
    args = ", ".join(f"{k.replace('_', ' ')} {_spoken(v)}" for k, v in call.arguments.items())
    return f"{named} with {args}" if args else named


NOT_COMMANDS = frozenset({"is", "are", "was", "what", "what's", "whats", "how", "how's",
                          "will", "does", "do", "did", "when", "where", "who", "which", "why",
                          "i", "i'm", "i'd", "i'll", "let", "let's", "we", "we're", "it's"})
"""First words of a phrasing that is a question or a statement, not a command: "should I"
cannot go before it."""
_TURNED = {"me": "you", "my": "your", "myself": "yourself"}
"""The phrasing's person turned for the question: "tell me the weather" is asked back as
"should I tell you the weather?"."""


def _mood(say: str) -> int:
    """0 for a phrasing that starts with a verb, 2 for a question or a statement, 1 else."""
    words = _plain(say).lower().split()
    first = words[0] if words else ""
    return 0 if first in COMMAND_VERBS else 2 if first in NOT_COMMANDS else 1


_LEADS = sorted(POLITE_LEADS, key=len, reverse=True)
_TAILS = sorted(POLITE_TAILS, key=len, reverse=True)
"""Longest first, so that "could you please" goes before "could you"."""


def _plain(text: str) -> str:
    """A phrasing without the politeness around it: "can you unlock the front door for me"
    asked back is "should I unlock the front door?"."""
    changed = True
    while changed:
        changed = False
        for lead in _LEADS:
            if text.lower().startswith(lead + " ") and len(text) > len(lead) + 1:
                text, changed = text[len(lead) + 1:], True
        for tail in _TAILS:
            if text.lower().endswith(" " + tail) and len(text) > len(tail) + 1:
                text, changed = text[: -len(tail) - 1], True
    return text


def _spoken(value: object) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class Asked:
    """A question the appliance asked: the held call's request and confirmation token."""

    request_id: str
    tokens: tuple[str, ...]
    """One per held call of the request: one yes runs them all, in order."""
    expires: float


@dataclass(frozen=True)
class Answering:
    """How a way in carries out an answer: ``confirm(request_id, token)`` runs a held call
    once (``None``: it had expired), ``decline(request_id, token)`` drops it."""

    confirm: Callable[[str, str], Outcome | None]
    decline: Callable[[str, str], bool]


class OpenQuestion:
    """The one question a way in waits to hear answered (a new one replaces it)."""

    def __init__(self, timeout_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self._clock = clock
        self._asked: Asked | None = None

    def ask(self, outcome: Outcome | None) -> Asked | None:
        """Remember the question ``outcome`` asks, if it holds a call; what it replaces
        stays held in the core until it expires there."""
        tokens = tuple(r.pending_confirmation for r in outcome.results
                       if r.pending_confirmation) if outcome is not None else ()
        if outcome is None or not tokens:
            return None
        self._asked = Asked(outcome.id, tokens, self._clock() + self.timeout_s)
        return self._asked

    @property
    def open(self) -> Asked | None:
        if self._asked is not None and self._asked.expires <= self._clock():
            self._asked = None
        return self._asked

    def close(self) -> None:
        """Forget the open question (the input started again)."""
        self._asked = None

    def answer(self, words: str) -> tuple[Asked, bool | None] | None:
        """The open question, closed, and what ``words`` answer it (``None``: no answer, a
        new command: the question is dropped and the words are a request of their own);
        ``None`` when no question is open."""
        asked, self._asked = self.open, None
        return None if asked is None else (asked, answer_of(words))

    def words(self, command: str | None, heard: str, confidence: float | None) -> str | None:
        """What to act on: the ``command`` the recogniser accepted, or, while a question is
        open, the words it ``heard`` but refused when they are only a yes or a no and it was
        sure enough of them (:func:`answer_words`: "yes" alone scores low)."""
        if command is None and self.open is not None:
            return answer_words(heard, confidence)
        return command

    def settle(self, words: str, answering: Answering) -> tuple[bool, Outcome] | None:
        """The open question answered by ``words``, carried out (:func:`reply`): whether it
        was a yes, and what was done. ``None`` when no question is open, or when the words
        are a new command instead of an answer: the question's calls are then declined and
        the words are a request of their own."""
        answered = self.answer(words)
        if answered is None:
            return None
        asked, yes = answered
        outcome = reply(asked, bool(yes), words, answering)
        return None if yes is None else (yes, outcome)


def reply(asked: Asked, yes: bool, words: str, answering: Answering) -> Outcome:
    """Carry out the answer: each held call of ``asked`` confirmed (run once, in order) or
    declined; the outcome says what was done."""
    if not yes:
        for token in asked.tokens:
            answering.decline(asked.request_id, token)
        return Outcome(asked.request_id, words, error="asked back and declined: nothing done")
    done = [o for token in asked.tokens
            if (o := answering.confirm(asked.request_id, token)) is not None]
    ran = [o for o in done if o.call is not None]
    if not ran:
        return Outcome(asked.request_id, words,
                       error="the question expired before the answer: nothing done")
    return Outcome(asked.request_id, words, calls=tuple(o.call for o in ran if o.call),
                   results=tuple(o.result for o in ran if o.result),
                   ms=sum(o.ms for o in ran))
