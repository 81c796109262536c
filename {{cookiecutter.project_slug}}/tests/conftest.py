import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import sentry_sdk
from alembic import command
from alembic.config import Config
from fastapi import FastAPI
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from {{ cookiecutter.package_name }}.app import create_app
from {{ cookiecutter.package_name }}.checkout.seed import seed_catalogue
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.db import create_engine
from {{ cookiecutter.package_name }}.observability import init_sentry
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
CLIENT_IP = "203.0.113.7"


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated test database; every test runs inside a transaction rolled back after it."""
{%- if cookiecutter.database == "postgresql" %}
    default_url = "postgresql+asyncpg://postgres@127.0.0.1/{{ cookiecutter.package_name }}_test"
{%- else %}
    default_url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
{%- endif %}
    url = os.environ.get("TEST_DATABASE_URL", default_url)
    config = Config(str(PROJECT_ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    command.upgrade(config, "head")
    return url


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        git_sha="0123456789abcdef",
        sentry_traces_sample_rate=1.0,
    )


@pytest.fixture(autouse=True)
def sentry(settings: Settings) -> Iterator[CapturingTransport]:
    """Sentry on for every test, sending into memory: assert on what would have left."""
    transport = CapturingTransport()
    init_sentry(settings.sentry_options(), transport=transport)
    yield transport
    sentry_sdk.get_client().close()


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def app(settings: Settings, engine: AsyncEngine) -> AsyncIterator[FastAPI]:
    app = create_app(settings)
    async with app.router.lifespan_context(app), engine.connect() as connection:
        transaction = await connection.begin()
        # Sessions of the app commit to a savepoint; the outer transaction is rolled back.
        app.state.sessionmaker = async_sessionmaker(
            bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )
        yield app
        await transaction.rollback()


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(CLIENT_IP, 50123))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        yield client


@pytest.fixture
async def catalogue(app: FastAPI) -> None:
    async with app.state.sessionmaker() as session:
        await seed_catalogue(session)
        await session.commit()


SignUp = Callable[..., Awaitable[dict[str, Any]]]


@pytest.fixture
def sign_up(client: httpx.AsyncClient) -> SignUp:
    """Register and log in a new user; returns its JSON plus `headers` with the bearer token."""

    async def sign_up(**fields: str) -> dict[str, Any]:
        name = fields.pop("username", f"user_{uuid.uuid4().hex[:10]}")
        data = {"email": f"{name}@example.com", "username": name, "password": PASSWORD, **fields}
        registered = await client.post("/api/v1/auth/register", json=data)
        assert registered.status_code == 202, registered.text
        login = await client.post(
            "/api/v1/auth/login", data={"username": data["email"], "password": data["password"]}
        )
        assert login.status_code == 200, login.text
        headers = {"Authorization": f"Bearer {login.json()['access_token']}"}
        me = await client.get("/api/v1/users/me", headers=headers)
        assert me.status_code == 200, me.text
        return {**me.json(), "token": login.json()["access_token"], "headers": headers}

    return sign_up
