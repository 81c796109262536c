"""The sweep of pending payments in the API process: what it charges, when it stops, how it runs."""

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
import sentry_sdk
from fastapi import FastAPI

from {{ cookiecutter.package_name }}.checkout import repository
from {{ cookiecutter.package_name }}.checkout.retries import (
    SweepResult,
    retrying_pending_payments,
    sweep_pending_payments,
)
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.db import utcnow
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import SignUp
from .payment_providers import CountingPaymentProvider

pytestmark = pytest.mark.usefixtures("catalogue")


async def pending_orders(
    client: httpx.AsyncClient, app: FastAPI, user: dict[str, Any], count: int
) -> list[int]:
    """Orders placed while the provider is down: each answered 202 and kept pending."""
    app.state.payment_provider = CountingPaymentProvider(up=False)
    products = (await client.get("/api/v1/products")).json()
    cart = {"items": [{"product_id": products[0]["id"], "quantity": 1}], "payment_token": "tok"}
    order_ids = []
    for _ in range(count):
        response = await client.post("/api/v1/checkout", json=cart, headers=user["headers"])
        assert response.status_code == 202, response.text
        order_ids.append(response.json()["id"])
    return order_ids


async def statuses(app: FastAPI, order_ids: list[int]) -> list[str]:
    async with app.state.sessionmaker() as session:
        orders = [await repository.get_order(session, order_id) for order_id in order_ids]
    return [order.status.value for order in orders if order is not None]


async def test_a_sweep_charges_each_pending_order_once(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp, sentry: CapturingTransport
) -> None:
    order_ids = await pending_orders(client, app, await sign_up(), 3)
    provider = CountingPaymentProvider()

    first = await sweep_pending_payments(
        transactions=app.state.sessionmaker, payments=provider, grace_seconds=0
    )
    second = await sweep_pending_payments(
        transactions=app.state.sessionmaker, payments=provider, grace_seconds=0
    )

    assert first.paid >= 3
    assert second == SweepResult(), "nothing left to charge"
    assert all(provider.charged[order_id] == 1 for order_id in order_ids)
    assert await statuses(app, order_ids) == ["paid"] * 3
    # The outage's start and end are on the next event, whatever scope it comes from.
    sentry_sdk.capture_message("after the outage")
    outage = [c for c in sentry.events[-1]["breadcrumbs"]["values"] if c["category"] == "outage"]
    assert outage[-1]["message"] == "counting payment provider recovered"
    assert outage[-1]["data"]["failures"] >= 3
    assert any(c["message"] == "counting payment provider started failing" for c in outage)


async def test_a_sweep_leaves_young_orders_to_their_requests(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp
) -> None:
    order_ids = await pending_orders(client, app, await sign_up(), 1)
    provider = CountingPaymentProvider()

    result = await sweep_pending_payments(
        transactions=app.state.sessionmaker,
        payments=provider,
        grace_seconds=timedelta(hours=1).total_seconds(),
    )

    assert result.paid == 0
    assert provider.attempts[order_ids[0]] == 0


async def test_a_sweep_stops_at_the_first_failure_and_reports_it_once(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp, sentry: CapturingTransport
) -> None:
    order_ids = await pending_orders(client, app, await sign_up(), 3)
    provider = CountingPaymentProvider(up=False)
    before = len(sentry.events)

    result = await sweep_pending_payments(
        transactions=app.state.sessionmaker, payments=provider, grace_seconds=0
    )

    assert result.paid == 0
    assert result.still_pending >= 3
    assert sum(provider.attempts.values()) == 1, "one try while the provider is down"
    [event] = sentry.events[before:]
    assert event["fingerprint"] == ["handled", "payment_retry", "counting", "unreachable"]
    assert event["contexts"]["recovery"]["still_pending"] == result.still_pending
    assert await statuses(app, order_ids) == ["payment_pending"] * 3


async def test_the_lifespan_sweeps_at_start_and_on_a_timer_until_shutdown(
    client: httpx.AsyncClient, app: FastAPI, sign_up: SignUp, settings: Settings
) -> None:
    order_ids = await pending_orders(client, app, await sign_up(), 2)
    provider = app.state.payment_provider = CountingPaymentProvider(up=False)
    sweeping = settings.model_copy(
        update={"payment_retry_interval_seconds": 0.05, "payment_timeout_seconds": 0.01}
    )
    # Orders count as abandoned by their requests once older than the timeout and a margin.
    async with app.state.sessionmaker.begin() as session:
        for order_id in order_ids:
            order = await repository.get_order(session, order_id)
            assert order is not None
            order.created_at = utcnow() - timedelta(minutes=5)

    async with retrying_pending_payments(app, sweeping):
        await wait_until(lambda: sum(provider.attempts.values()) >= 3)
        provider.up = True
        await wait_until(lambda: all(provider.charged[order_id] for order_id in order_ids))
    attempts_at_shutdown = sum(provider.attempts.values())
    await asyncio.sleep(0.2)

    assert sum(provider.attempts.values()) == attempts_at_shutdown, "no sweep after shutdown"
    assert all(provider.charged[order_id] == 1 for order_id in order_ids)
    assert await statuses(app, order_ids) == ["paid"] * 2


async def test_no_sweep_runs_when_the_interval_is_zero(app: FastAPI, settings: Settings) -> None:
    provider = app.state.payment_provider = CountingPaymentProvider()

    async with retrying_pending_payments(app, settings):
        await asyncio.sleep(0.1)

    assert settings.payment_retry_interval_seconds == 0
    assert not provider.attempts


async def wait_until(condition: Callable[[], bool], seconds: float = 10) -> None:
    for _ in range(int(seconds / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("the sweep did not get there")
