from collections.abc import Collection, Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from {{ cookiecutter.package_name }}.checkout.models import (
    DiscountCode,
    Order,
{%- if cookiecutter.task_queue == "celery" %}
    OrderStatus,
{%- endif %}
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
{%- if cookiecutter.task_queue == "celery" %}


async def get_order(session: AsyncSession, order_id: int) -> Order | None:
    return await session.get(Order, order_id, options=[selectinload(Order.items)])


async def pending_order_ids(session: AsyncSession) -> list[int]:
    query = select(Order.id).where(Order.status == OrderStatus.PAYMENT_PENDING).order_by(Order.id)
    return list(await session.scalars(query))
{%- endif %}
