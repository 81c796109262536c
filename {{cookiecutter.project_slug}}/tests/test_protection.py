"""Body limits, security headers, CORS and docs: what every response carries or refuses."""

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from fastapi import FastAPI
from starlette.types import Message, Receive, Scope, Send

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.middleware.request_body import (
    BodyBudget,
    RequestBodyMiddleware,
)

from .conftest import CLIENT_IP, SignUp

LIMIT = 2_000
# Short, so that a stalled body is cut quickly; the stalls below never end by themselves.
BODY_TIMEOUT_SECONDS = 0.2


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"max_request_body_bytes": LIMIT})


@pytest.fixture
async def served(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app behind the body limits, as `main.py` serves it."""
    limited = RequestBodyMiddleware(
        app, max_bytes=LIMIT, timeout_seconds=BODY_TIMEOUT_SECONDS, max_buffered_bytes=LIMIT * 10
    )
    transport = httpx.ASGITransport(app=limited, client=(CLIENT_IP, 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


async def chunks(total: int) -> AsyncIterator[bytes]:
    for _ in range(total // 500):
        yield b'"' + b"x" * 498 + b'"'


async def stalled_body() -> AsyncIterator[bytes]:
    yield b'{"refresh_token": "'
    await asyncio.Event().wait()


async def trickled_body() -> AsyncIterator[bytes]:
    """A byte at a time, each soon after the last, never the whole body."""
    while True:
        yield b" "
        await asyncio.sleep(BODY_TIMEOUT_SECONDS / 10)


async def test_a_body_over_the_limit_by_its_length_is_413(served: httpx.AsyncClient) -> None:
    response = await served.post(
        "/api/v1/auth/register", content=b"x" * (LIMIT + 1), headers={"Content-Type": "text/plain"}
    )

    assert response.status_code == 413
    assert response.json() == {"detail": f"Request body larger than {LIMIT} bytes"}
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Connection"] == "close"


async def test_a_streamed_body_over_the_limit_is_413(served: httpx.AsyncClient) -> None:
    response = await served.post(
        "/api/v1/auth/register",
        content=chunks(LIMIT * 3),
        headers={"Content-Type": "application/json"},
    )

    assert "content-length" not in response.request.headers
    assert response.status_code == 413


async def test_a_lying_content_length_is_caught_while_streaming(served: httpx.AsyncClient) -> None:
    response = await served.post(
        "/api/v1/auth/login",
        content=chunks(LIMIT * 3),
        headers={"Content-Type": "application/x-www-form-urlencoded", "Content-Length": "10"},
    )

    assert response.status_code == 413


async def test_a_body_under_the_limit_is_parsed(served: httpx.AsyncClient) -> None:
    response = await served.post("/api/v1/auth/register", json={"email": "x" * (LIMIT - 100)})

    assert response.status_code == 422


@pytest.mark.parametrize("body", [stalled_body, trickled_body])
async def test_a_body_that_does_not_arrive_in_time_is_408(
    served: httpx.AsyncClient, body: Callable[[], AsyncIterator[bytes]]
) -> None:
    response = await served.post(
        "/api/v1/auth/logout",
        content=body(),
        headers={"Content-Type": "application/json", "Content-Length": "100"},
    )

    assert response.status_code == 408
    assert response.json() == {
        "detail": f"Request body not received within {BODY_TIMEOUT_SECONDS:g} seconds"
    }
    assert response.headers["Connection"] == "close"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_the_app_sees_a_request_only_once_its_body_is_in() -> None:
    """The whole body as one message; a client gone before its body is never passed on."""
    seen: list[Message] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(await receive())
        await send({"type": "http.response.start", "status": 204, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    limited = RequestBodyMiddleware(
        app, max_bytes=LIMIT, timeout_seconds=30, max_buffered_bytes=LIMIT
    )
    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        answered = await client.post("/", content=chunks(1_500))

    scope = {"type": "http", "headers": [(b"content-length", b"10")], "path": "/"}
    sent: list[Message] = []

    async def disconnect() -> Message:
        return {"type": "http.disconnect"}

    async def record(message: Message) -> None:
        sent.append(message)

    await limited(scope, disconnect, record)

    assert answered.status_code == 204
    assert [(message["body"], message["more_body"]) for message in seen] == [
        ((b'"' + b"x" * 498 + b'"') * 3, False)
    ]
    assert sent == []


def test_the_body_budget_counts_what_is_held() -> None:
    budget = BodyBudget(limit=100)

    assert budget.take(60)
    assert not budget.take(41)
    assert budget.take(40)
    budget.give_back(60)
    assert budget.held == 40
    assert budget.take(60)


async def answer_204(scope: Scope, receive: Receive, send: Send) -> None:
    await receive()
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


async def test_bodies_past_the_budget_are_503_until_their_bytes_are_given_back() -> None:
    limited = RequestBodyMiddleware(
        answer_204, max_bytes=LIMIT, timeout_seconds=30, max_buffered_bytes=LIMIT
    )
    release = asyncio.Event()

    async def held_body() -> AsyncIterator[bytes]:
        yield b"x" * 1_500
        await release.wait()
        yield b"x" * 100

    async def split_body() -> AsyncIterator[bytes]:
        yield b"x" * 400
        yield b"x" * 400

    transport = httpx.ASGITransport(app=limited)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        held = asyncio.create_task(client.post("/", content=held_body()))
        for _ in range(3_000):
            if limited.budget.held == 1_500:
                break
            await asyncio.sleep(0.01)
        refused = await client.post("/", content=split_body())
        after_refusal = limited.budget.held
        release.set()
        finished = await held
        accepted = await client.post("/", content=b"x" * 800)

    assert refused.status_code == 503
    assert refused.json() == {"detail": "Too many request bodies in progress; try again shortly"}
    assert refused.headers["Retry-After"] == "1"
    assert refused.headers["Connection"] == "close"
    # The refused body's first part, taken before the budget ran out, was given back.
    assert after_refusal == 1_500
    assert (finished.status_code, accepted.status_code) == (204, 204)
    assert limited.budget.held == 0


@pytest.mark.parametrize("path", ["/health", "/no-such-route", "/api/v1/users/me"])
async def test_every_response_carries_security_headers(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)

    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert "Strict-Transport-Security" not in response.headers


async def test_the_docs_page_may_load_its_scripts(client: httpx.AsyncClient) -> None:
    response = await client.get("/docs")

    assert response.status_code == 200
    assert "Content-Security-Policy" not in response.headers
    assert response.headers["X-Frame-Options"] == "DENY"


async def test_cors_is_closed_by_default(client: httpx.AsyncClient) -> None:
    preflight = await client.options(
        "/api/v1/products",
        headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"},
    )
    simple = await client.get("/api/v1/products", headers={"Origin": "https://evil.example"})

    assert "access-control-allow-origin" not in preflight.headers
    assert "access-control-allow-origin" not in simple.headers


async def test_cors_allows_the_configured_origins_only(settings: Settings) -> None:
    app = create_app(settings.model_copy(update={"cors_allowed_origins": ["https://app.example"]}))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:

        async def preflight(origin: str) -> httpx.Response:
            return await client.options(
                "/api/v1/checkout",
                headers={
                    "Origin": origin,
                    "Access-Control-Request-Method": "POST",
                    "Access-Control-Request-Headers": "authorization,content-type",
                },
            )

        allowed = await preflight("https://app.example")
        refused = await preflight("https://evil.example")

    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://app.example"
    assert refused.status_code == 400
    assert "access-control-allow-origin" not in refused.headers


async def test_production_hides_the_docs_and_asks_for_https(settings: Settings) -> None:
    production = settings.model_copy(update={"environment": "production"})
    transport = httpx.ASGITransport(app=create_app(production))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        docs = await client.get("/docs")
        schema = await client.get("/openapi.json")
        health = await client.get("/health")

    assert docs.status_code == schema.status_code == 404
    assert health.headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/auth/register",
            b'{"email": "a@example.com", "username": "abc", "password": "long\\ud800enough"}',
            "password",
        ),
        (
            "/api/v1/emails/send",
            b'{"to": "a@example.com", "note": "\\udc00"}',
            "note",
        ),
        (
            "/api/v1/checkout",
            b'{"items": [{"product_id": 1, "quantity": 1}], "payment_token": "\\ud800"}',
            "payment_token",
        ),
    ],
)
async def test_unpaired_surrogates_are_a_422_that_echoes_them_safely(
    client: httpx.AsyncClient, sign_up: SignUp, path: str, body: bytes, field: str
) -> None:
    user = await sign_up()
    headers = {**user["headers"], "Content-Type": "application/json"}

    response = await client.post(path, content=body, headers=headers)

    assert response.status_code == 422, response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", field]
