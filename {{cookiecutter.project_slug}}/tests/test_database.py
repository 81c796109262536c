"""The engine under concurrent writes and outages: no lock errors, and a 503 rather than a 500."""

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.db import create_sessionmaker
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport
from {{ cookiecutter.package_name }}.users.models import User


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
async def unreachable_app(settings: Settings) -> AsyncIterator[FastAPI]:
{%- if cookiecutter.database == "postgresql" %}
    url = f"postgresql+asyncpg://postgres@127.0.0.1:{unused_port()}/nowhere"
{%- else %}
    url = f"sqlite+aiosqlite:///{uuid.uuid4().hex}/missing-directory/app.db"
{%- endif %}
    app = create_app(settings.model_copy(update={"database_url": url}))
    async with app.router.lifespan_context(app):
        yield app


async def test_an_unreachable_database_is_a_503_reported_once_as_handled(
    unreachable_app: FastAPI, sentry: CapturingTransport
) -> None:
    transport = httpx.ASGITransport(app=unreachable_app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        products = await client.get("/api/v1/products")
        ready = await client.get("/health/ready")

    assert products.status_code == 503
    assert products.json() == {"detail": "The service is unavailable; try again later"}
    assert int(products.headers["Retry-After"]) > 0
    assert ready.status_code == 503
    [event] = sentry.events
    assert event["fingerprint"] == ["handled", "database", "unavailable"]
    assert event["exception"]["values"][-1]["mechanism"]["handled"] is True
    assert event["contexts"]["recovery"]["reason"] == "unreachable"


async def test_a_request_waits_for_a_connection_only_so_long(
    settings: Settings, sentry: CapturingTransport
) -> None:
    app = create_app(
        settings.model_copy(
            update={
                "database_pool_size": 1,
                "database_max_overflow": 0,
                "database_pool_timeout_seconds": 0.2,
            }
        )
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://testserver") as client,
    ):
        engine = app.state.sessionmaker.kw["bind"]
        async with engine.connect():  # the pool's only connection, held
            response = await client.get("/api/v1/products")
        after = await client.get("/api/v1/products")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "1"
    assert after.status_code == 200
    [event] = sentry.events
    assert event["contexts"]["recovery"]["reason"] == "pool_timeout"


async def test_concurrent_write_transactions_all_commit(engine: AsyncEngine) -> None:
    """Each reads, then writes: on SQLite the writers take turns instead of failing as locked."""
    sessionmaker = create_sessionmaker(engine)
    prefix = uuid.uuid4().hex[:8]

    async def sign_up(number: int) -> None:
        async with sessionmaker() as session, session.begin():
            await session.execute(text("SELECT count(*) FROM users"))
            await asyncio.sleep(0)  # let the others read too before anyone writes
            name = f"{prefix}{number}"
            session.add(User(email=f"{name}@example.com", username=name, hashed_password="x"))

    await asyncio.gather(*(sign_up(number) for number in range(40)))

    async with engine.connect() as connection:
        count = await connection.scalar(
            text("SELECT count(*) FROM users WHERE username LIKE :prefix"),
            {"prefix": f"{prefix}%"},
        )
    assert count == 40
