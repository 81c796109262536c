from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncConnection

from {{ cookiecutter.package_name }}.checkout import repository, service
from {{ cookiecutter.package_name }}.checkout.models import Product
from {{ cookiecutter.package_name }}.checkout.payments import Charge, HttpPaymentProvider
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

from .conftest import SignUp
from .payment_providers import CountingPaymentProvider

pytestmark = pytest.mark.usefixtures("catalogue")


async def products(client: httpx.AsyncClient) -> dict[str, dict[str, Any]]:
    response = await client.get("/api/v1/products")
    assert response.status_code == 200
    return {product["sku"]: product for product in response.json()}


async def cart(client: httpx.AsyncClient, **extra: Any) -> dict[str, Any]:
    catalogue = await products(client)
    return {
        "items": [
            {"product_id": catalogue["TSHIRT-01"]["id"], "quantity": 2},
            {"product_id": catalogue["MUG-01"]["id"], "quantity": 1},
        ],
        "payment_token": "tok_visa_4242",
        **extra,
    }


def closed_payment_provider(app: FastAPI) -> None:
    """Point payments at a port where nothing listens, as when the provider is down."""
    client = httpx.AsyncClient()
    app.state.payment_provider = HttpPaymentProvider(
        client, base_url="http://127.0.0.1:9", timeout=1.0
    )


async def test_products_are_listed(client: httpx.AsyncClient) -> None:
    catalogue = await products(client)

    assert catalogue["TSHIRT-01"]["price_cents"] == 2500


