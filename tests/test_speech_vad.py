"""The trained endpointer (pymicro-vad) on real speech: first words, noise, pauses.

Speech from espeak-ng and flite, noise from sox, the real pocketsphinx model: a recording
that starts with its first word keeps it, speech in pink noise at 6 and 12 dB SNR is one
utterance, and noise alone is none.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from appliance.speech.endpoint import (
    Endpointer,
    EndpointSettings,
    VadEndpointer,
    make_endpointer,
)
from appliance.speech.pipeline import VoicePipeline
from appliance.speech.stt import Transcript
from appliance.speech.vad import VoiceActivity
from appliance.speech.wav import frames_of, read_wav
from tests.speech import content_words, home_pipeline, mix, samples, say, sox, write

# The issue's own examples: with the energy endpointer their first words were lost.
FIRST_WORDS = ["switch off the lights in the bedroom", "garage light off please",
               "turn the fan on high", "open the garage door"]


@pytest.fixture(scope="module")
def pipeline(home_config) -> VoicePipeline:  # type: ignore[no-untyped-def]
    made: VoicePipeline = home_pipeline(home_config.tools)  # type: ignore[assignment]
    return made


def _heard(pipeline: VoicePipeline, wav: Path) -> list[str]:
    pipeline.reset()
    return [h.transcript.heard for h in pipeline.run(frames_of(read_wav(wav).samples))]


@pytest.mark.parametrize("voice", ["en-us", "flite:rms"])
def test_a_recording_that_starts_with_speech_keeps_its_first_word(
        tmp_path: Path, pipeline: VoicePipeline, voice: str) -> None:
    for i, text in enumerate(FIRST_WORDS):
        wav = say(text, tmp_path / f"{i}.wav", voice=voice, pad=(0, 0.8), trim=True)
        assert np.abs(samples(wav)[:480]).max() > 300  # speech from the first 30 ms
        [heard] = _heard(pipeline, wav)
        assert content_words(heard)[:1] == content_words(text)[:1], (voice, text, heard)


def test_the_same_recording_after_silence_or_noise(tmp_path: Path,
                                                   pipeline: VoicePipeline) -> None:
    text = "switch off the lights in the bedroom"
    speech = samples(say(text, tmp_path / "s.wav", pad=(0, 0.8), trim=True))
    noise = samples(sox(None, tmp_path / "pink.wav", synth=["3", "pinknoise"]))
    quiet = np.zeros(16000)
    for name, before in (("silence", quiet), ("noise", noise[:16000] * 0.05)):
        wav = write(tmp_path / f"{name}.wav", np.concatenate([before, speech]))
        [heard] = _heard(pipeline, wav)
        assert content_words(heard)[:2] == ["switch", "off"], (name, heard)


def test_the_vad_finds_speech_from_the_first_frame_where_energy_cannot(tmp_path: Path) -> None:
    wav = say("garage light off please", tmp_path / "g.wav", pad=(0, 0.8), trim=True)
    x = read_wav(wav).samples
    [vad] = list(VadEndpointer().utterances(frames_of(x)))
    assert vad.start_s == 0.0 and vad.seconds > 1.0
    # The energy endpointer takes the first word for the room's noise floor.
    energy = list(Endpointer().utterances(frames_of(x)))
    assert not energy or energy[0].start_s > 0.2


@pytest.mark.parametrize("snr", [12, 6])
def test_one_order_in_pink_noise_is_one_utterance(tmp_path: Path, snr: int) -> None:
    speech = samples(say("set the thermostat to seventy two fahrenheit", tmp_path / "t.wav",
                         pad=(2.0, 2.0)))
    noise = samples(sox(None, tmp_path / "pink.wav", synth=[str(len(speech) / 16000 + 1),
                                                            "pinknoise"]))
    mixed = mix(speech, noise, snr)
    mixed *= 20000 / np.abs(mixed).max()
    utts = list(VadEndpointer().utterances(frames_of(mixed.astype(np.int16))))
    assert len(utts) == 1, [(u.start_s, u.end_s) for u in utts]
    assert 1.4 < utts[0].start_s < 2.3 and utts[0].end_s > len(speech) / 16000 - 2.2


def test_noise_alone_is_not_speech(tmp_path: Path) -> None:
    for kind in ("pinknoise", "brownnoise", "whitenoise"):
        noise = read_wav(sox(None, tmp_path / f"{kind}.wav", synth=["20", kind],
                             effects=["vol", "0.5"]))
        assert list(VadEndpointer().utterances(frames_of(noise.samples))) == [], kind
    # A door slam: a loud thump of brown noise, 150 ms.
    slam = np.zeros(32000)
    slam[8000:10400] = samples(sox(None, tmp_path / "b.wav", synth=["0.15", "brownnoise"]))[
        :2400] * np.exp(-np.arange(2400) / 600)
    assert list(VadEndpointer().utterances(frames_of(slam.astype(np.int16)))) == []


def test_the_detector_is_chosen_by_name() -> None:
    assert isinstance(make_endpointer(EndpointSettings()), VadEndpointer)
    assert isinstance(make_endpointer(EndpointSettings(detector="energy")), Endpointer)
    vad = VoiceActivity()
    assert vad.probability(bytes(960)) < 0.5
    settings = dataclasses.replace(EndpointSettings(), pre_roll_ms=90)
    assert isinstance(make_endpointer(settings, vad), VadEndpointer)


# -- endpoint by meaning ------------------------------------------------------------------


def test_words_that_make_a_complete_call_end_after_a_short_pause(
        tmp_path: Path, pipeline: VoicePipeline) -> None:
    """The pipeline checks the words so far at a pause; the check here is a plain rule over
    the words (the daemon's is the tool caller: test_listen)."""
    wav = say("open the garage door", tmp_path / "g.wav", pad=(0.3, 1.0))
    checked: list[str] = []

    def complete(words: str) -> bool:
        checked.append(words)
        return words.endswith("garage door")

    ends = {}
    for check in (complete, None):
        pipeline.reset()
        pipeline.complete = check
        [heard] = list(pipeline.run(frames_of(read_wav(wav).samples)))
        ends[heard.ended_by] = heard
    pipeline.complete = None
    early, late = ends["complete"], ends["silence"]
    assert checked and early.transcript.heard == late.transcript.heard == "open the garage door"
    # 600 ms of silence against 180: the same words, 420 ms sooner.
    assert late.end_s - early.end_s == pytest.approx(0.42, abs=0.001)
    assert early.silence_ms == 180 and early.wait_ms >= 180 and early.transcript.final_ms == 0


def test_an_incomplete_command_waits_for_the_rest(tmp_path: Path,
                                                  pipeline: VoicePipeline) -> None:
    """A pause after "set a timer for" (a word that wants more) or after words that make no
    call yet does not end the utterance: the rest of the command is in it."""
    first = say("set a timer for", tmp_path / "a.wav", pad=(0.3, 0.0))
    rest = say("five minutes", tmp_path / "b.wav", pad=(0.4, 1.0))
    wav = write(tmp_path / "ab.wav", np.concatenate([samples(first), samples(rest)]))
    checked: list[str] = []
    peeked: list[str] = []

    def complete(words: str) -> bool:
        checked.append(words)
        return True  # every check would end it: only the open end stops the first

    original = pipeline.recognizer.peek

    def peek() -> Transcript:
        transcript = original()
        peeked.append(transcript.heard)
        return transcript

    pipeline.reset()
    pipeline.complete = complete
    pipeline.recognizer.peek = peek  # type: ignore[method-assign]
    try:
        heard = list(pipeline.run(frames_of(read_wav(wav).samples)))
    finally:
        pipeline.complete = None
        del pipeline.recognizer.peek
    # Both pauses were checked (the one after "for" and the one after "minutes") ...
    assert len(peeked) >= 2, peeked
    # ... and the first did not end it, whatever the recogniser made of "set a timer for".
    assert len(heard) == 1, [h.transcript.heard for h in heard]
    assert content_words(heard[0].transcript.heard)[-2:] == ["five", "minutes"]
    # Whether the last check passes depends on how sure the recogniser is of the words
    # (CI's build once refused them); when it passed, it ended the utterance.
    if checked and checked[-1].endswith("minutes"):
        assert heard[0].ended_by == "complete", (peeked, checked)
    else:
        assert heard[0].ended_by == "silence", (peeked, checked)


def test_speech_after_a_complete_check_keeps_the_utterance_open() -> None:
    """Marked complete at a pause, then more speech: the mark is gone, silence_ms ends it."""
    settings = EndpointSettings(detector="energy")
    ep = Endpointer(settings)
    quiet = bytes(960)
    loud = (np.sin(np.arange(480) / 3) * 8000).astype("<i2").tobytes()
    events: list[tuple[str, object]] = []
    for frame in [quiet] * 10 + [loud] * 10 + [quiet] * 4:
        for kind, value in ep.push(frame):
            events.append((kind, value))
            if kind == "pause":
                ep.mark_complete()
    assert ("pause", 90) in events and ep.in_speech
    for frame in [loud] * 5 + [quiet] * 19:
        events += list(ep.push(frame))
    assert ep.in_speech  # 570 ms of silence: not yet, the mark went with the new speech
    kind, utt = list(ep.push(quiet))[-1]
    assert kind == "end" and utt.reason == "silence"
