"""Logging: to the systemd journal when run by systemd, to stderr otherwise."""

from __future__ import annotations

import logging
import os
import sys


def under_systemd() -> bool:
    return bool(os.environ.get("INVOCATION_ID") or os.environ.get("JOURNAL_STREAM"))


def setup(level: int) -> str:
    """Configure the root logger; return where logs go."""
    root = logging.getLogger()
    root.handlers.clear()
    root.setLevel(level)
    if under_systemd():
        try:
            from systemd.journal import JournalHandler

            handler: logging.Handler = JournalHandler(SYSLOG_IDENTIFIER="appliance")
            handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))
            root.addHandler(handler)
            return "journal"
        except ImportError:
            pass  # systemd-python missing: stderr still reaches the journal
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return "stderr"
