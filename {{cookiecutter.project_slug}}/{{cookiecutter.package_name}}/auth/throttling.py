"""Throttling of sign-up, log-in and other auth attempts, and of emails users send."""

import math
import time
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import TooManyRequestsError


def create_storage(url: str) -> Storage:
    """Counters in this process's memory, or in Redis for every process to share."""
    if url.startswith(("redis://", "rediss://")):
        return RedisStorage(f"async+{url}", implementation="redispy")
    return MemoryStorage()


class AuthThrottle:
    """Refuses an attempt once its client address or its account has made too many."""

    def __init__(self, storage: Storage, *, per_client: str, per_account: str) -> None:
        self.limiter = MovingWindowRateLimiter(storage)
        self.per_client = parse_many(per_client)
        self.per_account = parse_many(per_account)

    @classmethod
    def from_settings(cls, settings: Settings) -> "AuthThrottle":
        return cls(
            create_storage(settings.rate_limit_storage_url),
            per_client=settings.auth_rate_limit_per_client,
            per_account=settings.auth_rate_limit_per_account,
        )

    @classmethod
    def for_emails(cls, settings: Settings) -> "AuthThrottle":
        """Emails a user asks the service to send, per user and per client address."""
        return cls(
            create_storage(settings.rate_limit_storage_url),
            per_client=settings.auth_rate_limit_per_client,
            per_account=settings.email_rate_limit_per_user,
        )

    async def hit(self, action: str, *, client: str, account: str) -> None:
        """Count one attempt; raise TooManyRequestsError when a limit is reached."""
        checks = [(limit, "client", client) for limit in self.per_client]
        checks += [(limit, "account", account.strip().lower()) for limit in self.per_account]
        for limit, kind, key in checks:
            if not await self.limiter.hit(limit, action, kind, key):
                raise TooManyRequestsError(
                    retry_after_seconds=await self._seconds_until_free(limit, action, kind, key)
                )

    async def _seconds_until_free(self, limit: RateLimitItem, *keys: str) -> int:
        stats = await self.limiter.get_window_stats(limit, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))


async def get_auth_throttle(request: Request) -> AuthThrottle:
    throttle: AuthThrottle = request.app.state.auth_throttle
    return throttle


async def get_email_throttle(request: Request) -> AuthThrottle:
    throttle: AuthThrottle = request.app.state.email_throttle
    return throttle


def client_address(request: Request) -> str:
    """The caller's address, as the server saw it.

    uvicorn replaces the proxy's address with the client's from `X-Forwarded-For` only when the
    connection comes from an address in FORWARDED_ALLOW_IPS (empty: never), so a client cannot
    pick its address by sending the header. Never read the header here.
    """
    return request.client.host if request.client else "unknown"


AuthThrottleDep = Annotated[AuthThrottle, Depends(get_auth_throttle)]
EmailThrottleDep = Annotated[AuthThrottle, Depends(get_email_throttle)]
ClientAddressDep = Annotated[str, Depends(client_address)]
