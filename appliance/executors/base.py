"""The one small interface every executor kind implements, and the registry of kinds."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from appliance.messages import ActionResult, ToolCall
from appliance.tools import Tool

if TYPE_CHECKING:
    from appliance.config import Config


class Executor(Protocol):
    """Carries out calls of one action kind; never raises for a failed action."""

    kind: str

    def execute(self, tool: Tool, call: ToolCall, *, dry_run: bool = False) -> ActionResult:
        """Do (or, with ``dry_run``, describe) the tool's action for ``call``."""

    def close(self) -> None:
        """Release devices and connections."""


@dataclass(frozen=True)
class Kind:
    """One executor kind: the schema of its ``action:`` block and how to build it."""

    name: str
    schema: dict[str, Any]
    templates: tuple[str, ...]
    from_config: Callable[[Config], Executor]


# The action kinds, by name, and the module implementing each. A module exposes
# ACTION_SCHEMA, TEMPLATE_KEYS and from_config(config) -> Executor; nothing else is needed
# to add a kind.
MODULES = {"gpio": "appliance.executors.gpio",
           "mqtt": "appliance.executors.mqtt",
           "http": "appliance.executors.http"}


def kinds() -> dict[str, Kind]:
    """Every registered action kind, by name."""
    out = {}
    for name, module_name in MODULES.items():
        module = importlib.import_module(module_name)
        out[name] = Kind(name, module.ACTION_SCHEMA, module.TEMPLATE_KEYS, module.from_config)
    return out
