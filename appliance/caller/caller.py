"""The tool caller: one utterance in, validated calls (or none, or a question) out.

Per request the KV cache is rewound to the end of the tool prompt, and one batch
evaluates the user's words, the opening of the model's turn and, speculatively, the
opening of a call (``<start_function_call>call:``) with logits at two places: where the
model decides whether to call at all, and where it names the tool. If it does not call,
the speculative tokens are simply dropped with the next rewind.

Another call after the first is only asked about when the words could hold several (a
joining word, :data:`.quantifiers.JOINING`: "and", "then"...; or a quantifier about things,
:func:`.quantifiers.quantified`: "all the lights", not "all the way up"), so a plain
command costs no extra eval.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import unicodedata
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

from appliance.caller import prompt, quantifiers, settle
from appliance.caller.candidates import Scores
from appliance.caller.clauses import commands_in, decide_parts
from appliance.caller.declared import Grounds, negated, undeclared_action
from appliance.caller.decoder import LiveDriver, Vocab, first_choice
from appliance.caller.engine import Engine
from appliance.caller.grammar import CALL_PREFIX, walk_calls, walk_clarification
from appliance.caller.grounding import question
from appliance.caller.prompt import MIN_CONTEXT, context_for, counts_in_minutes
from appliance.caller.quantifiers import JOINING
from appliance.caller.said import Said
from appliance.english import (
    durations_in_minutes,
    keep_spelled,
    normalize_numbers,
    spelled_values,
    unit_words,
)
from appliance.errors import ApplianceError, ModelError
from appliance.messages import Decision
from appliance.modelstore import cache_dir, general_adapter, resolve_model
from appliance.settings import Config
from appliance.tools import Tool, Toolbox

log = logging.getLogger(__name__)

MAX_UTTERANCE_CHARS = 1000
StringMode = Literal["words", "free"]


def clean_utterance(text: str) -> str:
    """Collapse whitespace and drop control characters; the model sees plain words."""
    text = "".join(" " if unicodedata.category(c).startswith("C") else c for c in text)
    return " ".join(text.split())


RECENT = 8
"""Decisions kept by their words (decoding is deterministic, so the same words give the same
decision): the voice path decides the words so far during a pause, then the request."""


class ToolCaller:
    """FunctionGemma-format tool calling over a cached tool prompt."""

    def __init__(self, toolbox: Toolbox, engine: Engine, *, few_shot: bool = True,
                 cache_dir: Path | None = None, strings: StringMode = "free",
                 max_calls: int = 8, min_confidence: float = 0.0,
                 enum_shown: int | None = prompt.ENUM_SHOWN, warm: bool = True):
        """``strings="words"`` makes every free-text argument a span of the request's words
        (what a voice appliance's places, songs and names are); ``"free"`` lets the model
        write any text (what general function calling, such as BFCL, needs)."""
        if strings not in ("words", "free"):
            raise ValueError(f"strings must be 'words' or 'free', not {strings!r}")
        self.toolbox = toolbox
        self.engine = engine
        self.tools: Sequence[Tool] = tuple(toolbox)
        self.few_shot = few_shot
        self.strings = strings
        self.minutes = counts_in_minutes(self.tools)
        self._spelled = spelled_values(str(v) for t in self.tools
                                       for schema in t.properties.values()
                                       for v in schema.get("enum", ()) if isinstance(v, str))
        self.max_calls = max_calls
        self.min_confidence = min_confidence
        self._lock = threading.Lock()
        self._recent: OrderedDict[tuple[str, float, int], Decision] = OrderedDict()
        self._prompt_text = self.prompt_text(self.tools, few_shot, enum_shown)
        self._prefix = engine.tokenize(self._prompt_text)
        self._suffix = engine.tokenize(f"{prompt.END_TURN}\n{prompt.START_TURN}model\n")
        self._call_prefix = engine.tokenize(CALL_PREFIX)
        self._clarify = engine.tokenize(prompt.CLARIFY_REPLY)
        # An adapter was trained to open its turn with a call, a question or the no-call
        # reply: with it, that first choice is scored over those three tokens only, and the
        # full output layer is never read (on the 1,065 requests of the demo home, Juniper
        # Coffee and new-home sets with their adapters, the full vocabulary's best token was
        # always one of them; APPLIANCE_LOGITS=full scores all of them).
        sorry = engine.tokenize(prompt.NO_CALL_REPLY, special=False)[:1]
        self._turn = (self._call_prefix[0], self._clarify[0], *sorry) \
            if engine.adapter_path is not None and engine.candidates and strings == "words" \
            else None
        self.vocab = Vocab.of(engine)
        self._grounds = Grounds.of(toolbox)
        if not warm:  # tokens for training data only: this caller cannot decide
            return
        t0 = time.perf_counter()
        cache_file = self._cache_file(cache_dir) if cache_dir else None
        loaded = engine.set_prefix(self._prefix, cache_file=cache_file)
        log.info("tool prompt: %d tokens for %d tools, %s in %.0f ms",
                 len(self._prefix), len(self.tools), "loaded from cache" if loaded else "evaluated",
                 (time.perf_counter() - t0) * 1000)

    @classmethod
    def from_config(cls, config: Config, *, model_path: Path | None = None,
                    threads: int | None = None) -> ToolCaller:
        """Load the configured (or given) model and adapter and cache the tool prompt."""
        settings = config.model
        path = resolve_model(model_path or settings.path)
        adapter = settings.adapter if model_path is None or settings.adapter else None
        if adapter is None and settings.general_adapter and settings.path is None \
                and model_path is None:
            adapter = general_adapter()  # the embedded model's general adapter
        if adapter is not None and not adapter.is_file():
            raise ModelError(f"{config.source}: model.adapter: {adapter} not found; train one "
                             f"with `appliance train --config {config.source} --write-config`")
        if adapter is not None and settings.adapter_tools not in (None,
                                                                  config.tools.fingerprint()):
            log.warning(
                "adapter %s was trained for other tool declarations (fingerprint %s, now %s): "
                "it is stale; retrain it with `appliance train --config %s --write-config`",
                adapter, settings.adapter_tools, config.tools.fingerprint(), config.source,
            )
        # Worked examples help the bare model; an adapter was trained without them.
        return cls.open(config.tools, path, adapter=adapter,
                        few_shot=settings.few_shot and adapter is None,
                        context=settings.context, threads=threads or settings.threads,
                        batch=settings.batch, repack=settings.repack, cache_dir=cache_dir(),
                        merge=settings.merge_adapter,
                        strings=settings.strings, max_calls=settings.max_calls,
                        min_confidence=settings.min_confidence, enum_shown=settings.enum_shown)

    @classmethod
    def open(cls, toolbox: Toolbox, model: Path, *, adapter: Path | None = None,
             few_shot: bool = True, context: int | None = None, threads: int | None = None,
             batch: int = 32, repack: bool = False, cache_dir: Path | None = None,
             strings: StringMode = "free", max_calls: int = 8,
             min_confidence: float = 0.0,
             enum_shown: int | None = prompt.ENUM_SHOWN, merge: bool = False) -> ToolCaller:
        """A caller on its own engine; ``context=None`` sizes the context from the prompt
        (:func:`context_for`), so a large config needs no setting."""
        engine = Engine(model, adapter=adapter, threads=threads, batch=batch, repack=repack,
                        context=context or MIN_CONTEXT, merge=merge)
        if context is None:
            text = cls.prompt_text(toolbox, few_shot, enum_shown)
            needed = context_for(len(engine.tokenize(text)))
            if needed > engine.context:
                engine.close()
                engine = Engine(model, adapter=adapter, threads=threads, batch=batch,
                                repack=repack, context=needed, merge=merge)
        try:
            return cls(toolbox, engine, few_shot=few_shot, cache_dir=cache_dir, strings=strings,
                       max_calls=max_calls, min_confidence=min_confidence,
                       enum_shown=enum_shown)
        except BaseException:
            engine.close()
            raise

    @staticmethod
    def prompt_text(tools: Iterable[Tool], few_shot: bool,
                    enum_shown: int | None = prompt.ENUM_SHOWN) -> str:
        """What the model reads before each request: the tools, then the user turn's start."""
        return prompt.tool_prompt(tuple(tools), few_shot=few_shot,
                                  enum_shown=enum_shown) + f"{prompt.START_TURN}user\n"

    def _cache_file(self, directory: Path) -> Path:
        """The prompt's KV snapshot is only valid for this model, adapter and prompt."""
        h = hashlib.sha256()
        for p in (self.engine.model_path, self.engine.adapter_path):
            if p is not None:
                st = p.stat()
                h.update(f"{p.resolve()}:{st.st_size}:{st.st_mtime_ns};".encode())
        h.update(f"{self.engine.context}:{self.engine.batch};".encode())
        h.update(",".join(map(str, self._prefix)).encode())
        return directory / "prompt-cache" / f"{h.hexdigest()[:32]}.kv"

    # -- what the model reads ------------------------------------------------------

    def prompt_tokens(self) -> list[int]:
        """The cached tool prompt, ending with the opening of the user's turn."""
        return list(self._prefix)

    @property
    def call_prefix(self) -> list[int]:
        """The tokens that open a call (``<start_function_call>call:``)."""
        return list(self._call_prefix)

    def request_tokens(self, text: str) -> list[int]:
        """What one request evaluates before the answer: the words and the model turn's opening.

        Spelled numbers are written as digits first (:meth:`heard`), for requests and
        training samples alike, so the model copies digits instead of reading words.
        """
        return self._request_tokens(self.heard(text))

    def _request_tokens(self, heard: str) -> list[int]:
        return self.engine.tokenize(heard, special=False) + self._suffix

    def heard(self, text: str) -> str:
        """The request as the model reads it: numbers as digits, and, where the tools count
        in minutes (:func:`counts_in_minutes`), hours as minutes. An enum value with a number
        in words ("twelve ounce") stays as declared, so the model copies it."""
        words = keep_spelled(unit_words(normalize_numbers(clean_utterance(text))),
                             self._spelled)
        return durations_in_minutes(words) if self.minutes else words

    # -- deciding -------------------------------------------------------------------

    def decide(self, text: str) -> Decision:
        """Choose one call for ``text``; every failure comes back as ``Decision.error``."""
        t0 = time.perf_counter()
        words = clean_utterance(text)
        if not words:
            return Decision(text=text, error="empty utterance")
        if len(words) > MAX_UTTERANCE_CHARS:
            return Decision(text=words[:80] + "...",
                            error=f"utterance too long ({len(words)} characters, at most "
                                  f"{MAX_UTTERANCE_CHARS})")
        with self._lock:
            key = (words, self.min_confidence, self.max_calls)
            known = self._recent.get(key)
            if known is not None:
                # Decoding is deterministic: the same words were just decided (the voice
                # path's check of the words so far, then the request with those words).
                self._recent.move_to_end(key)
                return replace(known, ms=(time.perf_counter() - t0) * 1000)
            try:
                decision = self._decide(words)
            except ApplianceError as exc:
                decision = Decision(text=words, error=str(exc))
            except Exception as exc:  # the caller must survive anything the model does
                log.exception("tool caller failed on %r", words)
                decision = Decision(text=words, error=f"internal error: {exc}")
            else:
                self._remember(key, decision)
        ms = (time.perf_counter() - t0) * 1000
        log.debug("decided %r in %.0f ms: %d tokens evaluated in %d evals",
                  words, ms, decision.tokens_evaluated, decision.evals)
        return replace(decision, ms=ms)

    def forget(self) -> None:
        """Drop the remembered decisions (a benchmark timing a decision afresh)."""
        with self._lock:
            self._recent.clear()

    def _remember(self, key: tuple[str, float, int], decision: Decision) -> None:
        self._recent[key] = decision
        if len(self._recent) > RECENT:
            self._recent.popitem(last=False)

    def _decide(self, words: str) -> Decision:
        if self.max_calls > 1 and (parts := commands_in(words)) is not None:
            joined = decide_parts(words, parts, self._decide, self.max_calls)
            if joined is not None:
                return joined
        engine = self.engine
        engine.rewind()
        heard = self.heard(words)
        if (verb := undeclared_action(heard, self._grounds.words)) is not None:
            return Decision(text=words, error=f"no tool here can {verb} anything")
        if (no := negated(heard)) is not None:
            return Decision(text=words, error=f"the request says not to ({no!r}): no call")
        request = self._request_tokens(heard)
        if engine.n_past + len(request) + len(self._call_prefix) + 64 > engine.context:
            raise ModelError("utterance does not fit in the model's context")
        outputs = (len(request) - 1, -1)
        if self._turn is None:
            turn, call = engine.eval(request + self._call_prefix, outputs)
            first = int(turn.argmax())
            at_turn, at_call = Scores(logits=turn), Scores(logits=call)
        else:
            at_turn, at_call = engine.eval_scores(request + self._call_prefix, outputs)
            first = at_turn.best(self._turn)
        if first != self._call_prefix[0]:
            if first == self._clarify[0] and self._clarify[0] != self._call_prefix[0]:
                return self._clarification(words, heard, request)
            stats = engine.stats
            return Decision(text=words, raw="", tokens_evaluated=stats.tokens, evals=stats.evals)
        driver = self._driver(heard, at_call)
        driver.confidence = at_once = first_choice(at_turn, first, self._turn)
        done, said = self._walk(words, heard, driver, self.tools)
        if said is None or (redirect := settle.towards(done, said, self._grounds)) is None:
            return done
        engine.rewind()  # the words are another tool's: walk that one's call instead
        driver = self._driver(heard, None)
        driver.confidence = at_once  # the model's choice to call at all
        driver.after(request + self._call_prefix)
        chosen, other, amount = redirect
        return settle.instead(done, self._walk(words, heard, driver, [self.toolbox[other]])[0],
                              chosen, amount=amount)

    def _driver(self, heard: str, at_call: Scores | None) -> LiveDriver:
        return LiveDriver(self.engine, self.vocab, at_call,
                          copy_from=heard if self.strings == "words" else None)

    def _walk(self, words: str, heard: str, driver: LiveDriver,
              tools: Sequence[Tool]) -> tuple[Decision, Said | None]:
        """The calls of ``tools`` the model writes from here, grounded and validated."""
        listing = quantifiers.quantified(heard)  # not "all the way up", "all day"
        several = self.max_calls if listing or JOINING.intersection(heard.split()) else 1
        said = Said(heard, listing=listing, grounds=self._grounds) \
            if self.strings == "words" else None
        walk_calls(driver, tools, max_calls=several, said=said)
        stats = self.engine.stats
        done = Decision(text=words, raw=CALL_PREFIX + driver.text(), tokens_evaluated=stats.tokens,
                        evals=stats.evals, confidence=driver.confidence)
        return settle.settled(done, heard, said, self._grounds, max_calls=self.max_calls,
                              min_confidence=self.min_confidence), said

    def _clarification(self, words: str, heard: str, request: list[int]) -> Decision:
        """The model asks for a value it needs: say which (no call is made)."""
        engine = self.engine
        engine.rewind()  # the speculative call opening is in the cache: start again
        # Tool and parameter names only: with words as strings, no full logits are needed.
        driver = self._driver(heard, None)
        driver.after(request + self._clarify)
        tool, param = walk_clarification(driver, self.tools)
        stats = engine.stats
        return Decision(text=words, error=question(self.toolbox, tool, param),
                        raw=prompt.CLARIFY_REPLY + driver.text(), tokens_evaluated=stats.tokens,
                        evals=stats.evals, confidence=driver.confidence)

    def close(self) -> None:
        self.engine.close()