async def test_checkout_prices_and_pays_the_order(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()

    response = await client.post(
        "/api/v1/checkout",
        json=await cart(client, discount_code="welcome10"),
        headers=user["headers"],
    )

    assert response.status_code == 201, response.text
    order = response.json()
    assert order["status"] == "paid"
    assert order["subtotal_cents"] == 2 * 2500 + 1200
    assert order["discount_cents"] == 620
    assert order["total_cents"] == 6200 - 620
    assert order["discount_code"] == "WELCOME10"
    assert [item["quantity"] for item in order["items"]] == [2, 1]


async def test_retry_with_the_same_idempotency_key_returns_the_same_order(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    user = await sign_up()
    headers = {**user["headers"], "Idempotency-Key": "checkout-42"}
    body = await cart(client)

    first = await client.post("/api/v1/checkout", json=body, headers=headers)
    retry = await client.post("/api/v1/checkout", json=body, headers=headers)
    other = await client.post("/api/v1/checkout", json=body, headers=user["headers"])

    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert other.json()["id"] != first.json()["id"]


async def test_a_retry_returns_the_order_after_its_product_was_withdrawn(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI
) -> None:
    user = await sign_up()
    headers = {**user["headers"], "Idempotency-Key": "checkout-withdrawn"}
    body = await cart(client)
    first = await client.post("/api/v1/checkout", json=body, headers=headers)
    async with app.state.sessionmaker() as session:
        await session.execute(update(Product).values(is_active=False))
        await session.commit()

    retry = await client.post("/api/v1/checkout", json=body, headers=headers)
    new = await client.post("/api/v1/checkout", json=body, headers=user["headers"])

    assert first.status_code == retry.status_code == 201
    assert retry.json()["id"] == first.json()["id"]
    assert retry.headers["Idempotent-Replayed"] == "true"
    assert new.status_code == 409


async def test_orders_are_visible_to_their_owner_only(
    client: httpx.AsyncClient, sign_up: SignUp
) -> None:
    owner, stranger = await sign_up(), await sign_up()
    placed = await client.post(
        "/api/v1/checkout", json=await cart(client), headers=owner["headers"]
    )
    order_id = placed.json()["id"]

    mine = await client.get(f"/api/v1/orders/{order_id}", headers=owner["headers"])
    theirs = await client.get(f"/api/v1/orders/{order_id}", headers=stranger["headers"])
    missing = await client.get("/api/v1/orders/999999", headers=owner["headers"])

    assert mine.status_code == 200
    assert mine.json() == placed.json()
    assert theirs.status_code == missing.status_code == 404
    assert theirs.json() == missing.json()


@pytest.mark.parametrize(
    ("change", "detail"),
    [
        ({"items": [{"product_id": 999999, "quantity": 1}]}, "Unknown products: 999999"),
        ({"discount_code": "NOPE"}, "Unknown or expired discount code"),
    ],
)
async def test_unavailable_products_or_codes_are_409(
    client: httpx.AsyncClient, sign_up: SignUp, change: dict[str, Any], detail: str
) -> None:
    user = await sign_up()

    response = await client.post(
        "/api/v1/checkout", json={**await cart(client), **change}, headers=user["headers"]
    )

    assert response.status_code == 409
    assert response.json() == {"detail": detail}


async def test_checkout_needs_a_signed_in_user(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/checkout", json=await cart(client))

    assert response.status_code == 401


async def test_provider_down_keeps_the_order_pending_and_reports_it(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI, sentry: CapturingTransport
) -> None:
    user = await sign_up()
    closed_payment_provider(app)

    response = await client.post(
        "/api/v1/checkout", json=await cart(client), headers=user["headers"]
    )

    assert response.status_code == 202
    assert response.json()["status"] == "payment_pending"
    [event] = sentry.events
    assert event["exception"]["values"][-1]["type"] == "PaymentProviderError"
    assert event["exception"]["values"][-1]["mechanism"]["handled"] is True
    assert event["fingerprint"] == ["handled", "payment", "http", "unreachable"]
    assert event["contexts"]["order"]["id"] == response.json()["id"]
    assert event["level"] == "error"


async def test_payment_methods_fall_back_to_the_last_known_answer(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI, sentry: CapturingTransport
) -> None:
    user = await sign_up()
    provider_up = True
    outgoing: list[httpx.Request] = []

    def gateway(request: httpx.Request) -> httpx.Response:
        outgoing.append(request)
        if provider_up:
            return httpx.Response(200, json={"methods": ["card", "sepa_debit"]})
        return httpx.Response(503)

    gateway_client = httpx.AsyncClient(transport=httpx.MockTransport(gateway))
    app.state.payment_provider = HttpPaymentProvider(
        gateway_client, base_url="https://payments.test", timeout=1.0
    )

    fresh = await client.get("/api/v1/checkout/payment-methods", headers=user["headers"])
    provider_up = False
    cached = await client.get("/api/v1/checkout/payment-methods", headers=user["headers"])

    assert fresh.json() == cached.json() == ["card", "sepa_debit"]
    assert cached.status_code == 200
    [event] = sentry.events
    assert event["fingerprint"] == ["handled", "payment_methods", "http", "server_error"]
    assert event["contexts"]["recovery"]["served_from_cache"] is True
    [call] = [crumb for crumb in event["breadcrumbs"]["values"] if crumb["category"] == "httplib"]
    assert call["data"]["url"] == "https://payments.test/payment-methods"
    assert call["data"]["http.response.status_code"] == 503
    trace_id = event["contexts"]["trace"]["trace_id"]
    assert outgoing[-1].headers["sentry-trace"].startswith(trace_id)


async def test_the_provider_is_called_outside_any_transaction(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI
) -> None:
    """The order is committed first: no lock or savepoint is held while the provider works."""
    user = await sign_up()
    # The tests' sessions share one connection and open a savepoint for each transaction.
    connection: AsyncConnection = app.state.sessionmaker.kw["bind"]
    seen: list[tuple[bool, str | None]] = []

    class InspectingProvider(CountingPaymentProvider):
        async def charge(self, charge: Charge) -> str:
            async with app.state.sessionmaker() as session:
                order = await repository.get_order(session, charge.order_id)
                status = order.status.value if order else None
            seen.append((connection.in_nested_transaction(), status))
            return await super().charge(charge)

    app.state.payment_provider = InspectingProvider()

    response = await client.post(
        "/api/v1/checkout", json=await cart(client), headers=user["headers"]
    )

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "paid"
    assert seen == [(False, "payment_pending")]


async def test_a_declined_payment_is_recorded_and_replayed_as_402(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI, sentry: CapturingTransport
) -> None:
    user = await sign_up()
    app.state.payment_provider = provider = CountingPaymentProvider(declines=True)
    headers = {**user["headers"], "Idempotency-Key": "declined-1"}
    body = await cart(client)

    first = await client.post("/api/v1/checkout", json=body, headers=headers)
    again = await client.post("/api/v1/checkout", json=body, headers=headers)

    assert first.status_code == again.status_code == 402
    assert first.json() == again.json() == {"detail": "The payment was declined"}
    [order_id] = provider.attempts
    assert provider.attempts[order_id] == 1, "a replay never charges again"
    async with app.state.sessionmaker() as session:
        order = await repository.get_order(session, order_id)
    assert order is not None
    assert order.status == "payment_failed"
    assert order.payment_token is None
    assert sentry.events == []


async def test_a_retry_charges_a_pending_order_once(
    client: httpx.AsyncClient, sign_up: SignUp, app: FastAPI
) -> None:
    user = await sign_up()
    app.state.payment_provider = provider = CountingPaymentProvider(up=False)
    placed = await client.post("/api/v1/checkout", json=await cart(client), headers=user["headers"])
    assert placed.status_code == 202
    order_id = placed.json()["id"]
    provider.up = True

    first = await service.retry_payment(
        transactions=app.state.sessionmaker, order_id=order_id, payments=provider
    )
    second = await service.retry_payment(
        transactions=app.state.sessionmaker, order_id=order_id, payments=provider
    )

    assert first.status == second.status == "paid"
    assert provider.attempts[order_id] == 2, "the checkout's attempt and one retry"
    assert provider.charged[order_id] == 1
    read = await client.get(f"/api/v1/orders/{order_id}", headers=user["headers"])
    assert read.json()["status"] == "paid"
