"""Constrained decoding that only looks at the tokens the grammar allows.

The walker in :mod:`.grammar` asks for choices among literal alternatives and for free
values. This driver answers them with as few llama.cpp evals as possible:

- Text that is decided but not yet needed stays *text* (``pending``). When a choice
  comes, each alternative is tokenized together with it, so forced text is tokenized
  the way the model would naturally write it, and the alternatives form a token trie.
- A run of tokens shared by all alternatives is forced: never sampled, never scored.
- Only where the trie branches are the logits needed; everything committed so far is
  evaluated in one batch, and the best of the branch tokens is taken (greedy), from a
  handful of candidates instead of 262,144. With ``copy_from`` set, every decision is
  among such a handful, so the engine skips the output layer and scores just those
  (:meth:`Engine.eval_scores`); free text needs the whole vocabulary, hence full logits.
- Free strings and numbers are scored over precomputed token classes (string-safe
  tokens, digits) plus the token that would close the value. With ``copy_from`` set, a
  free string is a span of the request's words instead: only tokens that continue such a
  span are candidates, and the value may close only at a word's end.
- What remains once the last decision is made is never evaluated at all.

:class:`appliance.finetune.replay.ReplayDriver` walks the same code with a known call
instead of logits (training data).
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

import numpy as np
import numpy.typing as npt

from appliance.caller.candidates import Scores
from appliance.caller.engine import Engine, Logits
from appliance.tools import ESCAPE

MAX_STRING_TOKENS = 24
MAX_NUMBER_CHARS = 12
MAX_PIECE_CHARS = 16  # longest token piece looked for when copying words (Gemma's are shorter)


class Vocab:
    """Token classes the decoder needs, computed once per model (see :meth:`of`)."""

    _cache: ClassVar[weakref.WeakKeyDictionary[Engine, Vocab]] = weakref.WeakKeyDictionary()

    @classmethod
    def of(cls, engine: Engine) -> Vocab:
        """The engine's Vocab, built on first use (a scan of the whole vocabulary)."""
        vocab = cls._cache.get(engine)
        if vocab is None:
            vocab = cls._cache[engine] = cls(engine)
        return vocab

    def __init__(self, engine: Engine):
        self.piece = engine.piece
        self.escape = engine.tokenize(ESCAPE)
        self.escape_first = self.escape[0]
        ok = np.zeros(engine.n_vocab, dtype=bool)
        digits: list[int] = []
        for tok, piece in enumerate(engine.all_pieces()):
            if not piece or "<" in piece or "\n" in piece or "\r" in piece:
                continue
            if piece.isdigit() and piece.isascii():
                digits.append(tok)
            ok[tok] = True
        for tok in range(engine.n_vocab):
            if ok[tok] and engine.is_control(tok):
                ok[tok] = False
        ok[self.escape_first] = False
        self.string_tokens: npt.NDArray[np.int64] = np.flatnonzero(ok)
        self.digits = np.array(digits, dtype=np.int64)
        self.minus = self._single(engine, "-")
        self.dot = self._single(engine, ".")

    @staticmethod
    def _single(engine: Engine, text: str) -> int | None:
        toks = engine.tokenize(text)
        return toks[0] if len(toks) == 1 else None


