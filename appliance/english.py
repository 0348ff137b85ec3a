"""English as this appliance hears it: number words, synonyms, lookalike names, transcript style.

One module for the words every stage shares: the tool caller writes spelled numbers as
digits before the model reads a request (:func:`normalize_numbers`, :func:`durations_in_minutes`),
the speech grammar spells digits as a recogniser writes them (:func:`spell_number`), and
training writes samples in a transcript's style (:func:`stt_style`) with lookalike names
(:func:`lookalikes`) as near misses.

Inverse text normalization, conservatively (only number words change):

- cardinals up to the thousands: "forty five" -> 45, "a hundred" -> 100,
  "one hundred and twenty" -> 120, "twenty-one" -> 21, "twelve hundred" -> 1200;
- decimals and halves after a number: "twenty one point five" -> 21.5,
  "twenty and a half" -> 20.5;
- a lone "one" only before a unit ("one minute" -> 1 minute): elsewhere it is usually a
  pronoun ("the one in the kitchen");
- numbers that cannot be one number stay apart: "nineteen eighty four" -> "19 84".

Everything else (case, punctuation, other words) is left as it was; where a number changed,
runs of whitespace become one space. Pure and fast: they run on every utterance and sample.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping

ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]
TEENS = ["ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen",
         "seventeen", "eighteen", "nineteen"]
TENS = ["twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]

# Intensity words: an amount said without a number ("full brightness", "all the way down",
# "the fan at full speed"). Training puts them where a phrasing says a 0-100 percent or
# an ordered enum's value; grounding takes them as a number said (:data:`AMOUNT_WORDS`).
TOP = ["full", "max", "maximum", "full speed", "full blast", "the highest setting", "top speed",
       "the highest"]
BOTTOM = ["the lowest setting", "the slowest", "minimum", "the lowest", "the slowest speed"]
PERCENT_TOP = ["full", "full brightness", "the max", "maximum", "all the way up", "max"]
PERCENT_BOTTOM = ["nothing", "zero", "all the way down", "the minimum"]
PERCENT_HALF = ["half", "halfway", "half brightness"]
_NOT_AMOUNTS = frozenset({"the", "all", "up", "down", "brightness"})
AMOUNT_WORDS = frozenset(w for phrase in PERCENT_TOP + PERCENT_BOTTOM + PERCENT_HALF
                         for w in phrase.split() if w not in _NOT_AMOUNTS) | {
                             "fully", "brightest", "highest", "lowest"}
"""Words that say an amount of a bounded number: a required number may come from them."""

_AS_POSSIBLE = r"as (?:{}) as (?:possible|it goes|it can go)"
_EXTREMES = ((1.0, TOP + PERCENT_TOP, "bright|high|fast|loud|strong"),
             (0.0, BOTTOM + PERCENT_BOTTOM, "dim|low|slow|quiet|soft"), (0.5, PERCENT_HALF, ""))
_WAYS = ((1.0, re.compile(r"\b(?:brighten|raise|increase|up)\b")),
         (0.0, re.compile(r"\b(?:dim|lower|decrease|reduce|down)\b")))


def share_said(text: str) -> float | None:
    """The share of a bounded amount that ``text`` says without a number: 1.0 for "full",
    "all the way up", "as bright as possible" or "brighten ... all the way", 0.0 for "all the
    way down" or "the lowest setting", 0.5 for "half"; ``None`` for none or two."""
    found = {share for share, phrases, most in _EXTREMES
             if any(re.search(rf"(?<!\w){re.escape(p)}(?!\w)", text) for p in phrases)
             or (most and re.search(_AS_POSSIBLE.format(most), text))}
    if not found and re.search(r"\ball the way\b", text):
        found = {share for share, way in _WAYS if way.search(text)}
    return found.pop() if len(found) == 1 else None

# Words a phrasing may drop, and words that stand in for each other: "switch off the
# bedroom light" says what "turn off the bedroom lights" says. Nothing tool-specific.
ACTION_VERBS = frozenset({"pause", "unpause", "resume", "snooze", "rewind", "skip", "mute",
                          "unmute", "extend", "add", "shuffle", "replay", "restart", "postpone",
                          "remind", "translate", "define", "spell", "email", "undo"})
