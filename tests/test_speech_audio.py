"""Audio in, endpointing and the command grammar, on real WAV files (no language model)."""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pytest

from appliance.errors import AudioError
from appliance.speech.endpoint import Endpointer, EndpointSettings
from appliance.speech.grammar import CommandGrammar
from appliance.speech.wav import FRAME_BYTES, SAMPLE_RATE, frames_of, read_wav, resample
from tests.speech import concat, say, sox


def _tone(freq: float, rate: int, seconds: float = 1.0, amp: float = 10000) -> np.ndarray:
    t = np.arange(int(rate * seconds)) / rate
    return amp * np.sin(2 * np.pi * freq * t)


def _amplitude_at(x: np.ndarray, freq: float, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x)))) / (len(x) / 4)
    return float(spectrum[round(freq * len(x) / rate)])


def test_resampling_keeps_speech_band_and_removes_what_would_fold() -> None:
    out = resample(_tone(1000, 44100), 44100, SAMPLE_RATE).astype(float)
    assert len(out) == SAMPLE_RATE
    assert _amplitude_at(out[1000:-1000], 1000, SAMPLE_RATE) == pytest.approx(10000, rel=0.05)
    # 10 kHz is above 16 kHz's Nyquist: it would fold to 6 kHz; it must be filtered out.
    folded = resample(_tone(10000, 44100), 44100, SAMPLE_RATE).astype(float)
    assert _amplitude_at(folded[1000:-1000], 6000, SAMPLE_RATE) < 100


def test_wav_formats_are_converted_or_refused(tmp_path: Path) -> None:
    speech = say("turn on the kitchen light", tmp_path / "a.wav")
    base = read_wav(speech)
    assert base.notes == () and base.source_rate == SAMPLE_RATE
    for rate, channels, bits in ((44100, 2, 16), (48000, 1, 24), (8000, 1, 8), (22050, 2, 32)):
        other = read_wav(sox(speech, tmp_path / f"{rate}-{channels}-{bits}.wav", rate=rate,
                             channels=channels, bits=bits))
        assert abs(other.seconds - base.seconds) < 0.01, (rate, channels, bits)
        assert any("resampled" in n for n in other.notes)
        assert (channels > 1) == any("mono" in n for n in other.notes)
        # The same speech: strongly correlated with the 16 kHz original.
        n = min(len(other.samples), len(base.samples))
        r = np.corrcoef(other.samples[:n].astype(float), base.samples[:n].astype(float))[0, 1]
        assert r > (0.5 if rate == 8000 else 0.9), (rate, channels, bits, r)

    (tmp_path / "text.wav").write_text("not audio")
    with pytest.raises(AudioError, match="not a WAV file"):
        read_wav(tmp_path / "text.wav")
    with pytest.raises(AudioError, match="no such file"):
        read_wav(tmp_path / "missing.wav")
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(speech.read_bytes()[:30])
    with pytest.raises(AudioError):
        read_wav(truncated)


