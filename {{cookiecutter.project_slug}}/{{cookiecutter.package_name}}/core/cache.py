"""Last known good answers of outbound calls, served when a fresh call fails."""

from typing import Any


class FallbackCache:
    """In-process and per worker: enough to ride out a provider's outage, not a shared cache."""

    def __init__(self) -> None:
        self._values: dict[str, Any] = {}

    def get(self, key: str) -> Any | None:
        return self._values.get(key)

    def set(self, key: str, value: Any) -> None:
        self._values[key] = value
