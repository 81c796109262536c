"""What the SDK does per request is opt-in where it costs: sessions, and probes left alone."""

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.observability import UninstrumentedProbes
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

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
