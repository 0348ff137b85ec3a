"""Procedurally generated tool sets, and training samples for a general tool-calling adapter.

How the data are made: about ninety tool kinds written for this repository
(:mod:`.toolkinds`, :mod:`.toolkinds_more`: home, media, productivity, travel, math and
units, devices, web APIs, shopping, health, finance) each say what a tool of that kind does,
its parameters and a few phrasings with slots. A seeded generator draws sets of 2-12 kinds,
most from one domain so that siblings a request could be confused with sit side by side,
and makes each a :class:`~appliance.tools.Tool`: a name in snake_case or camelCase (now and
then with a domain prefix), a description, enums of 2-30 values drawn from a value pool,
integers and numbers with or without bounds, free text, booleans, optional parameters (some
dropped, some with a JSON-Schema ``default``), and 2-4 literal example phrasings whose
arguments are what they say. :func:`general_samples` hands each set to
:func:`~appliance.finetune.data.synthesize`, with requests for kinds the set lacks (near
ones from the same domains first) as the requests no tool serves, and keeps a balanced share.

No benchmark's data are read or imitated: everything comes from the code here and a seed.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from appliance.english import LOOKALIKES
from appliance.finetune.data import normalized, synthesize, template_of
from appliance.finetune.everyday import NEGATIONS
from appliance.finetune.samples import Sample
from appliance.finetune.toolkinds import KINDS, KindSpec
from appliance.finetune.toolkinds_more import KINDS_MORE, POOLS, QUESTIONS, SOCIAL
from appliance.tools import Example, Tool

DOMAINS = ("home", "media", "productivity", "travel", "math", "devices", "web", "shopping",
           "health", "finance")
_NEGATED = tuple(n.strip() for n in NEGATIONS)


@dataclass(frozen=True)
class Param:
    """One parameter of a kind: its name alternatives, kind, argument and description."""

    names: tuple[str, ...]
    kind: str
    arg: str
    optional: bool
    default: str | None
    desc: str

    @property
    def key(self) -> str:
        return self.names[0]


@dataclass(frozen=True)
class Kind:
    """A parsed :class:`~.toolkinds.KindSpec`."""

    spec: KindSpec
    params: tuple[Param, ...]

    @property
    def group(self) -> str:
        return self.spec.group or self.spec.key

    @property
    def keywords(self) -> tuple[str, ...]:
        return tuple(w for w in self.spec.kw.split("|") if w)


@dataclass(frozen=True)
class ToolSet:
    """A generated set: its tools, the kind of each, and requests none of them serves
    (each with the key of the kind it is for, "" for talk and questions)."""

    tools: tuple[Tool, ...]
    kinds: tuple[Kind, ...]
    refusals: tuple[tuple[str, str], ...]

    @property
    def requests(self) -> tuple[str, ...]:
        return tuple(text for text, _ in self.refusals)


def _param(text: str) -> Param:
    names, kind, desc = (part.strip() for part in text.split(":", 2))
    m = re.fullmatch(r"(\w+) (.+?)(\?)?(?:=(.+))?", kind)
    if m is None:
        raise ValueError(f"bad parameter {text!r}")
    return Param(tuple(names.split("/")), m[1], m[2], bool(m[3]), m[4], desc)


ALL_KINDS = tuple(Kind(s, tuple(_param(p) for p in s.params.split(";")))
                  for s in (*KINDS, *KINDS_MORE))


def _words_name(words: list[str], style: str) -> str:
    if style == "camel":
        return words[0] + "".join(w.capitalize() for w in words[1:])
    return "_".join(words)


def _bounds(p: Param) -> tuple[float, float]:
    lo, hi = p.arg.split("..")
    return float(lo), float(hi)


def _schema(p: Param, rng: random.Random) -> dict[str, Any]:
    """The JSON Schema of ``p``: a fresh subset of its pool, bounds kept or not, a default."""
    desc = p.desc
    schema: dict[str, Any]
    kind = p.kind if p.kind != "pick" else rng.choice(["enum", "text", "text"])
    if kind == "enum":
        pool = POOLS[p.arg]
        keep = set(rng.sample(pool, rng.randint(min(2, len(pool)), min(30, len(pool)))))
        keep |= {p.default} if p.default else set()
        schema = {"type": "string", "enum": [v for v in pool if v in keep]}
    elif kind == "text":
        pool = POOLS[p.arg]
        schema = {"type": "string", "examples": rng.sample(pool, rng.randint(3, len(pool)))}
    elif kind in ("int", "num"):
        lo, hi = _bounds(p)
        schema = {"type": "integer" if kind == "int" else "number"}
        if lo >= 1 and rng.random() < 0.2:
            pass  # unbounded, as many APIs declare numbers
        else:
            schema |= {"minimum": int(lo), "maximum": int(hi)}
            if rng.random() < 0.3:
                desc += f" ({int(lo)} to {int(hi)})"
    else:
        schema = {"type": "boolean"}
    if p.default is not None and rng.random() < 0.75:
        schema["default"] = p.default if kind in ("enum", "text") else json.loads(p.default)
        if rng.random() < 0.5:
            desc += f" (default {p.default})"
    return {"description": desc if rng.random() < 0.8 else desc.lower(), **schema}


def _value(p: Param, schema: dict[str, Any] | None, rng: random.Random) -> Any:
    """A value of ``p`` for a phrasing: from the tool's schema, or (None) from the kind."""
    if p.kind == "bool":
        return rng.random() < 0.5
    if p.kind in ("int", "num"):
        lo, hi = _bounds(p)
        top = int(min(hi, lo + rng.choice([10, 40, 100])))
        value: float = rng.randint(int(lo), top)
        if p.kind == "num" and value < hi and rng.random() < 0.3:
            value += 0.5
        return value
    if schema is None:
        return rng.choice(POOLS[p.arg])
    return rng.choice(schema.get("enum") or schema["examples"])


