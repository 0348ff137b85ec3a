"""Speech to text behind one interface: pocketsphinx (embedded) and vosk (production).

A :class:`Recognizer` is streaming: :meth:`~Recognizer.begin` an utterance,
:meth:`~Recognizer.feed` it frames as they are captured (the work is done while the person
is still speaking), and :meth:`~Recognizer.end` returns the :class:`Transcript`. In command
mode the engine decodes with the grammar generated from the tools, and the transcript must
be a whole phrase of that grammar; anything else is rejected (``text`` empty, ``rejected``
says why), never forced onto the nearest command.
"""

from __future__ import annotations

import json
import logging
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from appliance.errors import SpeechError
from appliance.speech.grammar import CommandGrammar
from appliance.speech.lm import arpa, sample
from appliance.tools import Tool

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Transcript:
    text: str
    """What was said, lower case; empty when nothing usable was heard."""
    heard: str = ""
    """What the engine decoded, before the grammar check."""
    rejected: str | None = None
    """Why a decoded utterance was not accepted (outside the command grammar)."""
    final_ms: float = 0.0
    """Time spent in :meth:`Recognizer.end` (after the end of speech)."""
    decode_ms: float = 0.0
    """All decoding time for the utterance (feeding and ending)."""


class Recognizer(Protocol):
    name: str

    def begin(self) -> None: ...

    def feed(self, pcm: bytes) -> None: ...

    def end(self) -> Transcript: ...

    def close(self) -> None: ...


class _Timed:
    """Bookkeeping shared by the engines: decode time and the grammar check."""

    grammar: CommandGrammar | None

    def _start_clock(self) -> None:
        self._decode_s = 0.0

    def _verdict(self, heard: str, final_s: float) -> Transcript:
        unknown = "[unk]" in heard
        heard = " ".join(re.sub(r"[^\w\s']", " ", heard.replace("[unk]", " ").lower()).split())
        timing = {"final_ms": final_s * 1000, "decode_ms": (self._decode_s + final_s) * 1000}
        if unknown:
            return Transcript("", heard, "words outside the command grammar", **timing)
        if not heard:
            return Transcript("", "", None, **timing)
        if self.grammar is not None and not self.grammar.accepts(heard):
            strangers = self.grammar.decoys_in(heard)
            why = (f"{', '.join(strangers)}: not a name this appliance knows" if strangers
                   else "not a command of this appliance")
            return Transcript("", heard, why, **timing)
        return Transcript(heard, heard, None, **timing)


class PocketsphinxRecognizer(_Timed):
    """CMU pocketsphinx 5 with the US-English model from its wheel (or ``model_dir``)."""

    name = "pocketsphinx"

    def __init__(self, grammar_tools: tuple[list[Tool], str | None] | None = None, *,
                 model_dir: Path | None = None) -> None:
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
        self.grammar = None
        if grammar_tools is not None:
            tools, wake = grammar_tools
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
        self._decoder.start_utt()

    def feed(self, pcm: bytes) -> None:
        self._buf.append(pcm)

    def end(self) -> Transcript:
        # Decoded whole: cepstral mean normalisation over the utterance itself. Streaming
        # with pocketsphinx's live CMN heard "switch on" for "switch off" on the first
        # utterances of a new voice (tools/bench_voice: 49% WER against 47% whole, and
        # mostly on words that matter). vosk, the production engine, streams.
        t = time.perf_counter()
        self._decoder.process_raw(b"".join(self._buf), no_search=False, full_utt=True)
        self._buf = []
        self._decoder.end_utt()
        hyp = self._decoder.hyp()
        return self._verdict(hyp.hypstr if hyp is not None else "", time.perf_counter() - t)

    def close(self) -> None:
        self._decoder = None


def check_vosk_model(model_dir: Path, *, grammar: bool) -> None:
    """Raise :class:`SpeechError` unless ``model_dir`` looks like a usable vosk model."""
    if not model_dir.is_dir():
        raise SpeechError(f"{model_dir}: vosk model directory not found "
                          f"(`appliance models fetch vosk-small-en-us` gets one)")
    if not (model_dir / "am" / "final.mdl").exists() and not (model_dir / "final.mdl").exists():
        raise SpeechError(f"{model_dir}: not a vosk model (no am/final.mdl)")
    if grammar and not ((model_dir / "graph" / "HCLr.fst").exists()
                        or (model_dir / "HCLr.fst").exists()):
        raise SpeechError(f"{model_dir}: this vosk model cannot take a grammar (no HCLr.fst); "
                          f"use a small model or speech.mode: open")


class VoskRecognizer(_Timed):
    """Vosk (Kaldi) with a model directory given by path; never downloaded here."""

    name = "vosk"

    def __init__(self, model_dir: Path, grammar_tools: tuple[list[Tool], str | None] | None
                 = None) -> None:
        try:
            import vosk
        except ImportError as exc:
            raise SpeechError(f"vosk is not installed: {exc}") from None
        model_dir = Path(model_dir)
        check_vosk_model(model_dir, grammar=grammar_tools is not None)
        vosk.SetLogLevel(-1)
        try:
            self._model = vosk.Model(str(model_dir))
        except Exception as exc:
            raise SpeechError(f"{model_dir}: vosk could not load the model: {exc}") from None
        self._vosk = vosk
        self.grammar = None
        self._words: str | None = None
        if grammar_tools is not None:
            tools, wake = grammar_tools
            known = self._model.vosk_model_find_word
            self.grammar = CommandGrammar.from_tools(tools, wake_word=wake,
                                                     known=lambda w: known(w) >= 0)
            words = sorted(self.grammar.vocabulary())
            if known("[unk]") >= 0:
                words.append("[unk]")  # out-of-grammar speech lands here, then is rejected
            self._words = json.dumps(words, ensure_ascii=False)
        self._rec: Any = None
        self._partial = ""
        self._start_clock()

    def begin(self) -> None:
        self._start_clock()
        t = time.perf_counter()
        rec = (self._vosk.KaldiRecognizer(self._model, 16000, self._words) if self._words
               else self._vosk.KaldiRecognizer(self._model, 16000))
        self._rec = rec
        self._partial = ""
        self._decode_s += time.perf_counter() - t

    def feed(self, pcm: bytes) -> None:
        t = time.perf_counter()
        if self._rec.AcceptWaveform(pcm):
            # vosk ended a segment on its own (a long pause): keep its text.
            self._partial = f"{self._partial} {json.loads(self._rec.Result()).get('text', '')}"
        self._decode_s += time.perf_counter() - t

    def end(self) -> Transcript:
        t = time.perf_counter()
        text = json.loads(self._rec.FinalResult()).get("text", "")
        text = f"{self._partial} {text}".strip()
        self._partial = ""
        self._rec = None
        return self._verdict(text, time.perf_counter() - t)

    def close(self) -> None:
        self._rec = None
