"""vosk (Kaldi), the production speech-to-text engine, behind :mod:`.stt`'s interface.

Models are loaded by path and never downloaded here (`appliance models fetch` gets one).
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from appliance.errors import SpeechError
from appliance.speech.grammar import CommandGrammar
from appliance.speech.stt import QUIET, Transcript, Word, _clean, _Timed, with_noise_floor
from appliance.tools import Tool


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
                 = None, *, accept: str = "meaning") -> None:
        self.accept = accept
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
        self._heard: list[Word] = []
        self._chunks = 0
        self._start_clock()

    def begin(self) -> None:
        self._start_clock()
        t = time.perf_counter()
        rec = (self._vosk.KaldiRecognizer(self._model, 16000, self._words) if self._words
               else self._vosk.KaldiRecognizer(self._model, 16000))
        rec.SetWords(True)
        rec.SetPartialWords(True)
        rec.AcceptWaveform(QUIET)
        self._chunks = 0
        self._rec = rec
        self._heard = []
        self._decode_s += time.perf_counter() - t

    def feed(self, pcm: bytes) -> None:
        t = time.perf_counter()
        self._chunks += 1
        if self._rec.AcceptWaveform(with_noise_floor(pcm, self._chunks)):
            # vosk ended a segment on its own (a long pause): keep its words.
            self._heard += self._result(self._rec.Result())
        self._decode_s += time.perf_counter() - t

    def _result(self, result: str) -> list[Word]:
        pad = len(QUIET) / 2 / 16000
        return [Word(_clean(str(w["word"])), max(0.0, float(w["start"]) - pad),
                     max(0.0, float(w["end"]) - pad), float(w.get("conf", 1.0)))
                for w in json.loads(result).get("result", []) if _clean(str(w["word"]))]

    def peek(self) -> Transcript:
        # vosk's partial result: the words so far, without confidences (the final result,
        # cheap because vosk streams, is what ``end`` returns).
        t = time.perf_counter()
        partial = json.loads(self._rec.PartialResult()).get("partial_result", [])
        words = self._heard + self._result(json.dumps({"result": partial}))
        elapsed = time.perf_counter() - t
        self._decode_s += elapsed
        return self._verdict(words, elapsed)

    def end(self, *, reuse_peek: bool = False) -> Transcript:
        t = time.perf_counter()
        words = self._heard + self._result(self._rec.FinalResult())
        self._heard = []
        self._rec = None
        return self._verdict(words, time.perf_counter() - t)

    def close(self) -> None:
        self._rec = None
