{% if cookiecutter.task_queue == "celery" -%}
import asyncio
import email
{% endif -%}
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import timedelta
from email.message import EmailMessage
{%- if cookiecutter.task_queue == "celery" %}
from email.policy import default as default_policy
{%- endif %}
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
import sentry_sdk
from alembic import command
from alembic.config import Config
{%- if cookiecutter.task_queue == "celery" %}
from celery import current_app
{%- endif %}
from fastapi import FastAPI
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
{%- if cookiecutter.task_queue == "celery" %}
from redis import Redis
from redis.exceptions import RedisError
{%- endif %}
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from {{ cookiecutter.package_name }}.app import create_app
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.auth.service import AccountEmail, send_account_email
from {{ cookiecutter.package_name }}.auth.tasks import SEND_ACCOUNT_EMAIL_TASK
{%- endif %}
from {{ cookiecutter.package_name }}.checkout.seed import seed_catalogue
from {{ cookiecutter.package_name }}.core import security
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.db import TrackedSession, create_engine
from {{ cookiecutter.package_name }}.core.security import create_email_verification_token
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.emails.outbox import EmailOutbox
from {{ cookiecutter.package_name }}.emails.tasks import SEND_EMAIL_TASK
{%- endif %}
from {{ cookiecutter.package_name }}.observability import init_sentry
from {{ cookiecutter.package_name }}.observability.testing import CapturingTransport
from {{ cookiecutter.package_name }}.users import repository as users_repository

PROJECT_ROOT = Path(__file__).resolve().parents[1]
PASSWORD = "correct horse battery staple"
CLIENT_IP = "203.0.113.7"


def require_server(name: str, error: Exception) -> NoReturn:
    """A server the tests need is missing: a failure on CI, a skip on a laptop."""
    message = f"{name} is not reachable: {error}"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


# Argon2 at the service's cost would take most of the suite's time. A hash records its own
# parameters, so verifying stays exact; test_auth.py pins the parameters the service uses.
SERVICE_PASSWORD_HASH = security.password_hash
CHEAP_PASSWORD_HASH = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(security, "password_hash", CHEAP_PASSWORD_HASH)
        yield


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
    try:
        command.upgrade(config, "head")
    except (OSError, DBAPIError) as error:
        require_server("The test database", error)
    return url
{%- if cookiecutter.task_queue == "celery" %}


@pytest.fixture(scope="session")
def broker_url() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "redis://127.0.0.1:6379/0")
    try:
        Redis.from_url(url, socket_connect_timeout=2).ping()
    except RedisError as error:
        require_server("Redis", error)
    return url


@pytest.fixture(scope="session")
def celery_queue() -> str:
    """A queue of this test run's own, so that no other worker takes its tasks."""
    return f"{{ cookiecutter.package_name }}-test-{uuid.uuid4().hex[:8]}"
{%- endif %}


