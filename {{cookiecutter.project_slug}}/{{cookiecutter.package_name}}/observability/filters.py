"""Which errors are noise: expected, out of our control, and never worth an alert."""

from sentry_sdk.types import Event, Hint

NOISE_STATUS_CODES = frozenset({404, 405})
NOISE_EXCEPTION_NAMES = frozenset({"ClientDisconnect", "ClientDisconnected", "CancelledError"})


def is_noise(event: Event, hint: Hint) -> bool:
    exc_info = hint.get("exc_info")
    if not exc_info:
        return False
    exc_type, exc_value, _ = exc_info
    if exc_type.__name__ in NOISE_EXCEPTION_NAMES:
        return True
    return getattr(exc_value, "status_code", None) in NOISE_STATUS_CODES
