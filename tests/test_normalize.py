"""Spelled numbers become digits before the model reads the words; nothing else changes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from appliance.config import Config
from appliance.english import lookalikes, normalize_numbers, spell_number, stt_style
from appliance.errors import ConfigError
from appliance.finetune.data import drop_leaks, leaks, synthesize
from appliance.finetune.samples import Sample, iter_jsonl, read_samples

from .conftest import ROOT


@pytest.mark.parametrize(("text", "expected"), [
    ("set it to forty five percent", "set it to 45 percent"),
    ("dim the bedroom to sixty seven percent", "dim the bedroom to 67 percent"),
    ("a hundred percent", "100 percent"),
    ("hundred percent brightness", "100 percent brightness"),
    ("one hundred and twenty minutes", "120 minutes"),
    ("set the heating to twenty-one degrees", "set the heating to 21 degrees"),
    ("Set the heat to Seventy Two.", "Set the heat to 72."),
    ("twelve hundred", "1200"),
    ("two thousand five hundred and six", "2506"),
    ("zero percent", "0 percent"),
    ("fifteen minute timer", "15 minute timer"),
    ("ten", "10"),
    # decimals and halves
    ("make it twenty one point five degrees", "make it 21.5 degrees"),
    ("twenty and a half degrees", "20.5 degrees"),
    ("one point five", "1.5"),
    # a lone "one" is a number only before a unit
    ("set a timer for one minute", "set a timer for 1 minute"),
    ("turn on the one in the kitchen", "turn on the one in the kitchen"),
    ("one more thing", "one more thing"),
    # what cannot be one number stays apart
    ("nineteen eighty four", "19 84"),
    ("fifty fifty", "50 50"),
    ("twenty-twenty", "twenty-twenty"),
    # punctuation ends a number
    ("five, please", "5, please"),
    ("one, two, three", "one, 2, 3"),
])
def test_spelled_numbers_become_digits(text: str, expected: str) -> None:
    assert normalize_numbers(text) == expected


@pytest.mark.parametrize("text", [
    "turn on the kitchen light", "a timer", "and a half", "play someone like you",
    "it's too dark in here", "alone again", "what's the weather like in new york",
    "the 45 already digits", "", "   ", "twentyish", "often", "tone", "a  b",
])
def test_everything_else_is_unchanged(text: str) -> None:
    assert normalize_numbers(text) == text


@pytest.mark.parametrize("n", [0, 2, 7, 13, 20, 21, 45, 67, 83, 99, 100, 101, 110, 250, 999,
                               1000, 1440, 2024, 9999])
def test_round_trip_with_the_training_data_words(n: int) -> None:
    assert normalize_numbers(spell_number(n)) == str(n)
    assert normalize_numbers(f"set it to {spell_number(n)} percent") == f"set it to {n} percent"
    if n < 100:  # "forty-five"
        assert normalize_numbers(spell_number(n).replace(" ", "-")) == str(n)


# -- the training data read the same way, and the held-out check compares what the model reads


def test_the_leak_check_compares_what_the_model_reads() -> None:
    train = [Sample("um set it to forty five percent in the kitchen please", None),
             Sample("stop the ceiling fan", None)]
    # Digits or words, punctuation or none: the same words for the model.
    assert leaks(train, ["Set it to 45 percent in the kitchen.", "stop", "fan"]) == [
        "Set it to 45 percent in the kitchen."]
    kept, hit = drop_leaks(train, ["set it to 45 percent in the kitchen"])
    assert kept == train[1:] and hit == ["set it to 45 percent in the kitchen"]


def test_a_short_held_out_sentence_is_seen_only_with_politeness_around_it() -> None:
    """ "set a timer" held out must not take every timer request out of training: a short
    sentence is a part of many other requests. With only politeness around it, it is seen."""
    train = [Sample("um can you set a timer for me please", None),
             Sample("set a timer for ten minutes", None),
             Sample("lock the back door for the night", None),
             Sample("please lock the back door thanks", None),
             Sample("start a timer for forty five minutes called tea", None)]
    assert leaks(train, ["set a timer", "lock the back door", "start a timer for 45 minutes",
                         "set a timer for 20 minutes"]) == [
        "set a timer", "lock the back door", "start a timer for 45 minutes"]
    kept, _ = drop_leaks(train, ["set a timer", "lock the back door",
                                 "start a timer for 45 minutes"])
    assert kept == [train[1], train[2]]


_DIGEST = """
import hashlib, json, pathlib
from appliance.config import load_config
from appliance.finetune.data import synthesize
from appliance.finetune.samples import iter_jsonl
root = pathlib.Path("deploy")
held = [json.loads(line)["text"] for p in sorted((root / "eval").glob("*.jsonl"))
        for line in p.read_text().splitlines() if line.strip()]
