"""Checkout: price the cart, record the order, charge it, and recover when payment is down.

No transaction is open while the provider is called: the order is committed as
`payment_pending` first, in the transaction that read the user, and the outcome is recorded in
a short transaction of its own. A crash
or timeout in between leaves a pending order that the retries settle later; the provider gets
the order id as its idempotency key, so no retry charges twice.
"""

from contextlib import suppress
from datetime import timedelta

import sentry_sdk
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from {{ cookiecutter.package_name }}.checkout import repository
from {{ cookiecutter.package_name }}.checkout.models import Order, OrderItem, OrderStatus
from {{ cookiecutter.package_name }}.checkout.payments import (
    Charge,
    PaymentDeclinedError,
    PaymentProvider,
    PaymentProviderError,
)
from {{ cookiecutter.package_name }}.checkout.pricing import CartError, price_order
from {{ cookiecutter.package_name }}.checkout.schemas import CheckoutRequest
from {{ cookiecutter.package_name }}.core.cache import FallbackCache
from {{ cookiecutter.package_name }}.core.db import utcnow
from {{ cookiecutter.package_name }}.core.errors import ConflictError, NotFoundError
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.core.task_queue import QueueUnavailableError, enqueue
{%- endif %}
from {{ cookiecutter.package_name }}.observability import (
    capture_handled,
    record_failure,
    record_success,
)
from {{ cookiecutter.package_name }}.users.models import User

Transactions = async_sessionmaker[AsyncSession]
{%- if cookiecutter.task_queue == "celery" %}

RETRY_PAYMENT_TASK = "{{ cookiecutter.package_name }}.checkout.retry_payment"
{%- endif %}


class OrderNotFoundError(LookupError):
    """A retried order is not there."""


async def check_out(
    *,
    session: AsyncSession,
    user: User,
    cart: CheckoutRequest,
    payments: PaymentProvider,
    idempotency_key: str | None,
{%- if cookiecutter.task_queue == "celery" %}
    retry_delay_seconds: float,
{%- endif %}
) -> tuple[Order, bool]:
    """Record, then charge an order; returns it and whether it is new (False on a retry).

    `session` is the one the user was read in: the order joins that transaction, which is
    committed before the provider is called.
    """
    user_id = user.id  # read now: a rollback below expires the user
    try:
        order = await _record_pending_order(
            session=session, user_id=user_id, cart=cart, idempotency_key=idempotency_key
        )
    except (IntegrityError, CartError) as error:
        # The key is taken: by an earlier request (whose cart may no longer be available), or
        # by one that committed while this one waited on the unique constraint. Looking the
        # key up only now spares every first attempt a query.
        await session.rollback()
        if idempotency_key is None:
            raise
        existing = await repository.get_order_by_idempotency_key(
            session, user_id=user_id, key=idempotency_key
        )
        if existing is not None:
            return _replayed(existing), False
        if isinstance(error, CartError):
            raise
        raise ConflictError("A checkout with this Idempotency-Key is in progress") from None

    sentry_sdk.set_context(
        "order",
        {
            "id": order.id,
            "item_count": sum(line.quantity for line in cart.items),
            "total": order.total_cents / 100,
            "currency": order.currency,
            "payment_method": order.payment_method,
        },
    )
    try:
        await _charge_and_record(session=session, order=order, payments=payments)
    except PaymentProviderError as error:
        capture_handled(
            error,
            fingerprint=["payment", error.provider, error.kind],
            message="Payment provider failed; order kept as payment_pending",
            order_id=order.id,
            provider=error.provider,
            kind=error.kind,
        )
{%- if cookiecutter.task_queue == "celery" %}
        await _schedule_retry(order, delay_seconds=retry_delay_seconds)
{%- endif %}
    return order, True


def _replayed(order: Order) -> Order:
    """The answer to a repeated request: the same order, or the same refusal."""
    sentry_sdk.add_breadcrumb(
        category="checkout", message="Idempotent retry", data={"order_id": order.id}
    )
    if order.status == OrderStatus.PAYMENT_FAILED:
        raise PaymentDeclinedError("The payment was declined")
    return order


async def _record_pending_order(
    *, session: AsyncSession, user_id: int, cart: CheckoutRequest, idempotency_key: str | None
) -> Order:
    """Price the cart and commit the order as payment_pending."""
    quote = await price_order(session=session, cart=cart)
    order = Order(
        user_id=user_id,
        status=OrderStatus.PAYMENT_PENDING,
        currency=quote.currency,
        subtotal_cents=quote.subtotal_cents,
        discount_cents=quote.discount_cents,
        total_cents=quote.total_cents,
        discount_code=quote.discount_code,
        payment_method=cart.payment_method,
        # Kept only until the order is settled: a retry needs it. Single-use, never logged.
        payment_token=cart.payment_token,
        idempotency_key=idempotency_key,
        items=[
            OrderItem(product_id=line.product_id, quantity=line.quantity, unit_price_cents=price)
            for line, price in zip(cart.items, quote.unit_prices_cents, strict=True)
        ],
    )
    session.add(order)
    # Here, not at the end of the request: the session then commits in a task of its own,
    # where a duplicate key would be reported as an unhandled error of that task.
    await session.flush()
    await session.commit()
    return order


