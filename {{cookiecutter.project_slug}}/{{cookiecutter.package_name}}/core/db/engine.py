"""The engine and the sessionmaker, with outages turned into 503s and writes tracked."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.core.config.database import DatabaseOptions
from {{ cookiecutter.package_name }}.core.db.outages import (
    connect_or_raise_unavailable,
    raise_unavailable,
)
from {{ cookiecutter.package_name }}.core.db.{{ cookiecutter.database }} import create_{{ cookiecutter.database }}_engine
from {{ cookiecutter.package_name }}.core.db.writes import TrackedSession, note_write


def create_engine(
    database_url: str, *, echo: bool = False, options: DatabaseOptions | None = None
) -> AsyncEngine:
    """The engine with a bounded pool and bounded waits; see `DatabaseOptions`."""
    options = options or DatabaseOptions()
    pool: dict[str, Any] = {
        "pool_size": options.pool_size,
        "max_overflow": options.max_overflow,
        "pool_timeout": options.pool_timeout_seconds,
        # A database error's message names its statement without the values bound to it
        # (password hashes, emails): the message goes to logs and error events.
        "hide_parameters": True,
    }
    engine = create_{{ cookiecutter.database }}_engine(database_url, echo=echo, options=options, **pool)
    event.listen(engine.sync_engine, "do_connect", connect_or_raise_unavailable)
    event.listen(engine.sync_engine, "before_execute", note_write)
    event.listen(engine.sync_engine, "handle_error", raise_unavailable)
    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False, sync_session_class=TrackedSession)


@asynccontextmanager
async def standalone_session(
    database_url: str, options: DatabaseOptions | None = None
) -> AsyncIterator[AsyncSession]:
    """A session for work outside requests (commands, tasks), committed when the block ends."""
    engine = create_engine(database_url, options=options)
    try:
        async with create_sessionmaker(engine)() as session, session.begin():
            yield session
    finally:
        await engine.dispose()