@dataclass
class LiveDriver:
    """Answers the grammar walker's questions with the model's logits (greedy)."""

    def __init__(self, engine: Engine, vocab: Vocab, logits: Logits | Scores | None, *,
                 copy_from: str | None = None):
        self.engine = engine
        self.vocab = vocab
        # Valid iff nothing was committed since it was computed.
        self.logits = Scores(logits=logits) if isinstance(logits, np.ndarray) else logits
        self.full = copy_from is None  # free strings score the whole vocabulary
        self.to_eval: list[int] = []
        self.pending = ""
        self.tokens: list[int] = []  # every committed token, in order
        self.decisions = 0
        self.confidence = 1.0  # the model's probability for its least certain choice
        # Free strings are copied from these words when set: each suffix that starts at a
        # word is a source, and a value is any prefix of one that ends at a word's end.
        words = copy_from.split() if copy_from else []
        self._sources = [" ".join(words[i:]) for i in range(len(words))]
        self._single: dict[str, int | None] = {}

    # -- bookkeeping --------------------------------------------------------------

    def _commit(self, tokens: Sequence[int]) -> None:
        if tokens:
            self.to_eval.extend(tokens)
            self.tokens.extend(tokens)
            self.logits = None

    def after(self, tokens: Sequence[int]) -> None:
        """Tokens already said before the walk (the request, the reply's opening): evaluated
        with the first decision, not part of :meth:`text`."""
        self.to_eval.extend(tokens)
        self.logits = None

    def _commit_pending(self) -> None:
        if self.pending:
            self._commit(self.engine.tokenize(self.pending))
            self.pending = ""

    def _now(self) -> Scores:
        """Logits at the current position, evaluating committed tokens in one batch."""
        if self.to_eval:
            self.logits = self.engine.eval_scores(self.to_eval, full=self.full)[0]
            self.to_eval = []
        if self.logits is None:  # pragma: no cover - the walker never asks twice
            raise RuntimeError("no logits at this position")
        return self.logits

    def _note(self, logits: Scores, chosen: int, candidates: Sequence[int] | np.ndarray,
              same: Sequence[int] = ()) -> None:
        """Keep the lowest probability of a choice among the candidates it was made from;
        ``same``: other candidates that choose what ``chosen`` does (another tokenization of
        the same word), whose probability counts with it."""
        row = logits.at(np.asarray(candidates, dtype=np.int64)).astype(np.float64)
        agree = logits.at(np.asarray([chosen, *same], dtype=np.int64)).astype(np.float64)
        top = float(row.max())
        self.confidence = min(self.confidence,
                              float(np.exp(agree - top).sum() / np.exp(row - top).sum()))

    # -- decisions (overridden by the replay driver) ----------------------------

    def _pick_branch(self, options: dict[int, list[int]], alternatives: Sequence[str], *,
                     weighed: bool = True) -> int:
        logits = self._now()
        best = logits.best(list(options))
        if weighed:
            self._note(logits, best, list(options))
        return best

    # -- the Driver protocol ------------------------------------------------------

    def choose(self, alternatives: Sequence[str], *, weighed: bool = True) -> int:
        seqs = [self.engine.tokenize(self.pending + alt) for alt in alternatives]
        self.pending = ""
        live = list(range(len(alternatives)))
        depth = 0
        path: list[int] = []  # forced tokens since the last decision, not yet committed
        while True:
            ended = [i for i in live if len(seqs[i]) == depth]
            if ended:
                chosen = ended[0]
                break
            branches: dict[int, list[int]] = {}
            for i in live:
                branches.setdefault(seqs[i][depth], []).append(i)
            if len(branches) == 1:
                path.append(seqs[live[0]][depth])
            else:
                self._commit(path)
                path = []
                token = self._pick_branch(branches, alternatives, weighed=weighed)
                self.decisions += 1
                self._commit([token])
                live = branches[token]
            depth += 1
        # Whatever follows the last decision stays text, to be tokenized with what comes next.
        self.pending = "".join(self.vocab.piece(t) for t in path)
        return chosen

    def force(self, text: str) -> None:
        self.pending += text

    def free_string(self, *, required: bool) -> str:
        self._commit_pending()
        if self._sources:
            return self._copy_string(required=required)
        out: list[int] = []
        for _ in range(MAX_STRING_TOKENS):
            logits = self._now()
            best = logits.best(self.vocab.string_tokens)
            self.decisions += 1
            may_close = out or not required
            if may_close and logits[self.vocab.escape_first] >= logits[best]:
                self._note(logits, self.vocab.escape_first, [best, self.vocab.escape_first])
                break
            if may_close:
                self._note(logits, best, [best, self.vocab.escape_first])
            self._commit([best])
            out.append(best)
        return "".join(self.vocab.piece(t) for t in out)

    def _token_for(self, text: str) -> int | None:
        """The token whose piece is exactly ``text``, if the tokenizer has one."""
        if text not in self._single:
            toks = self.engine.tokenize(text, special=False)
            self._single[text] = (toks[0] if len(toks) == 1 and self.vocab.piece(toks[0]) == text
                                  and toks[0] != self.vocab.escape_first else None)
        return self._single[text]

    def _copy_string(self, *, required: bool) -> str:
        """A span of the request's words: the model picks where it starts and ends."""
        text = ""
        for _ in range(MAX_STRING_TOKENS):
            rests = [src[len(text):] for src in self._sources if src.startswith(text)]
            at_word_end = bool(text) and not text.endswith(" ") and any(
                not r or r.startswith(" ") for r in rests)
            # Each token that copies on from here, and the rests of the words it continues.
            conts: dict[int, set[str]] = {}
            for r in rests:
                for k in range(1, min(len(r), MAX_PIECE_CHARS) + 1):
                    if (tok := self._token_for(r[:k])) is not None:
                        conts.setdefault(tok, set()).add(r)
            cands = sorted(conts)
            if not cands:
                break
            logits = self._now()
            best = logits.best(cands)
            self.decisions += 1
            may_close = at_word_end or (not text and not required)
            closing = self.vocab.escape_first
            if may_close and logits[closing] >= logits[best]:
                self._note(logits, closing, [*cands, closing])
                break
            # "to" + "kyo" and "tokyo" copy the same words: a token whose every continuation
            # is one the chosen token's is the same choice, and its probability counts with it.
            same = [c for c in cands if c != best and conts[c] <= conts[best]]
            self._note(logits, best, [*cands, closing] if may_close else cands, same)
            self._commit([best])
            text += self.vocab.piece(best)
        return text.rstrip()

    def number(self, *, integer: bool, negative: bool, follow: Sequence[str],
               weighed: bool = True) -> str:
        self._commit_pending()
        v = self.vocab
        # The first token of each thing that may follow, tokenized as the next choice will.
        closers = np.array(sorted({self.engine.tokenize(f)[0] for f in follow if f}),
                           dtype=np.int64)
        text = ""
        while len(text) < MAX_NUMBER_CHARS:
            logits = self._now()
            has_digit = any(c.isdigit() for c in text)
            cands = list(v.digits)
            if not text and negative and v.minus is not None:
                cands.append(v.minus)
            if has_digit and not integer and "." not in text and v.dot is not None:
                cands.append(v.dot)
            best = logits.best(cands)
            self.decisions += 1
            if has_digit and not text.endswith("."):
                closer = logits.best(closers)
                stop = logits[closer] >= logits[best]
                if weighed:
                    self._note(logits, closer if stop else int(best), [*cands, closer])
                if stop:
                    break  # the closer is the next choice's business; logits stay valid
            elif weighed:
                self._note(logits, int(best), cands)
            self._commit([int(best)])
            text += v.piece(int(best))
        return text

    # -- result -------------------------------------------------------------------

    def text(self) -> str:
        return "".join(self.vocab.piece(t) for t in self.tokens) + self.pending

    def all_tokens(self) -> list[int]:
        return self.tokens + (self.engine.tokenize(self.pending) if self.pending else [])


def first_choice(scores: Scores, chosen: int, among: Sequence[int] | None = None) -> float:
    """The probability of ``chosen`` against the strongest other first token: of the
    vocabulary, or of ``among``."""
    if among is None:
        assert scores.logits is not None
        row = scores.logits.astype(np.float64)
        other = float(np.partition(row, -2)[-2])  # the best token but the chosen one (the max)
    else:
        other = max(scores[t] for t in among if t != chosen)
    return float(1.0 / (1.0 + np.exp(other - scores[chosen])))
