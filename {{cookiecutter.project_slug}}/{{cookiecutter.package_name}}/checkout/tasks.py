"""Payment retries, run by the Celery worker; beat runs the sweep of pending orders."""

import asyncio

import httpx
from celery import shared_task

from {{ cookiecutter.package_name }}.checkout import service
from {{ cookiecutter.package_name }}.checkout.payments import (
    PaymentProviderError,
    build_payment_provider,
)
from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.db import standalone_session


@shared_task(
    name=service.RETRY_PAYMENT_TASK,
    autoretry_for=(PaymentProviderError, service.OrderNotFoundError),
    retry_backoff=True,
    retry_backoff_max=3600,
)
def retry_payment(order_id: int) -> str:
    """Charge a pending order again; returns the order's status."""
    return asyncio.run(_retry_payment(order_id))


async def _retry_payment(order_id: int) -> str:
    settings = get_settings()
    async with standalone_session(settings.database_url) as session, httpx.AsyncClient() as client:
        payments = build_payment_provider(settings, client)
        order = await service.retry_payment(session=session, order_id=order_id, payments=payments)
        return order.status.value


@shared_task(name="{{ cookiecutter.package_name }}.checkout.retry_pending_payments")
def retry_pending_payments() -> int:
    """Queue a retry for every order still waiting for its payment; returns how many."""
    order_ids = asyncio.run(_pending_order_ids())
    for order_id in order_ids:
        retry_payment.delay(order_id)
    return len(order_ids)


async def _pending_order_ids() -> list[int]:
    async with standalone_session(get_settings().database_url) as session:
        return await service.pending_order_ids(session=session)
