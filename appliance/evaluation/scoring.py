"""Scoring one answer against acceptable calls, by BFCL's AST-matching rules.

An expected call is ``{"name": ..., "arguments": {param: [acceptable values]}}``; ``""`` in a
list means the parameter may be left out. As in BFCL's ``ast_checker.py``: the name must
match, required parameters be present, no unknown parameter appear, each value be among the
acceptable ones, an int is accepted for a float, and strings are compared after lower-casing
and dropping spaces and ``,./-_*^``. No call is right exactly when none is expected.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_DROP = str.maketrans("", "", " ,./-_*^")


@dataclass(frozen=True)
class Verdict:
    ok: bool
    reason: str = ""


def normalize(value: Any) -> Any:
    """The form in which two values are compared."""
    if isinstance(value, str):
        return value.lower().translate(_DROP)
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, Mapping):
        return {k: normalize(v) for k, v in value.items()}
    if isinstance(value, Sequence):
        return [normalize(v) for v in value]
    return value


def _acceptable(value: Any, options: Sequence[Any]) -> bool:
    got = normalize(value)
    for option in options:
        if option == "":
            continue
        if isinstance(option, Mapping) and isinstance(value, Mapping):
            if set(value) <= set(option) and all(
                    _acceptable(value[k], option[k]) for k in value) and all(
                    k in value or "" in option[k] for k in option):
                return True
            continue
        if got == normalize(option):
            return True
    return False


def score(expected: Mapping[str, Any] | None, call: Mapping[str, Any] | None,
          required: Sequence[str] = ()) -> Verdict:
    """Is ``call`` (``{"name", "arguments"}`` or None) one of the acceptable answers?"""
    if expected is None:
        why = "" if call is None else f"expected no call, got {call['name']}"
        return Verdict(call is None, why)
    if call is None:
        return Verdict(False, f"expected {expected['name']}, got no call")
    if call["name"] != expected["name"]:
        return Verdict(False, f"expected {expected['name']}, got {call['name']}")
    args = call.get("arguments", {})
    options: Mapping[str, Sequence[Any]] = expected.get("arguments", {})
    for name in args:
        if name not in options:
            return Verdict(False, f"unexpected parameter {name!r}")
    for name, acceptable in options.items():
        if name not in args:
            if "" not in acceptable or name in required:
                return Verdict(False, f"missing parameter {name!r}")
            continue
        if not _acceptable(args[name], acceptable):
            return Verdict(False, f"{name}={args[name]!r} not in {list(acceptable)!r}")
    return Verdict(True)
