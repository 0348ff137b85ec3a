"""A real mosquitto broker on a loopback port, for tests.

mosquitto 2.0 ignores ``-p`` when the config has a listener, so each broker gets its own
config file with ``listener PORT 127.0.0.1`` and a persistence directory it can write.
As root, mosquitto drops to user ``mosquitto``, which cannot enter pytest's private (0700)
temporary directories: without a directory of its own it would silently lose its
persistence, and with it every session and queued message across a restart.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Broker:
    """Start, stop and restart a mosquitto process; persistence survives restarts."""

    def __init__(self, port: int | None = None):
        self.exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        workdir = Path(tempfile.mkdtemp(prefix="appliance-broker-"))
        workdir.chmod(0o777)
        self.workdir = workdir
        self.port = port or free_port()
        self.host = "127.0.0.1"
        self.proc: subprocess.Popen[bytes] | None = None
        data = workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        data.chmod(0o777)  # as root, mosquitto drops to user mosquitto
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence true\n"
            f"persistence_location {data}/\n"
            "autosave_interval 1\n"
            f"log_dest file {workdir}/mosquitto.log\n"
            "max_queued_messages 100000\n"
        )
        (workdir / "mosquitto.log").touch()
        (workdir / "mosquitto.log").chmod(0o666)

    def start(self, timeout: float = 10.0) -> None:
        self.proc = subprocess.Popen([self.exe, "-c", str(self.conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode() if self.proc.stderr else ""
                raise RuntimeError(f"mosquitto exited: {err}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start listening")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def restart(self, down_s: float = 0.5) -> None:
        self.stop()
        time.sleep(down_s)
        self.start()
