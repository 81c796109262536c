"""The application factory and the lifespan that owns engines and clients."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.routing import APIRoute

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.auth.dependencies import token_user_id
from {{ cookiecutter.package_name }}.auth.router import router as auth_router
from {{ cookiecutter.package_name }}.auth.throttling import AuthThrottle
from {{ cookiecutter.package_name }}.checkout.payments import build_payment_provider
{%- if cookiecutter.task_queue == "background" %}
from {{ cookiecutter.package_name }}.checkout.retries import retrying_pending_payments
{%- endif %}
from {{ cookiecutter.package_name }}.checkout.router import router as checkout_router
from {{ cookiecutter.package_name }}.core.cache import FallbackCache
from {{ cookiecutter.package_name }}.core.config import API_PREFIX, Settings
from {{ cookiecutter.package_name }}.core.config.keys import RANDOM_KEY_NOTICE
from {{ cookiecutter.package_name }}.core.db import create_engine, create_sessionmaker
from {{ cookiecutter.package_name }}.core.errors import register_error_handlers
from {{ cookiecutter.package_name }}.core.middleware.concurrency import Workload
from {{ cookiecutter.package_name }}.core.middleware.security_headers import (
    SecurityHeadersMiddleware,
)
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.core.task_queue import create_celery_app
{%- endif %}
{%- if cookiecutter.task_queue == "background" %}
from {{ cookiecutter.package_name }}.emails.backends import build_email_backend
{%- endif %}
from {{ cookiecutter.package_name }}.emails.recipients import RecipientLimit
from {{ cookiecutter.package_name }}.emails.router import router as emails_router
from {{ cookiecutter.package_name }}.health.router import router as health_router
from {{ cookiecutter.package_name }}.health.setup_check import router as setup_check_router
from {{ cookiecutter.package_name }}.observability import (
    SentryContextMiddleware,
    enable_asyncio_tracking,
    flush_sentry,
    unhandled_error_response,
)
{%- if cookiecutter.task_queue == "background" %}
from {{ cookiecutter.package_name }}.users.expiry import removing_expired_accounts
{%- endif %}
from {{ cookiecutter.package_name }}.users.router import router as users_router

OPENAPI_TAGS = ("health", "auth", "users", "checkout", "emails")

logger = logging.getLogger(__name__)


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    if settings.secret_key is None and settings.environment == "development":
        logger.warning(RANDOM_KEY_NOTICE)
    enable_asyncio_tracking()
    engine = create_engine(
        settings.database_url, echo=settings.database_echo, options=settings.database_options()
    )
    app.state.sessionmaker = create_sessionmaker(engine)
    app.state.fallback_cache = FallbackCache()
{%- if cookiecutter.task_queue == "background" %}
    app.state.email_backend = build_email_backend(settings)
{%- endif %}
{%- if cookiecutter.task_queue == "celery" %}
    # Tasks are sent through this app, the one the worker runs.
    create_celery_app(settings).set_default()
{%- endif %}
    app.state.auth_throttle = AuthThrottle.from_settings(settings)
    app.state.email_throttle = AuthThrottle.for_email_senders(settings)
    app.state.recipient_limit = RecipientLimit.from_settings(settings)
    async with httpx.AsyncClient() as client:
        app.state.payment_provider = build_payment_provider(settings, client)
{%- if cookiecutter.task_queue == "background" %}
        async with (
            retrying_pending_payments(app, settings),
            removing_expired_accounts(app, settings),
        ):
            yield
{%- else %}
        yield
{%- endif %}
    await engine.dispose()
    flush_sentry()


def add_middleware(app: FastAPI, settings: Settings) -> None:
    """The last one added sees a request first: headers, then CORS and Sentry.

    The body's size and time limits and the concurrency limit wrap the finished app (`main.py`).
    """
    app.add_middleware(
        SentryContextMiddleware,
        identify_user=token_user_id(settings.token_keys()),
    )
    if settings.cors_allowed_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_allowed_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key"],
            expose_headers=["Retry-After", "X-Request-ID", "Idempotent-Replayed"],
        )
    docs_paths = [path for path in (app.docs_url, app.swagger_ui_oauth2_redirect_url) if path]
    app.add_middleware(
        SecurityHeadersMiddleware, https_only=settings.is_production, docs_paths=docs_paths
    )


def operation_id(route: APIRoute) -> str:
    """Operation ids named after the route functions, for OpenAPI links and generated clients."""
    return route.name


def create_app(settings: Settings) -> FastAPI:
    app = FastAPI(
        # Sentry traces the requests. FastAPI's own OpenTelemetry instrumentation would look
        # for a provider on every request and, once one is set, trace each request again.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        title=settings.project_name,
        version=__version__,
        lifespan=lifespan,
        docs_url=None if settings.is_production else "/docs",
        redoc_url=None,
        generate_unique_id_function=operation_id,
        openapi_url=None if settings.is_production else "/openapi.json",
        openapi_tags=[{"name": tag} for tag in OPENAPI_TAGS],
    )
    app.state.settings = settings
    app.state.workload = Workload(limit=settings.max_concurrent_requests)
    register_error_handlers(app)
    app.add_exception_handler(Exception, unhandled_error_response)
    add_middleware(app, settings)

    app.include_router(health_router)
    for router in (auth_router, users_router, checkout_router, emails_router):
        app.include_router(router, prefix=API_PREFIX)
    if not settings.is_production:
        app.include_router(setup_check_router)
    return app
