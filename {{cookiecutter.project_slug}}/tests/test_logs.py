import logging

import httpx
import pytest

from .conftest import PASSWORD, SignUp

CARD_NUMBER = "4111111111111111"


@pytest.mark.usefixtures("catalogue")
async def test_a_whole_session_writes_no_secret_to_the_logs(
    client: httpx.AsyncClient, sign_up: SignUp, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG):
        user = await sign_up()
        await client.post(
            "/api/v1/auth/login", data={"username": user["email"], "password": "wrong-password-7"}
        )
        products = (await client.get("/api/v1/products")).json()
        cart = {
            "items": [{"product_id": products[0]["id"], "quantity": 1}],
            "payment_token": CARD_NUMBER,
        }
        order = await client.post("/api/v1/checkout", json=cart, headers=user["headers"])
        await client.get(f"/api/v1/orders/{order.json()['id']}", headers=user["headers"])
        await client.post(
            "/api/v1/emails/send",
            json={"to": "friend@example.com", "note": "Lunch?"},
            headers=user["headers"],
        )
        refreshed = await client.post(
            "/api/v1/auth/refresh", json={"refresh_token": user["refresh_token"]}
        )
        await client.post("/api/v1/auth/refresh", json={"refresh_token": user["refresh_token"]})
        renewed = refreshed.json()
        await client.post("/api/v1/auth/logout", json={"refresh_token": renewed["refresh_token"]})
        await client.get("/api/v1/users/me", headers={"Authorization": f"Bearer {PASSWORD}"})

    logged = (
        "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
        + caplog.text
    )
{%- if cookiecutter.task_queue == "background" %}
    assert "Email to friend@example.com" in logged, "the session was not logged at all"
{%- else %}
    assert caplog.records, "the session was not logged at all"
{%- endif %}
    tokens = (
        user["token"],
        user["refresh_token"],
        renewed["access_token"],
        renewed["refresh_token"],
    )
    for secret in (PASSWORD, "wrong-password-7", *tokens, CARD_NUMBER):
        assert secret not in logged, f"{secret!r} was written to the logs"
