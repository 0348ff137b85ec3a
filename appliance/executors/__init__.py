"""Executors: one module per action kind, chosen by the ``kind`` of a tool's ``action:``.

- :mod:`.gpio`  gpiozero outputs, PWM and pulses (MockFactory when not on a Pi)
- :mod:`.mqtt`  paho-mqtt publish to the configured broker
- :mod:`.http`  httpx requests to allowed hosts only

:class:`Dispatcher` routes a validated call to its executor, holds calls to tools marked
``confirm: true`` until they are confirmed (or expire), and turns every failure into an
:class:`~appliance.messages.ActionResult` with ``ok=False``: it never raises.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.errors import ApplianceError, CallError
from appliance.executors.base import Executor
from appliance.messages import ActionResult, ToolCall
from appliance.tools import Toolbox

if TYPE_CHECKING:
    from appliance.config import Config

log = logging.getLogger(__name__)

__all__ = ["Dispatcher", "Executor", "action_schemas"]


def action_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each action kind's ``action:`` block, by kind name."""
    from appliance.executors import gpio, http, mqtt

    return {"gpio": gpio.ACTION_SCHEMA, "mqtt": mqtt.ACTION_SCHEMA, "http": http.ACTION_SCHEMA}


@dataclass(frozen=True)
class Pending:
    """A call waiting for confirmation."""

    call: ToolCall
    expires: float


class Dispatcher:
    """Validated calls in, action results out; one executor per kind, made on first use."""

    def __init__(self, toolbox: Toolbox, factories: dict[str, Callable[[], Executor]], *,
                 confirm_timeout_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.toolbox = toolbox
        self._factories = factories
        self._executors: dict[str, Executor] = {}
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()
        self.confirm_timeout_s = confirm_timeout_s
        self._clock = clock

    @classmethod
    def from_config(cls, config: Config) -> Dispatcher:
        from appliance.executors.gpio import GpioExecutor
        from appliance.executors.http import HttpExecutor
        from appliance.executors.mqtt import MqttExecutor

        factories: dict[str, Callable[[], Executor]] = {
            "gpio": lambda: GpioExecutor(config.gpio.pin_factory),
            "mqtt": lambda: MqttExecutor(config.mqtt),
            "http": lambda: HttpExecutor(config.http),
        }
        return cls(config.tools, factories, confirm_timeout_s=config.daemon.confirm_timeout_s)

    def executor(self, kind: str) -> Executor:
        with self._lock:
            if kind not in self._executors:
                self._executors[kind] = self._factories[kind]()
            return self._executors[kind]

    def execute(self, call: ToolCall, *, dry_run: bool = False,
                confirmed: bool = False) -> ActionResult:
        """Carry out ``call`` (validated again here); never raises."""
        try:
            call = self.toolbox.validate(call)
        except CallError as exc:
            return ActionResult(call.name, False, error=str(exc))
        tool = self.toolbox[call.name]
        if tool.action is None:
            return ActionResult(tool.name, False, error=f"{tool.name}: no action is declared")
        if tool.confirm and not confirmed and not dry_run:
            token = secrets.token_hex(4)
            with self._lock:
                self._expire()
                self._pending[token] = Pending(call, self._clock() + self.confirm_timeout_s)
            return ActionResult(tool.name, False, done=f"{call} needs confirmation",
                                pending_confirmation=token)
        try:
            executor = self.executor(str(tool.action["kind"]))
            result = executor.execute(tool, call, dry_run=dry_run)
        except ApplianceError as exc:
            result = ActionResult(tool.name, False, error=str(exc))
        except Exception as exc:  # an executor bug must not take the appliance down
            log.exception("executor for %s failed", tool.name)
            result = ActionResult(tool.name, False, error=f"{tool.name}: internal error: {exc}")
        level = logging.INFO if result.ok else logging.WARNING
        log.log(level, "%s: %s", call, result.done if result.ok else result.error)
        return result

    def confirm(self, token: str) -> ActionResult:
        """Run the call waiting under ``token``, unless it expired."""
        with self._lock:
            self._expire()
            pending = self._pending.pop(token, None)
        if pending is None:
            return ActionResult("", False, error=f"nothing waits for confirmation {token!r} "
                                                 "(unknown or expired)")
        return self.execute(pending.call, confirmed=True)

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, p in self._pending.items() if p.expires <= now]:
            log.info("confirmation %s for %s expired", token, self._pending[token].call)
            del self._pending[token]

    def close(self) -> None:
        with self._lock:
            for ex in self._executors.values():
                ex.close()
            self._executors.clear()
