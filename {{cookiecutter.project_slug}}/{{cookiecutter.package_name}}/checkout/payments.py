"""Payment providers: one interface, a development fake and a JSON-over-HTTP gateway."""

from dataclasses import dataclass, field
from typing import Literal, Protocol

import httpx

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import AppError

FailureKind = Literal["timeout", "unreachable", "server_error", "bad_response"]


class PaymentDeclinedError(AppError):
    status_code = 402


class PaymentProviderError(Exception):
    """The provider could not be asked, or did not answer usefully; the charge may be retried."""

    def __init__(self, provider: str, kind: FailureKind, detail: str) -> None:
        super().__init__(f"{provider} payment provider failed ({kind}): {detail}")
        self.provider = provider
        self.kind = kind


@dataclass(frozen=True)
class Charge:
    order_id: int
    amount_cents: int
    currency: str
    # Out of the repr: a Charge in a log line or an error event's stack frame shows no token.
    payment_token: str = field(repr=False)


class PaymentProvider(Protocol):
    name: str

    async def charge(self, charge: Charge) -> str:
        """Charge and return the provider's reference; raise PaymentDeclinedError on refusal."""
        ...

    async def payment_methods(self) -> list[str]:
        """Payment methods the provider accepts right now."""
        ...


class FakePaymentProvider:
    """Approves every charge; for development and tests."""

    name = "fake"

    async def charge(self, charge: Charge) -> str:
        return f"fake_{charge.order_id}"

    async def payment_methods(self) -> list[str]:
        return ["card"]


class HttpPaymentProvider:
    """A payment gateway with a JSON API: `POST /charges`, `GET /payment-methods`."""

    name = "http"

    def __init__(self, client: httpx.AsyncClient, *, base_url: str, timeout: float) -> None:
        self._client = client
        self._base_url = base_url.rstrip("/")
        self._timeout = timeout

    async def charge(self, charge: Charge) -> str:
        body = {
            "amount_cents": charge.amount_cents,
            "currency": charge.currency,
            "token": charge.payment_token,
            "reference": str(charge.order_id),
        }
        # The order id makes a retried charge safe on the provider's side too.
        headers = {"Idempotency-Key": f"order-{charge.order_id}"}
        response = await self._request("POST", "/charges", json=body, headers=headers)
        if response.status_code == 402:
            raise PaymentDeclinedError("The payment was declined")
        return str(self._json(response).get("id", ""))

    async def payment_methods(self) -> list[str]:
        methods = self._json(await self._request("GET", "/payment-methods")).get("methods")
        if not isinstance(methods, list) or not all(isinstance(m, str) for m in methods):
            raise PaymentProviderError(self.name, "bad_response", "no list of methods")
        return methods

    async def _request(
        self,
        method: str,
        path: str,
        *,
        json: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        url = f"{self._base_url}{path}"
        try:
            response = await self._client.request(
                method, url, json=json, headers=headers, timeout=self._timeout
            )
        except httpx.TimeoutException as error:
            raise PaymentProviderError(self.name, "timeout", str(error)) from error
        except httpx.TransportError as error:
            raise PaymentProviderError(self.name, "unreachable", str(error)) from error
        if response.status_code >= 500:
            raise PaymentProviderError(self.name, "server_error", f"HTTP {response.status_code}")
        return response

    def _json(self, response: httpx.Response) -> dict[str, object]:
        if response.status_code >= 400:
            raise PaymentProviderError(self.name, "bad_response", f"HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as error:
            raise PaymentProviderError(self.name, "bad_response", "body is not JSON") from error
        if not isinstance(data, dict):
            raise PaymentProviderError(self.name, "bad_response", "body is not an object")
        return data


def build_payment_provider(settings: Settings, client: httpx.AsyncClient) -> PaymentProvider:
    if settings.payment_provider == "http":
        return HttpPaymentProvider(
            client, base_url=settings.payment_api_url, timeout=settings.payment_timeout_seconds
        )
    return FakePaymentProvider()
