"""What reaches Sentry, read from the envelopes the SDK would have sent."""

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, BackgroundTasks, Depends, FastAPI, HTTPException
from starlette.requests import ClientDisconnect
from starlette.types import ASGIApp, Receive, Scope, Send

from {{ cookiecutter.package_name }}.auth.dependencies import get_current_user
from {{ cookiecutter.package_name }}.checkout.payments import HttpPaymentProvider
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.security import create_access_token
from {{ cookiecutter.package_name }}.observability.filters import is_noise
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import CLIENT_IP, PASSWORD, SignUp

CARD_NUMBER = "4242 4242 4242 4242"
LOGGED_SECRET = "tok_secret_123"


class FailureError(Exception):
    pass


def failing_dependency() -> None:
    raise FailureError("dependency failed")


def add_failing_routes(app: FastAPI) -> None:
    """Routes that fail in each place an error can start: route, dependency, background, task."""
    router = APIRouter(prefix="/api/v1/failing")

    @router.post("/route")
    async def fail_in_route(payload: dict[str, Any]) -> None:
        raise FailureError("route failed")

    @router.post("/authenticated", dependencies=[Depends(get_current_user)])
    async def fail_for_a_user(payload: dict[str, Any]) -> None:
        logging.getLogger("checkout").warning("Retrying with token=%s", LOGGED_SECRET)
        raise FailureError("route failed")

    @router.get("/dependency", dependencies=[Depends(failing_dependency)])
    async def fail_in_dependency() -> None:
        return None

    @router.get("/background", dependencies=[Depends(get_current_user)])
    async def fail_in_background(tasks: BackgroundTasks) -> dict[str, str]:
        async def job() -> None:
            raise FailureError("background task failed")

        tasks.add_task(job)
        return {"status": "queued"}

    @router.get("/stray-task", dependencies=[Depends(get_current_user)])
    async def fail_in_stray_task() -> dict[str, str]:
        async def job() -> None:
            raise FailureError("stray task failed")

        await asyncio.wait([asyncio.create_task(job())])
        return {"status": "spawned"}

    app.include_router(router)


def add_failing_middleware(app: FastAPI) -> None:
    def middleware(inner: ASGIApp) -> ASGIApp:
        async def call(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] == "http" and scope["path"] == "/api/v1/failing/middleware":
                raise FailureError("middleware failed")
            await inner(scope, receive, send)

        return call

    app.add_middleware(middleware)


@pytest.fixture
def failing_app(app: FastAPI) -> FastAPI:
    add_failing_routes(app)
    add_failing_middleware(app)
    return app


def exception_of(event: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = event["exception"]["values"][-1]
    return value


def crumbs(event: dict[str, Any], category: str) -> list[dict[str, Any]]:
    return [crumb for crumb in event["breadcrumbs"]["values"] if crumb.get("category") == category]


@pytest.mark.usefixtures("failing_app")
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/route"), ("GET", "/dependency"), ("GET", "/middleware")],
)
async def test_unhandled_errors_are_500_with_the_event_id(
    client: httpx.AsyncClient, sentry: CapturingTransport, method: str, path: str
) -> None:
    response = await client.request(method, f"/api/v1/failing{path}", json={"note": "hi"})

    assert response.status_code == 500
    assert response.headers["connection"] == "close"
    body = response.json()
    assert body["detail"] == "Internal server error"
    [event] = sentry.events
    assert body["error_id"] == event["event_id"]
    assert exception_of(event)["type"] == "FailureError"
    assert exception_of(event)["mechanism"]["handled"] is False
    assert event["request"]["url"].endswith(f"/api/v1/failing{path}")
    assert event["release"] == "{{ cookiecutter.project_slug }}@{{ cookiecutter.version }}+0123456789ab"
    assert event["environment"] == "test"


@pytest.mark.usefixtures("failing_app", "catalogue")
async def test_an_error_event_carries_user_tags_request_and_breadcrumbs(
    client: httpx.AsyncClient, sentry: CapturingTransport, sign_up: SignUp
) -> None:
    user = await sign_up()

    response = await client.post(
        "/api/v1/failing/authenticated", json={"note": "hello"}, headers=user["headers"]
    )

    [event] = sentry.events
    # Personal data is off: the opaque id alone says who it was.
    assert event["user"] == {"id": str(user["id"])}
    assert event["tags"]["plan"] == "free"
    assert event["tags"]["api_version"] == "v1"
    assert event["tags"]["request_id"] == response.headers["X-Request-ID"]
    assert event["transaction"] == "/api/v1/failing/authenticated"
    assert event["request"]["method"] == "POST"
    assert event["request"]["data"] == {"note": "hello"}
    [request_crumb] = crumbs(event, "request")
    assert request_crumb["message"] == "POST /api/v1/failing/authenticated"
    assert request_crumb["data"]["request_id"] == response.headers["X-Request-ID"]


