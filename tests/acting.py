"""Direct calls through the real request core, the way MQTT's ``{"call": ...}`` commands go.

The executor tests drive actions through :class:`Acts`: validation, confirmation and the
dispatcher are the product's own, only the way in is a method call.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping

from appliance.executors import Executor
from appliance.executors.dispatch import Dispatcher
from appliance.handler import RequestHandler
from appliance.messages import ActionResult, Request, ToolCall
from appliance.settings import Config


class Acts:
    def __init__(self, config: Config, *, executors: Mapping[str, Executor] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.core = RequestHandler.from_config(
            config, None, dispatcher=Dispatcher.from_config(config, executors=executors),
            clock=clock)
        self.confirm_timeout_s = self.core.confirm_timeout_s
        self._n = 0

    def execute(self, call: ToolCall, *, dry_run: bool = False,
                confirmed: bool = False) -> ActionResult:
        self._n += 1
        outcome = self.core.handle(Request(f"t{self._n}", "test", call=call, dry_run=dry_run,
                                           confirmed=confirmed))
        return outcome.result or ActionResult(call.name, False, error=outcome.error)

    def confirm(self, token: str) -> ActionResult:
        outcome = self.core.confirm(token=token)
        return outcome.result or ActionResult("", False, error=outcome.error)

    def executor(self, kind: str) -> Executor:
        return self.core.dispatcher.executor(kind)

    def close(self) -> None:
        self.core.close()
