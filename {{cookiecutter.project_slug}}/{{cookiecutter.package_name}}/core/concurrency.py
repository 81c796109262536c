"""Shed load: past a number of requests in progress, answer 503 at once instead of queueing.

A process that accepts every request under overload makes all of them slow, until clients time
out and retry, which adds more. Refusing the excess at once keeps the accepted ones fast and
tells clients (and load balancers) to come back: a JSON 503 with `Retry-After`, which uvicorn's
own `--limit-concurrency` does not give (plain text, no `Retry-After`, and it counts open
connections, not requests).
"""

from collections.abc import Collection

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

RETRY_AFTER_SECONDS = 1


class ConcurrencyLimitMiddleware:
    """Let at most `limit` HTTP requests run at once (0: any number); refuse the rest with 503.

    `exempt_paths` (the health probes) are always served: a probe refused under load would make
    an orchestrator restart or drain a process that is only busy, which adds to the overload.
    Wrap the finished application, outermost, so a refused request costs as little as possible.
    """

    def __init__(self, app: ASGIApp, *, limit: int, exempt_paths: Collection[str] = ()) -> None:
        self.app = app
        self.limit = limit
        self.exempt_paths = frozenset(exempt_paths)
        self.in_progress = 0
        self.refused = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.exempt_paths:
            await self.app(scope, receive, send)
            return
        if self.limit and self.in_progress >= self.limit:
            self.refused += 1
            response = JSONResponse(
                {"detail": "The service is overloaded; try again shortly"},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
            await response(scope, receive, send)
            return
        # One event loop per process: the counter needs no lock.
        self.in_progress += 1
        try:
            await self.app(scope, receive, send)
        finally:
            self.in_progress -= 1
