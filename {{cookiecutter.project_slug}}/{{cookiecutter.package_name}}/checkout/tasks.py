"""Payment retries, run by the Celery worker; beat runs the sweep of pending orders."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from celery import shared_task

from {{ cookiecutter.package_name }}.checkout import service
from {{ cookiecutter.package_name }}.checkout.payments import (
    PaymentProviderError,
    build_payment_provider,
)
from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.db import create_engine, create_sessionmaker
from {{ cookiecutter.package_name }}.core.task_queue import retried_on

# Orders queued per sweep; a longer backlog drains over the next sweeps.
SWEEP_BATCH_SIZE = 500
# Added to the payment timeout: an order younger than that may still be charged by its request.
IN_FLIGHT_MARGIN_SECONDS = 2.0


@asynccontextmanager
async def _transactions(database_url: str) -> AsyncIterator[service.Transactions]:
    """Sessions on an engine of the task's own: each task runs its own event loop."""
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@shared_task(
    name=service.RETRY_PAYMENT_TASK,
    **retried_on(PaymentProviderError, service.OrderNotFoundError, backoff_max_seconds=3600),
)
def retry_payment(order_id: int) -> str:
    """Charge a pending order again; returns the order's status."""
    return asyncio.run(_retry_payment(order_id))


async def _retry_payment(order_id: int) -> str:
    settings = get_settings()
    async with _transactions(settings.database_url) as transactions, httpx.AsyncClient() as client:
        payments = build_payment_provider(settings, client)
        order = await service.retry_payment(
            transactions=transactions, order_id=order_id, payments=payments
        )
        return order.status.value


@shared_task(name="{{ cookiecutter.package_name }}.checkout.retry_pending_payments")
def retry_pending_payments() -> int:
    """Queue a retry for every order still waiting for its payment; returns how many."""
    order_ids = asyncio.run(_pending_order_ids())
    for order_id in order_ids:
        retry_payment.delay(order_id)
    return len(order_ids)


async def _pending_order_ids() -> list[int]:
    settings = get_settings()
    async with _transactions(settings.database_url) as transactions:
        return await service.pending_order_ids(
            transactions=transactions,
            grace_seconds=settings.payment_timeout_seconds + IN_FLIGHT_MARGIN_SECONDS,
            limit=SWEEP_BATCH_SIZE,
        )
