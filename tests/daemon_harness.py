"""Run the real daemon as a subprocess against a real broker, and talk to it over MQTT."""

from __future__ import annotations

import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import yaml
from paho.mqtt.enums import CallbackAPIVersion

from .broker import Broker
from .conftest import HOME_YAML, ROOT


class Recorder:
    """A loopback HTTP server that counts how often each command id reached it."""

    def __init__(self, slow: dict[str, float] | None = None) -> None:
        self.counts: Counter[str] = Counter()
        self.slow = slow or {}  # tag -> seconds to stall before answering
        recorder = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                n = int(self.headers.get("Content-Length") or 0)
                tag = json.loads(self.rfile.read(n))["tag"]
                recorder.counts[tag] += 1
                time.sleep(recorder.slow.get(tag, 0))
                self.send_response(200)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *args: object) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.host = f"127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.httpd.shutdown()


def write_config(tmp: Path, broker: Broker, recorder: Recorder | None = None, *,
                 speech: dict[str, Any] | None = None) -> Path:
    from appliance.config import load_yaml

    data = load_yaml(HOME_YAML.read_text(), source=str(HOME_YAML))
    data["device"] = {"id": "test", "name": "Test appliance"}
    data["mqtt"] = {"host": broker.host, "port": broker.port, "connect_timeout_s": 2,
                    "keepalive": 5}
    data["daemon"] = {"state_dir": str(tmp / "state"), "confirm_timeout_s": 30}
    model = data.setdefault("model", {})
    for key in ("adapter",):
        if model.get(key):
            model[key] = str((HOME_YAML.parent / model[key]).resolve())
    if speech is not None:
        data["speech"] = speech
    if recorder is not None:
        hosts = [recorder.host, *data.get("http", {}).get("allowed_hosts", [])]
        data["http"] = {"allowed_hosts": hosts, "timeout_s": 5}
        data["tools"].append({
            "name": "record", "description": "Record a tag.",
            "parameters": {"type": "object", "properties": {"tag": {"type": "string"}},
                           "required": ["tag"]},
            "action": {"kind": "http", "method": "POST", "url": f"http://{recorder.host}/r",
                       "body": '{"tag": {{ tag | tojson }}}'},
        })
    path = tmp / "appliance.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


class Daemon:
    """`appliance run` as a subprocess, with a NOTIFY_SOCKET the test reads."""

    def __init__(self, config: Path, tmp: Path, *, watchdog_usec: int = 2_000_000,
                 audio: bool = False):
        self.config = config
        self.audio = audio
        self.sock_path = tmp / f"notify-{time.monotonic_ns()}.sock"
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.sock_path))
        self.sock.settimeout(0.2)
        self.notices: list[str] = []
        self.env = {**os.environ, "NOTIFY_SOCKET": str(self.sock_path),
                    "WATCHDOG_USEC": str(watchdog_usec), "PYTHONUNBUFFERED": "1"}
        self.env.pop("WATCHDOG_PID", None)
        self.proc: subprocess.Popen[bytes] | None = None
        self.log = tmp / "daemon.log"

    def start(self, timeout: float = 240) -> None:
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "appliance", "run", "--config", str(self.config),
                 *([] if self.audio else ["--no-audio"])],
                cwd=ROOT, env=self.env, stdout=log, stderr=log)
        self.wait_notice("READY=1", timeout)

    def wait_notice(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for n in self.notices:
                if text in n:
                    self.notices.remove(n)
                    return n
            try:
                self.notices.append(self.sock.recv(4096).decode())
            except TimeoutError:
                if self.proc is not None and self.proc.poll() is not None:
                    raise RuntimeError(f"daemon exited: {self.log.read_text()[-3000:]}") from None
        raise TimeoutError(f"no {text!r} from the daemon: {self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def restart(self, timeout: float = 240) -> None:
        """SIGTERM (a clean stop), then start again."""
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(20)
        self.start(timeout)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.sock.close()


class Client:
    """A test MQTT client that records everything under the appliance's prefix."""

    def __init__(self, broker: Broker, prefix: str = "appliance/test/"):
        self.prefix = prefix
        self.messages: list[tuple[str, bytes, bool]] = []
        self.lock = threading.Lock()
        self.c = paho.Client(CallbackAPIVersion.VERSION2, client_id=f"t{time.monotonic_ns()}")
        self.c.on_connect = lambda c, u, f, rc, p: c.subscribe(
            [(prefix + "#", 1), ("homeassistant/#", 1)])
        self.c.on_message = self._on_message
        self.c.reconnect_delay_set(0.2, 1)
        self.c.connect(broker.host, broker.port)
        self.c.loop_start()
        time.sleep(0.3)

    def _on_message(self, c: Any, u: Any, m: Any) -> None:
        with self.lock:
            self.messages.append((m.topic, bytes(m.payload), bool(m.retain)))

    def send(self, payload: str | bytes, topic: str = "command") -> None:
        self.c.publish(self.prefix + topic, payload, qos=1).wait_for_publish(5)

    def results(self) -> list[dict[str, Any]]:
        with self.lock:
            return [json.loads(p) for t, p, _ in self.messages if t == self.prefix + "result"]

    def wait_result(self, cid: str, timeout: float = 60, count: int = 1) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = [r for r in self.results() if r.get("id") == cid]
            if len(got) >= count:
                return got
            time.sleep(0.05)
        raise TimeoutError(f"no result for {cid}")

    def topic(self, suffix: str) -> list[bytes]:
        with self.lock:
            return [p for t, p, _ in self.messages if t == self.prefix + suffix]

    def close(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()
