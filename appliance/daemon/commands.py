"""What an MQTT ``command`` payload may be, parsed into a value (or an error value)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

MAX_PAYLOAD = 64 * 1024
MAX_ID = 128


@dataclass(frozen=True)
class Command:
    """A parsed command: text for the model, or a direct call; ``error`` if it is neither."""

    id: str
    text: str | None = None
    call: dict[str, Any] | None = None
    error: str | None = None

    def body(self) -> dict[str, Any]:
        return {"text": self.text} if self.text is not None else {"call": self.call}


def parse_command(payload: bytes) -> Command:
    """Plain text, ``{"id", "text"}`` or ``{"id", "call": {"name", "arguments"}}``."""
    if len(payload) > MAX_PAYLOAD:
        return Command(_id_from(payload), error=f"payload too large ({len(payload)} bytes, at "
                                                 f"most {MAX_PAYLOAD})")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Command(str(uuid.uuid4()), error=f"payload is not UTF-8 (byte {exc.start})")
    stripped = text.strip()
    if not stripped.startswith("{"):
        if not stripped:
            return Command(str(uuid.uuid4()), error="empty command")
        return Command(str(uuid.uuid4()), text=stripped)
    try:
        data = json.loads(stripped)
    except json.JSONDecodeError as exc:
        return Command(str(uuid.uuid4()), error=f"not valid JSON: {exc.msg} at {exc.pos}")
    if not isinstance(data, dict):
        return Command(str(uuid.uuid4()), error="JSON command must be an object")
    cid = data.get("id")
    if cid is None:
        cid = str(uuid.uuid4())
    if not isinstance(cid, str) or not cid or len(cid) > MAX_ID:
        return Command(str(uuid.uuid4()), error=f"id must be a string of 1 to {MAX_ID} characters")
    unknown = set(data) - {"id", "text", "call"}
    if unknown:
        return Command(cid, error=f"unknown keys {sorted(unknown)}")
    if ("text" in data) == ("call" in data):
        return Command(cid, error='give exactly one of "text" and "call"')
    if "text" in data:
        if not isinstance(data["text"], str) or not data["text"].strip():
            return Command(cid, error='"text" must be a non-empty string')
        return Command(cid, text=data["text"].strip())
    call = data["call"]
    if (not isinstance(call, dict) or not isinstance(call.get("name"), str)
            or not isinstance(call.get("arguments", {}), dict)
            or set(call) - {"name", "arguments"}):
        return Command(cid, error='"call" must be {"name": str, "arguments": {...}}')
    return Command(cid, call={"name": call["name"], "arguments": call.get("arguments", {})})


def _id_from(payload: bytes) -> str:
    """Best effort: an id in a payload too large to parse is still answered."""
    head = payload[:300].decode("utf-8", errors="ignore")
    marker = '"id"'
    if marker in head:
        rest = head.split(marker, 1)[1].lstrip(" :")
        if rest.startswith('"') and '"' in rest[1:]:
            return rest[1:].split('"', 1)[0][:MAX_ID]
    return str(uuid.uuid4())
