"""Where a dependency starts failing and where it recovers, as breadcrumbs on every later event.

Call `record_failure` and `record_success` around each call to a remote service. Only the
changes leave a mark: one breadcrumb (and log line) when the first failure comes, one when a
call succeeds again, with how many failed and for how long. They go on the global scope, so
the next event of any request or task shows the outage's start and end.
"""

import logging
import threading
import time

import sentry_sdk

logger = logging.getLogger(__name__)

# Dependency name -> (monotonic time of its first failure, failures since).
_failing: dict[str, tuple[float, int]] = {}
_lock = threading.Lock()


def record_failure(dependency: str, kind: str) -> None:
    with _lock:
        since, failures = _failing.get(dependency, (time.monotonic(), 0))
        _failing[dependency] = (since, failures + 1)
    if failures == 0:
        message = f"{dependency} started failing"
        sentry_sdk.get_global_scope().add_breadcrumb(
            category="outage", message=message, level="warning", data={"kind": kind}
        )
        logger.warning(message, extra={"dependency": dependency, "kind": kind})


def record_success(dependency: str) -> None:
    with _lock:
        outage = _failing.pop(dependency, None)
    if outage is None:
        return
    since, failures = outage
    data = {"failures": failures, "seconds": round(time.monotonic() - since, 1)}
    message = f"{dependency} recovered"
    sentry_sdk.get_global_scope().add_breadcrumb(category="outage", message=message, data=data)
    logger.info(message, extra={"dependency": dependency, **data})
