"""A request's session commits when it wrote, however it wrote; one that only read does not."""

from collections.abc import AsyncIterator, Awaitable, Callable

import httpx
import pytest
from sqlalchemy import event, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.checkout.models import Product
from {{ cookiecutter.package_name }}.core.db import create_sessionmaker, has_writes
from {{ cookiecutter.package_name }}.users.models import User

# Each changes nothing (no row has id -1), yet is a write as far as a commit is concerned.
NO_SUCH_USER = update(User).where(User.id == -1).values(is_active=False)


@pytest.fixture
async def session(engine: AsyncEngine) -> AsyncIterator[AsyncSession]:
    async with create_sessionmaker(engine)() as session:
        yield session
        await session.rollback()


async def read(session: AsyncSession) -> None:
    await session.scalar(select(User.id).limit(1))
    await session.get(User, -1)


async def test_a_session_that_only_read_has_nothing_to_commit(session: AsyncSession) -> None:
    assert not has_writes(session)
    await read(session)
    assert not has_writes(session)


async def orm_add(session: AsyncSession) -> None:
    session.add(Product(sku="unsaved", name="Unsaved", price_cents=1))


async def orm_flush(session: AsyncSession) -> None:
    await orm_add(session)
    await session.flush()


async def core_update(session: AsyncSession) -> None:
    await session.execute(NO_SUCH_USER)


async def text_statement(session: AsyncSession) -> None:
    await session.execute(text("UPDATE users SET is_active = is_active WHERE id = -1"))


async def on_the_connection(session: AsyncSession) -> None:
    connection = await session.connection()
    await connection.execute(NO_SUCH_USER)


async def in_a_savepoint(session: AsyncSession) -> None:
    async with session.begin_nested():
        await session.execute(NO_SUCH_USER)


@pytest.mark.parametrize(
    "write",
    [orm_add, orm_flush, core_update, text_statement, on_the_connection, in_a_savepoint],
)
async def test_every_kind_of_write_is_committed(
    session: AsyncSession, write: Callable[[AsyncSession], Awaitable[None]]
) -> None:
    await read(session)
    await write(session)
    await read(session)

    assert has_writes(session)


async def test_what_was_committed_is_not_committed_again(session: AsyncSession) -> None:
    await core_update(session)
    await session.commit()
    await read(session)

    assert not has_writes(session)


async def test_a_session_made_elsewhere_always_commits(engine: AsyncEngine) -> None:
    async with async_sessionmaker(engine)() as session:
        await read(session)
        assert has_writes(session)


async def test_a_read_only_request_ends_without_a_commit(
    engine: AsyncEngine, client: httpx.AsyncClient, catalogue: None
) -> None:
    """In tests the request's session works in a savepoint: a commit would release it."""
    ends: list[str] = []

    def recorder(name: str) -> Callable[..., None]:
        return lambda *args: ends.append(name)

    for name in ("commit", "release_savepoint", "rollback_savepoint"):
        event.listen(engine.sync_engine, name, recorder(name))

    response = await client.get("/api/v1/products")

    assert response.status_code == 200
    assert ends == ["rollback_savepoint"]
