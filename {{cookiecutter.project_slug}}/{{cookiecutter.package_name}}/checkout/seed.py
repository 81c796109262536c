"""Demo catalogue: products and discount codes, loaded by `make seed` and safe to load twice."""

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.checkout.models import DiscountCode, Product

PRODUCTS = {
    "TSHIRT-01": ("Logo T-shirt", 2500),
    "MUG-01": ("Coffee mug", 1200),
    "STICKERS-01": ("Sticker pack", 500),
}
DISCOUNT_CODES = {"WELCOME10": 10}


async def seed_catalogue(session: AsyncSession) -> int:
    """Insert what is missing; returns how many rows were added."""
    known_skus = set(await session.scalars(select(Product.sku)))
    known_codes = set(await session.scalars(select(DiscountCode.code)))
    new_rows: list[Product | DiscountCode] = [
        Product(sku=sku, name=name, price_cents=price, currency="USD")
        for sku, (name, price) in PRODUCTS.items()
        if sku not in known_skus
    ]
    new_rows += [
        DiscountCode(code=code, percent_off=percent)
        for code, percent in DISCOUNT_CODES.items()
        if code not in known_codes
    ]
    session.add_all(new_rows)
    await session.flush()
    return len(new_rows)
