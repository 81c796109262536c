"""Emails to one address are limited, whoever asks for them: the service never floods an inbox."""

from typing import Annotated

from fastapi import Depends, Request
from limits import parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from {{ cookiecutter.package_name }}.auth.throttling import create_storage
from {{ cookiecutter.package_name }}.core.config import Settings


class RecipientLimit:
    def __init__(self, storage: Storage, *, per_recipient: str) -> None:
        self.limiter = MovingWindowRateLimiter(storage)
        self.limits = parse_many(per_recipient)

    @classmethod
    def from_settings(cls, settings: Settings) -> "RecipientLimit":
        return cls(
            create_storage(settings.rate_limit_storage_url),
            per_recipient=settings.email_rate_limit_per_recipient,
        )

    async def allows(self, address: str) -> bool:
        """Count one email to `address`; False once its limit is reached."""
        key = address.strip().lower()
        for limit in self.limits:
            if not await self.limiter.hit(limit, "recipient", key):
                return False
        return True


async def get_recipient_limit(request: Request) -> RecipientLimit:
    limit: RecipientLimit = request.app.state.recipient_limit
    return limit


RecipientLimitDep = Annotated[RecipientLimit, Depends(get_recipient_limit)]
