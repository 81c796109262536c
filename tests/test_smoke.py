"""The baked service, run as a real process, takes a user from sign-up to a paid order."""

import uuid

import httpx

from tests.baking import BakedProject
from tests.running_service import running_service

PASSWORD = "a-long-enough-passphrase-42"


def _sign_up_and_log_in(client: httpx.Client) -> dict:
    email = f"smoke-{uuid.uuid4().hex[:8]}@example.com"
    user = {
        "email": email,
        "username": f"smoke{uuid.uuid4().hex[:8]}",
        "password": PASSWORD,
    }
    registered = client.post("/api/v1/auth/register", json=user)
    assert registered.status_code == 202, registered.text
    again = client.post(
        "/api/v1/auth/register",
        json={**user, "username": f"other{uuid.uuid4().hex[:8]}"},
    )
    assert (again.status_code, again.json()) == (202, registered.json()), (
        "a taken email must be answered like a free one"
    )

    login = client.post(
        "/api/v1/auth/login", data={"username": email, "password": PASSWORD}
    )
    assert login.status_code == 200, login.text
    assert login.json()["token_type"] == "bearer"
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


def test_checkout_flow(installed_project: BakedProject, seeded_env: dict) -> None:
    with (
        running_service(installed_project, seeded_env) as base_url,
        httpx.Client(base_url=base_url, timeout=15) as client,
    ):
        assert client.get("/health/ready").status_code == 200
        auth = _sign_up_and_log_in(client)
        me = client.get("/api/v1/users/me", headers=auth).json()
        assert me["is_active"] is True
        assert me["plan"] == "free"

        products = client.get("/api/v1/products").json()
        assert products, "make seed loaded no products"
        assert len({p["sku"] for p in products}) == len(products), (
            "seeding duplicated products"
        )
        product = products[0]

        cart = {
            "items": [{"product_id": product["id"], "quantity": 2}],
            "discount_code": "WELCOME10",
            "payment_method": "card",
            "payment_token": "tok_test",
        }
        headers = {**auth, "Idempotency-Key": f"smoke-{uuid.uuid4()}"}
        paid = client.post("/api/v1/checkout", json=cart, headers=headers)
        assert paid.status_code == 201, paid.text
        order = paid.json()
        assert order["status"] == "paid"
        assert order["total_cents"] < 2 * product["price_cents"], (
            "discount was not applied"
        )

        repeated = client.post("/api/v1/checkout", json=cart, headers=headers)
        assert repeated.status_code in (200, 201), repeated.text
        assert repeated.json()["id"] == order["id"], (
            "the same Idempotency-Key made a new order"
        )

        read = client.get(f"/api/v1/orders/{order['id']}", headers=auth)
        assert read.status_code == 200, read.text
        assert read.json()["id"] == order["id"]
        assert read.json()["total_cents"] == order["total_cents"]