def _realize(kind: Kind, say: str, present: dict[str, str], rng: random.Random,
             schemas: dict[str, dict[str, Any]] | None) -> tuple[str, dict[str, Any], str]:
    """A phrasing made literal: the text, its arguments by parameter name, and the template
    that :func:`~appliance.finetune.data.template_of` should find in it."""
    params = {p.key: p for p in kind.params}

    def chunk(m: re.Match[str]) -> str:
        keys = re.findall(r"\{(\w+)\}", m[1])
        return m[1] if all(k in present for k in keys) and rng.random() < 0.5 else ""

    text = re.sub(r"\[([^\]]*)\]", chunk, say)
    args: dict[str, Any] = {}
    template = text
    for key in re.findall(r"\{(\w+)\}", text):
        p = params[key]
        for _ in range(8):  # "convert 8 miles to miles" says nothing
            value = _value(p, schemas[key] if schemas else None, rng)
            if p.kind == "bool" or value not in args.values():
                break
        args[present[key]] = value
        said = str(value)
        if p.kind == "bool":
            said = p.arg.split("/")[0 if value else 1]
        text = text.replace("{" + key + "}", said, 1)
        template = template.replace("{" + key + "}",
                                    said if p.kind == "bool" else "{" + present[key] + "}", 1)
    return text, args, template


def _usable(say: str, present: dict[str, str]) -> bool:
    """Whether every value the phrasing always says is a parameter the tool has."""
    bare = re.sub(r"\[[^\]]*\]", "", say)
    return all(k in present for k in re.findall(r"\{(\w+)\}", bare))


def _tool(kind: Kind, rng: random.Random, style: str, prefix: str) -> Tool | None:
    spec = kind.spec
    name = prefix + _words_name(rng.choice(spec.names.split("|")).split(), style)
    keep = [p for p in kind.params if not p.optional or rng.random() < 0.75]
    present = {p.key: _words_name(rng.choice(p.names).split("_"), style) for p in keep}
    if len(set(present.values())) < len(present):
        present = {p.key: _words_name(p.key.split("_"), style) for p in keep}
    schemas = {p.key: _schema(p, rng) for p in keep}
    parameters: dict[str, Any] = {
        "type": "object", "properties": {present[p.key]: schemas[p.key] for p in keep},
        "required": [present[p.key] for p in keep if not p.optional]}
    tool = Tool(name, rng.choice(spec.descs.split("|")), parameters)
    says = [s for s in spec.says.split("|") if _usable(s, present)]
    if not says:
        return None
    rng.shuffle(says)
    examples: dict[str, Example] = {}
    wanted = rng.randint(2, 4)
    for i in range(12):
        if len(examples) >= wanted:
            break
        text, args, template = _realize(kind, says[i % len(says)], present, rng, schemas)
        # The values must be found where they were put, or synthesize's slots go astray.
        if template_of(Example(text, args))[0] != template or text in examples:
            continue
        examples[text] = Example(text, args)
    if len(examples) < 2:
        return None
    return dataclasses.replace(tool, examples=tuple(examples.values()))


def _matches(text: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w']){re.escape(phrase)}(?![\w'])", text) is not None


def refusals(kinds: tuple[Kind, ...], rng: random.Random) -> list[tuple[str, str]]:
    """Requests that none of ``kinds`` serves, each with the kind it is for ("": none):
    for kinds the set lacks (from its own domains first), talk, and questions unless a
    kind answers any question. None says a word that marks one of ``kinds``."""
    groups = {k.group for k in kinds}
    domains = {k.spec.domain for k in kinds}
    catch_all = any(k.spec.catch_all for k in kinds)
    others = [k for k in ALL_KINDS if k.group not in groups and not (catch_all and k.spec.query)]
    near = [k for k in others if k.spec.domain in domains]
    far = [k for k in others if k.spec.domain not in domains]
    picked = rng.sample(near, min(len(near), 8)) + rng.sample(far, min(len(far), 5))
    made: dict[str, str] = {}
    for kind in picked:
        present = {p.key: p.key for p in kind.params}
        text = _realize(kind, rng.choice(kind.spec.says.split("|")), present, rng, None)[0]
        made.setdefault(text, kind.spec.key)
    for text in rng.sample(SOCIAL, 3) + ([] if catch_all else rng.sample(QUESTIONS, 3)):
        made.setdefault(text, "")
    taken = [w for k in kinds for w in k.keywords]
    return [(t, k) for t, k in made.items() if not any(_matches(t, w) for w in taken)]


