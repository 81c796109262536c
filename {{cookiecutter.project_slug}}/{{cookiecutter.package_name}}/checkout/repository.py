from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Table, bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from {{ cookiecutter.package_name }}.checkout.models import (
    DiscountCode,
    Order,
    OrderStatus,
    Product,
)

# The statements of a checkout, built once with parameters: each remembers its cache key, which
# a statement built on every call works out again (`docs/tuning.md`).
_ACTIVE_PRODUCTS = select(Product).where(
    Product.id.in_(bindparam("ids", expanding=True)), Product.is_active
)
_ACTIVE_DISCOUNT = select(DiscountCode).where(
    DiscountCode.code == bindparam("code"), DiscountCode.is_active
)
_USERS_ORDER = (
    select(Order)
    .where(Order.id == bindparam("order_id"), Order.user_id == bindparam("user_id"))
    .options(selectinload(Order.items))
)
_BY_IDEMPOTENCY_KEY = (
    select(Order)
    .where(Order.user_id == bindparam("user_id"), Order.idempotency_key == bindparam("key"))
    .options(selectinload(Order.items))
)
# On the table, not the entity: an ORM UPDATE would also look through the session for the
# orders it changes, and the service sets what it recorded itself (`docs/tuning.md`).
_ORDERS = cast(Table, Order.__table__)
_SETTLE_PENDING = (
    update(_ORDERS)
    .where(_ORDERS.c.id == bindparam("order_id"), _ORDERS.c.status == OrderStatus.PAYMENT_PENDING)
    .values(
        status=bindparam("status"), payment_reference=bindparam("reference"), payment_token=None
    )
)


async def list_active_products(session: AsyncSession) -> Sequence[Product]:
    return (
        await session.scalars(select(Product).where(Product.is_active).order_by(Product.id))
    ).all()


async def get_active_products(session: AsyncSession, ids: Collection[int]) -> dict[int, Product]:
    products = await session.scalars(_ACTIVE_PRODUCTS, {"ids": list(ids)})
    return {product.id: product for product in products}


async def get_active_discount(session: AsyncSession, code: str) -> DiscountCode | None:
    return await session.scalar(_ACTIVE_DISCOUNT, {"code": code.upper()})


async def get_order_for_user(session: AsyncSession, *, order_id: int, user_id: int) -> Order | None:
    return await session.scalar(_USERS_ORDER, {"order_id": order_id, "user_id": user_id})


async def get_order_by_idempotency_key(
    session: AsyncSession, *, user_id: int, key: str
) -> Order | None:
    return await session.scalar(_BY_IDEMPOTENCY_KEY, {"user_id": user_id, "key": key})


async def get_order(session: AsyncSession, order_id: int) -> Order | None:
    return await session.get(Order, order_id, options=[selectinload(Order.items)])


async def get_payment_outcome(
    session: AsyncSession, order_id: int
) -> tuple[OrderStatus, str | None] | None:
    """The recorded status and payment reference, read from the database, not the session."""
    query = select(Order.status, Order.payment_reference).where(Order.id == order_id)
    row = (await session.execute(query)).one_or_none()
    return None if row is None else (row.status, row.payment_reference)


async def pending_order_ids(
    session: AsyncSession, *, created_before: datetime, limit: int
) -> list[int]:
    """Orders still waiting for a payment that a retry can make, oldest first."""
    query = (
        select(Order.id)
        .where(
            Order.status == OrderStatus.PAYMENT_PENDING,
            Order.payment_token.is_not(None),
            Order.created_at < created_before,
        )
        .order_by(Order.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def record_payment_outcome(
    session: AsyncSession, *, order_id: int, status: OrderStatus, reference: str | None = None
) -> bool:
    """Settle a pending order as paid or failed; False when something else settled it first."""
    parameters = {"order_id": order_id, "status": status, "reference": reference}
    result = cast(CursorResult[Any], await session.execute(_SETTLE_PENDING, parameters))
    return result.rowcount > 0
