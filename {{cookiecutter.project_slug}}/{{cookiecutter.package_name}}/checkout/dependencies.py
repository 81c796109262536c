from typing import Annotated

from fastapi import Depends

from {{ cookiecutter.package_name }}.checkout.payments import PaymentProvider
from {{ cookiecutter.package_name }}.core.cache import FallbackCache
from {{ cookiecutter.package_name }}.core.dependencies import app_state

PaymentProviderDep = Annotated[PaymentProvider, Depends(app_state("payment_provider"))]
FallbackCacheDep = Annotated[FallbackCache, Depends(app_state("fallback_cache"))]
