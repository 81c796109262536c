"""Payment providers for tests: they count charges per order, and can be down or refuse."""

from collections import Counter

from {{ cookiecutter.package_name }}.checkout.payments import (
    Charge,
    PaymentDeclinedError,
    PaymentProviderError,
)


class CountingPaymentProvider:
    """Charges once per order id, as a provider honouring the idempotency key would."""

    name = "counting"

    def __init__(self, *, up: bool = True, declines: bool = False) -> None:
        self.up = up
        self.declines = declines
        self.attempts: Counter[int] = Counter()
        self.charged: Counter[int] = Counter()

    async def charge(self, charge: Charge) -> str:
        self.attempts[charge.order_id] += 1
        if not self.up:
            raise PaymentProviderError(self.name, "unreachable", "connection refused")
        if self.declines:
            raise PaymentDeclinedError("The payment was declined")
        self.charged[charge.order_id] += 1
        return f"ch_{charge.order_id}"

    async def payment_methods(self) -> list[str]:
        return ["card"]
