"""The dispatcher: a validated call to its tool's executor, every failure a result.

Validation and confirmation happen before, in the request core
(:mod:`appliance.handler`); here a call only finds its executor, made on first use and
kept, and whatever goes wrong comes back as an :class:`ActionResult` with ``ok=False``.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import replace

from appliance.errors import ApplianceError, ExecutorError
from appliance.executors import KINDS, Executor
from appliance.executors.pins import SharedPins
from appliance.executors.templating import render
from appliance.messages import ActionResult, ToolCall
from appliance.settings import Config
from appliance.tools import Toolbox

log = logging.getLogger(__name__)


class Dispatcher:
    """Validated calls in, action results out; one executor per kind, made on first use."""

    def __init__(self, toolbox: Toolbox, factories: Mapping[str, Callable[[], Executor]]):
        self.toolbox = toolbox
        self._factories = dict(factories)
        self._executors: dict[str, Executor] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_config(cls, config: Config, *, pins: SharedPins | None = None,
                    executors: Mapping[str, Executor] | None = None) -> Dispatcher:
        """Executors for every kind on ``pins`` (``executors`` replaces some, in tests)."""
        shared = pins or SharedPins(config.gpio.pin_factory)
        factories: dict[str, Callable[[], Executor]] = {}
        for name, kind in KINDS.items():
            factories[name] = lambda kind=kind: kind.build(config, shared)  # type: ignore[misc]
        for name, executor in (executors or {}).items():
            factories[name] = lambda executor=executor: executor  # type: ignore[misc]
        return cls(config.tools, factories)

    def executor(self, kind: str) -> Executor:
        """The executor of ``kind``, made on first use and kept."""
        with self._lock:
            if kind not in self._executors:
                self._executors[kind] = self._factories[kind]()
            return self._executors[kind]

    def execute(self, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        """Carry out a validated ``call`` (or describe it); never raises."""
        try:
            tool = self.toolbox[call.name]
            if tool.action is None:
                raise ExecutorError("no action is declared")
            result = self.executor(tool.action.kind).execute(tool, call, dry_run=dry_run)
            if tool.say is not None and result.ok and not dry_run:
                result = replace(result, said=self._say(tool.say, call, result))
        except ApplianceError as exc:
            message = str(exc)
            if not message.startswith(call.name):
                message = f"{call.name}: {message}"
            result = ActionResult(call.name, False, error=message)
        except Exception as exc:  # an executor bug must not take the appliance down
            log.exception("executor for %s failed", call.name)
            result = ActionResult(call.name, False, error=f"{call.name}: internal error: {exc}")
        level = logging.INFO if result.ok else logging.WARNING
        log.log(level, "%s%s: %s", "dry run " if dry_run else "", call,
                result.done if result.ok else result.error)
        return result

    @staticmethod
    def _say(template: str, call: ToolCall, result: ActionResult) -> str | None:
        """The tool's ``say:`` answer; one that fails is logged and left out, the action
        was done all the same."""
        try:
            return " ".join(render(template, {**call.arguments, "value": result.value,
                                              "done": result.done},
                                   what=f"{call.name} say").split())
        except ApplianceError as exc:
            log.warning("%s", exc)
            return None

    def close(self) -> None:
        """Close every executor made so far."""
        with self._lock:
            for ex in self._executors.values():
                try:
                    ex.close()
                except Exception:  # one executor failing to close must not stop the others
                    log.exception("closing the %s executor failed", ex.kind)
            self._executors.clear()
