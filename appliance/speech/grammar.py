"""The command grammar: what the recogniser may hear, generated from the tool declarations.

Every example phrasing of every tool becomes a pattern: the argument values found in its
words become slots (``turn on the <room> light``), filled by the parameter's enum values,
its ``examples`` list for a free string, or any spoken number for a number. Optional
politeness around it (``please``, ``can you``) and the wake word in front. The same
grammar becomes a trigram model for pocketsphinx (:mod:`.lm`) and a word list for vosk:
it steers the recogniser to this appliance's words, and the tool caller decides whether a
transcript is a command. Its regular expression (:meth:`CommandGrammar.accepts`) says
whether a transcript is one of the declared phrasings, for tests and benchmarks only.

Lookalike names ("garden" where a room is "garage") are offered where a name goes, so
that such a word is heard as itself rather than forced onto a real name; only those that
look like one of this configuration's own names are used, so one home's lookalikes do not
turn up in another's transcripts.
"""

from __future__ import annotations

import difflib
import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from appliance.asking import NO, YES
from appliance.english import (
    LOOKALIKES,
    ONES,
    OPTIONAL,
    POLITE_LEADS,
    POLITE_TAILS,
    SYNONYMS,
    TEENS,
    TENS,
    spell_number,
)
from appliance.tools import Tool

log = logging.getLogger(__name__)

PREFIXES, SUFFIXES = list(POLITE_LEADS), list(POLITE_TAILS)
"""Said around any phrasing."""

Alternatives = list[list[str]]
"""A rule: alternatives, each a sequence of items (a word, or ``<rule>``)."""


def words_of(text: str) -> list[str]:
    """Lower-case words as a transcript writes them (digits spelled out, no punctuation)."""
    out: list[str] = []
    for word in re.sub(r"[^\w\s']", " ", text.lower()).split():
        out.extend(spell_number(int(word)).split() if word.isdigit() else [word])
    return out


def _number_rules() -> dict[str, Alternatives]:
    return {
        "digit": [[w] for w in ONES[1:]],
        "n99": ([["zero"]] + [["<digit>"]] + [[w] for w in TEENS] + [[w] for w in TENS]
                + [[w, "<digit>"] for w in TENS]),
        "integer": [["<n99>"], ["<hundreds>"]],
        "decimal": [["<n99>"], ["<hundreds>"], ["<n99>", "point", "<digit>"]],
        "hundreds": [["<digit>", "hundred"], ["<digit>", "hundred", "<n99>"],
                     ["<digit>", "hundred", "and", "<n99>"], ["a", "hundred"],
                     ["a", "hundred", "and", "<n99>"]],
    }


