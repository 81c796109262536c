"""Request heads bounded in size and time by the protocol the service is served with.

A real uvicorn server runs in the test's event loop on a free loopback port, with small limits,
and raw sockets talk to it.
"""

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import uvicorn
from starlette.types import Receive, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from {{ cookiecutter.package_name }}.core.http_protocol import HeadLimitedHttpToolsProtocol

HEAD_LIMIT = 4_096
HEAD_TIMEOUT_SECONDS = 0.5
# A client gives up on an answer after this long; far longer than any limit here.
GIVE_UP_SECONDS = 20
# The path of every request the app was called with, emptied for each test.
SERVED: list[str] = []


class SmallLimits(HeadLimitedHttpToolsProtocol):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.max_head_bytes = HEAD_LIMIT
        self.head_timeout_seconds = HEAD_TIMEOUT_SECONDS


async def echo_body_size(scope: Scope, receive: Receive, send: Send) -> None:
    """Answer 200 with the number of body bytes received."""
    SERVED.append(scope["path"])
    if scope["type"] != "http":
        return
    size = 0
    while True:
        message = await receive()
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = str(size).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


@pytest.fixture
async def port() -> AsyncIterator[int]:
    SERVED.clear()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        config = uvicorn.Config(
            echo_body_size,
            http=SmallLimits,
            lifespan="off",
            log_level="warning",
            timeout_keep_alive=GIVE_UP_SECONDS,
        )
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve(sockets=[sock]))
        for _ in range(GIVE_UP_SECONDS * 100):
            if server.started:
                break
            await asyncio.sleep(0.01)
        yield sock.getsockname()[1]
        server.should_exit = True
        await serving


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[pytest.LogCaptureFixture]:
    """Records uvicorn's log lines too (its logger does not propagate), and asyncio's."""
    uvicorn_logger = logging.getLogger("uvicorn")
    uvicorn_logger.addHandler(caplog.handler)
    yield caplog
    uvicorn_logger.removeHandler(caplog.handler)


async def exchange(port: int, *parts: bytes, pause: float = 0) -> bytes:
    """Send each part (after `pause` seconds) and read until the service closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for part in parts:
            writer.write(part)
            await writer.drain()
            await asyncio.sleep(pause)
        async with asyncio.timeout(GIVE_UP_SECONDS):
            return await reader.read()
    finally:
        writer.close()


def request(path: str = "/", *, body: bytes = b"", close: bool = True) -> bytes:
    connection = b"Connection: close\r\n" if close else b""
    return (
        f"POST {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {len(body)}\r\n".encode()
        + connection
        + b"\r\n"
        + body
    )


def test_the_service_runs_on_the_bounded_httptools_protocol() -> None:
    # Not the h11 fallback: this uvicorn's httptools protocol has every hook extended.
    assert issubclass(HeadLimitedHttpToolsProtocol, HttpToolsProtocol)


async def test_a_head_over_the_limit_is_431_and_closed(port: int) -> None:
    answer = await exchange(port, b"GET / HTTP/1.1\r\nX-Big: " + b"a" * (HEAD_LIMIT * 4))
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert answer.endswith(b'{"detail": "Request head larger than 4096 bytes"}')


def big_head(start: bytes, *, extra: bytes = b"") -> bytes:
    """A complete head twice the limit: `start` (a request line), `extra`, then 1 kB headers."""
    filler = b"".join(b"X-Part-%d: %s\r\n" % (i, b"a" * 1_000) for i in range(HEAD_LIMIT // 500))
    return start + b"Host: x\r\n" + extra + filler + b"\r\n"


async def test_a_complete_head_over_the_limit_in_one_read_is_431_and_closed(
    port: int, logged: pytest.LogCaptureFixture
) -> None:
    answer = await exchange(port, big_head(b"GET /nope HTTP/1.1\r\n"))
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert answer.endswith(b'{"detail": "Request head larger than 4096 bytes"}')
    assert SERVED == []
    assert logged.records == []


async def test_nothing_after_a_head_refused_in_one_read_reaches_the_app(
    port: int, logged: pytest.LogCaptureFixture
) -> None:
    # Its body and a request pipelined after it arrive in the same read as the head.
    refused = big_head(b"POST /big HTTP/1.1\r\n", extra=b"Content-Length: 4\r\n") + b"body"
    answer = await exchange(port, refused + request("/after"))
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert answer.count(b"HTTP/1.1 ") == 1, answer
    assert SERVED == []
    assert logged.records == []


async def test_a_websocket_upgrade_with_a_head_over_the_limit_is_431(
    port: int, logged: pytest.LogCaptureFixture
) -> None:
    upgrade = (
        b"Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    )
    answer = await exchange(port, big_head(b"GET /ws HTTP/1.1\r\n", extra=upgrade))
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]
    assert SERVED == []
    assert logged.records == []


async def test_a_head_sent_slowly_past_the_limit_is_431(port: int) -> None:
    parts = [b"GET / HTTP/1.1\r\n"] + [b"X-Part: " + b"a" * 1_000 + b"\r\n"] * 6
    answer = await exchange(port, *parts, pause=0.01)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:80]


async def test_a_body_in_the_same_read_as_its_head_does_not_count(port: int) -> None:
    body = b"x" * (HEAD_LIMIT * 20)
    answer = await exchange(port, request(body=body))
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:80]
    assert answer.endswith(str(len(body)).encode())


async def test_a_head_that_does_not_end_in_time_is_408(port: int) -> None:
    answer = await exchange(port, b"GET / HTTP/1.1\r\nHost: test\r\n")
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]
    assert b"\r\nconnection: close\r\n" in answer.lower()


async def test_a_connection_that_sends_nothing_is_closed(port: int) -> None:
    answer = await exchange(port)
    assert answer.startswith(b"HTTP/1.1 408 "), answer[:80]


async def test_keep_alive_serves_requests_after_the_head_timeout(port: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        for size in (10, HEAD_LIMIT * 3):
            writer.write(request(body=b"x" * size, close=False))
            await writer.drain()
            async with asyncio.timeout(GIVE_UP_SECONDS):
                head = await reader.readuntil(b"\r\n\r\n")
                answer = await reader.readexactly(len(str(size)))
            assert head.startswith(b"HTTP/1.1 200 "), head
            assert answer == str(size).encode()
            # Idle longer than the head timeout: that is keep-alive's to end, not the head's.
            await asyncio.sleep(HEAD_TIMEOUT_SECONDS * 3)
    finally:
        writer.close()
