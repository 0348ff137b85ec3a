"""CMU pocketsphinx 5, the embedded engine: its US-English model ships in the wheel.

Each utterance is decoded whole (see :meth:`PocketsphinxRecognizer._decode`), steered by a
trigram model sampled from the command grammar (:mod:`.lm`); the share of its N-best
hypotheses that hold a word is the word's confidence.
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from appliance.errors import SpeechError
from appliance.speech.grammar import CommandGrammar
from appliance.speech.lm import arpa, sample
from appliance.speech.stt import QUIET, Transcript, Word, _clean, _Timed, with_noise_floor
from appliance.tools import Tool

NBEST = 10
"""pocketsphinx hypotheses compared for the confidence (a few ms: the lattice is there)."""

FILLERS = {"<s>", "</s>", "<sil>", "[noise]", "[laugh]", "[breath]", "[cough]", "++noise++"}

PRONUNCIATIONS = {"nabu": "N AA B UW", "mycroft": "M AY K R AO F T"}
"""The built-in wake words that CMUdict lacks (ARPAbet, as pocketsphinx's dictionary)."""


class PocketsphinxRecognizer(_Timed):
    """CMU pocketsphinx 5 with the US-English model from its wheel (or ``model_dir``)."""

    name = "pocketsphinx"

    def __init__(self, grammar_tools: tuple[list[Tool], str | None] | None = None, *,
                 model_dir: Path | None = None, accept: str = "meaning") -> None:
        self.accept = accept
        try:
            from pocketsphinx import Decoder, get_model_path
        except ImportError as exc:
            raise SpeechError(f"pocketsphinx is not installed: {exc}") from None
        options: dict[str, Any] = {"logfn": os.devnull}
        if model_dir is not None:
            hmm, dic, lm = model_dir / "en-us", model_dir / "cmudict-en-us.dict", \
                model_dir / "en-us.lm.bin"
            for p in (hmm, dic):
                if not p.exists():
                    raise SpeechError(f"{model_dir}: not a pocketsphinx model directory "
                                      f"({p.name} is missing)")
            options.update(hmm=str(hmm), dict=str(dic), lm=str(lm) if lm.exists() else None)
        try:
            self._decoder = Decoder(**options)
        except Exception as exc:
            where = model_dir or get_model_path()
            raise SpeechError(f"cannot load the pocketsphinx model at {where}: {exc}") from None
        self._buf: list[bytes] = []
        self._peeked: Transcript | None = None
        self.grammar = None
        if grammar_tools is not None:
            tools, wake = grammar_tools
            for word in (wake or "").lower().split():
                if self._decoder.lookup_word(word) is None and word in PRONUNCIATIONS:
                    self._decoder.add_word(word, PRONUNCIATIONS[word], False)
            self.grammar = CommandGrammar.from_tools(
                tools, wake_word=wake, known=lambda w: self._decoder.lookup_word(w) is not None)
            if not self.grammar.rules["tool"]:
                raise SpeechError("no command grammar: no tool example uses words the "
                                  "recogniser knows")
            # Searched as a trigram model of the grammar's sentences (see lm.py).
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / "commands.arpa"
                path.write_text(arpa(sample(self.grammar)), encoding="utf-8")
                try:
                    self._decoder.add_lm_file("commands", str(path))
                    self._decoder.activate_search("commands")
                except Exception as exc:
                    raise SpeechError(f"pocketsphinx refused the command model: {exc}") from None
        self._start_clock()

    def begin(self) -> None:
        self._start_clock()
        self._buf = []
        self._peeked = None
        self._decoder.start_utt()

    def feed(self, pcm: bytes) -> None:
        self._buf.append(pcm)

    def end(self, *, reuse_peek: bool = False) -> Transcript:
        if reuse_peek and self._peeked is not None:
            self._decoder.end_utt()
            self._buf, peeked, self._peeked = [], self._peeked, None
            return replace(peeked, final_ms=0.0)  # decoded during the pause
        t = time.perf_counter()
        words, alternatives = self._decode()
        self._buf = []
        return self._verdict(words, time.perf_counter() - t, alternatives)

    def peek(self) -> Transcript:
        t = time.perf_counter()
        # The pause so far is short: pocketsphinx decodes a word at the very end of its
        # input badly ("five minutes" + 90 ms: "the car you get"), so the quiet it would
        # hear next is added.
        words, alternatives = self._decode(QUIET)
        self._decoder.start_utt()
        elapsed = time.perf_counter() - t
        self._decode_s += elapsed
        self._peeked = self._verdict(words, elapsed, alternatives)
        return self._peeked

    def _decode(self, after: bytes = b"") -> tuple[list[Word], tuple[str, ...]]:
        # Decoded whole: cepstral mean normalisation over the utterance itself. Streaming
        # with pocketsphinx's live CMN heard "switch on" for "switch off" on the first
        # utterances of a new voice (tools/bench_voice: 49% WER against 47% whole, and
        # mostly on words that matter). vosk, the production engine, streams.
        audio = QUIET + with_noise_floor(b"".join(self._buf)) + after
        self._decoder.process_raw(audio, no_search=False, full_utt=True)
        self._decoder.end_utt()
        return self._words()

    def _words(self) -> tuple[list[Word], tuple[str, ...]]:
        """The best hypothesis's words, each with the share of the N-best that has it."""
        if self._decoder.hyp() is None:
            return [], ()
        pad = len(QUIET) / 2 / 16000  # word times count from the utterance's own start
        words = []
        for seg in self._decoder.seg():
            text = _clean(seg.word)
            if seg.word.lower() in FILLERS or not text:
                continue
            words.append(Word(text, max(0.0, seg.start_frame / 100 - pad),
                              max(0.0, (seg.end_frame + 1) / 100 - pad)))
        hyps = [" ".join(w.text for w in words)]
        for i, nb in enumerate(self._decoder.nbest()):
            if i >= NBEST * 3 or len(hyps) >= NBEST or nb is None:
                break
            h = " ".join(_clean(w) for w in nb.hypstr.split() if _clean(w))
            if h not in hyps:
                hyps.append(h)
        bags = [set(h.split()) for h in hyps]
        words = [replace(w, confidence=sum(w.text in b for b in bags) / len(bags))
                 for w in words]
        best = " ".join(w.text for w in words)
        return words, tuple(h for h in hyps if h != best)[:4]

    def close(self) -> None:
        self._decoder = None
