"""Payment retries in the API process: a sweep at start-up, then one on a timer.

Each sweep takes the oldest pending orders (a bounded batch), charges them again with the same
idempotency key, and stops at the first failure of the provider: while it is down, one event
per sweep tells so, instead of one per order. Sweeps never overlap: the next one is scheduled
when the last has ended. On shutdown the sweep stops before its next order, and is cancelled
if its current charge outlasts the provider's timeout; an order it leaves is still pending,
and the next sweep charges it under the same key. With several processes, each sweeps; the
idempotency key and the conditional update of the order keep a payment single.
"""

import asyncio
import logging
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from fastapi import FastAPI

from {{ cookiecutter.package_name }}.checkout import service
from {{ cookiecutter.package_name }}.checkout.models import OrderStatus
from {{ cookiecutter.package_name }}.checkout.payments import PaymentProvider, PaymentProviderError
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.periodic import running_periodically
from {{ cookiecutter.package_name }}.observability import capture_handled

logger = logging.getLogger(__name__)
# Orders per sweep: after a long outage the backlog drains over several short sweeps.
SWEEP_BATCH_SIZE = 100
# Added to the payment timeout: an order younger than that may still be charged by its request.
IN_FLIGHT_MARGIN_SECONDS = 2.0


@dataclass(frozen=True)
class SweepResult:
    paid: int = 0
    failed: int = 0
    # Left for the next sweep because the provider is still down.
    still_pending: int = 0


async def sweep_pending_payments(
    *,
    transactions: service.Transactions,
    payments: PaymentProvider,
    grace_seconds: float,
    limit: int = SWEEP_BATCH_SIZE,
    stopping: asyncio.Event | None = None,
) -> SweepResult:
    """Charge the oldest pending orders again; stop at the first failure of the provider."""
    order_ids = await service.pending_order_ids(
        transactions=transactions, grace_seconds=grace_seconds, limit=limit
    )
    paid = failed = 0
    for position, order_id in enumerate(order_ids):
        if stopping is not None and stopping.is_set():
            return SweepResult(paid, failed, len(order_ids) - position)
        try:
            order = await service.retry_payment(
                transactions=transactions, order_id=order_id, payments=payments
            )
        except PaymentProviderError as error:
            capture_handled(
                error,
                fingerprint=["payment_retry", error.provider, error.kind],
                message="Payment provider still failing; pending orders wait for the next sweep",
                provider=error.provider,
                kind=error.kind,
                still_pending=len(order_ids) - position,
            )
            return SweepResult(paid, failed, len(order_ids) - position)
        except service.OrderNotFoundError:
            continue
        paid += order.status == OrderStatus.PAID
        failed += order.status == OrderStatus.PAYMENT_FAILED
    return SweepResult(paid, failed)


def retrying_pending_payments(
    app: FastAPI, settings: Settings
) -> AbstractAsyncContextManager[None]:
    """Sweep at start-up and every PAYMENT_RETRY_INTERVAL_SECONDS while the app runs (0: never)."""

    async def sweep(stopping: asyncio.Event) -> None:
        result = await sweep_pending_payments(
            transactions=app.state.sessionmaker,
            payments=app.state.payment_provider,
            grace_seconds=settings.payment_timeout_seconds + IN_FLIGHT_MARGIN_SECONDS,
            stopping=stopping,
        )
        if result != SweepResult():
            logger.info(
                "Payment retry sweep: %d paid, %d failed, %d still pending",
                result.paid,
                result.failed,
                result.still_pending,
            )

    return running_periodically(
        sweep,
        name="payment-retry-sweeps",
        interval_seconds=settings.payment_retry_interval_seconds,
        failure_fingerprint=["payment_retry", "sweep_failed"],
        failure_message="Payment retry sweep failed; trying again at the next one",
        # A charge in flight may finish and be recorded; one that hangs is cut at the timeout.
        stop_grace_seconds=settings.payment_timeout_seconds + 1,
    )
