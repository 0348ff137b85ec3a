"""The package's shape: no import cycles (function-level imports count too), small modules,
and user-facing messages that name commands which exist."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from appliance.cli import COMMANDS

from .conftest import ROOT

PACKAGE = ROOT / "appliance"
MAX_LINES = 350


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> dict[str, set[str]]:
    """Module -> the package's modules it imports, anywhere in it (TYPE_CHECKING too)."""
    modules = {module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                # Importing a.b.c runs a/__init__ and a/b/__init__ first.
                parts = target.split(".")
                for i in range(2, len(parts) + 1):
                    candidate = ".".join(parts[:i])
                    if candidate in modules and candidate != name:
                        found.add(candidate)
        graph[name] = found
    return graph


def test_no_import_cycles() -> None:
    graph = imports()
    state: dict[str, int] = {}
    stack: list[str] = []
    cycles: list[list[str]] = []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            # A package importing its own submodules (its __init__ re-exporting) is no cycle.
            if node.startswith(nxt + "."):
                continue
            if state.get(nxt) == 1:
                cycles.append([*stack[stack.index(nxt):], nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "\n".join(" -> ".join(c) for c in cycles)


def test_no_module_is_long() -> None:
    long = {str(p.relative_to(ROOT)): n for p in PACKAGE.rglob("*.py")
            if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert not long, long


def test_messages_name_commands_that_exist() -> None:
    named = set()
    for path in PACKAGE.rglob("*.py"):
        named |= set(re.findall(r"`appliance ([a-z]+)", path.read_text()))
    assert named <= set(COMMANDS), named - set(COMMANDS)
