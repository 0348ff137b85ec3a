"""What an MQTT ``command`` payload may be, parsed into a typed request."""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from typing import Any

from appliance.messages import Request, ToolCall

MAX_PAYLOAD = 64 * 1024
MAX_ID = 128
MAX_DEPTH = 32


def new_id() -> str:
    return str(uuid.uuid4())


def parse_command(payload: bytes, source: str = "mqtt", *,
                  auto_id: Callable[[], str] = new_id) -> Request:
    """Plain text, ``{"id", "text"}`` or ``{"id", "call": {"name", "arguments"}}``.

    What cannot be read is still a request: one whose ``error`` says what is wrong, so the
    sender gets an answer. ``auto_id`` names a request that brings no id of its own (the
    daemon gives a redelivery the id of its first delivery). Everything accepted can be
    journaled and published: text is valid Unicode, numbers are finite.
    """
    def bad(cid: str, error: str) -> Request:
        return Request(cid, source, error=error)

    if len(payload) > MAX_PAYLOAD:
        return bad(_id_from(payload) or auto_id(), f"payload too large ({len(payload)} "
                                                   f"bytes, at most {MAX_PAYLOAD})")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return bad(auto_id(), f"payload is not UTF-8 (byte {exc.start})")
    stripped = text.strip()
    if not stripped.startswith("{"):
        if not stripped:
            return bad(auto_id(), "empty command")
        return Request(auto_id(), source, text=stripped)
    try:
        data = json.loads(stripped, parse_constant=_no_constant)
    except json.JSONDecodeError as exc:
        return bad(auto_id(), f"not valid JSON: {exc.msg} at {exc.pos}")
    except (ValueError, RecursionError) as exc:  # NaN, 5,000-digit numbers, deep nesting
        return bad(auto_id(), f"not usable JSON: {str(exc)[:120]}")
    problem = _unusable(data)
    if problem is not None:
        return bad(auto_id(), problem)
    if not isinstance(data, dict):
        return bad(auto_id(), "JSON command must be an object")
    cid = data.get("id")
    if cid is None:
        cid = auto_id()
    if not isinstance(cid, str) or not cid or len(cid) > MAX_ID:
        return bad(auto_id(), f"id must be a string of 1 to {MAX_ID} characters")
    unknown = set(data) - {"id", "text", "call"}
    if unknown:
        return bad(cid, f"unknown keys {sorted(unknown)}")
    if ("text" in data) == ("call" in data):
        return bad(cid, 'give exactly one of "text" and "call"')
    if "text" in data:
        if not isinstance(data["text"], str) or not data["text"].strip():
            return bad(cid, '"text" must be a non-empty string')
        return Request(cid, source, text=data["text"].strip())
    call = data["call"]
    if (not isinstance(call, dict) or not isinstance(call.get("name"), str)
            or not isinstance(call.get("arguments", {}), dict)
            or set(call) - {"name", "arguments"}):
        return bad(cid, '"call" must be {"name": str, "arguments": {...}}')
    return Request(cid, source, call=ToolCall(call["name"], call.get("arguments", {})))


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a command may carry")


def _unusable(data: Any) -> str | None:
    """Why parsed JSON cannot be a command's (too deep, not Unicode, not finite), or None."""
    stack: list[tuple[Any, int]] = [(data, 0)]
    while stack:
        item, depth = stack.pop()
        if depth > MAX_DEPTH:
            return f"nested deeper than {MAX_DEPTH} levels"
        if isinstance(item, dict):
            stack.extend((k, depth + 1) for k in item)
            stack.extend((v, depth + 1) for v in item.values())
        elif isinstance(item, list):
            stack.extend((v, depth + 1) for v in item)
        elif isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:
                return "text is not valid Unicode (a lone surrogate)"
        elif isinstance(item, float) and not math.isfinite(item):
            return "numbers must be finite"
    return None


def _id_from(payload: bytes) -> str | None:
    """Best effort: an id in a payload too large to parse is still answered."""
    head = payload[:300].decode("utf-8", errors="ignore")
    marker = '"id"'
    if marker in head:
        rest = head.split(marker, 1)[1].lstrip(" :")
        if rest.startswith('"') and '"' in rest[1:]:
            found = rest[1:].split('"', 1)[0][:MAX_ID]
            if found and "\\" not in found:
                return found
    return None
