"""A trigram language model of the command grammar, for pocketsphinx.

pocketsphinx compiles a JSGF grammar into one flat automaton, copying every rule at every
place it is used: with a hundred example phrasings and numbers in thirty of them, decoding
ran at 0.8 x real time here. A trigram model of sentences sampled from the same grammar
keeps the phrasings' word order, costs the same whatever the number of examples, and is
what the recogniser searches; its back-off lets a transcript leave the phrasings (any
order of the vocabulary's words is possible, the phrasings' are likelier), and the tool
caller decides what is a command. (Rephrased sentences added to the samples, a word
dropped, a common word put in, halves swapped, cost exact transcripts: 13 -> 9 of 50 spoken
development sentences, so there are none.)

Absolute discounting with back-off, written in the ARPA format pocketsphinx reads.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from itertools import pairwise

from appliance.speech.grammar import CommandGrammar

DISCOUNT = 0.5


def sample(grammar: CommandGrammar, n: int = 20000, *, seed: int = 1,
           decoy_rate: float = 0.05) -> list[list[str]]:
    """``n`` sentences of the grammar; a few have a decoy where a name goes."""
    rng = random.Random(seed)
    decoys = [a[0] for a in grammar.rules.get("decoy", [])]

    def expand(item: str) -> list[str]:
        optional = item.startswith("[")
        item = item.strip("[]")
        if optional and rng.random() < 0.5:
            return []
        if not item.startswith("<"):
            return [item]
        name = item[1:-1]
        if name == "decoy":
            return [rng.choice(decoys)] if decoys else []
        alts = grammar.rules.get(name) or [[]]
        real = [a for a in alts if a != ["<decoy>"]] or alts
        pick = ["<decoy>"] if len(real) < len(alts) and rng.random() < decoy_rate else \
            rng.choice(real)
        return [w for part in pick for w in expand(part)]

    out = []
    patterns = grammar.rules.get("tool", [])
    answers = grammar.rules.get("answer", [])
    for i in range(n):
        # Every pattern equally often, whatever the number of its fillers.
        words: list[str] = []
        if grammar.wake_word and rng.random() < 0.3:
            words += grammar.wake_word.split()
        if grammar.wake_word and i % 10 == 0:  # the wake word alone, then a pause
            out.append(words or grammar.wake_word.split())
            continue
        if i % 100 == 3 and answers:  # a yes or no to a question asked back
            out.append(list(answers[(i // 100) % len(answers)]))
            continue
        words += expand("[<prefix>]")
        for item in patterns[i % len(patterns)] if patterns else []:
            words += expand(item)
        words += expand("[<suffix>]")
        out.append(words)
    return out


def arpa(sentences: Iterable[Sequence[str]]) -> str:
    """A back-off trigram model of ``sentences`` in ARPA text format."""
    c1: Counter[str] = Counter()
    c2: Counter[tuple[str, str]] = Counter()
    c3: Counter[tuple[str, str, str]] = Counter()
    for sentence in sentences:
        words = ["<s>", *sentence, "</s>"]
        c1.update(words[1:])
        c2.update(pairwise(words))
        c3.update(zip(words, words[1:], words[2:], strict=False))
    c1["<s>"] = 0
    total = sum(c1.values())
    vocab = sorted(c1)
    p1 = {w: (c1[w] + 1) / (total + len(vocab)) for w in vocab if w != "<s>"}

    after1: dict[str, list[str]] = defaultdict(list)
    for (u, w) in c2:
        after1[u].append(w)
    ctx1 = Counter[str]()
    for (u, _), c in c2.items():
        ctx1[u] += c
    p2 = {(u, w): (c - DISCOUNT) / ctx1[u] for (u, w), c in c2.items()}
    bo1 = {}
    for u, ws in after1.items():
        left = 1 - sum(p2[(u, w)] for w in ws)
        below = 1 - sum(p1.get(w, 0.0) for w in ws)
        bo1[u] = left / below if below > 0 else 1.0

    after2: dict[tuple[str, str], list[str]] = defaultdict(list)
    for (t, u, w) in c3:
        after2[(t, u)].append(w)
    ctx2 = Counter[tuple[str, str]]()
    for (t, u, _), c in c3.items():
        ctx2[(t, u)] += c
    p3 = {k: (c - DISCOUNT) / ctx2[k[:2]] for k, c in c3.items()}
    bo2 = {}
    for (t, u), ws in after2.items():
        left = 1 - sum(p3[(t, u, w)] for w in ws)
        below = 1 - sum(p2[(u, w)] for w in ws)
        bo2[(t, u)] = left / below if below > 0 else 1.0

    def lg(x: float) -> str:
        return f"{math.log10(x):.4f}" if x > 0 else "-99"

    lines = ["\\data\\", f"ngram 1={len(vocab)}", f"ngram 2={len(p2)}", f"ngram 3={len(p3)}",
             "", "\\1-grams:"]
    for w in vocab:
        prob = "-99" if w == "<s>" else lg(p1[w])
        lines.append(f"{prob} {w} {lg(bo1.get(w, 1.0))}" if w != "</s>" else f"{prob} {w}")
    lines += ["", "\\2-grams:"]
    for (u, w), p in sorted(p2.items()):
        tail = "" if w == "</s>" else f" {lg(bo2.get((u, w), 1.0))}"
        lines.append(f"{lg(p)} {u} {w}{tail}")
    lines += ["", "\\3-grams:"]
    for (t, u, w), p in sorted(p3.items()):
        lines.append(f"{lg(p)} {t} {u} {w}")
    lines += ["", "\\end\\", ""]
    return "\n".join(lines)
