"""Helpers shared by the subcommands: the --config option and config loading."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from appliance.config import DEFAULT_CONFIG, Config, load_config

SubParsers = "argparse._SubParsersAction[argparse.ArgumentParser]"


def add_config_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-c", "--config", type=Path, default=None, metavar="FILE",
                        help=f"the appliance's config file (default {DEFAULT_CONFIG})")


def config_from(args: argparse.Namespace) -> Config:
    return load_config(args.config or DEFAULT_CONFIG)


def print_json(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, sort_keys=False) + "\n")
    sys.stdout.flush()
