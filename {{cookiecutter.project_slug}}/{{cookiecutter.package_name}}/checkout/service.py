"""Checkout: price the cart, record the order, charge it, and recover when payment is down."""

import sentry_sdk
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.checkout import repository
from {{ cookiecutter.package_name }}.checkout.models import Order, OrderItem, OrderStatus
from {{ cookiecutter.package_name }}.checkout.payments import (
    Charge,
    PaymentProvider,
    PaymentProviderError,
)
from {{ cookiecutter.package_name }}.checkout.pricing import price_order
from {{ cookiecutter.package_name }}.checkout.schemas import CheckoutRequest
from {{ cookiecutter.package_name }}.core.cache import FallbackCache
from {{ cookiecutter.package_name }}.core.errors import ConflictError, NotFoundError
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.core.task_queue import QueueUnavailableError, enqueue
{%- endif %}
from {{ cookiecutter.package_name }}.observability import capture_handled
from {{ cookiecutter.package_name }}.users.models import User
{%- if cookiecutter.task_queue == "celery" %}

RETRY_PAYMENT_TASK = "{{ cookiecutter.package_name }}.checkout.retry_payment"


class OrderNotFoundError(LookupError):
    """A retried order is not there (yet): the request that queued it may not have committed."""
{%- endif %}


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
    """Create and charge an order; returns it and whether it is new (False on a retry)."""
    if idempotency_key:
        existing = await repository.get_order_by_idempotency_key(
            session, user_id=user.id, key=idempotency_key
        )
        if existing is not None:
            sentry_sdk.add_breadcrumb(
                category="checkout", message="Idempotent retry", data={"order_id": existing.id}
            )
            return existing, False

    quote = await price_order(session=session, cart=cart)
    order = Order(
        user_id=user.id,
        status=OrderStatus.PAYMENT_PENDING,
        currency=quote.currency,
        subtotal_cents=quote.subtotal_cents,
        discount_cents=quote.discount_cents,
        total_cents=quote.total_cents,
        discount_code=quote.discount_code,
        payment_method=cart.payment_method,
        idempotency_key=idempotency_key,
        items=[
            OrderItem(product_id=line.product_id, quantity=line.quantity, unit_price_cents=price)
            for line, price in zip(cart.items, quote.unit_prices_cents, strict=True)
        ],
    )
    session.add(order)
    try:
        await session.flush()
    except IntegrityError:
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
        await _charge(order=order, payments=payments, payment_token=cart.payment_token)
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
        # Kept only until a retry charges it; the token is single-use and never logged.
        order.payment_token = cart.payment_token
        await _schedule_retry(order, delay_seconds=retry_delay_seconds)
{%- endif %}
    return order, True


async def _charge(*, order: Order, payments: PaymentProvider, payment_token: str) -> None:
    """Charge the order and mark it paid; raises PaymentProviderError when the provider is down."""
    sentry_sdk.add_breadcrumb(
        category="payment",
        message="Payment started",
        data={"order_id": order.id, "amount_cents": order.total_cents, "provider": payments.name},
    )
    charge = Charge(
        order_id=order.id,
        amount_cents=order.total_cents,
        currency=order.currency,
        payment_token=payment_token,
    )
    with sentry_sdk.start_span(op="payment.charge", name=f"charge via {payments.name}") as span:
        span.set_data("order_id", order.id)
        span.set_data("amount_cents", order.total_cents)
        span.set_data("provider", payments.name)
        failure: PaymentProviderError | None = None
        try:
            order.payment_reference = await payments.charge(charge)
        except PaymentProviderError as error:
            # Raised after the span ends, which would otherwise mark it "internal_error".
            span.set_status("unavailable")
            failure = error
    if failure is not None:
        sentry_sdk.add_breadcrumb(
            category="payment",
            message="Payment failed",
            level="warning",
            data={"order_id": order.id, "provider": failure.provider, "kind": failure.kind},
        )
        raise failure
    order.status = OrderStatus.PAID
{%- if cookiecutter.task_queue == "celery" %}
    order.payment_token = None


async def _schedule_retry(order: Order, *, delay_seconds: float) -> None:
    # The delay also lets this request commit the order before a worker looks for it.
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


async def retry_payment(
    *, session: AsyncSession, order_id: int, payments: PaymentProvider
) -> Order:
    """Charge a pending order again; paid orders are left alone, so a retry is safe to repeat."""
    order = await repository.get_order(session, order_id)
    if order is None:
        raise OrderNotFoundError(f"Order {order_id} not found")
    if order.status == OrderStatus.PAYMENT_PENDING and order.payment_token:
        await _charge(order=order, payments=payments, payment_token=order.payment_token)
    return order


async def pending_order_ids(*, session: AsyncSession) -> list[int]:
    return await repository.pending_order_ids(session)
{%- endif %}


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