async def test_username_and_email_are_sent_only_when_personal_data_is_allowed(
    client: httpx.AsyncClient, sentry: CapturingTransport, sign_up: SignUp, failing_app: FastAPI
) -> None:
    from {{ cookiecutter.package_name }}.observability import init_sentry

    settings: Settings = failing_app.state.settings
    allowed = settings.model_copy(update={"sentry_send_personal_data": True})
    init_sentry(allowed.sentry_options(), transport=sentry)
    user = await sign_up()

    await client.post("/api/v1/failing/authenticated", json={}, headers=user["headers"])

    [event] = sentry.events
    assert event["user"] == {
        "id": str(user["id"]),
        "username": user["username"],
        "email": user["email"],
    }


async def test_a_forged_token_never_names_a_user(
    client: httpx.AsyncClient, sentry: CapturingTransport, failing_app: FastAPI
) -> None:
    await client.post(
        "/api/v1/failing/route",
        json={},
        headers={"Authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiIxIn0.", "X-User-ID": "1"},
    )

    [event] = sentry.events
    assert "user" not in event or event["user"].get("id") is None


@pytest.mark.usefixtures("failing_app")
async def test_anonymous_requests_carry_no_user(
    client: httpx.AsyncClient, sentry: CapturingTransport, sign_up: SignUp
) -> None:
    user = await sign_up()
    await client.get("/api/v1/users/me", headers=user["headers"])

    await client.post("/api/v1/failing/route", json={})

    [event] = sentry.events
    assert "user" not in event


@pytest.mark.usefixtures("failing_app")
async def test_404s_and_expected_errors_are_not_reported(
    client: httpx.AsyncClient, sentry: CapturingTransport, sign_up: SignUp
) -> None:
    user = await sign_up()

    await client.get("/no/such/page")
    await client.get("/api/v1/orders/999999", headers=user["headers"])
    await client.post("/api/v1/auth/login", data={"username": "x@example.com", "password": "nope"})
    await client.get("/api/v1/users/me", headers={"Authorization": "Bearer nope"})

    assert sentry.events == []


@pytest.mark.parametrize(
    ("error", "noise"),
    [
        (ClientDisconnect(), True),
        (HTTPException(status_code=404), True),
        (HTTPException(status_code=503), False),
        (FailureError(), False),
    ],
)
def test_client_disconnects_and_404s_are_noise(error: Exception, noise: bool) -> None:
    assert is_noise({}, {"exc_info": (type(error), error, None)}) is noise


@pytest.mark.usefixtures("failing_app")
async def test_background_task_failures_carry_the_request_user(
    client: httpx.AsyncClient, sentry: CapturingTransport, sign_up: SignUp
) -> None:
    user = await sign_up()

    response = await client.get("/api/v1/failing/background", headers=user["headers"])

    assert response.status_code == 200
    [event] = sentry.events
    assert exception_of(event)["value"] == "background task failed"
    assert event["user"]["id"] == str(user["id"])
    assert event["tags"]["plan"] == "free"


@pytest.mark.usefixtures("failing_app")
async def test_stray_asyncio_task_failures_carry_the_request_user(
    client: httpx.AsyncClient, sentry: CapturingTransport, sign_up: SignUp
) -> None:
    user = await sign_up()

    response = await client.get("/api/v1/failing/stray-task", headers=user["headers"])

    assert response.status_code == 200
    [event] = sentry.events
    assert exception_of(event)["value"] == "stray task failed"
    assert exception_of(event)["mechanism"]["type"] == "asyncio"
    assert event["user"]["id"] == str(user["id"])
    assert event["tags"]["api_version"] == "v1"


