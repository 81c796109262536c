"""Every model, imported in one place so that migrations see the whole schema."""

from {{ cookiecutter.package_name }}.auth.models import RefreshToken
from {{ cookiecutter.package_name }}.checkout.models import DiscountCode, Order, OrderItem, Product
from {{ cookiecutter.package_name }}.core.db import Base
from {{ cookiecutter.package_name }}.users.models import User

__all__ = ["Base", "DiscountCode", "Order", "OrderItem", "Product", "RefreshToken", "User"]
