"""Read a request's body before the app sees the request: within a size and a time limit.

A body is refused with 413 once it is larger than the limit (by its `Content-Length`, or by the
bytes as they arrive) and ends with 408 when it has not arrived in time. uvicorn has no timeout
for reading a body, so without this a client that sends part of a body and waits would hold its
request open for as long as it likes.

The body is read whole, here, so that everything after this middleware (the concurrency limit
above all) sees a request only once its client is done sending it: a client that is slow to
send costs a socket and the bytes it actually sent, never a place that working requests need.
Each body is bounded by the size limit, and all the bodies being read at once by a budget of the
process: a body that would take it past the budget is refused at once with 503 and
`Retry-After`, so that many clients sending large bodies slowly cannot fill the memory. A body's
bytes leave the budget when its request is handed on (the concurrency limit bounds the app's
work from there) or ends.
"""

import asyncio

from starlette.datastructures import Headers
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.middleware.concurrency import RETRY_AFTER_SECONDS
from {{ cookiecutter.package_name }}.core.middleware.security_headers import SECURITY_HEADERS

# The rest of the body may still be on its way: the connection cannot serve another request.
REFUSAL_HEADERS = {**SECURITY_HEADERS, "Connection": "close"}


class BodyRefusedError(Exception):
    """The body is too large, too slow or one too many; the status and reason to answer with."""

    def __init__(
        self, status_code: int, detail: str, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = {**REFUSAL_HEADERS, **(headers or {})}


class BodyBudget:
    """The bytes of request bodies a process holds at once while they arrive, up to `limit`."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.held = 0

    def take(self, size: int) -> bool:
        """Count `size` more bytes as held, unless that would pass the limit."""
        if self.held + size > self.limit:
            return False
        self.held += size
        return True

    def give_back(self, size: int) -> None:
        self.held -= size


class RequestBodyMiddleware:
    """Pass a request to `app` once its whole body is in, as one message; 413, 408 or 503 if not.

    `timeout_seconds` counts from the request's head to the body's last byte: a deadline for the
    whole body, not for each read, so that a client trickling a byte at a time is cut as well.
    `max_buffered_bytes` bounds the bytes of all bodies being read at once. Requests without a
    body pass straight through. Wrap the finished application, outermost.
    """

    def __init__(
        self, app: ASGIApp, *, max_bytes: int, timeout_seconds: float, max_buffered_bytes: int
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout_seconds = timeout_seconds
        self.budget = BodyBudget(max_buffered_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length")
        if declared == "0" or (declared is None and "transfer-encoding" not in headers):
            await self.app(scope, receive, send)
            return
        try:
            if declared is not None and declared.isdecimal() and int(declared) > self.max_bytes:
                raise self._too_large()
            message = await self._read_body(receive)
        except BodyRefusedError as refusal:
            response = JSONResponse(
                {"detail": refusal.detail},
                status_code=refusal.status_code,
                headers=refusal.headers,
            )
            await response(scope, receive, send)
            return
        if message["type"] == "http.disconnect":
            return  # The client left before sending its body: nobody to answer.
        delivered = False

        async def replay_body() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()
            delivered = True
            return message

        await self.app(scope, replay_body, send)

    async def _read_body(self, receive: Receive) -> Message:
        """The whole body as one `http.request` message, or the client's `http.disconnect`."""
        chunks: list[bytes] = []
        received = 0
        try:
            async with asyncio.timeout(self.timeout_seconds):
                while True:
                    message = await receive()
                    if message["type"] != "http.request":
                        return message
                    chunk = message.get("body", b"")
                    if received + len(chunk) > self.max_bytes:
                        raise self._too_large()
                    if not self.budget.take(len(chunk)):
                        raise BodyRefusedError(
                            503,
                            "Too many request bodies in progress; try again shortly",
                            {"Retry-After": str(RETRY_AFTER_SECONDS)},
                        )
                    received += len(chunk)
                    chunks.append(chunk)
                    if not message.get("more_body", False):
                        break
        except TimeoutError:
            raise BodyRefusedError(
                408, f"Request body not received within {self.timeout_seconds:g} seconds"
            ) from None
        finally:
            self.budget.give_back(received)
        return {"type": "http.request", "body": b"".join(chunks), "more_body": False}

    def _too_large(self) -> BodyRefusedError:
        return BodyRefusedError(413, f"Request body larger than {self.max_bytes} bytes")
