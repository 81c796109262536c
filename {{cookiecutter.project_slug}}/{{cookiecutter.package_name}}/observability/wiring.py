"""Everything an existing app needs, in one call made after the app is built."""

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any

from starlette.applications import Starlette

from .errors import unhandled_error_response
from .middleware import IdentifyUser, SentryContextMiddleware
from .sentry import enable_asyncio_tracking, flush_sentry

Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]


def instrument_app(app: Starlette, *, identify_user: IdentifyUser | None = None) -> None:
    """Add the Sentry middleware (outermost), the 500 handler and the start and stop hooks.

    Works whether the app has a lifespan, `on_event` handlers or neither: its own start-up and
    shutdown run inside ours. Call it once, after every other middleware has been added.
    """
    for key in (Exception, 500):
        if key in app.exception_handlers:
            handler = app.exception_handlers[key]
            raise ValueError(
                f"the app already handles {getattr(key, '__name__', key)} with "
                f"{getattr(handler, '__qualname__', handler)}: remove that handler "
                "(unhandled_error_response takes its place)"
            )
    app.add_exception_handler(Exception, unhandled_error_response)
    app.add_middleware(SentryContextMiddleware, identify_user=identify_user)
    app.router.lifespan_context = with_sentry_hooks(app.router.lifespan_context)


def with_sentry_hooks(lifespan: Lifespan) -> Lifespan:
    """`lifespan` between `enable_asyncio_tracking()` at start-up and `flush_sentry()` at exit."""

    @asynccontextmanager
    async def lifespan_with_sentry(app: Any) -> AsyncIterator[Any]:
        enable_asyncio_tracking()
        try:
            async with lifespan(app) as state:
                yield state
        finally:
            flush_sentry()

    return lifespan_with_sentry
