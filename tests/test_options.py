"""Optional arguments in mixes the examples never show (appliance/finetune/options.py)."""

from __future__ import annotations

import random
import re
from collections import Counter

from appliance.config import load_config
from appliance.finetune.data import synthesize
from appliance.finetune.options import Segment, recombined, segments
from tests.conftest import ROOT

CAFE = ["a {drink} please", "{size} {drink} with {milk} milk",
        "{temperature} {drink} with {shots} shots and {syrup} syrup",
        "{size} {drink} with {topping}"]
OPTIONAL = {"size", "milk", "shots", "syrup", "topping", "temperature"}


def test_a_phrasing_is_cut_into_the_words_of_each_slot() -> None:
    assert segments(CAFE[2]) == [
        Segment("temperature", ("{temperature}",), before="drink"),
        Segment("drink", ("{drink}",)),
        Segment("shots", ("with", "{shots}", "shots")),
        Segment("syrup", ("and", "{syrup}", "syrup")),
    ]
    assert segments(CAFE[0]) == [Segment("drink", ("{drink}",))]  # "please" is not its


def test_new_mixes_of_the_optional_slots() -> None:
    made = recombined(CAFE, OPTIONAL, random.Random(1), 40)
    assert len(made) == len(set(made)) and not set(made) & set(CAFE)
    mixes = {frozenset(re.findall(r"\{(\w+)\}", t)) - {"drink"} for t in made}
    shown = {frozenset(re.findall(r"\{(\w+)\}", t)) - {"drink"} for t in CAFE}
    assert len(mixes - shown) >= 20
    assert all("{drink}" in t for t in made)  # the required slot is never dropped
    assert max(len(m) for m in mixes) >= 4  # the examples name at most three options


def test_the_training_data_name_every_option_in_every_number() -> None:
    cafe = load_config(ROOT / "tests" / "homes" / "cafe.yaml")
    samples = synthesize(list(cafe.tools), per_template=6, per_tool=200)
    orders = [c for s in samples for c in s.calls if c.name == "order_drink"]
    said = Counter(len(c.arguments) - 1 for c in orders)
    assert all(said[n] > 0 for n in range(6)), said
    props = cafe.tools["order_drink"].properties
    for key, schema in props.items():
        if "enum" in schema:
            assert set(schema["enum"]) <= {c.arguments.get(key) for c in orders}, key
