import asyncio
from collections.abc import AsyncIterator

import httpx
from starlette.types import Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.middleware.concurrency import (
    ConcurrencyLimitMiddleware,
    Workload,
)
from {{ cookiecutter.package_name }}.core.middleware.request_body import RequestBodyMiddleware


class HeldApp:
    """Answers 200 once `release` is set; `held` is set once `holding` requests wait for it."""

    def __init__(self, holding: int = 0) -> None:
        self.release = asyncio.Event()
        self.held = asyncio.Event()
        self.holding = holding
        self.reached = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.reached += 1
        if self.reached == self.holding:
            self.held.set()
        if scope["path"] != "/health":
            await self.release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


async def test_requests_beyond_the_limit_are_refused_at_once_and_probes_pass() -> None:
    inner = HeldApp(holding=2)
    workload = Workload(limit=2)
    app = ConcurrencyLimitMiddleware(inner, workload=workload, exempt_paths={"/health"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        held = [asyncio.create_task(client.get("/api/v1/products")) for _ in range(2)]
        await inner.held.wait()
        saturated = workload.saturated
        refused = await client.get("/api/v1/products")
        probe = await client.get("/health")
        inner.release.set()
        answered = await asyncio.gather(*held)
        after = await client.get("/api/v1/products")

    assert saturated
    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.json() == {"detail": "The service is overloaded; try again shortly"}
    assert probe.status_code == 200
    assert [response.status_code for response in answered] == [200, 200]
    assert after.status_code == 200
    assert workload.refused == 1
    assert workload.in_progress == 0
    assert not workload.saturated


async def test_no_limit_when_zero() -> None:
    inner = HeldApp()
    inner.release.set()
    workload = Workload(limit=0)
    app = ConcurrencyLimitMiddleware(inner, workload=workload)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(*(client.get("/") for _ in range(20)))

    assert {response.status_code for response in responses} == {200}
    assert not workload.saturated


async def test_a_request_takes_no_place_while_its_body_is_arriving() -> None:
    """Bodies still on their way leave every place free; the request counts once it is in."""
    waiting = asyncio.Event()
    arrived = asyncio.Event()
    seen_in_progress: list[int] = []
    workload = Workload(limit=1)

    async def counting_app(scope: Scope, receive: Receive, send: Send) -> None:
        seen_in_progress.append(workload.in_progress)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    app = RequestBodyMiddleware(
        ConcurrencyLimitMiddleware(counting_app, workload=workload),
        max_bytes=1_000,
        timeout_seconds=30,
        max_buffered_bytes=1_000,
    )

    async def slow_body() -> AsyncIterator[bytes]:
        yield b'{"a": '
        waiting.set()
        await arrived.wait()
        yield b"1}"

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        slow = asyncio.create_task(client.post("/slow", content=slow_body()))
        await waiting.wait()
        in_progress_meanwhile = workload.in_progress
        other = await client.get("/other")
        arrived.set()
        finished = await slow

    assert in_progress_meanwhile == 0
    assert other.status_code == 200
    assert finished.status_code == 200
    # Each request was counted, alone, while the app worked on it.
    assert seen_in_progress == [1, 1]
    assert workload.in_progress == 0
