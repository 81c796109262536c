"""The baked service, run as a real process, takes a user from sign-up to a paid order."""

import contextlib
import uuid

import httpx

from harness.baking import BakedProject
from harness.running_service import (
    Service,
    celery_worker,
    logged_link_token,
    logged_link_tokens,
    service_process,
)

PASSWORD = "a-long-enough-passphrase-42"
NEW_PASSWORD = "another-long-passphrase-43"
INVITATION = {"to": "friend@example.com", "note": "Come and see."}


def _sign_up_verify_and_log_in(client: httpx.Client, mailer: Service) -> tuple[str, dict]:
    """An unverified account answers as a wrong password; the mailed link verifies it, once."""
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
    credentials = {"username": email, "password": PASSWORD}
    unverified = client.post("/api/v1/auth/login", data=credentials)
    # Five log-ins a minute per account: the baked tests compare it with a wrong password.
    assert unverified.status_code == 401, unverified.text

    token = logged_link_token(mailer, email, "verify-email")
    # The link verifies only with the password chosen at sign-up: an owner of the address who
    # did not sign up cannot hand a stranger a verified account.
    not_the_signer = client.post(
        "/api/v1/auth/verify-email", json={"token": token, "password": "not the sign-up one"}
    )
    assert not_the_signer.status_code == 400, not_the_signer.text
    verified = client.post("/api/v1/auth/verify-email", json={"token": token, "password": PASSWORD})
    assert verified.status_code == 200, verified.text
    again = client.post("/api/v1/auth/verify-email", json={"token": token, "password": PASSWORD})
    assert again.status_code == 400, again.text

    login = client.post("/api/v1/auth/login", data=credentials)
    assert login.status_code == 200, login.text
    assert login.json()["token_type"] == "bearer"
    me = client.get("/api/v1/users/me", headers=_bearer(login.json())).json()
    assert me["email_verified"] is True
    sent = client.post("/api/v1/emails/send", json=INVITATION, headers=_bearer(login.json()))
    assert sent.status_code == 202, sent.text
    return email, login.json()


def _bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def _reset_password(client: httpx.Client, mailer: Service, email: str, tokens: dict) -> dict:
    """Reset through the mailed link: once, every session ends; returns a new session."""
    seen = len(logged_link_tokens(mailer, email, "reset-password"))
    requested = client.post("/api/v1/auth/password-reset", json={"email": email})
    unknown = client.post("/api/v1/auth/password-reset", json={"email": f"nobody-{email}"})
    assert (requested.status_code, requested.json()) == (
        unknown.status_code,
        unknown.json(),
    )
    assert requested.status_code == 202, requested.text
    token = logged_link_token(mailer, email, "reset-password", seen=seen)
    reset = {"token": token, "new_password": NEW_PASSWORD}
    confirmed = client.post("/api/v1/auth/password-reset/confirm", json=reset)
    assert confirmed.status_code == 200, confirmed.text
    again = client.post("/api/v1/auth/password-reset/confirm", json=reset)
    assert again.status_code == 400, "a reset link works once"
    assert client.get("/api/v1/users/me", headers=_bearer(tokens)).status_code == 401
    assert _refresh(client, tokens["refresh_token"]).status_code == 401
    login = client.post("/api/v1/auth/login", data={"username": email, "password": NEW_PASSWORD})
    assert login.status_code == 200, login.text
    return login.json()


def _refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post("/api/v1/auth/refresh", json={"refresh_token": refresh_token})


def _rotate_and_log_out(client: httpx.Client, email: str, tokens: dict) -> dict:
    """Rotation, reuse of a retired refresh token, log-out; returns a fresh session."""
    rotated = _refresh(client, tokens["refresh_token"])
    assert rotated.status_code == 200, rotated.text
    assert rotated.json()["refresh_token"] != tokens["refresh_token"]
    assert client.get("/api/v1/users/me", headers=_bearer(rotated.json())).status_code == 200
    assert _refresh(client, tokens["refresh_token"]).status_code == 401, "reuse is refused"
    revoked = _refresh(client, rotated.json()["refresh_token"])
    assert revoked.status_code == 401, "reuse revokes the whole family"

    credentials = {"username": email, "password": PASSWORD}
    session = client.post("/api/v1/auth/login", data=credentials).json()
    logged_out = client.post(
        "/api/v1/auth/logout", json={"refresh_token": session["refresh_token"]}
    )
    assert logged_out.status_code == 204, logged_out.text
    assert _refresh(client, session["refresh_token"]).status_code == 401
    return client.post("/api/v1/auth/login", data=credentials).json()


@contextlib.contextmanager
def _service_and_mailer(project: BakedProject, env: dict):
    """The service, and the process whose log shows the emails it sends."""
    if project.answers["task_queue"] != "celery":
        with service_process(project, env) as service:
            yield service, service
        return
    # A queue of this run's own, so that no other worker takes its emails.
    env = {**env, "CELERY_QUEUE": f"smoke-{uuid.uuid4().hex[:8]}"}
    with (
        celery_worker(project, env, env["CELERY_QUEUE"]) as worker,
        service_process(project, env) as service,
    ):
        yield service, worker


def test_checkout_flow(installed_project: BakedProject, seeded_env: dict) -> None:
    with (
        _service_and_mailer(installed_project, seeded_env) as (service, mailer),
        httpx.Client(base_url=service.url, timeout=15) as client,
    ):
        assert client.get("/health/ready").status_code == 200
        email, tokens = _sign_up_verify_and_log_in(client, mailer)
        me = client.get("/api/v1/users/me", headers=_bearer(tokens)).json()
        assert me["is_active"] is True
        assert me["plan"] == "free"
        session = _rotate_and_log_out(client, email, tokens)
        auth = _bearer(_reset_password(client, mailer, email, session))

        products = client.get("/api/v1/products").json()
        assert products, "make seed loaded no products"
        assert len({p["sku"] for p in products}) == len(products), "seeding duplicated products"
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
        assert order["total_cents"] < 2 * product["price_cents"], "discount was not applied"

        repeated = client.post("/api/v1/checkout", json=cart, headers=headers)
        assert repeated.status_code in (200, 201), repeated.text
        assert repeated.json()["id"] == order["id"], "the same Idempotency-Key made a new order"

        read = client.get(f"/api/v1/orders/{order['id']}", headers=auth)
        assert read.status_code == 200, read.text
        assert read.json()["id"] == order["id"]
        assert read.json()["total_cents"] == order["total_cents"]

        everywhere = client.post("/api/v1/auth/logout-all", headers=auth)
        assert everywhere.status_code == 204, everywhere.text
        signed_out = client.get("/api/v1/users/me", headers=auth)
        assert signed_out.status_code == 401
        assert signed_out.headers["WWW-Authenticate"] == "Bearer"
