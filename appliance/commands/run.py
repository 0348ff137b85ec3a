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

    from appliance import logs
    from appliance.caller import ToolCaller
    from appliance.daemon.notify import Notifier
    from appliance.daemon.service import Service
    from appliance.executors import Dispatcher

    logs.setup(logging.INFO - 10 * min(args.verbose, 1))
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
    dispatcher = Dispatcher.from_config(config)
    service = Service(config, caller, dispatcher, notifier=notifier)
    if not args.no_audio:
        try:
            from appliance.speech.listener import attach
        except ImportError:
            log.warning("voice input is not available in this build; running without audio")
        else:
            attach(service, config)
    try:
        asyncio.run(service.run(stdin=args.stdin))
    finally:
        dispatcher.close()
        caller.close()
    return 0
