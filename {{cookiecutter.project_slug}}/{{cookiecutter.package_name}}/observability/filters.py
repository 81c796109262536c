"""Which errors are noise: expected, out of our control, and never worth an alert."""

from sentry_sdk.types import Event, Hint

NOISE_STATUS_CODES = frozenset({404, 405})
NOISE_EXCEPTION_NAMES = frozenset({"ClientDisconnect", "ClientDisconnected", "CancelledError"})
# Set on an exception once it was sent as an event (errors.remember_event_id). The SDK's dedupe
# misses a second capture in another context: the task's error, raised again by its awaiter.
EVENT_ID_ATTRIBUTE = "__sentry_event_id__"


def is_noise(event: Event, hint: Hint) -> bool:
    exc_info = hint.get("exc_info")
    if not exc_info:
        return False
    exc_type, exc_value, _ = exc_info
    if getattr(exc_value, EVENT_ID_ATTRIBUTE, event.get("event_id")) != event.get("event_id"):
        return True
    if exc_type.__name__ in NOISE_EXCEPTION_NAMES:
        return True
    return getattr(exc_value, "status_code", None) in NOISE_STATUS_CODES
