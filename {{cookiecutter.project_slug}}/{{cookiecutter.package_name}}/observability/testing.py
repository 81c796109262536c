"""Capture what the SDK would send, in memory, to assert on it in tests."""

from typing import Any

import sentry_sdk
from sentry_sdk.envelope import Envelope
from sentry_sdk.transport import Transport


class CapturingTransport(Transport):
    """A transport that keeps every envelope instead of sending it."""

    def __init__(self, options: dict[str, Any] | None = None) -> None:
        super().__init__(options)
        self.envelopes: list[Envelope] = []

    def capture_envelope(self, envelope: Envelope) -> None:
        self.envelopes.append(envelope)

    def items(self, item_type: str) -> list[dict[str, Any]]:
        """Payloads of one item type ("event", "transaction", "check_in", ...), oldest first."""
        payloads = []
        for envelope in self.envelopes:
            for item in envelope.items:
                if item.type == item_type and item.payload.json is not None:
                    payloads.append(item.payload.json)
        return payloads

    @property
    def events(self) -> list[dict[str, Any]]:
        sentry_sdk.flush()
        return self.items("event")

    @property
    def transactions(self) -> list[dict[str, Any]]:
        sentry_sdk.flush()
        return self.items("transaction")

    def raw(self) -> bytes:
        """Everything captured, serialised as it would go over the wire."""
        return b"".join(envelope.serialize() for envelope in self.envelopes)
