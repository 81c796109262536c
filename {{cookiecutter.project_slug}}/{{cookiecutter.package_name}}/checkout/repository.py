from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from {{ cookiecutter.package_name }}.checkout.models import (
    DiscountCode,
    Order,
    OrderStatus,
    Product,
)


async def list_active_products(session: AsyncSession) -> Sequence[Product]:
    return (
        await session.scalars(select(Product).where(Product.is_active).order_by(Product.id))
    ).all()


async def get_active_products(session: AsyncSession, ids: Collection[int]) -> dict[int, Product]:
    query = select(Product).where(Product.id.in_(ids), Product.is_active)
    return {product.id: product for product in await session.scalars(query)}


async def get_active_discount(session: AsyncSession, code: str) -> DiscountCode | None:
    query = select(DiscountCode).where(DiscountCode.code == code.upper(), DiscountCode.is_active)
    return await session.scalar(query)


async def get_order_for_user(session: AsyncSession, *, order_id: int, user_id: int) -> Order | None:
    query = (
        select(Order)
        .where(Order.id == order_id, Order.user_id == user_id)
        .options(selectinload(Order.items))
    )
    return await session.scalar(query)


async def get_order_by_idempotency_key(
    session: AsyncSession, *, user_id: int, key: str
) -> Order | None:
    query = (
        select(Order)
        .where(Order.user_id == user_id, Order.idempotency_key == key)
        .options(selectinload(Order.items))
    )
    return await session.scalar(query)


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
    query = (
        update(Order)
        .where(Order.id == order_id, Order.status == OrderStatus.PAYMENT_PENDING)
        .values(status=status, payment_reference=reference, payment_token=None)
    )
    result = cast(CursorResult[Any], await session.execute(query))
    return result.rowcount > 0
