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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from appliance.errors import ApplianceError, CallError, ConfigError, TemplateError
from appliance.executors.base import Executor, Kind, kinds
from appliance.executors.templating import check
from appliance.messages import ActionResult, ToolCall
from appliance.tools import Tool, Toolbox

if TYPE_CHECKING:
    from appliance.config import Config

log = logging.getLogger(__name__)

__all__ = ["Dispatcher", "Executor", "Kind", "action_schemas", "check_action", "kinds"]

MAX_PENDING = 64  # unconfirmed calls kept at once; the oldest goes first


def action_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of each action kind's ``action:`` block, by kind name."""
    return {name: kind.schema for name, kind in kinds().items()}


def check_action(action: Mapping[str, Any], *, source: str | None = None,
                 path: str = "action") -> None:
    """Raise :class:`ConfigError` naming the key if a template in ``action`` does not parse."""
    kind = kinds().get(str(action.get("kind")))
    if kind is None:
        raise ConfigError(f"unknown action kind {action.get('kind')!r} "
                          f"(known: {', '.join(sorted(kinds()))})", source=source,
                          path=f"{path}.kind")
    for key in kind.templates:
        if isinstance(action.get(key), str):
            try:
                check(action[key], what=key)
            except TemplateError as exc:
                raise ConfigError(str(exc).removeprefix(f"{key}: "), source=source,
                                  path=f"{path}.{key}") from None


@dataclass(frozen=True)
class Pending:
    """A call waiting for confirmation."""

    call: ToolCall
    expires: float


class Dispatcher:
    """Validated calls in, action results out; one executor per kind, made on first use."""

    def __init__(self, toolbox: Toolbox, factories: Mapping[str, Callable[[], Executor]], *,
                 confirm_timeout_s: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.toolbox = toolbox
        self._factories = dict(factories)
        self._executors: dict[str, Executor] = {}
        self._pending: dict[str, Pending] = {}
        self._lock = threading.Lock()
        self.confirm_timeout_s = confirm_timeout_s
        self._clock = clock

    @classmethod
    def from_config(cls, config: Config, *,
                    executors: Mapping[str, Executor] | None = None) -> Dispatcher:
        """Executors for every kind (``executors`` replaces some, e.g. GPIO on given pins)."""
        for i, tool in enumerate(config.tools):
            if tool.action is not None:
                check_action(tool.action, source=config.source, path=f"tools[{i}].action")
        factories: dict[str, Callable[[], Executor]] = {}
        for name, kind in kinds().items():
            factories[name] = lambda kind=kind: kind.from_config(config)  # type: ignore[misc]
        for name, executor in (executors or {}).items():
            factories[name] = lambda executor=executor: executor  # type: ignore[misc]
        return cls(config.tools, factories, confirm_timeout_s=config.daemon.confirm_timeout_s)

    def executor(self, kind: str) -> Executor:
        """The executor of ``kind``, made on first use and kept."""
        with self._lock:
            if kind not in self._executors:
                if kind not in self._factories:
                    raise ConfigError(f"unknown action kind {kind!r}")
                self._executors[kind] = self._factories[kind]()
            return self._executors[kind]

    def execute(self, call: ToolCall, *, dry_run: bool = False,
                confirmed: bool = False) -> ActionResult:
        """Carry out ``call`` (validated again here); never raises."""
        try:
            call = self.toolbox.validate(call)
            tool = self.toolbox[call.name]
        except CallError as exc:
            return ActionResult(call.name, False, error=str(exc))
        if tool.action is None:
            return ActionResult(tool.name, False, error=f"{tool.name}: no action is declared")
        if tool.confirm and not confirmed and not dry_run:
            # Say what would be done, and do not hold a call that could not be carried out.
            preview = self._run(tool, call, dry_run=True)
            return self._hold(call, preview) if preview.ok else preview
        result = self._run(tool, call, dry_run=dry_run)
        if dry_run and tool.confirm and result.ok:
            result = ActionResult(result.tool, True, f"{result.done} (after confirmation)",
                                  result.value)
        level = logging.INFO if result.ok else logging.WARNING
        log.log(level, "%s%s: %s", "dry run " if dry_run else "", call,
                result.done if result.ok else result.error)
        return result

    def _run(self, tool: Tool, call: ToolCall, *, dry_run: bool) -> ActionResult:
        try:
            kind = str((tool.action or {})["kind"])
            return self.executor(kind).execute(tool, call, dry_run=dry_run)
        except ApplianceError as exc:
            return ActionResult(tool.name, False, error=f"{tool.name}: {exc}")
        except Exception as exc:  # an executor bug must not take the appliance down
            log.exception("executor for %s failed", tool.name)
            return ActionResult(tool.name, False, error=f"{tool.name}: internal error: {exc}")

    def _hold(self, call: ToolCall, preview: ActionResult) -> ActionResult:
        token = secrets.token_hex(8)
        with self._lock:
            self._expire()
            while len(self._pending) >= MAX_PENDING:
                del self._pending[next(iter(self._pending))]
            self._pending[token] = Pending(call, self._clock() + self.confirm_timeout_s)
        log.info("%s waits for confirmation %s (%g s)", call, token, self.confirm_timeout_s)
        return ActionResult(call.name, False, done=f"{call}: {preview.done}",
                            pending_confirmation=token)

    def confirm(self, token: str) -> ActionResult:
        """Run the call waiting under ``token``, unless it expired; a token works once."""
        with self._lock:
            self._expire()
            pending = self._pending.pop(token, None)
        if pending is None:
            return ActionResult("", False, error=f"nothing waits for confirmation {token!r} "
                                                 "(unknown, already used or expired)")
        return self.execute(pending.call, confirmed=True)

    def _expire(self) -> None:
        now = self._clock()
        for token in [t for t, p in self._pending.items() if p.expires <= now]:
            log.info("confirmation %s for %s expired", token, self._pending[token].call)
            del self._pending[token]

    def close(self) -> None:
        """Close every executor made so far; pending confirmations are dropped."""
        with self._lock:
            for ex in self._executors.values():
                try:
                    ex.close()
                except Exception:  # one executor failing to close must not stop the others
                    log.exception("closing the %s executor failed", ex.kind)
            self._executors.clear()
            self._pending.clear()
