import asyncio

import httpx
from starlette.types import Receive, Scope, Send

from {{ cookiecutter.package_name }}.core.concurrency import ConcurrencyLimitMiddleware


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
    app = ConcurrencyLimitMiddleware(inner, limit=2, exempt_paths={"/health"})
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        held = [asyncio.create_task(client.get("/api/v1/products")) for _ in range(2)]
        await inner.held.wait()
        refused = await client.get("/api/v1/products")
        probe = await client.get("/health")
        inner.release.set()
        answered = await asyncio.gather(*held)
        after = await client.get("/api/v1/products")

    assert refused.status_code == 503
    assert refused.headers["Retry-After"] == "1"
    assert refused.json() == {"detail": "The service is overloaded; try again shortly"}
    assert probe.status_code == 200
    assert [response.status_code for response in answered] == [200, 200]
    assert after.status_code == 200
    assert app.refused == 1


async def test_no_limit_when_zero() -> None:
    inner = HeldApp()
    inner.release.set()
    app = ConcurrencyLimitMiddleware(inner, limit=0)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        responses = await asyncio.gather(*(client.get("/") for _ in range(20)))

    assert {response.status_code for response in responses} == {200}