def generate(count: int, *, seed: int) -> list[ToolSet]:
    """``count`` distinct tool sets, the same for the same seed; each domain leads in turn."""
    rng = random.Random(seed)
    out: list[ToolSet] = []
    seen: set[str] = set()
    while len(out) < count:
        made = _one(rng, DOMAINS[len(out) % len(DOMAINS)])
        key = json.dumps([t.declaration() for t in made.tools], sort_keys=True)
        if key not in seen:
            seen.add(key)
            out.append(made)
    return out


def _one(rng: random.Random, lead: str) -> ToolSet:
    size = rng.randint(2, 12)
    more = 0 if size <= 4 and rng.random() < 0.6 else rng.randint(1, 2)
    domains = [lead, *rng.sample([d for d in DOMAINS if d != lead], more)]
    first = [k for k in ALL_KINDS if k.spec.domain == lead]
    rest = [k for k in ALL_KINDS if k.spec.domain in domains[1:]]
    anywhere = [k for k in ALL_KINDS if k.spec.domain not in domains]
    for shuffled in (first, rest, anywhere):
        rng.shuffle(shuffled)
    share = max(2, round(size * rng.uniform(0.5, 0.8)))
    # Siblings from the lead domain first; the set is filled up from anywhere if need be.
    candidates = first[:share] + rest + first[share:] + anywhere
    style = rng.choice(["snake", "snake", "camel"])
    prefix_words = rng.random() < 0.12
    chosen: list[tuple[Tool, Kind]] = []
    for kind in candidates:
        if len(chosen) >= size:
            break
        if kind.group in {k.group for _, k in chosen}:
            continue
        own = style if rng.random() < 0.9 else rng.choice(["snake", "camel"])
        prefix = kind.spec.domain + "." if prefix_words else ""
        tool = _tool(kind, rng, own, prefix)
        if tool and tool.name not in {t.name for t, _ in chosen}:
            chosen.append((tool, kind))
    rng.shuffle(chosen)
    kinds = tuple(k for _, k in chosen)
    return ToolSet(tuple(t for t, _ in chosen), kinds, tuple(refusals(kinds, rng)))


def toolsets(count: int, *, seed: int) -> list[list[Tool]]:
    """``count`` distinct, procedurally generated tool sets of 2-12 tools (see the module)."""
    return [list(s.tools) for s in generate(count, seed=seed)]


def _claimed(made: ToolSet) -> set[str]:
    """Words the set's tools use for things: a near miss must not name one of them."""
    words = {w for k in made.kinds for kw in k.keywords for w in kw.split()}
    for tool in made.tools:
        for schema in tool.properties.values():
            for value in [*schema.get("enum", ()), *schema.get("examples", ())]:
                words.update(str(value).split())
    return words


def general_samples(sets: int, per_set: int, *,
                    seed: int) -> list[tuple[tuple[Tool, ...], Sample]]:
    """``per_set`` samples for each of ``sets`` generated tool sets, with its tools: half
    calls (spread over the tools, at most one clarification), half requests no tool
    serves (most of them for kinds the set lacks)."""
    out: list[tuple[tuple[Tool, ...], Sample]] = []
    for index, made in enumerate(generate(sets, seed=seed)):
        rng = random.Random(f"{seed}:{index}")
        samples = synthesize(made.tools, seed=rng.randrange(2**31), per_template=3,
                             per_tool=6, no_tool=made.requests, everyday_count=6)
        refused = [normalized(r) for r in made.requests]
        claimed = _claimed(made) & set(LOOKALIKES)
        calls: dict[str, list[Sample]] = defaultdict(list)
        asks, refusing, other = [], [], []
        for s in samples:
            if s.call is not None:
                calls[s.call.name].append(s)
            elif s.missing is not None:
                # A value left unsaid, not a verb ("can you please the blinds").
                tool = next(t for t in made.tools if t.name == s.missing[0])
                if "enum" not in tool.properties[s.missing[1]]:
                    asks.append(s)
            elif any(normalized(s.text).endswith(r) for r in refused):
                refusing.append(s)
            elif any(_matches(s.text, n) for n in _NEGATED) or not claimed & set(
                    re.findall(r"\bthe (\w+)", s.text)):
                other.append(s)  # a negation, or a near miss naming nothing the set has
        no_calls = per_set // 2
        mine = refusing[:max(no_calls - len(other), round(no_calls * 0.7))]
        picked = mine + other[:no_calls - len(mine)]
        order = sorted(calls)
        rng.shuffle(order)
        queues = [calls[name] for name in order] + [asks[:1]]
        while len(picked) < per_set and any(queues):
            for queue in queues:
                if queue and len(picked) < per_set:
                    picked.append(queue.pop(0))
        rng.shuffle(picked)
        out += [(made.tools, s) for s in picked]
    return out
