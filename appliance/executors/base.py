"""The one small interface every executor kind implements, and what describes a kind."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from appliance.executors.pins import SharedPins
from appliance.messages import ActionResult, ToolCall
from appliance.settings import Config
from appliance.tools import Action, Tool


class Executor(Protocol):
    """Carries out calls of one action kind.

    ``execute`` returns the result of an action that was done (or, with ``dry_run``,
    described) and raises an :class:`~appliance.errors.ApplianceError` for one that failed;
    only the dispatcher turns those into results.
    """

    kind: str

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        """Do (or describe) the tool's action for ``call``."""

    def close(self) -> None:
        """Release devices and connections."""


@dataclass(frozen=True)
class Kind:
    """One executor kind: the schema of its ``action:`` block, its parser and its builder."""

    name: str
    schema: dict[str, Any]
    parse: Callable[[Mapping[str, Any]], Action]
    build: Callable[[Config, SharedPins], Executor]