@pytest.fixture
{%- if cookiecutter.task_queue == "celery" %}
def settings(database_url: str, broker_url: str, celery_queue: str) -> Settings:
{%- else %}
def settings(database_url: str) -> Settings:
{%- endif %}
    return Settings(
        _env_file=None,
        environment="test",
        database_url=database_url,
        git_sha="0123456789abcdef",
        sentry_traces_sample_rate=1.0,
{%- if cookiecutter.task_queue == "celery" %}
        celery_broker_url=broker_url,
        celery_queue=celery_queue,
        payment_retry_delay_seconds=0.5,
        # Counters of each test's own; tests/test_throttling.py covers the Redis storage.
        rate_limit_storage_url="memory://",
{%- else %}
        # No sweeps beside the tests; tests/test_payment_retries.py and tests/test_accounts.py
        # run them where they want one.
        payment_retry_interval_seconds=0,
        unverified_account_sweep_interval_minutes=0,
{%- endif %}
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
            bind=connection,
            expire_on_commit=False,
            join_transaction_mode="create_savepoint",
            sync_session_class=TrackedSession,
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


async def verify_email(
    app: FastAPI, client: httpx.AsyncClient, email: str, password: str = PASSWORD
) -> int:
    """Follow the link the welcome email carries, as its reader would; returns the user's id.

    The one way tests verify an address: an account signs in only once it is verified.
    """
    async with app.state.sessionmaker() as session:
        user = await users_repository.get_by_email(session, email)
    assert user is not None, f"no account has {email}"
    settings: Settings = app.state.settings
    token = create_email_verification_token(
        user_id=user.id, email=user.email, keys=settings.token_keys(), expires_in=timedelta(hours=1)
    )
    verified = await client.post(
        "/api/v1/auth/verify-email", json={"token": token, "password": password}
    )
    assert verified.status_code == 200, verified.text
    return user.id


@pytest.fixture
def sign_up(app: FastAPI, client: httpx.AsyncClient) -> SignUp:
    """Register, verify and log in a new user; returns its JSON plus its tokens and `headers`.

    `verified=False` only registers: an unverified account cannot sign in, so it has no tokens.
    """

    async def sign_up(*, verified: bool = True, **fields: str) -> dict[str, Any]:
        name = fields.pop("username", f"user_{uuid.uuid4().hex[:10]}")
        data = {"email": f"{name}@example.com", "username": name, "password": PASSWORD, **fields}
        registered = await client.post("/api/v1/auth/register", json=data)
        assert registered.status_code == 202, registered.text
        if not verified:
            async with app.state.sessionmaker() as session:
                user = await users_repository.get_by_email(session, data["email"])
            assert user is not None
            return {"id": user.id, "email": user.email, "username": user.username}
        await verify_email(app, client, data["email"], data["password"])
        login = await client.post(
            "/api/v1/auth/login", data={"username": data["email"], "password": data["password"]}
        )
        assert login.status_code == 200, login.text
        tokens = login.json()
        headers = {"Authorization": f"Bearer {tokens['access_token']}"}
        me = await client.get("/api/v1/users/me", headers=headers)
        assert me.status_code == 200, me.text
        return {
            **me.json(),
            "token": tokens["access_token"],
            "refresh_token": tokens["refresh_token"],
            "headers": headers,
        }

    return sign_up


{% if cookiecutter.task_queue == "celery" -%}
@pytest.fixture
async def outbox(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> list[EmailMessage]:
    """Emails the app queues for the worker, kept here instead of queued.

    A task that looks an address up (auth/tasks.py) runs here at once, as the worker would, on
    the test's database.
    """
    queued: list[EmailMessage] = []
    loop = asyncio.get_running_loop()

    async def look_up_and_mail(kind: str, address: str) -> None:
        async with app.state.sessionmaker() as session:
            await send_account_email(
                AccountEmail(kind),
                session=session,
                settings=app.state.settings,
                email=address,
                outbox=EmailOutbox(recipients=app.state.recipient_limit),
            )

    def send_task(name: str, args: tuple[Any, ...] = (), **options: Any) -> None:
        if name == SEND_EMAIL_TASK:
            queued.append(email.message_from_string(args[0], policy=default_policy))
        elif name == SEND_ACCOUNT_EMAIL_TASK:
            # Tasks are sent from a thread (core/task_queue.py); the lookup runs on the loop.
            asyncio.run_coroutine_threadsafe(look_up_and_mail(*args), loop).result()

    monkeypatch.setattr(current_app, "send_task", send_task)
    return queued
{%- else -%}
class RecordingEmailBackend:
    name = "recording"

    def __init__(self) -> None:
        self.sent: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.sent.append(message)


@pytest.fixture
def outbox(app: FastAPI) -> list[EmailMessage]:
    """Emails the app sends, kept here instead of sent."""
    backend = RecordingEmailBackend()
    app.state.email_backend = backend
    return backend.sent
{%- endif %}
