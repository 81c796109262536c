"""What Sentry costs per request is paid only where it buys something.

Sessions are opt-in, probes are left alone, SQL spans exist only in sampled transactions, the
bearer token is verified once, and the SDK builds no log records nobody reads.
"""

import asyncio
import contextvars
import logging
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI
from sentry_sdk.tracing import Span
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError

from {{ cookiecutter.package_name }}.auth import dependencies as auth_dependencies
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.security import (
    AccessToken,
    TokenKeys,
    decode_access_token,
)
from {{ cookiecutter.package_name }}.observability import UninstrumentedProbes, init_sentry
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import SignUp

PROBES = frozenset({"/health", "/broken-probe"})


class ProbeFailedError(Exception):
    pass


@pytest.fixture
def track_sessions() -> bool:
    return False


@pytest.fixture
def settings(settings: Settings, track_sessions: bool) -> Settings:
    return settings.model_copy(update={"sentry_track_sessions": track_sessions})


@pytest.fixture
async def probed_client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client of the app as `main.py` serves it: probes wrapped outside of Sentry."""

    @app.get("/broken-probe")
    async def broken_probe() -> None:
        raise ProbeFailedError("the probe itself failed")

    transport = httpx.ASGITransport(
        app=UninstrumentedProbes(app, paths=PROBES), raise_app_exceptions=False
    )
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


def sessions_ended(sentry: CapturingTransport) -> int:
    """Requests counted as release-health sessions, whatever their outcome."""
    sentry_sdk.flush()
    outcomes = ("exited", "errored", "crashed", "abnormal")
    buckets: list[dict[str, Any]] = [
        bucket for item in sentry.items("sessions") for bucket in item["aggregates"]
    ]
    return sum(bucket.get(outcome, 0) for bucket in buckets for outcome in outcomes)


async def test_requests_are_not_sessions_unless_asked_for(
    client: httpx.AsyncClient, sentry: CapturingTransport
) -> None:
    response = await client.get("/api/v1/products")

    assert response.status_code == 200
    assert sessions_ended(sentry) == 0


@pytest.mark.parametrize("track_sessions", [True])
async def test_with_session_tracking_every_request_is_a_session(
    client: httpx.AsyncClient, sentry: CapturingTransport
) -> None:
    await client.get("/api/v1/products")
    await client.get("/api/v1/users/me")

    assert sessions_ended(sentry) == 2


@pytest.mark.parametrize("track_sessions", [True])
async def test_probes_pass_outside_sentry_and_other_requests_do_not(
    probed_client: httpx.AsyncClient, sentry: CapturingTransport
) -> None:
    probe = await probed_client.get("/health")
    products = await probed_client.get("/api/v1/products")

    assert probe.status_code == 200
    assert len(probe.headers["X-Request-ID"]) == 32
    assert products.status_code == 200
    assert sessions_ended(sentry) == 1, "only the products request is a session"
    assert [t["transaction"] for t in sentry.transactions] == ["/api/v1/products"]


async def test_a_failing_probe_is_still_reported(
    probed_client: httpx.AsyncClient, sentry: CapturingTransport
) -> None:
    response = await probed_client.get("/broken-probe")

    assert response.status_code == 500
    (event,) = sentry.events
    assert event["event_id"] == response.json()["error_id"]
    assert event["exception"]["values"][-1]["type"] == "ProbeFailedError"
    assert event["tags"]["request_id"] == response.headers["X-Request-ID"]


@pytest.fixture
def memory_engine() -> Iterator[Engine]:
    engine = create_engine("sqlite://")
    yield engine
    engine.dispose()


def test_sql_statements_leave_breadcrumbs_and_spans_only_in_sampled_transactions(
    memory_engine: Engine, sentry: CapturingTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    children: list[Span] = []
    start_child = Span.start_child

    def counting_start_child(span: Span, **kwargs: Any) -> Span:
        child = start_child(span, **kwargs)
        children.append(child)
        return child

    monkeypatch.setattr(Span, "start_child", counting_start_child)
    sentry_sdk.get_isolation_scope().clear_breadcrumbs()

    with memory_engine.connect() as connection:
        with sentry_sdk.start_transaction(name="left out", sampled=False):
            connection.execute(text("SELECT 'left out'"))
        assert children == [], "no span for a transaction that is never sent"

        with sentry_sdk.start_transaction(name="sampled", sampled=True):
            connection.execute(text("SELECT 'sampled'"))
            with pytest.raises(OperationalError):
                connection.execute(text("SELECT * FROM missing_table"))
        sentry_sdk.capture_message("after the queries")

    (transaction,) = sentry.transactions
    spans = [(span["op"], span["description"], span["status"]) for span in transaction["spans"]]
    assert spans == [
        ("db", "SELECT 'sampled'", "ok"),
        ("db", "SELECT * FROM missing_table", "internal_error"),
    ]
    assert transaction["spans"][0]["data"]["db.system"] == "sqlite"
    (event,) = sentry.events
    queries = [c["message"] for c in event["breadcrumbs"]["values"] if c["category"] == "query"]
    assert queries == ["SELECT 'left out'", "SELECT 'sampled'", "SELECT * FROM missing_table"]


async def test_the_token_is_verified_once_per_request(
    client: httpx.AsyncClient,
    sentry: CapturingTransport,
    sign_up: SignUp,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    user = await sign_up()
    verified: list[str] = []

    def counting_decode(token: str, *, keys: TokenKeys) -> AccessToken:
        verified.append(token)
        return decode_access_token(token, keys=keys)

    monkeypatch.setattr(auth_dependencies, "decode_access_token", counting_decode)

    # A context of its own, as the server gives every request.
    request = client.get("/api/v1/users/me", headers=user["headers"])
    response = await asyncio.create_task(request, context=contextvars.Context())

    assert response.status_code == 200
    assert verified == [user["token"]], "once by the middleware, then reused by the route"
    transaction = sentry.transactions[-1]
    assert transaction["user"]["id"] == str(user["id"])


def test_the_sdk_builds_debug_records_only_when_asked_to(settings: Settings) -> None:
    sdk_logger = logging.getLogger("sentry_sdk.errors")
    assert not sdk_logger.isEnabledFor(logging.INFO)

    debug = settings.model_copy(update={"sentry_debug": True})
    init_sentry(debug.sentry_options(), transport=CapturingTransport())

    assert sdk_logger.isEnabledFor(logging.DEBUG)


def test_the_sdk_builds_no_records_without_a_dsn_either(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Without a client the SDK logs a line for every breadcrumb the service leaves.
    sdk_logger = logging.getLogger("sentry_sdk.errors")
    monkeypatch.setattr(sdk_logger, "level", logging.NOTSET)
    no_dsn = settings.model_copy(update={"sentry_dsn": None, "sentry_spotlight": False})

    assert init_sentry(no_dsn.sentry_options()) is False
    assert not sdk_logger.isEnabledFor(logging.INFO)


async def test_only_the_integrations_the_service_uses_are_on(
    client: httpx.AsyncClient, sentry: CapturingTransport
) -> None:
    await client.get("/api/v1/products")

    (transaction,) = sentry.transactions
    integrations = set(transaction["sdk"]["integrations"])
    assert {"fastapi", "starlette", "logging", "httpx"} <= integrations
    assert not integrations & {"argv", "stdlib"}, "the command line, and http.client spans"
    assert "sys.argv" not in transaction.get("extra", {})
