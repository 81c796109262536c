"""An outage tells its story once: identical handled events are capped, and the drops counted."""

import sentry_sdk
from sentry_sdk.types import Event

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.observability import capture_handled, init_sentry
from {{ cookiecutter.package_name }}.observability.event_cap import DROPPED_KEY, HandledEventCap
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def event(*fingerprint: str) -> Event:
    return {"fingerprint": list(fingerprint)} if fingerprint else {}


def test_each_fingerprint_sends_its_share_per_minute_then_reports_the_drops() -> None:
    clock = Clock()
    cap = HandledEventCap(2, clock=clock)

    first_minute = [cap.admit(event("handled", "payment", "timeout")) for _ in range(5)]
    other = cap.admit(event("handled", "smtp", "timeout"))
    unhandled = [cap.admit(event()) for _ in range(5)]
    clock.now += 60
    next_minute = cap.admit(event("handled", "payment", "timeout"))
    after = cap.admit(event("handled", "payment", "timeout"))

    assert [e is not None for e in first_minute] == [True, True, False, False, False]
    assert all(DROPPED_KEY not in e.get("extra", {}) for e in first_minute if e)
    assert other is not None
    assert all(e is not None for e in unhandled), "unhandled errors are never capped"
    assert next_minute is not None
    assert next_minute["extra"][DROPPED_KEY] == 3
    assert after is not None
    assert DROPPED_KEY not in after.get("extra", {})


def test_zero_turns_the_cap_off() -> None:
    cap = HandledEventCap(0)

    assert all(cap.admit(event("handled", "x")) is not None for _ in range(100))


def test_the_cap_applies_to_what_the_sdk_sends(settings: Settings) -> None:
    transport = CapturingTransport()
    capped = settings.model_copy(update={"sentry_handled_events_per_minute": 3})
    init_sentry(capped.sentry_options(), transport=transport)

    for order_id in range(20):
        capture_handled(
            TimeoutError("provider hung"),
            fingerprint=["payment", "http", "timeout"],
            message="Payment provider failed",
            order_id=order_id,
        )
    sentry_sdk.flush()

    assert [e["contexts"]["recovery"]["order_id"] for e in transport.events] == [0, 1, 2]
    assert {tuple(e["fingerprint"]) for e in transport.events} == {
        ("handled", "payment", "http", "timeout")
    }
