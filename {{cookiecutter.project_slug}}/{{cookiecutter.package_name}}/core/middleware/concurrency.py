"""Shed load: past a number of requests in progress, answer 503 at once instead of queueing.

A process that accepts every request under overload makes all of them slow, until clients time
out and retry, which adds more. Refusing the excess at once keeps the accepted ones fast and
tells clients (and load balancers) to come back: a JSON 503 with `Retry-After`, which uvicorn's
own `--limit-concurrency` does not give (plain text, no `Retry-After`, and it counts open
connections, not requests).

The limit protects the app from work, not from waiting: a request is counted from when the app
starts working on it, which is once its whole body is in (`core/middleware/request_body.py` reads it
before this middleware sees the request). Counted while its body was still arriving, a hundred
clients sending a body slowly, or not at all, would take every place and have every other
request refused, with the app doing nothing.
"""

from collections.abc import Collection
from dataclasses import dataclass

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

RETRY_AFTER_SECONDS = 1


@dataclass
class Workload:
    """The requests a process is working on, against the most it takes at once (0: no limit)."""

    limit: int
    in_progress: int = 0
    refused: int = 0

    @property
    def saturated(self) -> bool:
        """Whether the next request would be refused: the readiness probe says so."""
        return 0 < self.limit <= self.in_progress


class ConcurrencyLimitMiddleware:
    """Let at most `workload.limit` HTTP requests run at once; refuse the rest with 503.

    `exempt_paths` (the health probes) are always served: a probe refused under load would make
    an orchestrator restart or drain a process that is only busy, which adds to the overload;
    the readiness probe reports the saturation itself. Wrap the finished application, inside
    the body reader only, so a refused request costs as little as possible.
    """

    def __init__(
        self, app: ASGIApp, *, workload: Workload, exempt_paths: Collection[str] = ()
    ) -> None:
        self.app = app
        self.workload = workload
        self.exempt_paths = frozenset(exempt_paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        workload = self.workload
        if workload.saturated:
            workload.refused += 1
            response = JSONResponse(
                {"detail": "The service is overloaded; try again shortly"},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
            return
        # One event loop per process: the counter needs no lock.
        workload.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            workload.in_progress -= 1