async def _charge_and_record(
    *, session: AsyncSession, order: Order, payments: PaymentProvider, is_retry: bool = False
) -> None:
    """Charge outside any transaction, then settle the order in a short one.

    Raises PaymentProviderError (the order stays pending) and PaymentDeclinedError (the order
    is recorded as payment_failed).
    """
    assert order.payment_token is not None  # noqa: S101 - only pending orders are charged
    charge = Charge(
        order_id=order.id,
        amount_cents=order.total_cents,
        currency=order.currency,
        payment_token=order.payment_token,
    )
    try:
        reference = await _charge(charge, payments=payments, is_retry=is_retry)
    except PaymentDeclinedError:
        await _settle(session, order, OrderStatus.PAYMENT_FAILED)
        raise
    await _settle(session, order, OrderStatus.PAID, reference=reference)


async def _settle(
    session: AsyncSession, order: Order, status: OrderStatus, *, reference: str | None = None
) -> None:
    """Record the outcome in a short transaction; the order then shows what was recorded."""
    if not await repository.record_payment_outcome(
        session, order_id=order.id, status=status, reference=reference
    ):
        # A concurrent retry settled it first: answer with what it recorded.
        recorded = await repository.get_payment_outcome(session, order.id)
        if recorded is not None:
            status, reference = recorded
    await session.commit()
    # As committed values: changed attributes would be written again at the next commit.
    set_committed_value(order, "status", status)
    set_committed_value(order, "payment_reference", reference)
    set_committed_value(order, "payment_token", None)


async def _charge(charge: Charge, *, payments: PaymentProvider, is_retry: bool) -> str:
    """Ask the provider; raises PaymentProviderError when it is down."""
    data = {"order_id": charge.order_id, "provider": payments.name, "retry": is_retry}
    sentry_sdk.add_breadcrumb(
        category="payment",
        message="Payment started",
        data={**data, "amount_cents": charge.amount_cents},
    )
    with sentry_sdk.start_span(op="payment.charge", name=f"charge via {payments.name}") as span:
        span.set_data("order_id", charge.order_id)
        span.set_data("amount_cents", charge.amount_cents)
        span.set_data("provider", payments.name)
        failure: PaymentProviderError | None = None
        try:
            reference = await payments.charge(charge)
        except PaymentProviderError as error:
            # Raised after the span ends, which would otherwise mark it "internal_error".
            span.set_status("unavailable")
            failure = error
    dependency = f"{payments.name} payment provider"
    if failure is not None:
        sentry_sdk.add_breadcrumb(
            category="payment",
            message="Payment failed",
            level="warning",
            data={**data, "kind": failure.kind},
        )
        record_failure(dependency, failure.kind)
        raise failure
    record_success(dependency)
    # On a retry this marks the recovery: the provider takes charges again.
    sentry_sdk.add_breadcrumb(
        category="payment",
        message="Payment succeeded on retry" if is_retry else "Payment succeeded",
        data=data,
    )
    return reference
{%- if cookiecutter.task_queue == "celery" %}


async def _schedule_retry(order: Order, *, delay_seconds: float) -> None:
    try:
        await enqueue(RETRY_PAYMENT_TASK, order.id, countdown=delay_seconds)
    except QueueUnavailableError as error:
        # The periodic job retries every pending order, so this one is not lost.
        capture_handled(
            error,
            fingerprint=["task_queue", "unavailable"],
            message="Could not schedule a payment retry; the periodic job will pick it up",
            order_id=order.id,
        )
{%- endif %}


async def retry_payment(
    *, transactions: Transactions, order_id: int, payments: PaymentProvider
) -> Order:
    """Charge a pending order again; settled orders are left alone, so a retry is safe to repeat.

    Raises PaymentProviderError while the provider is still down.
    """
    async with transactions() as session:
        order = await repository.get_order(session, order_id)
        await session.commit()  # nothing is held while the provider is asked
        if order is None:
            raise OrderNotFoundError(f"Order {order_id} not found")
        if order.status == OrderStatus.PAYMENT_PENDING and order.payment_token:
            # A refusal is recorded as payment_failed; nobody is waiting for an answer.
            with suppress(PaymentDeclinedError):
                await _charge_and_record(
                    session=session, order=order, payments=payments, is_retry=True
                )
    return order


async def pending_order_ids(
    *, transactions: Transactions, grace_seconds: float, limit: int
) -> list[int]:
    """Pending orders old enough that no request is still charging them."""
    async with transactions.begin() as session:
        return await repository.pending_order_ids(
            session, created_before=utcnow() - timedelta(seconds=grace_seconds), limit=limit
        )


async def get_order(*, session: AsyncSession, user: User, order_id: int) -> Order:
    """One of the user's own orders; someone else's is as absent as a missing one."""
    order = await repository.get_order_for_user(session, order_id=order_id, user_id=user.id)
    if order is None:
        raise NotFoundError("Order not found")
    return order


DEFAULT_PAYMENT_METHODS = ["card"]


async def list_payment_methods(*, payments: PaymentProvider, cache: FallbackCache) -> list[str]:
    """The provider's current methods; the last known ones while it is unreachable."""
    cache_key = f"payment_methods:{payments.name}"
    try:
        methods = await payments.payment_methods()
    except PaymentProviderError as error:
        cached: list[str] | None = cache.get(cache_key)
        capture_handled(
            error,
            fingerprint=["payment_methods", error.provider, error.kind],
            message="Payment provider failed; serving cached payment methods",
            provider=error.provider,
            kind=error.kind,
            served_from_cache=cached is not None,
        )
        return cached or DEFAULT_PAYMENT_METHODS
    cache.set(cache_key, methods)
    return methods
