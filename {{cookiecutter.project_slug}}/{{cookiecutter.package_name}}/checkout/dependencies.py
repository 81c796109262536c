from typing import Annotated

from fastapi import Depends, Request

from {{ cookiecutter.package_name }}.checkout.payments import PaymentProvider
from {{ cookiecutter.package_name }}.core.cache import FallbackCache


async def get_payment_provider(request: Request) -> PaymentProvider:
    provider: PaymentProvider = request.app.state.payment_provider
    return provider


async def get_fallback_cache(request: Request) -> FallbackCache:
    cache: FallbackCache = request.app.state.fallback_cache
    return cache


PaymentProviderDep = Annotated[PaymentProvider, Depends(get_payment_provider)]
FallbackCacheDep = Annotated[FallbackCache, Depends(get_fallback_cache)]
