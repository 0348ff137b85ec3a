"""Shared fixtures: real services on loopback, the real embedded model."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.broker import Broker

ROOT = Path(__file__).resolve().parent.parent
HOME_YAML = ROOT / "deploy" / "home.yaml"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A fresh mosquitto on a free loopback port, stopped after the test."""
    if not shutil.which("mosquitto") and not Path("/usr/sbin/mosquitto").exists():
        pytest.fail("mosquitto is not installed (tools/setup installs it)")
    b = Broker()
    b.start()
    yield b
    b.remove()


@pytest.fixture
def factory():  # type: ignore[no-untyped-def]
    """gpiozero's mock pins (PWM-capable), reset after the test."""
    from gpiozero.pins.mock import MockFactory, MockPWMPin

    f = MockFactory(pin_class=MockPWMPin)
    yield f
    f.reset()


@pytest.fixture
def config():  # type: ignore[no-untyped-def]
    """The demo home, loaded afresh for the test."""
    from appliance.config import load_config

    return load_config(HOME_YAML)


@pytest.fixture(scope="session")
def home_config():  # type: ignore[no-untyped-def]
    from appliance.config import load_config

    return load_config(HOME_YAML)


@pytest.fixture(scope="session")
def home_caller(home_config):  # type: ignore[no-untyped-def]
    """The real embedded model with the demo home's tools (loaded once per test session)."""
    from appliance.caller import ToolCaller

    caller = ToolCaller.from_config(home_config)
    yield caller
    caller.close()
