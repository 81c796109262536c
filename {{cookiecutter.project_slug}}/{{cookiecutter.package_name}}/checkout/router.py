from collections.abc import Sequence
from typing import Annotated

from fastapi import APIRouter, Header, Path, Response, status

from {{ cookiecutter.package_name }}.auth.dependencies import CurrentUser, UserWithoutConnection
from {{ cookiecutter.package_name }}.checkout import repository, service
from {{ cookiecutter.package_name }}.checkout.dependencies import (
    FallbackCacheDep,
    PaymentProviderDep,
)
from {{ cookiecutter.package_name }}.checkout.models import Order, OrderStatus, Product
from {{ cookiecutter.package_name }}.checkout.schemas import CheckoutRequest, OrderRead, ProductRead
from {{ cookiecutter.package_name }}.core.db import SessionDep
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
{%- endif %}
from {{ cookiecutter.package_name }}.core.errors import BODY_ERRORS, error_response

router = APIRouter(tags=["checkout"])

UNAUTHORIZED = error_response(status.HTTP_401_UNAUTHORIZED, "Missing or invalid bearer token")
READ_ORDER_LINK = {
    "ReadOrder": {"operationId": "read_order", "parameters": {"order_id": "$response.body#/id"}}
}


@router.get("/products", response_model=list[ProductRead])
async def list_products(session: SessionDep) -> Sequence[Product]:
    """List the products on sale."""
    return await repository.list_active_products(session)


@router.get("/checkout/payment-methods", response_model=list[str], responses=UNAUTHORIZED)
async def list_payment_methods(
    user: UserWithoutConnection, payments: PaymentProviderDep, cache: FallbackCacheDep
) -> list[str]:
    """List the payment methods accepted right now."""
    return await service.list_payment_methods(payments=payments, cache=cache)


@router.post(
    "/checkout",
    response_model=OrderRead,
    status_code=status.HTTP_201_CREATED,
    responses={
        status.HTTP_201_CREATED: {"links": READ_ORDER_LINK},
        status.HTTP_202_ACCEPTED: {
            "model": OrderRead,
            "description": "Order recorded; payment pending because the provider is unavailable",
            "links": READ_ORDER_LINK,
        },
        **UNAUTHORIZED,
        **error_response(status.HTTP_402_PAYMENT_REQUIRED, "The payment was declined"),
        **error_response(
            status.HTTP_409_CONFLICT,
            "A product or discount code is not available, or the same Idempotency-Key is in use",
        ),
        **BODY_ERRORS,
    },
)
async def check_out(
    cart: CheckoutRequest,
    user: CurrentUser,
    session: SessionDep,
    payments: PaymentProviderDep,
{%- if cookiecutter.task_queue == "celery" %}
    settings: SettingsDep,
{%- endif %}
    response: Response,
    idempotency_key: Annotated[str | None, Header(min_length=1, max_length=100)] = None,
) -> Order:
    """Place an order for the signed-in user; retries with the same Idempotency-Key return it."""
    order, created = await service.check_out(
        session=session,
        user=user,
        cart=cart,
        payments=payments,
        idempotency_key=idempotency_key,
{%- if cookiecutter.task_queue == "celery" %}
        retry_delay_seconds=settings.payment_retry_delay_seconds,
{%- endif %}
    )
    if order.status == OrderStatus.PAYMENT_PENDING:
        response.status_code = status.HTTP_202_ACCEPTED
    if not created:
        response.headers["Idempotent-Replayed"] = "true"
    return order


@router.get(
    "/orders/{order_id}",
    response_model=OrderRead,
    responses={**UNAUTHORIZED, **error_response(status.HTTP_404_NOT_FOUND, "Order not found")},
)
async def read_order(
    order_id: Annotated[int, Path(gt=0, le=2**31 - 1)], user: CurrentUser, session: SessionDep
) -> Order:
    """Return one of the signed-in user's orders."""
    return await service.get_order(session=session, user=user, order_id=order_id)