"""Verbs of actions a home is asked for that a tool does only where its declaration says
so ("pause the music", "add five minutes to the timer")."""
LATER = re.compile(r"\b(?:in|after) (?:\d+(?:\.\d+)?|an?|a few|a couple of) (?:seconds?|secs?|"
                   r"minutes?|mins?|hours?|hrs?)\b|\bat \d+(?: \d+)? ?(?:am|pm|o'clock)\b")
"""A time later than now in a request, as normalization writes it ("in 10 minutes", "at 7
pm"): an action for later is no action for now ("turn off the kitchen light in 10 minutes")."""
COMMAND_VERBS = frozenset({
    "turn", "switch", "set", "start", "begin", "stop", "open", "close", "shut", "lock", "unlock",
    "play", "put", "check", "tell", "give", "show", "make", "dim", "brighten", "raise", "lower",
    "cancel", "get", "find", "send", "bring", "run", "heat", "cool", "change", "call", "add",
    "remove", "take", "keep"})
"""Verbs a command starts with: a phrasing asked back in ("should I check the weather for
london?"), and a whole command joined to another ("lock the back door and close the garage")."""
POLITE_LEADS = ("please", "can you", "could you", "would you", "will you", "hey", "ok", "okay",
                "i want to", "i'd like to", "go ahead and", "please can you")
"""What people say before a command without changing it."""
POLITE_TAILS = ("please", "now", "thanks", "thank you", "for me", "right now")
"""What people say after a command without changing it."""

OPTIONAL = frozenset({"the", "a", "an", "some", "my", "please", "to", "up", "down"})
SYNONYMS = [["turn", "switch"], ["set", "make", "change"], ["close", "shut"],
            ["what's", "what is"], ["start", "begin"], ["light", "lights", "lamp", "lamps"],
            ["minute", "minutes"], ["degree", "degrees"], ["door", "doors"], ["fan", "fans"],
            ["is it", "will it", "is it going to"], ["in", "for", "at"]]

# Words that sound like the names a home uses but may be none of them ("turn on the garden
# light" where the home has a garage). :func:`lookalikes` keeps those a tool does not use.
LOOKALIKES = [
    "garden", "yard", "basement", "attic", "office", "study", "porch", "patio", "den",
    "nursery", "pantry", "closet", "cellar", "shed", "balcony", "deck", "driveway",
    "lounge", "dining", "guest", "loft", "toilet", "shower", "window", "windows",
    "curtains", "blinds", "oven", "stove", "fridge", "freezer", "microwave", "dishwasher",
    "washer", "dryer", "heater", "radio", "television", "phone", "car", "gate", "fence",
    "pool", "sprinkler", "camera", "alarm", "doorbell", "side", "top", "middle", "upstairs",
    "downstairs", "left", "right", "red", "blue", "green", "purple", "yellow", "white",
    "kid", "kids", "baby", "master", "main", "back", "front", "garage", "kitchen",
    "bedroom", "bathroom", "hallway", "hall", "living", "dinner", "lunch", "breakfast"]


