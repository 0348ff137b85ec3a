"""``appliance run``: the daemon (MQTT in and out, voice, stdin), for systemd or a terminal."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
from typing import Any

from appliance.commands.common import add_config_arg, config_from

log = logging.getLogger(__name__)


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("run", help="run the appliance daemon")
    add_config_arg(p)
    p.add_argument("--mqtt-host", help="override mqtt.host")
    p.add_argument("--mqtt-port", type=int, help="override mqtt.port")
    p.add_argument("--state-dir", help="override daemon.state_dir (where the journal lives)")
    p.add_argument("--no-audio", action="store_true", help="do not listen to the microphone")
    p.add_argument("--stdin", action="store_true",
                   help="also take one command per line from standard input")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from appliance.caller import ToolCaller
    from appliance.daemon.notify import Notifier
    from appliance.daemon.service import Service
    from appliance.executors.dispatch import Dispatcher
    from appliance.executors.pins import SharedPins
    from appliance.handler import RequestHandler

    # The daemon says more than a one-shot command: INFO by default, -v for DEBUG.
    logging.getLogger().setLevel(logging.INFO - 10 * min(args.verbose, 1))
    config = config_from(args)
    mqtt = config.mqtt
    if args.mqtt_host or args.mqtt_port:
        mqtt = dataclasses.replace(mqtt, host=args.mqtt_host or mqtt.host,
                                   port=args.mqtt_port or mqtt.port)
    daemon = config.daemon
    if args.state_dir:
        daemon = dataclasses.replace(daemon, state_dir=Path(args.state_dir))
    config = dataclasses.replace(config, mqtt=mqtt, daemon=daemon)
    notifier = Notifier()
    notifier.status("loading the model")
    caller = ToolCaller.from_config(config)
    pins = SharedPins(config.gpio.pin_factory)  # one factory: actions, button and LED
    core = RequestHandler.from_config(config, caller,
                                      dispatcher=Dispatcher.from_config(config, pins=pins))
    service = Service(config, core, notifier=notifier)
    if not args.no_audio:
        from appliance.voice import attach

        attach(service, config, pins)
    try:
        asyncio.run(service.run(stdin=args.stdin))
    finally:
        core.close()
        caller.close()
    return 0
