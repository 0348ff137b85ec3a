"""Health check: wait until an appliance says ``online`` on its MQTT status topic.

Run by the role with the release's own Python (paho-mqtt is one of its dependencies). The
password is read from the credential file, so it never appears on a command line.
"""

from __future__ import annotations

import argparse
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, default=1883)
    p.add_argument("--topic", required=True, help="appliance/<device id>/status")
    p.add_argument("--username")
    p.add_argument("--password-file", type=Path)
    p.add_argument("--timeout", type=float, default=60.0)
    args = p.parse_args()

    online = threading.Event()
    seen: list[str] = []
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    if args.username:
        password = args.password_file.read_text().strip() if args.password_file else None
        client.username_pw_set(args.username, password)

    def on_connect(c: mqtt.Client, _u: object, _f: object, reason: object, _p: object) -> None:
        if getattr(reason, "is_failure", False):
            seen.append(f"connection refused: {reason}")
            return
        c.subscribe(args.topic, qos=1)

    def on_message(_c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        seen.append(msg.payload.decode(errors="replace"))
        if seen[-1] == "online":
            online.set()

    client.on_connect = on_connect
    client.on_message = on_message
    try:
        client.connect(args.host, args.port, keepalive=30)
    except OSError as exc:
        print(f"cannot reach the broker at {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    client.loop_start()
    try:
        ok = online.wait(args.timeout)
    finally:
        client.disconnect()
        client.loop_stop()
    if ok:
        print(f"{args.topic}: online")
        return 0
    print(f"{args.topic}: not online within {args.timeout:g} s "
          f"(last seen: {seen[-1] if seen else 'nothing'})", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
