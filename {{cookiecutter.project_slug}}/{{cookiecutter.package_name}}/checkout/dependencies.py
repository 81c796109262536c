from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.checkout.payments import PaymentProvider
from {{ cookiecutter.package_name }}.core.cache import FallbackCache


async def get_payment_provider(request: Request) -> PaymentProvider:
    provider: PaymentProvider = request.app.state.payment_provider
    return provider


async def get_fallback_cache(request: Request) -> FallbackCache:
    cache: FallbackCache = request.app.state.fallback_cache
    return cache


async def get_transactions(request: Request) -> async_sessionmaker[AsyncSession]:
    """Sessions for short transactions of their own, for work that also calls remote services."""
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    return sessionmaker


PaymentProviderDep = Annotated[PaymentProvider, Depends(get_payment_provider)]
FallbackCacheDep = Annotated[FallbackCache, Depends(get_fallback_cache)]
TransactionsDep = Annotated[async_sessionmaker[AsyncSession], Depends(get_transactions)]
