"""uvicorn's httptools protocol with a size and a time limit for each request head.

httptools has no limit on the size of a request head, and uvicorn starts no timer before a head
is complete: a client that sends a header of many megabytes and never ends it holds that memory
for as long as it likes, and a connection that sends half a head is never closed. Served with
`--http {{ cookiecutter.package_name }}.core.http_protocol:HeadLimitedHttpToolsProtocol`, a head
larger than `MAX_REQUEST_HEAD_BYTES` (counted as it arrives, and measured once parsed) is answered
with 431 and its connection closed before any app sees it, and a head not complete within
`REQUEST_HEAD_TIMEOUT_SECONDS` of its first byte (or of the connection) with 408. Bodies have
their own limits (`core/middleware/request_body.py`); idle keep-alive connections are closed by
uvicorn's `--timeout-keep-alive`.

This subclasses a uvicorn class that is not a documented extension point. Should a uvicorn
release change it, the service starts on uvicorn's h11 protocol instead, which bounds the head's
size by itself (16 KiB by default) but has no head timeout, and says so in one line.
"""

import asyncio
import json
import logging
from functools import cache
from typing import Any

from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.middleware.security_headers import SECURITY_HEADERS

try:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
except ImportError:  # httptools missing, or the module moved
    HttpToolsProtocol = None  # type: ignore[assignment, misc]

logger = logging.getLogger("uvicorn.error")

# The parser callbacks and connection hooks the subclass extends.
EXTENDED_HOOKS = (
    "connection_made",
    "connection_lost",
    "data_received",
    "on_message_begin",
    "on_headers_complete",
    "on_body",
    "on_message_complete",
    "handle_websocket_upgrade",
)


@cache
def head_limits() -> tuple[int, float]:
    """`MAX_REQUEST_HEAD_BYTES` and `REQUEST_HEAD_TIMEOUT_SECONDS`, read once per process.

    From the settings, like every other limit: the same environment and `.env`, validated the
    same way; uvicorn creates a protocol per connection, so they are read at the first one.
    """
    settings = get_settings()
    return settings.max_request_head_bytes, settings.request_head_timeout_seconds


def refusal(status_line: bytes, detail: str) -> bytes:
    """A complete JSON response that closes its connection, written before any app runs."""
    body = json.dumps({"detail": detail}).encode()
    headers = {
        **SECURITY_HEADERS,
        "Content-Type": "application/json",
        "Content-Length": str(len(body)),
        "Connection": "close",
    }
    lines = b"".join(f"{name}: {value}\r\n".encode() for name, value in headers.items())
    return status_line + lines + b"\r\n" + body


HEAD_TOO_LARGE = b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
HEAD_TOO_SLOW = b"HTTP/1.1 408 Request Timeout\r\n"

if HttpToolsProtocol is not None and all(
    callable(getattr(HttpToolsProtocol, hook, None)) for hook in EXTENDED_HOOKS
):

    class HeadLimitedHttpToolsProtocol(HttpToolsProtocol):
        """httptools, with every request head bounded in bytes and in time."""

        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.max_head_bytes, self.head_timeout_seconds = head_limits()
            # Whether the parser waits for a head: from the connection, and after each message.
            self.head_pending = True
            self.head_bytes = 0
            self.head_completed_in_read = False
            self.head_deadline: asyncio.TimerHandle | None = None
            # Once a head is refused, the parser goes on through the rest of its read: nothing
            # more is passed to uvicorn, so nothing of that request or any after it reaches the app.
            self.refused = False

        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            super().connection_made(transport)  # type: ignore[arg-type]
            self._start_head_deadline()

        def connection_lost(self, exc: Exception | None) -> None:
            self._cancel_head_deadline()
            super().connection_lost(exc)

        def data_received(self, data: bytes) -> None:
            within_head = self.head_pending
            if within_head:
                self._start_head_deadline()
            self.head_completed_in_read = False
            super().data_received(data)
            if not self.head_pending or self.transport.is_closing():
                return
            # Only a read that was head from its first byte counts: one that finished a message
            # and began the next holds bytes of both, and is left out (at most one read).
            if within_head and not self.head_completed_in_read:
                self.head_bytes += len(data)
            if self.head_bytes > self.max_head_bytes:
                self._refuse_too_large()

        def on_message_begin(self) -> None:
            super().on_message_begin()
            self.head_pending = True

        def on_headers_complete(self) -> None:
            self.head_pending = False
            self.head_bytes = 0
            self.head_completed_in_read = True
            self._cancel_head_deadline()
            # A head that ends in the read it began in was never counted: measure it as parsed,
            # its target and its header lines (each with ": " and CRLF).
            head_size = len(self.url) + sum(len(n) + len(v) + 4 for n, v in self.headers)
            if head_size > self.max_head_bytes:
                self._refuse_too_large()
            if not self.refused:
                super().on_headers_complete()

        def on_body(self, body: bytes) -> None:
            if not self.refused:
                super().on_body(body)

        def on_message_complete(self) -> None:
            if not self.refused:
                super().on_message_complete()
            # The next head's deadline starts with its first byte; until then the connection
            # is idle, which is --timeout-keep-alive's business.
            self.head_pending = True

        def handle_websocket_upgrade(self) -> None:
            if not self.refused:
                super().handle_websocket_upgrade()

        def _start_head_deadline(self) -> None:
            if self.head_deadline is None:
                self.head_deadline = self.loop.call_later(
                    self.head_timeout_seconds, self._head_deadline_passed
                )

        def _cancel_head_deadline(self) -> None:
            if self.head_deadline is not None:
                self.head_deadline.cancel()
                self.head_deadline = None

        def _head_deadline_passed(self) -> None:
            self.head_deadline = None
            if not self.head_pending:
                return
            self._refuse(
                HEAD_TOO_SLOW,
                f"Request head not received within {self.head_timeout_seconds:g} seconds",
            )

        def _refuse_too_large(self) -> None:
            self._refuse(HEAD_TOO_LARGE, f"Request head larger than {self.max_head_bytes} bytes")

        def _refuse(self, status_line: bytes, detail: str) -> None:
            """Answer and close; while an earlier response is being sent, close after it."""
            self._cancel_head_deadline()
            if self.refused or self.transport.is_closing():
                return
            self.refused = True
            if self.cycle is not None and not self.cycle.response_complete:
                self.cycle.keep_alive = False
                self.flow.pause_reading()
                return
            self.transport.write(refusal(status_line, detail))
            self.transport.close()

else:
    from uvicorn.protocols.http.h11_impl import H11Protocol

    HeadLimitedHttpToolsProtocol = H11Protocol  # type: ignore[assignment, misc]

    logger.warning(
        "uvicorn's httptools protocol has changed: serving with h11, "
        "request heads limited by size (h11's own limit) but not by time"
    )
