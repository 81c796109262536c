"""Payments: which provider charges the orders, and how long a charge may take."""

from typing import Literal

from pydantic import Field

from {{ cookiecutter.package_name }}.core.config.service import ServiceSettings


class PaymentSettings(ServiceSettings):
    payment_provider: Literal["fake", "http"] = "fake"
    payment_api_url: str = "http://127.0.0.1:9000"
    payment_timeout_seconds: float = Field(default=5.0, gt=0)