@pytest.mark.usefixtures("failing_app")
async def test_secrets_never_leave_the_process(
    client: httpx.AsyncClient, sentry: CapturingTransport, sign_up: SignUp
) -> None:
    user = await sign_up()
    body = {
        "card_number": CARD_NUMBER,
        "note": f"my card is {CARD_NUMBER}",
        "nested": {"api_key": "sk_live_abcdef", "items": [{"password": "hunter2hunter2"}]},
    }
    headers = {
        **user["headers"],
        "Cookie": "session=cookie-secret-value",
        "X-Forwarded-For": "198.51.100.23",
    }

    await client.post("/api/v1/failing/authenticated", json=body, headers=headers)

    raw = sentry.raw().decode()
    assert sentry.events, "an event was expected"
    for secret in (
        user["token"],
        "4242 4242 4242 4242",
        "4242424242424242",
        "sk_live_abcdef",
        "hunter2hunter2",
        "cookie-secret-value",
        LOGGED_SECRET,
        CLIENT_IP,
        "198.51.100.23",
    ):
        assert secret not in raw, f"{secret!r} left the process"
    [event] = sentry.events
    assert event["request"]["headers"]["authorization"] == "[Filtered]"
    assert event["request"]["data"]["note"] == "my card is [card]"
    [log_crumb] = crumbs(event, "checkout")
    assert log_crumb["message"] == "Retrying with token=[Filtered]"
    assert log_crumb["level"] == "warning"


async def test_login_and_register_bodies_never_leave_the_process(
    client: httpx.AsyncClient, sentry: CapturingTransport, failing_app: FastAPI
) -> None:
    # Any error during these requests would carry the body; make the database fail.
    failing_app.state.sessionmaker = None
    await client.post(
        "/api/v1/auth/register",
        json={"email": "x@example.com", "username": "someone", "password": PASSWORD},
    )
    await client.post(
        "/api/v1/auth/login", data={"username": "x@example.com", "password": PASSWORD}
    )

    assert len(sentry.events) == 2
    raw = sentry.raw().decode()
    assert PASSWORD not in raw
    assert "x@example.com" not in raw
    assert all("data" not in event["request"] for event in sentry.events)


@pytest.mark.usefixtures("catalogue")
async def test_checkout_records_context_breadcrumbs_and_spans(
    client: httpx.AsyncClient, sentry: CapturingTransport, sign_up: SignUp, app: FastAPI
) -> None:
    user = await sign_up()
    app.state.payment_provider = HttpPaymentProvider(
        httpx.AsyncClient(), base_url="http://127.0.0.1:9", timeout=1.0
    )
    products = (await client.get("/api/v1/products")).json()
    cart = {
        "items": [{"product_id": products[0]["id"], "quantity": 3}],
        "discount_code": "WELCOME10",
        "payment_token": "tok_visa",
    }

    response = await client.post("/api/v1/checkout", json=cart, headers=user["headers"])

    assert response.status_code == 202
    [event] = sentry.events
    order = response.json()
    assert event["contexts"]["order"] == {
        "id": order["id"],
        "item_count": 3,
        "total": order["total_cents"] / 100,
        "currency": "USD",
        "payment_method": "card",
    }
    assert [c["message"] for c in crumbs(event, "checkout")] == ["Discount applied"]
    assert [c["message"] for c in crumbs(event, "payment")] == ["Payment started", "Payment failed"]
    assert crumbs(event, "query"), "a breadcrumb per SQL statement"

    transaction = next(t for t in sentry.transactions if t["transaction"] == "/api/v1/checkout")
    spans = {span["op"]: span for span in transaction["spans"]}
    assert spans["checkout.pricing"]["data"]["total_cents"] == order["total_cents"]
    assert spans["payment.charge"]["data"]["provider"] == "http"
    assert spans["payment.charge"]["status"] == "unavailable"
    assert "db" in spans
    assert "http.client" in spans


async def test_email_spans_and_breadcrumbs(
    client: httpx.AsyncClient, sentry: CapturingTransport, sign_up: SignUp
) -> None:
    user = await sign_up()
    email = {"to": "friend@example.com", "note": "Hello"}

    await client.post("/api/v1/emails/send", json=email, headers=user["headers"])

    transaction = next(t for t in sentry.transactions if t["transaction"] == "/api/v1/emails/send")
    ops = {span["op"] for span in transaction["spans"]}
{%- if cookiecutter.task_queue == "celery" %}
    assert {"email.render", "queue.submit.celery"} <= ops
{%- else %}
    assert {"email.render", "email.send"} <= ops
{%- endif %}
    assert transaction["tags"]["plan"] == "free"


