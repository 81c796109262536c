"""SQLite in this service: WAL, foreign keys, and writers that take turns without waiting."""

import asyncio

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncEngine

from {{ cookiecutter.package_name }}.users.models import User

# A write as far as the database is concerned, though it changes no row.
NO_SUCH_USER = update(User).where(User.id == -1).values(is_active=False)


async def test_sqlite_runs_in_wal_with_foreign_keys(engine: AsyncEngine) -> None:
    async with engine.connect() as connection:
        pragmas = [
            (await connection.exec_driver_sql(f"PRAGMA {name}")).scalar()
            for name in ("journal_mode", "foreign_keys", "synchronous", "busy_timeout")
        ]
    assert pragmas == ["wal", 1, 1, 10000]


@pytest.mark.parametrize("ending", ["commit", "rollback"])
async def test_sqlite_hands_the_write_turn_on_when_a_transaction_ends(
    engine: AsyncEngine, ending: str
) -> None:
    """The first connection stays checked out: the next writer must not wait for it (10 s)."""
    async with engine.connect() as first:
        await first.execute(NO_SUCH_USER)
        await getattr(first, ending)()
        async with asyncio.timeout(5), engine.connect() as second:
            await second.execute(NO_SUCH_USER)
            await second.commit()
