"""``appliance audio devices``: the capture devices, to pick ``speech.input_device``."""

from __future__ import annotations

import argparse
from typing import Any

from appliance.commands.common import print_json


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("audio", help="audio input devices")
    verbs = p.add_subparsers(dest="verb", metavar="VERB", required=True)
    d = verbs.add_parser("devices", help="list the capture devices (index, name, channels, rate)")
    d.add_argument("--json", action="store_true", help="one JSON object per device")
    d.set_defaults(func=devices)


def devices(args: argparse.Namespace) -> int:
    from appliance.speech.audio import input_devices

    found = input_devices()
    if args.json:
        for dev in found:
            print_json({"index": dev.index, "name": dev.name, "channels": dev.channels,
                        "default_rate": dev.default_rate, "default": dev.is_default})
        return 0
    if not found:
        print("no audio input devices (is a microphone connected? is the user in group audio?)")
        return 1
    for dev in found:
        mark = "*" if dev.is_default else " "
        print(f"{mark} {dev.index:3d}  {dev.name}  ({dev.channels} ch, {dev.default_rate:.0f} Hz)")
    print("speech.input_device takes the index or part of the name; * is the default")
    return 0