def spell_number(n: int) -> str:
    """English words for -9999..9999, the way speech-to-text writes them."""
    if n < 0:
        return "minus " + spell_number(-n)
    if n < 10:
        return ONES[n]
    if n < 20:
        return TEENS[n - 10]
    if n < 100:
        return TENS[n // 10 - 2] + ("" if n % 10 == 0 else " " + ONES[n % 10])
    if n < 1000:
        rest = n % 100
        return ONES[n // 100] + " hundred" + ("" if rest == 0 else " " + spell_number(rest))
    rest = n % 1000
    return spell_number(n // 1000) + " thousand" + ("" if rest == 0 else " " + spell_number(rest))


def stt_style(text: str) -> str:
    """Lower case, no punctuation except apostrophes: what a transcript looks like."""
    text = re.sub(r"[^\w\s'.-]|(?<!\d)\.|\.(?!\d)", " ", text.lower())  # 19.5 keeps its point
    return " ".join(text.split())


def lookalikes(names: Iterable[object]) -> list[str]:
    """Lookalike words for a list of names: those that are not (a part of) any of them."""
    real = {w for v in names for w in str(v).lower().split()}
    return [d for d in LOOKALIKES if not any(r.startswith(d) or d.startswith(r) for r in real)]

_UNITS = {w: i for i, w in enumerate(ONES + TEENS)}
_TENS = {w: 10 * (i + 2) for i, w in enumerate(TENS)}
_SCALES = {"hundred": 100, "thousand": 1000}
# After a lone "one", these make it a quantity rather than a pronoun.
_UNIT_WORDS = frozenset({
    "minute", "minutes", "min", "mins", "hour", "hours", "second", "seconds", "degree",
    "degrees", "percent", "per", "%", "day", "days", "week", "weeks", "celsius", "fahrenheit",
})

_TOKEN = re.compile(r"\S+")
_CORE = re.compile(r"^([^\w%]*)([\w%'-]*?)([^\w%]*)$")


def _number_word(word: str) -> bool:
    return word in _UNITS or word in _TENS or word in _SCALES


class _Word:
    """One whitespace-separated token: leading punctuation, the word, trailing punctuation."""

    def __init__(self, raw: str):
        self.raw = raw
        m = _CORE.match(raw)
        if m is None:  # pragma: no cover - the pattern matches every string
            self.lead, self.core, self.trail = "", raw, ""
        else:
            self.lead, self.core, self.trail = m.group(1), m.group(2), m.group(3)
        self.lower = self.core.lower()
        parts = self.lower.split("-")
        # "forty-five": a hyphenated compound of number words reads as its parts.
        self.parts = parts if len(parts) > 1 and all(_number_word(p) for p in parts) else [
            self.lower]


def _parse(words: list[_Word], start: int) -> tuple[str, int] | None:
    """The longest number phrase at ``start``: (its digits, the index after it)."""
    seq: list[tuple[str, int]] = []  # (part, word index it came from)
    for i in range(start, len(words)):
        w = words[i]
        if i > start and words[i - 1].trail:  # punctuation ends the phrase
            break
        if w.lead and i > start:
            break
        seq.extend((p, i) for p in w.parts)
    if not seq:
        return None

    total = 0  # completed thousands
    current = 0  # below the current scale
    last = ""  # kind of the last part taken: unit, teen, tens, hundred, thousand, and
    taken = 0  # parts consumed
    seen_word = False
    k = 0
    while k < len(seq):
        part, _ = seq[k]
        nxt = seq[k + 1][0] if k + 1 < len(seq) else ""
        if part == "a" and k == 0 and nxt in _SCALES:
            current, last = 1, "unit"
        elif part in _UNITS:
            value = _UNITS[part]
            if last in ("unit", "teen"):
                break
            if last == "tens" and not 1 <= value <= 9:
                break
            current += value
            last = "unit" if value < 10 else "teen"
        elif part in _TENS:
            if last in ("unit", "teen", "tens"):
                break
            current += _TENS[part]
            last = "tens"
        elif part == "hundred":
            if last == "hundred" or (current % 100 == 0 and current != 0):
                break
            current = (current or 1) * 100
            last = "hundred"
        elif part == "thousand":
            if last in ("thousand",) or total:
                break
            total, current = (current or 1) * 1000, 0
            last = "thousand"
        elif part == "and" and last in ("hundred", "thousand") and (
                nxt in _UNITS or nxt in _TENS):
            last = "and"
        else:
            break
        seen_word = seen_word or part != "a"
        k += 1
        if last != "and":
            taken = k
    if not seen_word or taken == 0:
        return None
    # A phrase ends on a word boundary: a compound cut in the middle is not a number.
    end_word = seq[taken - 1][1]
    if taken < len(seq) and seq[taken][1] == end_word:
        return None
    value = total + current
    digits = str(value)
    after = end_word + 1

    # Decimals: "point five", "point two five"; and "and a half".
    def word_at(j: int) -> str:
        return words[j].lower if j < len(words) and not words[j - 1].trail else ""

    if word_at(after) == "point" and word_at(after + 1) in _UNITS and \
            _UNITS[word_at(after + 1)] < 10:
        frac = ""
        j = after + 1
        while word_at(j) in _UNITS and _UNITS[word_at(j)] < 10:
            frac += str(_UNITS[word_at(j)])
            j += 1
            if words[j - 1].trail:
                break
        digits += "." + frac
        after = j
    elif word_at(after) == "and" and word_at(after + 1) == "a" and word_at(after + 2) == "half":
        digits += ".5"
        after += 3
    return digits, after


def normalize_numbers(text: str) -> str:
    """``text`` with spelled-out numbers written as digits (see the module's docstring)."""
    raws = _TOKEN.findall(text)
    if not raws:
        return text
    words = [_Word(r) for r in raws]
    out: list[str] = []
    changed = False
    i = 0
    while i < len(words):
        w = words[i]
        found = _parse(words, i) if (_number_word(w.parts[0]) or w.lower == "a") else None
        if found is not None:
            digits, end = found
            lone_one = end == i + 1 and w.lower == "one"
            next_word = words[end].lower if end < len(words) and not w.trail else ""
            if not lone_one or next_word in _UNIT_WORDS:
                last = words[end - 1]
                out.append(w.lead + digits + last.trail)
                changed = True
                i = end
                continue
        out.append(w.raw)
        i += 1
    return " ".join(out) if changed else text


def spelled_values(values: Iterable[str]) -> dict[str, str]:
    """Values (an enum's) that :func:`normalize_numbers` would change, by their digit form:
    ``{"12 ounce": "twelve ounce"}`` for an enum value "twelve ounce"."""
    out: dict[str, str] = {}
    for value in values:
        words = " ".join(value.lower().split())
        digits = normalize_numbers(words)
        if digits != words:
            out[digits] = words
    return out


_UNIT_SHORT = {"oz": "ounce", "lb": "pound", "lbs": "pounds", "mins": "minutes",
               "min": "minutes", "hr": "hour", "hrs": "hours"}
_UNIT_RE = re.compile(rf"(?<=\d) ?({'|'.join(_UNIT_SHORT)})\b")


def unit_words(text: str) -> str:
    """Short units after a number written out: "12 oz" -> "12 ounce"."""
    return _UNIT_RE.sub(lambda m: " " + _UNIT_SHORT[m.group(1)], text)


def keep_spelled(text: str, spelled: Mapping[str, str]) -> str:
    """``text`` (already normalized) with the values of :func:`spelled_values` written back
    as declared: "a 12 ounce latte" -> "a twelve ounce latte" when an enum says so, whether
    the request spelled the number or wrote digits."""
    for digits in sorted(spelled, key=len, reverse=True):
        text = re.sub(rf"(?<![\w.]){re.escape(digits)}(?![\w.])", spelled[digits], text,
                      flags=re.IGNORECASE)
    return text


# Durations for tools that count in minutes. Applied after normalize_numbers, most specific
# first: "1 hour and 20 minutes" must not become "60 minutes and 20 minutes".
_NUM = r"(\d+(?:\.\d+)?)"
_DURATIONS: list[tuple[re.Pattern[str], str | Callable[[re.Match[str]], str]]] = [
    (re.compile(rf"\b{_NUM} hours? and {_NUM} minutes?\b", re.I),
     lambda m: f"{_minutes(float(m[1]) * 60 + float(m[2]))} minutes"),
    (re.compile(r"\b(?:an?|1) hour and a half\b", re.I), "90 minutes"),
    (re.compile(rf"\b{_NUM} hours? and a half\b", re.I),
     lambda m: f"{_minutes(float(m[1]) * 60 + 30)} minutes"),
    (re.compile(r"\b(?:three|3) quarters of an hour\b", re.I), "45 minutes"),
    (re.compile(r"\b(?:a )?quarter (?:of an )?hour\b", re.I), "15 minutes"),
    (re.compile(r"\b(?:half an|a half|half a|half) hour\b", re.I), "30 minutes"),
    (re.compile(r"\b(?:an|1) hour\b", re.I), "60 minutes"),
    (re.compile(rf"\b{_NUM} hours\b", re.I), lambda m: f"{_minutes(float(m[1]) * 60)} minutes"),
    # "a 2 hour timer": the unit stays an adjective
    (re.compile(rf"\b{_NUM} hour\b", re.I), lambda m: f"{_minutes(float(m[1]) * 60)} minute"),
]


def _minutes(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def durations_in_minutes(text: str) -> str:
    """Hours written as minutes ("2 hours" -> "120 minutes", "half an hour" -> "30 minutes").

    For tools whose durations are declared in minutes (see ``ToolCaller``): a 270M model
    copies a number far more reliably than it multiplies one. Expects digits, so run it
    after :func:`normalize_numbers`.
    """
    for pattern, repl in _DURATIONS:
        text = pattern.sub(repl, text)
    return text
