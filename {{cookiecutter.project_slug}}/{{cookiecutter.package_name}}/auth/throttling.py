"""Throttling of sign-up, log-in and other auth attempts, and of emails users send."""

import hashlib
import ipaddress
import math
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated

from fastapi import Depends, Request
from limits import RateLimitItem, parse_many
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import MovingWindowRateLimiter

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.dependencies import app_state
from {{ cookiecutter.package_name }}.core.errors import TooManyRequestsError, UnauthorizedError
from {{ cookiecutter.package_name }}.core.security_events import report_security_event

# Counters kept in memory at most; past it the oldest go first, so a flood of new clients or
# accounts costs the process a bounded amount of memory.
MAX_MEMORY_KEYS = 50_000
# An IPv6 client usually holds a whole /64: its addresses count as one client.
IPV6_CLIENT_PREFIX = 64
# Failed log-ins for one account from all clients together past which they are reported: guesses
# spread over many addresses (a botnet, many /64s) that no per-client limit sees. Reported, not
# refused: refusing would let anyone lock the owner out.
SPREAD_GUESSING_REPORTED_AT = parse_many("50/hour")


class BoundedMemoryStorage(MemoryStorage):
    """The `limits` memory storage, holding at most `max_keys` moving windows.

    `limits` forgets a window once its last entry expires; until then a stranger could add one
    key per request.
    """

    def __init__(self, *, max_keys: int = MAX_MEMORY_KEYS) -> None:
        super().__init__()
        self.max_keys = max_keys

    async def acquire_entry(self, key: str, limit: int, expiry: int, amount: int = 1) -> bool:
        while key not in self.events and len(self.events) >= self.max_keys:
            oldest = next(iter(self.events))
            self.events.pop(oldest, None)
            self.locks.pop(oldest, None)
        return await super().acquire_entry(key, limit, expiry, amount)


def create_storage(url: str) -> Storage:
    """Counters in this process's memory, or in Redis for every process to share."""
    if url.startswith(("redis://", "rediss://")):
        return RedisStorage(f"async+{url}", implementation="redispy")
    return BoundedMemoryStorage()


def client_key(address: str) -> str:
    """The client an address counts as: itself, or its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return account_key(address)
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((ip, IPV6_CLIENT_PREFIX), strict=False))
    return str(ip)


def account_key(account: str) -> str:
    """A key of fixed length, whatever a client sent as its account name."""
    return hashlib.sha256(account.strip().lower().encode()).hexdigest()[:32]


class AuthThrottle:
    """Refuses an attempt once its client address or its account has made too many.

    Log-ins count differently (`log_in_attempt`): a failed password counts against the account
    from that client only, so nobody can lock a user out by failing on purpose elsewhere.
    """

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
    def for_email_senders(cls, settings: Settings) -> "AuthThrottle":
        """Emails a signed-in user asks the service to send: per sender and per client address."""
        return cls(
            create_storage(settings.rate_limit_storage_url),
            per_client=settings.auth_rate_limit_per_client,
            per_account=settings.email_rate_limit_per_user,
        )

    async def hit(self, action: str, *, client_address: str, account: str) -> None:
        """Count one attempt; raise TooManyRequestsError when a limit is reached."""
        await self._hit(action, "client", client_key(client_address), self.per_client)
        await self._hit(action, "account", account_key(account), self.per_account)

    @asynccontextmanager
    async def log_in_attempt(
        self, action: str, *, client_address: str, account: str
    ) -> AsyncIterator[None]:
        """Count the attempt against its client, and a failure against the account from it.

        A client past its limit of failures for an account is refused before its password is
        checked; a client that has not failed there gets in with the right password.
        """
        client = client_key(client_address)
        await self._hit(action, "client", client, self.per_client)
        failures = (action, "failures", account_key(account), client)
        for limit in self.per_account:
            if not await self.limiter.test(limit, *failures):
                raise TooManyRequestsError(
                    retry_after_seconds=await self._seconds_until_free(limit, *failures)
                )
        try:
            yield
        except UnauthorizedError:
            for limit in self.per_account:
                await self.limiter.hit(limit, *failures)
            await self._watch_spread_guessing(action, account_key(account))
            raise

    async def _watch_spread_guessing(self, action: str, account: str) -> None:
        """Report the failure that fills an account's window of failures from all clients."""
        for limit in SPREAD_GUESSING_REPORTED_AT:
            keys = (action, "failures-everywhere", account)
            if not await self.limiter.hit(limit, *keys):
                continue
            if (await self.limiter.get_window_stats(limit, *keys)).remaining == 0:
                report_security_event(
                    "password_guessing_spread",
                    message="Log-in failures for one account from many clients",
                    action=action,
                    limit=str(limit),
                )

    async def _hit(self, action: str, kind: str, key: str, limits: list[RateLimitItem]) -> None:
        for limit in limits:
            if not await self.limiter.hit(limit, action, kind, key):
                raise TooManyRequestsError(
                    retry_after_seconds=await self._seconds_until_free(limit, action, kind, key)
                )

    async def _seconds_until_free(self, limit: RateLimitItem, *keys: str) -> int:
        stats = await self.limiter.get_window_stats(limit, *keys)
        return max(1, math.ceil(stats.reset_time - time.time()))


def client_address(request: Request) -> str:
    """The caller's address, as the server saw it.

    uvicorn replaces the proxy's address with the client's from `X-Forwarded-For` only when the
    connection comes from an address in FORWARDED_ALLOW_IPS (empty: never), so a client cannot
    pick its address by sending the header. Never read the header here.
    """
    return request.client.host if request.client else "unknown"


AuthThrottleDep = Annotated[AuthThrottle, Depends(app_state("auth_throttle"))]
EmailThrottleDep = Annotated[AuthThrottle, Depends(app_state("email_throttle"))]
ClientAddressDep = Annotated[str, Depends(client_address)]
