"""Turning a cart into amounts: product prices, quantities and a discount code."""

from dataclasses import dataclass

import sentry_sdk
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.checkout import repository
from {{ cookiecutter.package_name }}.checkout.schemas import CheckoutRequest
from {{ cookiecutter.package_name }}.core.errors import AppError


class CartError(AppError):
    """The cart names a product or discount code that is not (or no longer) available."""

    status_code = 409


@dataclass(frozen=True)
class Quote:
    currency: str
    unit_prices_cents: list[int]
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    discount_code: str | None


async def price_order(*, session: AsyncSession, cart: CheckoutRequest) -> Quote:
    with sentry_sdk.start_span(op="checkout.pricing", name="price order") as span:
        product_ids = {line.product_id for line in cart.items}
        products = await repository.get_active_products(session, product_ids)
        if missing := sorted(product_ids - products.keys()):
            raise CartError(f"Unknown products: {', '.join(map(str, missing))}")
        currencies = {product.currency for product in products.values()}
        if len(currencies) != 1:
            raise CartError("All products of an order must be priced in one currency")

        unit_prices = [products[line.product_id].price_cents for line in cart.items]
        subtotal = sum(
            price * line.quantity for price, line in zip(unit_prices, cart.items, strict=True)
        )
        discount_cents, discount_code = 0, None
        if cart.discount_code:
            discount = await repository.get_active_discount(session, cart.discount_code)
            if discount is None:
                raise CartError("Unknown or expired discount code")
            discount_cents = subtotal * discount.percent_off // 100
            discount_code = discount.code
            sentry_sdk.add_breadcrumb(
                category="checkout",
                message="Discount applied",
                data={"code": discount.code, "percent_off": discount.percent_off},
            )

        total = subtotal - discount_cents
        span.set_data("line_count", len(cart.items))
        span.set_data("subtotal_cents", subtotal)
        span.set_data("discount_cents", discount_cents)
        span.set_data("total_cents", total)
        return Quote(
            currency=currencies.pop(),
            unit_prices_cents=unit_prices,
            subtotal_cents=subtotal,
            discount_cents=discount_cents,
            total_cents=total,
            discount_code=discount_code,
        )