@dataclass
class CommandGrammar:
    """Rules by name; ``command`` is the top rule."""

    rules: dict[str, Alternatives] = field(default_factory=dict)
    wake_word: str | None = None
    names: set[str] = field(default_factory=set)
    """The words of the names a slot takes (enum values, a string's examples)."""
    dropped: list[str] = field(default_factory=list)
    """Patterns left out, and why (words the recogniser does not know, free text)."""
    _regex: re.Pattern[str] | None = field(default=None, repr=False, compare=False)

    # -- building ---------------------------------------------------------------------

    @classmethod
    def from_tools(cls, tools: Sequence[Tool], *, wake_word: str | None = None,
                   known: Callable[[str], bool] | None = None) -> CommandGrammar:
        """The grammar for ``tools``; ``known(word)`` says whether the recogniser has a word."""
        g = cls(wake_word=" ".join(words_of(wake_word)) if wake_word else None)
        g.rules.update(_number_rules())
        patterns: Alternatives = []
        for tool in tools:
            for example in tool.examples:
                pattern = g._pattern(tool, example.say, example.arguments)
                if pattern is not None:
                    patterns.append(pattern)
        g.rules["prefix"] = [words_of(p) for p in PREFIXES]
        g.rules["suffix"] = [words_of(s) for s in SUFFIXES]
        g.rules["tool"] = _dedupe(patterns)
        top: list[str] = ["[<prefix>]", "<tool>", "[<suffix>]"]
        if g.wake_word:
            g.rules["wake"] = [g.wake_word.split()]
            top.insert(0, "[<wake>]")
        # The yes or no to a question the appliance asked back (appliance.asking).
        g.rules["answer"] = _dedupe(words_of(a) for a in (*YES, *NO))
        g.rules["command"] = [top, ["<answer>"], *([["<wake>"]] if g.wake_word else [])]
        real = g.vocabulary()
        g.rules["decoy"] = [[w] for w in lookalikes_of(g.names, real)]
        if known is not None:
            g._prune(known)
        if not g.rules["tool"]:
            g.dropped.append("no pattern is left: the command grammar is empty")
        return g

    def _pattern(self, tool: Tool, say: str, arguments: Mapping[str, Any]) -> list[str] | None:
        words = words_of(say)
        slots: dict[int, tuple[int, str]] = {}  # start index -> (length, rule)
        for key, value in sorted(arguments.items(), key=lambda kv: -len(str(kv[1]))):
            target = words_of(str(value))
            rule = self._slot_rule(tool, key)
            if rule is None:
                self.dropped.append(f"{tool.name}: {say!r}: {key} is free text; no grammar "
                                    f"for it (give the parameter an enum or examples)")
                return None
            for i in range(len(words) - len(target) + 1):
                taken = any(s <= i < s + n or i <= s < i + len(target)
                            for s, (n, _) in slots.items())
                if words[i:i + len(target)] == target and not taken:
                    slots[i] = (len(target), rule)
                    break
        out: list[str] = []
        i = 0
        while i < len(words):
            if i in slots:
                n, rule = slots[i]
                out.append(f"<{rule}>")
                i += n
                continue
            for group in SYNONYMS:  # the longest phrase of a group that starts here
                hit = max((p.split() for p in group if words[i:i + len(p.split())] ==
                           p.split() and not any(i <= s < i + len(p.split()) for s in slots)),
                          key=len, default=None)
                if hit:
                    name = "w_" + group[0].replace("'", "").replace(" ", "_")
                    self.rules.setdefault(name, [p.split() for p in group])
                    out.append(f"<{name}>")
                    i += len(hit)
                    break
            else:
                out.append(f"[{words[i]}]" if words[i] in OPTIONAL else words[i])
                i += 1
        if all(w.startswith("[") for w in out):
            return None
        return out

    def _slot_rule(self, tool: Tool, key: str) -> str | None:
        schema = tool.properties.get(key, {})
        name = f"{tool.name}.{key}"
        if name in self.rules:
            return name
        values: list[Any]
        if "enum" in schema:
            values = list(schema["enum"])
        elif schema.get("type") == "integer":
            return "integer"
        elif schema.get("type") == "number":
            return "decimal"
        elif isinstance(schema.get("examples"), list) and schema["examples"]:
            values = list(schema["examples"])
        else:
            return None
        spoken = [words_of(str(v)) for v in values if words_of(str(v))]
        self.names.update(w for v in spoken for w in v if not w.isdigit())
        self.rules[name] = [*_dedupe(spoken), ["<decoy>"]]
        return name

    def _prune(self, known: Callable[[str], bool]) -> None:
        """Drop alternatives with words the recogniser does not have, and say which."""
        unknown: set[str] = set()
        for name, alts in self.rules.items():
            kept = []
            for alt in alts:
                missing = [w.strip("[]") for w in alt if not w.strip("[]").startswith("<")
                           and not known(w.strip("[]"))]
                if missing:
                    unknown.update(missing)
                    self.dropped.append(f"{name}: {' '.join(alt)!r}: unknown word(s) "
                                        f"{', '.join(missing)}")
                else:
                    kept.append(alt)
            self.rules[name] = kept
        # Rules left empty make every pattern that uses them impossible.
        changed = True
        while changed:
            changed = False
            empty = {n for n, alts in self.rules.items() if not alts}
            for name, alts in self.rules.items():
                kept = [a for a in alts if not any(w.strip("[]")[1:-1] in empty
                                                   for w in a if "<" in w and
                                                   not w.startswith("["))]
                if len(kept) != len(alts):
                    self.rules[name] = kept
                    changed = True
        if unknown:
            log.warning("speech: %d word(s) the recogniser does not know were left out of the "
                        "command grammar: %s", len(unknown), ", ".join(sorted(unknown)[:20]))

    # -- views ---------------------------------------------------------------------------

    def vocabulary(self) -> set[str]:
        return {w.strip("[]") for alts in self.rules.values() for alt in alts for w in alt
                if not w.strip("[]").startswith("<")}

    def regex(self) -> re.Pattern[str]:
        if self._regex is None:
            self._regex = self._compile()
        return self._regex

    def _compile(self) -> re.Pattern[str]:
        cache: dict[str, str] = {}

        def rule(name: str) -> str:
            if name == "decoy":
                return "(?!)"  # heard, but never a command
            if name not in cache:
                cache[name] = "(?:" + "|".join(seq(a) for a in self.rules[name]) + ")" \
                    if self.rules[name] else "(?!)"
            return cache[name]

        def seq(alt: Iterable[str]) -> str:
            parts = []
            for item in alt:
                optional = item.startswith("[")
                w = item.strip("[]")
                # Every word is followed by one space, so a rule's text ends with one too.
                body = rule(w[1:-1]) if w.startswith("<") else re.escape(w) + " "
                parts.append(f"(?:{body})?" if optional else body)
            return "".join(parts)

        return re.compile("^" + rule("command") + "$")

    def accepts(self, text: str) -> bool:
        return bool(self.regex().match(" ".join(text.split()) + " "))

    def decoys_in(self, text: str) -> list[str]:
        """The words of ``text`` that are decoys: names this appliance does not have."""
        decoys = {a[0] for a in self.rules.get("decoy", [])}
        return [w for w in text.split() if w in decoys]

    def strip_wake(self, text: str) -> tuple[bool, str]:
        """Whether ``text`` starts with the wake word, and the words after it."""
        words = text.split()
        wake = (self.wake_word or "").split()
        if wake and words[:len(wake)] == wake:
            return True, " ".join(words[len(wake):])
        return False, text


def lookalikes_of(names: Iterable[str], vocabulary: set[str]) -> list[str]:
    """The lookalike names that look like one of ``names`` (and are not words in use)."""
    def alike(a: str, b: str) -> bool:
        return (len(a) >= 3 and len(b) >= 3 and a[:3] == b[:3]) or \
            difflib.SequenceMatcher(None, a, b).ratio() >= 0.7

    names = [n for n in names if len(n) >= 3]
    return [d for d in LOOKALIKES if d not in vocabulary and any(alike(d, n) for n in names)]


def _dedupe(alts: Iterable[list[str]]) -> Alternatives:
    seen: set[tuple[str, ...]] = set()
    out: Alternatives = []
    for a in alts:
        if tuple(a) not in seen:
            seen.add(tuple(a))
            out.append(a)
    return out