async def test_health_checks_are_never_traced(
    client: httpx.AsyncClient, sentry: CapturingTransport
) -> None:
    await client.get("/health")
    await client.get("/health/ready")
    await client.get("/api/v1/products")

    traced = [t["transaction"] for t in sentry.transactions]
    assert traced == ["/api/v1/products"]


@pytest.mark.usefixtures("failing_app")
async def test_concurrent_requests_never_see_each_others_user(
    client: httpx.AsyncClient, sentry: CapturingTransport, settings: Settings
) -> None:
    keys = settings.token_keys()
    tokens = {
        user_id: create_access_token(subject=user_id, keys=keys, expires_in=timedelta(minutes=5))
        for user_id in range(1, 21)
    }

    responses = await asyncio.gather(
        *(
            client.post(
                "/api/v1/failing/route",
                json={"who": str(user_id)},
                headers={"Authorization": f"Bearer {token}"},
            )
            for user_id, token in tokens.items()
        )
    )

    assert {response.status_code for response in responses} == {500}
    events = sentry.events
    assert len(events) == len(tokens)
    for event in events:
        assert event["user"]["id"] == event["request"]["data"]["who"]


@pytest.mark.usefixtures("failing_app")
async def test_log_lines_name_the_request_and_trace_of_the_event(
    client: httpx.AsyncClient, sentry: CapturingTransport, caplog: pytest.LogCaptureFixture
) -> None:
    from {{ cookiecutter.package_name }}.observability.logging import RequestContextFilter

    caplog.handler.addFilter(RequestContextFilter())
    response = await client.post("/api/v1/failing/route", json={})

    [event] = sentry.events
    [record] = [r for r in caplog.records if getattr(r, "error_id", None) == event["event_id"]]
    assert vars(record)["request_id"] == response.headers["X-Request-ID"]
    assert vars(record)["request_id"] == event["tags"]["request_id"]
    assert vars(record)["trace_id"] == event["contexts"]["trace"]["trace_id"]


def test_json_log_lines_carry_the_extra_fields() -> None:
    from {{ cookiecutter.package_name }}.observability.logging import JsonFormatter

    record = logging.makeLogRecord(
        {"msg": "Payment failed", "levelname": "WARNING", "order_id": 7, "request_id": "r1"}
    )

    line = json.loads(JsonFormatter().format(record))

    assert line["message"] == "Payment failed"
    assert line["order_id"] == 7
    assert line["request_id"] == "r1"


@pytest.mark.parametrize("json_lines", [True, False], ids=["json", "readable"])
def test_log_lines_hold_no_token_a_client_put_in_a_url(json_lines: bool) -> None:
    from {{ cookiecutter.package_name }}.observability.logging import (
        READABLE_FORMAT,
        JsonFormatter,
        ReadableFormatter,
    )

    refresh = "WEgLzZfNEQKXgAnj8_HG7SD3_C73_ZcsJbY6DiizHR8"
    record = logging.makeLogRecord(
        {
            "name": "uvicorn.access",
            "msg": '%s - "%s %s HTTP/%s" %d',
            "args": ("127.0.0.1:5000", "GET", f"/api/v1/x/{refresh}?refresh=opaque1", "1.1", 404),
            "request_id": "r1",
            "trace_id": "t1",
        }
    )
    formatter = JsonFormatter() if json_lines else ReadableFormatter(READABLE_FORMAT)

    line = formatter.format(record)

    assert refresh not in line
    assert "opaque1" not in line
    assert "GET /api/v1/x/" in line


async def test_setup_check_raises_outside_production(
    client: httpx.AsyncClient, sentry: CapturingTransport
) -> None:
    response = await client.get("/debug/sentry")

    assert response.status_code == 500
    [event] = sentry.events
    assert exception_of(event)["type"] == "SetupCheckError"
    assert response.json()["error_id"] == event["event_id"]


def test_setup_check_is_not_mounted_in_production(settings: Settings) -> None:
    from {{ cookiecutter.package_name }}.app import create_app

    production = settings.model_copy(update={"environment": "production"})
    paths = {getattr(route, "path", None) for route in create_app(production).routes}

    assert "/debug/sentry" not in paths
    assert "/openapi.json" not in paths
