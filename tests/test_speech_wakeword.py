"""The wake word engine (pymicro-wakeword's okay_nabu) on synthesized speech, and the
pipeline around it: recognition only after the wake word, a command said straight after
it heard from its first word, nothing said after it, the button, the config."""

from __future__ import annotations

from pathlib import Path

import jsonschema
import numpy as np
import pytest

from appliance.english import OPTIONAL
from appliance.speech.heard import Heard
from appliance.speech.pipeline import VoicePipeline, make_recognizer
from appliance.speech.settings import SPEECH_SCHEMA, SpeechSettings
from appliance.speech.wakeword import (
    WakeWordDetector,
    WakeWordSettings,
    cutoff_for,
    phrase_of,
)
from appliance.speech.wav import frames_of, read_wav
from tests.speech import concat, samples, say, sox, write

# Voices okay_nabu reliably takes (checked over espeak-ng, flite and festival voices).
VOICES = ["en-us", "en-us+m3", "flite:rms"]

OTHER_SPEECH = (
    "The weather was fine all week and we walked to the market every morning. "
    "My brother bought a new bicycle, and he rides it to work along the river. "
    "Please remember that the library closes early on Sundays during the summer. "
    "Nobody knew the answer to the last question, so the teacher explained it again. "
    "Cooking dinner for twelve people takes most of the afternoon and a lot of patience. "
    "The train to the city was late again, and the station was full of tired people. "
    "We planted tomatoes, beans and a few sunflowers along the back fence this year. "
    "She said the meeting would start at nine, but it began closer to half past ten."
)


def _content(text: str) -> list[str]:
    return [w for w in text.split() if w not in OPTIONAL]


def _wake_settings(**extra: object) -> SpeechSettings:
    return SpeechSettings.from_mapping({"wake_word": {"model": "okay_nabu"}, **extra}, Path())


@pytest.fixture(scope="module")
def pipeline(home_config) -> VoicePipeline:  # type: ignore[no-untyped-def]
    settings = _wake_settings()
    return VoicePipeline(settings, make_recognizer(settings, home_config.tools))


def _run(pipeline: VoicePipeline, wav: Path) -> list[Heard]:
    pipeline.reset()
    return list(pipeline.run(frames_of(read_wav(wav).samples)))


def _detections(detector: WakeWordDetector, x: np.ndarray) -> int:
    detector.reset()
    n = 0
    for frame in frames_of(x):
        if detector.push(frame) is not None:
            n += 1
            detector.reset()
    return n


@pytest.mark.parametrize("voice", VOICES)
def test_the_engine_triggers_on_its_word(tmp_path: Path, voice: str) -> None:
    detector = WakeWordDetector(WakeWordSettings("okay_nabu"))
    x = samples(say("okay nabu", tmp_path / "w.wav", voice=voice, pad=(0.5, 1.0)))
    assert _detections(detector, x) == 1


def test_the_engine_does_not_trigger_on_a_minute_of_other_speech(tmp_path: Path) -> None:
    detector = WakeWordDetector(WakeWordSettings("okay_nabu"))
    parts = [say(OTHER_SPEECH, tmp_path / f"{i}.wav", voice=v, speed=160, pad=(0.2, 0.2))
             for i, v in enumerate(["en-us", "en-gb+f2"])]
    x = samples(concat(parts, tmp_path / "all.wav"))
    assert len(x) / 16000 > 60
    assert _detections(detector, x) == 0
    # A more sensitive setting does fire more easily (or the test above proves nothing).
    eager = WakeWordDetector(WakeWordSettings("okay_nabu", sensitivity=1.0))
    quiet = samples(say("okay nabu", tmp_path / "soft.wav", pad=(0.5, 1.0))) * 0.05
    assert eager.cutoff < detector.cutoff and _detections(eager, quiet) >= _detections(
        detector, quiet)


def test_a_command_straight_after_the_wake_word_is_heard_from_its_first_word(
        tmp_path: Path, pipeline: VoicePipeline) -> None:
    for voice in VOICES:
        wav = say("okay nabu turn on the kitchen light", tmp_path / "d.wav", voice=voice,
                  pad=(0.3, 1.0))
        wake, command = _run(pipeline, wav)
        assert wake.ended_by == "wake_word" and wake.note == "wake word: listening"
        assert command.command is not None, (voice, command)
        assert _content(command.command) == ["turn", "on", "kitchen", "light"], voice


