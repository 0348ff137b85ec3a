"""The daemon's MQTT topics, all in one explicit type that routing and discovery share."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Topics:
    """Every topic under the device's prefix (``appliance/<device id>/``)."""

    prefix: str
    discovery: str = "homeassistant"

    @property
    def command(self) -> str:
        """In: a command (plain text, ``{"id", "text"}`` or ``{"id", "call"}``)."""
        return f"{self.prefix}command"

    @property
    def result(self) -> str:
        """Out: one result per command (QoS 1, through the journal's outbox)."""
        return f"{self.prefix}result"

    @property
    def status(self) -> str:
        """Out, retained: ``online`` / ``offline`` (the will)."""
        return f"{self.prefix}status"

    @property
    def listen(self) -> str:
        """In: take the next utterance as a command."""
        return f"{self.prefix}listen"

    @property
    def confirm(self) -> str:
        """In: ``{"id": ...}`` confirms the call held for that command."""
        return f"{self.prefix}confirm"

    @property
    def ha_status(self) -> str:
        """In: Home Assistant's birth message; ``online`` asks for discovery again."""
        return f"{self.discovery}/status"

    def event(self, kind: str) -> str:
        """Out, best effort: ``transcript``, ``call``, ``error``."""
        return f"{self.prefix}event/{kind}"

    def state(self, kind: str) -> str:
        """Out, retained: ``listening``, ``last_command``, ``last_result``."""
        return f"{self.prefix}state/{kind}"

    def inbound(self) -> list[str]:
        """What the daemon subscribes to."""
        return [self.command, self.listen, self.confirm, self.ha_status]
