from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from {{ cookiecutter.package_name }}.core.db import Base, TimestampMixin, UnloggedString, string_enum


class OrderStatus(StrEnum):
    PAID = "paid"
    PAYMENT_PENDING = "payment_pending"
    PAYMENT_FAILED = "payment_failed"


class Product(Base):
    __tablename__ = "products"

    id: Mapped[int] = mapped_column(primary_key=True)
    sku: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int]
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    is_active: Mapped[bool] = mapped_column(default=True)


class DiscountCode(Base):
    __tablename__ = "discount_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    percent_off: Mapped[int]
    is_active: Mapped[bool] = mapped_column(default=True)


class Order(TimestampMixin, Base):
    __tablename__ = "orders"
    __table_args__ = (UniqueConstraint("user_id", "idempotency_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # Indexed for the retries, which look for orders still waiting for their payment.
    status: Mapped[OrderStatus] = mapped_column(string_enum(OrderStatus), index=True)
    currency: Mapped[str] = mapped_column(String(3))
    subtotal_cents: Mapped[int]
    discount_cents: Mapped[int] = mapped_column(default=0)
    total_cents: Mapped[int]
    discount_code: Mapped[str | None] = mapped_column(String(40))
    payment_method: Mapped[str] = mapped_column(String(20))
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    # Set only while a retry may still need it: a single-use token, cleared once charged.
    payment_token: Mapped[str | None] = mapped_column(UnloggedString(200))
    idempotency_key: Mapped[str | None] = mapped_column(String(100))

    items: Mapped[list["OrderItem"]] = relationship(
        back_populates="order", lazy="raise", cascade="all, delete-orphan"
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int]
    unit_price_cents: Mapped[int]

    order: Mapped[Order] = relationship(back_populates="items", lazy="raise")