def test_the_wake_word_then_a_pause_then_the_command(tmp_path: Path,
                                                     pipeline: VoicePipeline) -> None:
    wake = say("okay nabu", tmp_path / "w.wav", pad=(0.3, 0.0))
    gap = sox(None, tmp_path / "gap.wav", synth=["1.2", "sine", "0"])
    command = say("open the garage door", tmp_path / "c.wav", pad=(0.0, 1.0))
    heard = _run(pipeline, concat([wake, gap, command], tmp_path / "all.wav"))
    commands = [h.command for h in heard if h.command]
    assert heard[0].ended_by == "wake_word" and commands == ["open the garage door"]


def test_the_wake_word_followed_by_nothing(tmp_path: Path, pipeline: VoicePipeline) -> None:
    wav = say("okay nabu", tmp_path / "w.wav", pad=(0.3, 7.0))
    heard = _run(pipeline, wav)
    assert heard[0].ended_by == "wake_word"
    assert all(h.command is None for h in heard)
    assert heard[-1].ended_by == "timeout" and "nothing said" in (heard[-1].note or "")
    assert not pipeline.armed


def test_without_the_wake_word_nothing_is_recognised(tmp_path: Path,
                                                     pipeline: VoicePipeline) -> None:
    wav = say("turn on the kitchen light", tmp_path / "c.wav", pad=(0.3, 1.0))
    assert _run(pipeline, wav) == []
    # "Listen now" (MQTT, the button): the next utterance is a command.
    pipeline.reset()
    pipeline.arm()
    heard = list(pipeline.run(frames_of(read_wav(wav).samples)))
    assert [h.command for h in heard] == ["turn on the kitchen light"]


def test_a_button_press_while_speaking_takes_that_utterance(home_config, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = SpeechSettings(button_pin=5)
    pipeline = VoicePipeline(settings, make_recognizer(settings, home_config.tools))
    x = samples(say("open the garage door", tmp_path / "c.wav", pad=(0.3, 1.0)))
    heard: list[Heard] = []
    for i, frame in enumerate(frames_of(x)):
        if i == 30:  # 0.9 s in: the person is already speaking
            assert pipeline.in_speech
            pipeline.arm()
        heard += pipeline.push(frame)
    heard += pipeline.finish()
    assert [h.command for h in heard] == ["open the garage door"]


def test_the_config_names_the_model_and_its_sensitivity(tmp_path: Path) -> None:
    validator = jsonschema.Draft202012Validator(SPEECH_SCHEMA)
    good = {"wake_word": {"model": "hey_jarvis", "sensitivity": 0.7}}
    assert not list(validator.iter_errors(good))
    s = SpeechSettings.from_mapping(good, tmp_path)
    assert s.wake_word == WakeWordSettings("hey_jarvis", 0.7)
    assert phrase_of(s.wake_word) == "hey jarvis"
    for bad, says in (({"model": "hey_siri"}, "does not match"),
                      ({"model": "okay_nabu", "sensitivty": 1}, "sensitivty"),
                      ({"model": "okay_nabu", "sensitivity": 2}, "maximum"),
                      ({"sensitivity": 0.5}, "'model' is a required property")):
        errors = [e.message for e in validator.iter_errors({"wake_word": bad})]
        assert any(says in m for m in errors), (bad, errors)
    # The old form, a word the recogniser must hear, still validates.
    assert not list(validator.iter_errors({"wake_word": "computer"}))
    assert cutoff_for(0.85, 0.5) == 0.85 and cutoff_for(0.85, 1.0) == pytest.approx(0.5)
    assert cutoff_for(0.85, 0.0) == pytest.approx(0.999)
    custom = tmp_path / "mine.json"
    custom.write_text('{"wake_word": "Hey Toaster", "model": "mine.tflite"}')
    s = SpeechSettings.from_mapping({"wake_word": {"model": "mine.json"}}, tmp_path)
    assert isinstance(s.wake_word, WakeWordSettings) and phrase_of(s.wake_word) == "hey toaster"


def test_a_broken_wake_word_model_is_an_error_that_says_so(tmp_path: Path) -> None:
    from appliance.errors import SpeechError

    (tmp_path / "bad.json").write_text('{"wake_word": "x", "model": "missing.tflite", '
                                       '"micro": {"probability_cutoff": 0.9, '
                                       '"sliding_window_size": 5}}')
    with pytest.raises(SpeechError, match="wake word model"):
        WakeWordDetector(WakeWordSettings(str(tmp_path / "bad.json")))
    with pytest.raises(SpeechError, match="not a microWakeWord model"):
        phrase_of(WakeWordSettings(str(tmp_path / "nothing.json")))
    write(tmp_path / "unused.wav", np.zeros(10))
