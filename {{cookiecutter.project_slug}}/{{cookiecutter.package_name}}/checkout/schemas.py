from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

from {{ cookiecutter.package_name }}.checkout.models import OrderStatus


class ProductRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    sku: str
    name: str
    price_cents: int
    currency: str


class CheckoutItem(BaseModel):
    product_id: int = Field(gt=0, le=2**31 - 1)
    quantity: int = Field(gt=0, le=100)


CART_EXAMPLE: JsonDict = {
    "items": [{"product_id": 1, "quantity": 2}],
    "discount_code": "WELCOME10",
    "payment_method": "card",
    "payment_token": "tok_test",
}


class CheckoutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [CART_EXAMPLE]})

    items: list[CheckoutItem] = Field(min_length=1, max_length=50)
    discount_code: str | None = Field(default=None, min_length=1, max_length=40)
    payment_method: Literal["card"] = "card"
    payment_token: str = Field(
        min_length=1,
        max_length=200,
        repr=False,
        description="Single-use token from the payment provider's client SDK; never a card number.",
    )


class OrderItemRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    product_id: int
    quantity: int
    unit_price_cents: int


class OrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: OrderStatus
    currency: str
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    discount_code: str | None
    payment_method: str
    created_at: datetime
    items: list[OrderItemRead]
