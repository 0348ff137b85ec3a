"""The one small interface every executor kind implements."""

from __future__ import annotations

from typing import Protocol

from appliance.messages import ActionResult, ToolCall
from appliance.tools import Tool


class Executor(Protocol):
    """Carries out calls of one action kind; never raises for a failed action."""

    kind: str

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        """Do (or, with ``dry_run``, describe) the tool's action for ``call``."""

    def close(self) -> None:
        """Release devices and connections."""
