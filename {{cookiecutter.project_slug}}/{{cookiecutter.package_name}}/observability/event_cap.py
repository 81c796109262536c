"""A cap on identical handled events, so that an outage tells its story once, not per request.

During an outage every request meets the same failure. Each is grouped into one issue by its
fingerprint, but each still costs an event of the quota and a trip to the error server. The cap
lets a few events per fingerprint through each minute and drops the rest; the first event let
through after a drop carries how many were dropped (`extra.dropped_similar_events`), and the
SDK's client reports count them as discarded by `before_send`.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from sentry_sdk.types import Event

WINDOW_SECONDS = 60.0
# Fingerprints remembered at once; the oldest windows are forgotten beyond this.
MAX_FINGERPRINTS = 1000
DROPPED_KEY = "dropped_similar_events"


@dataclass
class _Window:
    started: float
    sent: int = 0
    dropped: int = 0


class HandledEventCap:
    """Lets `per_minute` events of each fingerprint through per minute; 0 lets all through.

    Only events with a fingerprint are capped: `capture_handled` sets one on every event it
    sends, and unhandled errors, which have none, always go through.
    """

    def __init__(self, per_minute: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self._clock = clock
        self._windows: dict[tuple[str, ...], _Window] = {}
        # before_send runs in whichever thread captured the event.
        self._lock = threading.Lock()

    def admit(self, event: Event) -> Event | None:
        """The event, with the count of those dropped before it; None when over the cap."""
        fingerprint = tuple(event.get("fingerprint") or ())
        if not fingerprint or self.per_minute <= 0:
            return event
        now = self._clock()
        with self._lock:
            window = self._windows.get(fingerprint)
            if window is None or now - window.started >= WINDOW_SECONDS:
                # Drops not yet reported are carried on to the next event let through.
                carried = window.dropped if window else 0
                window = _Window(started=now, dropped=carried)
                self._remember(fingerprint, window, now)
            if window.sent >= self.per_minute:
                window.dropped += 1
                return None
            window.sent += 1
            dropped, window.dropped = window.dropped, 0
        if dropped:
            event.setdefault("extra", {})[DROPPED_KEY] = dropped
        return event

    def _remember(self, fingerprint: tuple[str, ...], window: _Window, now: float) -> None:
        self._windows.pop(fingerprint, None)
        if len(self._windows) >= MAX_FINGERPRINTS:
            for stale in [k for k, w in self._windows.items() if now - w.started >= WINDOW_SECONDS]:
                del self._windows[stale]
            while len(self._windows) >= MAX_FINGERPRINTS:
                del self._windows[next(iter(self._windows))]
        self._windows[fingerprint] = window
