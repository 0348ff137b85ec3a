"""Acceptance by meaning: a rephrased command goes to the tool caller as heard; speech
outside the appliance's domain is refused with a reason (real pocketsphinx, espeak-ng)."""

from __future__ import annotations

from pathlib import Path

import pytest

from appliance.speech.grammar import CommandGrammar
from appliance.speech.heard import Heard
from appliance.speech.pipeline import VoicePipeline, make_recognizer
from appliance.speech.settings import SpeechSettings
from appliance.speech.stt import (
    FLOOR_CONFIDENCE,
    MIN_CONFIDENCE,
    REPHRASED_CONFIDENCE,
    Word,
    without_restarts,
)
from appliance.speech.wav import frames_of, read_wav
from tests.speech import say

# Not one of the demo home's example phrasings, each heard exactly by pocketsphinx. ("i need
# the bathroom light on" was, until get_light_state's "did i leave the bedroom light on"
# pulled it to "i leave the bathroom light on": a phrasing shapes what the grammar hears.)
REPHRASED = ["kill the hallway light", "i want the bathroom light on"]
OTHER = ["the quick brown fox jumps over the lazy dog",
         "my sister is coming over for dinner tonight",
         "remember to call grandma on sunday", "tell me a joke"]


def _pipeline(config, accept: str) -> VoicePipeline:  # type: ignore[no-untyped-def]
    settings = SpeechSettings(accept=accept)
    return VoicePipeline(settings, make_recognizer(settings, config.tools))


def _heard(pipeline: VoicePipeline, wav: Path) -> Heard:
    pipeline.reset()
    [heard] = pipeline.run(frames_of(read_wav(wav).samples))
    return heard


@pytest.fixture(scope="module")
def wavs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("accept")
    return {t: say(t, d / f"{i}.wav", pad=(0.3, 1.0)) for i, t in enumerate(REPHRASED + OTHER)}


def test_a_rephrased_command_goes_to_the_caller_as_heard(home_config, wavs) -> None:  # type: ignore[no-untyped-def]
    grammar = CommandGrammar.from_tools(home_config.tools)
    meaning, strict = _pipeline(home_config, "meaning"), _pipeline(home_config, "phrasings")
    for text in REPHRASED:
        assert not grammar.accepts(text)  # none of the phrasings: the point of the test
        heard = _heard(meaning, wavs[text])
        assert heard.command == text.replace("light on", "lights on") or heard.command == text
        assert heard.confidence is not None and heard.confidence >= 0.8
        refused = _heard(strict, wavs[text])
        assert refused.command is None
        assert refused.transcript.rejected == "not one of this appliance's phrasings"


def test_speech_outside_the_domain_is_refused_with_a_reason(home_config, wavs) -> None:  # type: ignore[no-untyped-def]
    pipeline = _pipeline(home_config, "meaning")
    refused, doubted = [], []
    for text in OTHER:
        heard = _heard(pipeline, wavs[text])
        if heard.command is None:
            assert heard.transcript.rejected or heard.note, heard
            refused.append(text)
        elif heard.transcript.unsure:
            doubted.append(text)
    # What passes goes to the tool caller, which may still find no call in it (the
    # out-of-domain test in test_listen.py); most is refused here, or doubted: a call it
    # leads to would be asked back, not done.
    assert refused and len(refused) + len(doubted) >= 3, (refused, doubted)


def test_words_the_recogniser_doubts_go_on_to_be_asked_back(home_config) -> None:  # type: ignore[no-untyped-def]
    recognizer = make_recognizer(SpeechSettings(), home_config.tools)

    def verdict(text: str, confidence: float):  # type: ignore[no-untyped-def]
        words = [Word(w, i * 0.3, i * 0.3 + 0.25, confidence)
                 for i, w in enumerate(text.split())]
        recognizer._start_clock()
        return recognizer._verdict(words, 0.0)

    # Off the phrasings and between the two thresholds: passed on, marked unsure.
    doubted = verdict("kill the hallway light", (MIN_CONFIDENCE + REPHRASED_CONFIDENCE) / 2)
    assert doubted.text == "kill the hallway light" and doubted.unsure
    assert doubted.rejected is None
    sure = verdict("kill the hallway light", REPHRASED_CONFIDENCE + 0.05)
    assert sure.text and not sure.unsure
    # One of the phrasings needs less, but not nothing; below the floor nothing passes.
    assert not verdict("turn on the kitchen light", MIN_CONFIDENCE + 0.05).unsure
    assert verdict("turn on the kitchen light", (FLOOR_CONFIDENCE + MIN_CONFIDENCE) / 2).unsure
    low = verdict("turn on the kitchen light", FLOOR_CONFIDENCE - 0.05)
    assert low.text == "" and "unsure what was said" in (low.rejected or "")
    recognizer.close()


def test_heard_reports_confidence_and_alternatives(home_config, wavs) -> None:  # type: ignore[no-untyped-def]
    heard = _heard(_pipeline(home_config, "meaning"), wavs["kill the hallway light"])
    report = heard.to_dict()
    assert report["confidence"] == round(heard.transcript.confidence or 0, 3)
    assert report["alternatives"] and all(isinstance(a, str) for a in report["alternatives"])
    assert [w.text for w in heard.transcript.words] == heard.transcript.heard.split()
    starts = [w.start_s for w in heard.transcript.words]
    assert starts == sorted(starts) and starts[0] < 0.5


def test_a_restart_is_one_command_and_a_number_said_twice_is_not_folded() -> None:
    # vosk held to the Korean test grammar hears espeak's "음악 틀어" as "음악 음악 틀어"
    # (tests/test_listen.py): the folded phrasing is accepted, the raw decode stays in heard.
    assert without_restarts("turn on the turn on the kitchen light") == \
        "turn on the kitchen light"
    assert without_restarts("turn off the the hallway light") == "turn off the hallway light"
    assert without_restarts("off music play off play play") == "off music play off play"
    assert without_restarts("set the thermostat to fifty fifty") == \
        "set the thermostat to fifty fifty"

