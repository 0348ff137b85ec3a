"""The ``appliance`` command line.

Each subcommand lives in its own module under :mod:`appliance.commands` and exposes
``register(subparsers)``; this module only wires them together and turns every
:class:`~appliance.errors.ApplianceError` into one clear line and a non-zero exit.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Sequence

from appliance import __version__, logs
from appliance.errors import ApplianceError

# One entry per subcommand module, in the order ``--help`` lists them.
COMMANDS = (
    "ask",
    "tools",
    "check",
    "models",
    "eval",
    "train",
    "listen",
    "audio",
    "run",
)

log = logging.getLogger("appliance")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="appliance",
        description="Offline voice and IoT agent: words in, one tool call out, a real action.",
    )
    parser.add_argument("--version", action="version", version=f"appliance {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more logging (-v info, -vv debug)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        importlib.import_module(f"appliance.commands.{name}").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logs.setup(logging.WARNING - 10 * min(args.verbose, 2))
    try:
        code: int = args.func(args)
    except ApplianceError as exc:
        print(f"appliance: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`); exit quietly like other Unix tools.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return code