def test_an_empty_wav_is_no_speech(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    with wave.open(str(empty), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16000)
    audio = read_wav(empty)
    assert audio.seconds == 0
    assert list(Endpointer().utterances(frames_of(audio.samples))) == []


def test_endpointer_finds_each_command_and_nothing_in_silence_or_noise(tmp_path: Path) -> None:
    one = say("turn on the kitchen light", tmp_path / "1.wav")
    two = say("lock the front door", tmp_path / "2.wav")
    gap = sox(None, tmp_path / "gap.wav", synth=["1.5", "sine", "0"])
    both = read_wav(concat([one, gap, two], tmp_path / "both.wav"))
    utts = list(Endpointer().utterances(frames_of(both.samples)))
    assert [u.reason for u in utts] == ["silence", "silence"]
    assert 0.2 < utts[0].start_s < 0.5 and utts[0].end_s < utts[1].start_s
    for u in utts:
        assert 1.0 < u.seconds < 3.5

    silence = read_wav(sox(None, tmp_path / "silence.wav", synth=["5", "sine", "0"]))
    assert list(Endpointer().utterances(frames_of(silence.samples))) == []
    noise = read_wav(sox(None, tmp_path / "noise.wav", synth=["30", "whitenoise"],
                         effects=["vol", "0.3"]))
    assert list(Endpointer().utterances(frames_of(noise.samples))) == []


def test_speech_in_steady_noise_is_found(tmp_path: Path) -> None:
    speech = say("open the garage door", tmp_path / "s.wav", pad=(2.0, 2.0))
    noise = sox(None, tmp_path / "n.wav", synth=["5", "whitenoise"], effects=["vol", "0.02"])
    mixed = tmp_path / "mixed.wav"
    import subprocess

    subprocess.run(["sox", "-q", "-m", str(speech), str(noise), str(mixed), "trim", "0", "5"],
                   check=True)
    utts = list(Endpointer().utterances(frames_of(read_wav(mixed).samples)))
    assert len(utts) == 1 and 1.5 < utts[0].start_s < 2.3


def test_long_speech_is_cut_at_the_maximum_length() -> None:
    loud = (np.random.default_rng(1).standard_normal(16000 * 4) * 3000).astype(np.int16)
    quiet = np.zeros(16000, dtype=np.int16)
    samples = np.concatenate([quiet, loud])
    ep = Endpointer(EndpointSettings(max_utterance_s=1.5))
    utts = list(ep.utterances(frames_of(samples)))
    assert utts[0].reason == "max_length" and utts[0].seconds == pytest.approx(1.5, abs=0.05)
    # Steady from then on: the floor learns it, and it stops being "speech".
    assert len(utts) <= 2


def test_frames_are_whole() -> None:
    frames = list(frames_of(np.ones(1000, dtype=np.int16)))
    assert [len(f) for f in frames] == [FRAME_BYTES] * 3


# -- the command grammar --------------------------------------------------------------


def test_grammar_accepts_the_tools_phrasings_and_nothing_else(home_config) -> None:  # type: ignore[no-untyped-def]
    g = CommandGrammar.from_tools(home_config.tools, wake_word="Computer")
    for said in ("turn on the kitchen light", "please switch off the lights in the bedroom now",
                 "set the kitchen brightness to forty five percent",
                 "set a timer for one hundred and twenty minutes",
                 "computer what's the weather like in new york", "computer",
                 "set the thermostat to sixty eight point five fahrenheit"):
        assert g.accepts(said), said
    for said in ("turn on the garden light", "turn on the kitchen light light",
                 "set a timer for minutes", "what's the population of canada", "",
                 "please", "set a timer for twenty point five minutes"):
        assert not g.accepts(said), said
    assert {"kitchen", "percent", "computer", "fahrenheit"} <= g.vocabulary()
    # Lookalikes are heard as themselves and refused, not forced onto a real name.
    assert "garden" in g.vocabulary() and "kitchen" not in g.decoys_in("the kitchen garden")
    assert g.decoys_in("turn on the garden light") == ["garden"]


def test_grammar_leaves_out_words_the_recogniser_lacks(home_config) -> None:  # type: ignore[no-untyped-def]
    g = CommandGrammar.from_tools(home_config.tools, known=lambda w: w != "jazz")
    assert "jazz" not in g.vocabulary()
    assert any("jazz" in d for d in g.dropped)
    assert g.accepts("play some rock") and not g.accepts("play some jazz")
    nothing = CommandGrammar.from_tools(home_config.tools, known=lambda w: False)
    assert not nothing.rules["tool"]
    assert any("empty" in d for d in nothing.dropped)


def test_the_command_language_model_is_a_proper_distribution(home_config) -> None:  # type: ignore[no-untyped-def]
    from appliance.speech.lm import arpa, sample

    g = CommandGrammar.from_tools(home_config.tools, wake_word="computer")
    sentences = sample(g, 3000)
    assert all(g.accepts(" ".join(s)) or g.decoys_in(" ".join(s)) for s in sentences)
    assert sum(1 for s in sentences if g.decoys_in(" ".join(s))) > 0
    model = _read_arpa(arpa(sentences))
    vocab = [w for (w,) in model[1] if w != "<s>"]
    for context in (("turn",), ("<s>", "turn"), ("the", "kitchen"), ("percent",), ("zzz",)):
        total = sum(10 ** _logp(model, context, w) for w in vocab)
        assert abs(total - 1) < 1e-3, (context, total)


def _read_arpa(text: str) -> dict[int, dict[tuple[str, ...], tuple[float, float]]]:
    model: dict[int, dict[tuple[str, ...], tuple[float, float]]] = {1: {}, 2: {}, 3: {}}
    order = 0
    for line in text.splitlines():
        if line.endswith("-grams:"):
            order = int(line[1])
        elif order and line and not line.startswith("\\"):
            parts = line.split()
            words = tuple(parts[1:1 + order])
            bo = float(parts[1 + order]) if len(parts) > 1 + order else 0.0
            model[order][words] = (float(parts[0]), bo)
    return model


def _logp(model, context: tuple[str, ...], w: str) -> float:  # type: ignore[no-untyped-def]
    ngram = (*context, w)
    if ngram in model[len(ngram)]:
        return model[len(ngram)][ngram][0]
    if len(context) == 0:
        return -99.0
    backoff = model[len(context)].get(context, (0.0, 0.0))[1]
    return backoff + _logp(model, context[1:], w)


def test_pocketsphinx_loads_the_command_model(home_config) -> None:  # type: ignore[no-untyped-def]
    from appliance.speech.pocketsphinx_engine import PocketsphinxRecognizer

    rec = PocketsphinxRecognizer((list(home_config.tools), "computer"))
    assert rec.grammar is not None and rec.grammar.accepts("computer lock the back door")
    rec.close()
