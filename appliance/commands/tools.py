"""``appliance tools``: list the declared tools."""

from __future__ import annotations

import argparse
from typing import Any

from appliance.commands.common import add_config_arg, config_from, print_json


def register(sub: Any) -> None:
    p: argparse.ArgumentParser = sub.add_parser("tools", help="list the declared tools")
    add_config_arg(p)
    p.add_argument("--json", action="store_true",
                   help="print the OpenAI-style tool list the model is given")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    if args.json:
        print_json([{"type": "function", "function": t.declaration()} for t in config.tools])
        return 0
    for tool in config.tools:
        params = []
        for name, schema in sorted(tool.properties.items()):
            kind = "|".join(map(str, schema["enum"])) if "enum" in schema else schema.get(
                "type", "?")
            params.append(f"{name}{'' if name in tool.required else '?'}: {kind}")
        action = tool.action.kind if tool.action else "-"
        flags = " [confirm]" if tool.confirm else ""
        print(f"{tool.name}({', '.join(params)})  -> {action}{flags}")
        print(f"    {tool.description}")
    return 0