tools = list(load_config(root / "home.yaml").tools)
rows = iter_jsonl(synthesize(tools, per_template=2, per_tool=20, avoid=held))
print(hashlib.sha256("".join(json.dumps(r) + "\\n" for r in rows).encode()).hexdigest())
"""


def test_the_training_data_do_not_change_with_the_hash_seed() -> None:
    """The same config and arguments make the same samples in every process: which filler
    the held-out check strips first once followed a set's hash-seeded order, and a rerun of
    `appliance train` made one sample more or fewer, and so other data and another adapter."""
    digests = set()
    for seed in ("1", "3"):
        run = subprocess.run([sys.executable, "-c", _DIGEST], cwd=ROOT, capture_output=True,
                             text=True, check=True, env={**os.environ, "PYTHONHASHSEED": seed})
        digests.add(run.stdout.strip())
    assert len(digests) == 1, digests


def test_synthesized_data_avoid_held_out_sentences_and_balance_tools(
        home_config: Config) -> None:
    tools = list(home_config.tools)
    held = ["open the garage door", "lock the front door"]
    samples = synthesize(tools, per_template=2, per_tool=60, avoid=held)
    assert not leaks(samples, held)
    per_tool = Counter(s.call.name for s in samples if s.call is not None)
    assert set(per_tool) == {t.name for t in tools}
    assert min(per_tool.values()) >= 60
    for s in samples:
        if s.call is not None:
            home_config.tools.validate(s.call)  # every generated call is valid
    assert any(s.call is None for s in samples)


def test_lookalike_names_and_halves_in_the_training_data(home_config: Config) -> None:
    """Undeclared names in a tool's phrasings give no-call samples; halves are numbers."""
    samples = synthesize(list(home_config.tools), per_template=2, per_tool=60)
    rooms = home_config.tools["set_light"].properties["room"]
    decoys = lookalikes(rooms["enum"])
    assert "garden" in decoys and "hall" not in decoys and "living" not in decoys
    near = [s for s in samples if s.call is None
            and any(f"the {d} light" in s.text for d in decoys)]
    assert near  # "turn on the garden light": no call, not forced onto a room
    halves = [s for s in samples if s.call is not None
              and isinstance(s.call.arguments.get("temperature"), float)
              and not float(s.call.arguments["temperature"]).is_integer()]
    assert halves
    for s in halves:  # what the model reads has the value the call has
        assert str(s.call.arguments["temperature"]) in normalize_numbers(s.text), s  # type: ignore[union-attr]
    assert stt_style("Set it to 21.5, please.") == "set it to 21.5 please"


@pytest.mark.parametrize(("text", "expected"), [
    ("timer for one hour", "timer for 60 minutes"),
    ("set a timer for a quarter of an hour", "set a timer for 15 minutes"),
    ("a countdown for three hours", "a countdown for 180 minutes"),
    ("an hour and a half", "90 minutes"),
    ("half an hour for the roast", "30 minutes for the roast"),
    ("one hour and twenty minutes", "80 minutes"),
    ("two and a half hours", "150 minutes"),
    ("three quarters of an hour", "45 minutes"),
    ("a two hour timer", "a 120 minute timer"),
    ("what time is it", "what time is it"),
    ("the hourly news", "the hourly news"),
])
def test_durations_in_minutes(text: str, expected: str) -> None:
    from appliance.english import durations_in_minutes

    assert durations_in_minutes(normalize_numbers(text)) == expected


def test_durations_become_minutes_only_for_tools_that_count_minutes(home_config: Config) -> None:
    from appliance.caller.prompt import counts_in_minutes
    from appliance.tools import Tool

    assert counts_in_minutes(list(home_config.tools))  # start_timer's minutes
    hours = Tool("sleep", "Sleep for a while.", {"type": "object", "properties": {
        "hours": {"type": "number", "description": "How many hours"},
        "minutes": {"type": "integer"}}})
    assert not counts_in_minutes([hours])
    assert not counts_in_minutes([home_config.tools["set_light"]])


def test_enum_values_with_numbers_in_words_stay_as_declared() -> None:
    """An enum value "twelve ounce": the request the model reads keeps it in words (spelled
    or written with digits), so the model copies the declared value; other numbers become
    digits as always."""
    from appliance.english import keep_spelled, spelled_values

    spelled = spelled_values(["small", "twelve ounce", "sixteen ounce", "twenty ounce"])
    assert spelled == {"12 ounce": "twelve ounce", "16 ounce": "sixteen ounce",
                       "20 ounce": "twenty ounce"}

    def heard(text: str) -> str:
        return keep_spelled(normalize_numbers(text), spelled)

    assert heard("a twelve ounce latte with two shots") == "a twelve ounce latte with 2 shots"
    assert heard("a 16 ounce mocha") == "a sixteen ounce mocha"
    assert heard("two twenty ounce cold brews") == "2 twenty ounce cold brews"
    assert heard("a 112 ounce jug") == "a 112 ounce jug"  # not inside another number
    assert heard("set the timer for twelve minutes") == "set the timer for 12 minutes"


def test_an_adapters_samples_read_back_as_written(home_config: Config, tmp_path: Path) -> None:
    """`appliance train --samples` trains on the file written beside an adapter: it reads
    back what was written, and a row that cannot be a sample is refused by its line."""
    samples = synthesize(list(home_config.tools), per_template=1, per_tool=5)
    path = tmp_path / "home-lora.train.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in iter_jsonl(samples)))
    assert read_samples(path, home_config.tools) == samples
    assert any(s.more for s in samples) and any(s.missing for s in samples)
    path.write_text(path.read_text() + json.dumps(
        {"text": "fan to warp", "call": {"name": "set_fan", "arguments": {"speed": "warp"}}}))
    with pytest.raises(ConfigError, match=rf"train.jsonl:{len(samples) + 1}: .*warp"):
        read_samples(path, home_config.tools)
