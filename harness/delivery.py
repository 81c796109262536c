"""What the delivery tests share: the service's environment and a session a user could have."""

import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from harness.processes import free_port

PASSWORD = "delivery-passphrase-7Qx2"
# A test card number (it passes the Luhn check), sent where no card number belongs.
CARD_NUMBER = "4111111111111111"
GIT_SHA = "c0ffee15deadbeef0123456789abcdef01234567"
ENVIRONMENT = "staging"


def service_env(base_env: dict, dsn: str | None) -> dict:
    """Sentry on (when `dsn` is given), every request traced, payments and SMTP unreachable."""
    env = {
        **base_env,
        "ENVIRONMENT": ENVIRONMENT,
        "SECRET_KEY": secrets.token_urlsafe(48),
        "GIT_SHA": GIT_SHA,
        "SENTRY_DSN": dsn or "",
        "SENTRY_TRACES_SAMPLE_RATE": "1.0",
        "SENTRY_PROFILE_SESSION_SAMPLE_RATE": "0",
        "PAYMENT_PROVIDER": "http",
        "PAYMENT_API_URL": f"http://127.0.0.1:{free_port()}",
        "PAYMENT_TIMEOUT_SECONDS": "5",
        # No retries of pending orders: they would add events the tests do not expect.
        "PAYMENT_RETRY_INTERVAL_SECONDS": "0",
        "EMAIL_BACKEND": "smtp",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(free_port()),
    }
    return env


@dataclass
class Session:
    """A user's walk through the API; remembers what a test checks against."""

    client: httpx.Client
    user: dict = field(default_factory=dict)
    token: str = ""
    refresh_token: str = ""
    orders: list[dict] = field(default_factory=list)
    error_ids: list[str] = field(default_factory=list)

    @property
    def auth(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    def sign_up(self, verify: Callable[[str], None]) -> None:
        """Register, have `verify` mark the address verified, log in and read the account."""
        name = f"ada{uuid.uuid4().hex[:8]}"
        email = f"{name}@example.com"
        registered = self.client.post(
            "/api/v1/auth/register",
            json={"email": email, "username": name, "password": PASSWORD},
        )
        # Sign-up answers alike for new and taken emails; the account is read back once in.
        assert registered.status_code == 202, registered.text
        verify(email)
        login = self.client.post(
            "/api/v1/auth/login", data={"username": email, "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        self.token = login.json()["access_token"]
        self.refresh_token = login.json()["refresh_token"]
        self.user = self.client.get("/api/v1/users/me", headers=self.auth).json()

    def check_out(self) -> None:
        """Order with a discount while the payment provider is down: kept pending, 202."""
        products = self.client.get("/api/v1/products").json()
        cart = {
            "items": [{"product_id": products[0]["id"], "quantity": 2}],
            "discount_code": "WELCOME10",
            "payment_token": CARD_NUMBER,
        }
        headers = {**self.auth, "Idempotency-Key": f"order-{uuid.uuid4()}"}
        response = self.client.post("/api/v1/checkout", json=cart, headers=headers)
        assert response.status_code == 202, response.text
        assert response.json()["status"] == "payment_pending"
        self.orders.append(response.json())

    def send_email(self) -> None:
        """Queue an invitation while the SMTP server is down: 202, the failure comes later."""
        email = {
            "to": "friend@example.com",
            "note": f"Pay with {CARD_NUMBER} if it fails.",
        }
        response = self.client.post("/api/v1/emails/send", json=email, headers=self.auth)
        assert response.status_code == 202, response.text

    def hit_setup_check(self) -> None:
        response = self.client.get("/debug/sentry", headers=self.auth)
        assert response.status_code == 500, response.text
        body = response.json()
        assert body["detail"] == "Internal server error"
        self.error_ids.append(body["error_id"])

    def make_expected_mistakes(self) -> None:
        """A 404 and a bad login: answered, never reported."""
        assert self.client.get("/api/v1/no-such-route", headers=self.auth).status_code == 404
        bad_login = self.client.post(
            "/api/v1/auth/login",
            data={"username": self.user["email"], "password": PASSWORD + "-wrong"},
        )
        assert bad_login.status_code == 401, bad_login.text

    def secrets(self) -> list[str]:
        """Every secret of the session, as a client or the service could have written it."""
        return [
            PASSWORD,
            PASSWORD + "-wrong",
            self.token,
            f"Bearer {self.token}",
            self.refresh_token,
            CARD_NUMBER,
            " ".join(CARD_NUMBER[i : i + 4] for i in range(0, 16, 4)),
        ]
