"""1,000 commands while the broker restarts and the daemon is killed: none lost, none run twice.

Executions are counted outside the daemon, by the loopback HTTP server the `record` tool
calls. Prints: commands, lost, run twice, interrupted, throughput, p50/p95 latency.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from .broker import Broker
from .daemon_harness import Daemon, Recorder, write_config

pytestmark = [pytest.mark.model, pytest.mark.slow]

N = 1000
PREFIX = "appliance/test/"


@pytest.mark.parametrize("with_ids", [True, False], ids=["with ids", "without ids"])
def test_no_command_lost_or_run_twice(tmp_path: Path, broker: Broker, with_ids: bool,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    """Commands without an id too: a redelivery gets the id of its first delivery."""
    recorder = Recorder()
    daemon = Daemon(write_config(tmp_path, broker, recorder), tmp_path, watchdog_usec=0)
    daemon.env.pop("WATCHDOG_USEC")
    daemon.start()

    sent: dict[str, float] = {}
    results: dict[str, list[dict[str, Any]]] = {}
    received: dict[str, float] = {}
    lock = threading.Lock()

    def on_message(c: Any, u: Any, m: Any) -> None:
        r = json.loads(m.payload)
        tag = ((r.get("call") or {}).get("arguments") or {}).get("tag") or r["id"]
        with lock:
            results.setdefault(tag, []).append(r)
            received.setdefault(tag, time.monotonic())

    # A persistent session for the sender too: its in-flight commands survive the restart.
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="load-sender",
                         clean_session=False, protocol=paho.MQTTv311)
    client.on_connect = lambda c, u, f, rc, p: c.subscribe(PREFIX + "result", 1)
    client.on_message = on_message
    client.reconnect_delay_set(0.1, 1)
    client.connect(broker.host, broker.port)
    client.loop_start()
    time.sleep(0.5)

    t0 = time.monotonic()
    for i in range(N):
        cid = f"load-{i:04d}"
        command: dict[str, Any] = {"call": {"name": "record", "arguments": {"tag": cid}}}
        if with_ids:
            command["id"] = cid
        payload = json.dumps(command)
        sent[cid] = time.monotonic()
        client.publish(PREFIX + "command", payload, qos=1)
        if i == N * 3 // 10:
            broker.restart(down_s=1.0)
        if i == N * 6 // 10:
            daemon.kill()
            daemon.start()
        time.sleep(0.004)

    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with lock:
            done = sum(1 for cid in sent if cid in results)
        if done == N:
            break
        time.sleep(0.2)
    elapsed = time.monotonic() - t0
    client.loop_stop()
    daemon.stop()
    recorder.close()

    interrupted = [cid for cid, rs in results.items()
                   if any("interrupted" in (r.get("error") or "") for r in rs)]
    lost = [cid for cid in sent if cid not in results and recorder.counts[cid] == 0]
    no_result = [cid for cid in sent if cid not in results]
    twice = [cid for cid in sent if recorder.counts[cid] > 1]
    once = [cid for cid in sent if recorder.counts[cid] == 1]
    latencies = sorted((received[c] - sent[c]) * 1000 for c in sent if c in received)
    p95 = latencies[int(0.95 * (len(latencies) - 1))] if latencies else float("nan")
    with capsys.disabled():
        print(f"\nload and fault test: {N} commands {'with' if with_ids else 'without'} ids, "
              f"broker restarted once, daemon SIGKILLed "
              f"and restarted once\n"
              f"| commands | executed once | run twice | lost | without result | interrupted "
              f"| throughput/s | p50 ms | p95 ms |\n|---|---|---|---|---|---|---|---|---|\n"
              f"| {N} | {len(once)} | {len(twice)} | {len(lost)} | {len(no_result)} "
              f"| {len(interrupted)} | {N / elapsed:.0f} "
              f"| {statistics.median(latencies):.0f} | {p95:.0f} |")
    assert not twice, twice[:5]
    assert not no_result, no_result[:5]
    assert not lost
    # At most once: only a command caught running by the kill may have no execution.
    assert all(recorder.counts[c] == 1 for c in sent if c not in interrupted)
