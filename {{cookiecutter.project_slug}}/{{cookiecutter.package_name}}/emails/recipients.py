"""Emails to one address are limited, whoever asks for them: the service never floods an inbox.

Each kind of email anyone may trigger has its own budget per address, so that a stranger's
resends cannot use up the owner's reset. What the owner caused while signed in, or with a
single-use link, has none: the owner cannot be kept from hearing that their password changed.
"""

from enum import StrEnum
from typing import Annotated

from fastapi import Depends
from limits import parse_many
from limits.aio.storage import Storage
from limits.aio.strategies import MovingWindowRateLimiter

from {{ cookiecutter.package_name }}.auth.throttling import create_storage
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.dependencies import app_state


class MailBudget(StrEnum):
    """A kind of email that someone other than the address's owner can trigger."""

    SIGN_UP = "sign_up"
    VERIFICATION = "verification"
    PASSWORD_RESET = "password_reset"  # noqa: S105 - a name
    INVITATION = "invitation"


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

    async def allows(self, address: str, budget: MailBudget) -> bool:
        """Count one email of `budget` to `address`; False once its limit is reached."""
        key = address.strip().lower()
        for limit in self.limits:
            if not await self.limiter.hit(limit, "recipient", budget.value, key):
                return False
        return True


RecipientLimitDep = Annotated[RecipientLimit, Depends(app_state("recipient_limit"))]
