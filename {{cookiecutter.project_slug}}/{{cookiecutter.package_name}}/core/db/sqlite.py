"""SQLite made for concurrent use: WAL, foreign keys, and one writer at a time in the process.

SQLite lets one connection write at a time. Left to itself, a writer that finds the database
locked sleeps and polls (1, 2, 5, ... 100 ms) until its busy timeout, so under a burst some
writers wait far longer than others and the unlucky ones fail with `database is locked`.
Here writers queue instead, in order, on an asyncio lock of the engine: a transaction takes it
just before its first write (`BEGIN IMMEDIATE`, issued by the driver before that statement)
and gives it back when it commits or rolls back. Reads never take it: in WAL mode they run
beside the writer. Other processes (migrations, a second server) still meet the busy timeout.
"""

import asyncio
import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from sqlalchemy.pool import ConnectionPoolEntry, PoolProxiedConnection

from {{ cookiecutter.package_name }}.core.config.database import DatabaseOptions
from {{ cookiecutter.package_name }}.core.errors import DatabaseUnavailableError

# The statements before which the driver opens a transaction (and SAVEPOINT, which opens one
# too): the first of them in a transaction waits for the lock.
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|SAVEPOINT)\b", re.IGNORECASE)
FinishTransaction = Callable[[PoolProxiedConnection], None]


class WriteLockTimeoutError(DatabaseUnavailableError):
    """No write slot within the busy timeout: a writer holds the lock for too long."""

    def __init__(self) -> None:
        super().__init__(reason="write_lock_timeout", retry_after_seconds=1)


class WriteTurns:
    """The engine's writers, one at a time, in the order they asked; a connection holds the turn."""

    def __init__(self, timeout_seconds: float) -> None:
        self.timeout_seconds = timeout_seconds
        self._lock = asyncio.Lock()
        self._holder: object | None = None

    def holds(self, connection: object) -> bool:
        return self._holder is connection

    async def take(self, connection: object) -> None:
        # asyncio.timeout rather than wait_for, which on Python 3.11 runs the wait in a task.
        async with asyncio.timeout(self.timeout_seconds):
            await self._lock.acquire()
        self._holder = connection

    def give_back(self, connection: object) -> None:
        if connection is not None and self._holder is connection:
            self._holder = None
            self._lock.release()


def create_sqlite_engine(
    database_url: str, *, echo: bool, options: DatabaseOptions, **pool: Any
) -> AsyncEngine:
    # A file cannot drop the connection: a pre-ping would only cost a round trip.
    engine = create_async_engine(database_url, echo=echo, **pool)
    configure_sqlite(
        engine.sync_engine,
        busy_timeout_seconds=options.pool_timeout_seconds,
        foreign_keys=options.foreign_keys,
    )
    return engine


def configure_sqlite(
    engine: Engine, *, busy_timeout_seconds: float, foreign_keys: bool = True
) -> None:
    """Set the pragmas on every new connection and queue writers on an in-process lock."""
    turns = WriteTurns(busy_timeout_seconds)

    @event.listens_for(engine, "connect")
    def set_pragmas(dbapi_connection: DBAPIConnection, record: ConnectionPoolEntry) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Durable at each checkpoint rather than each commit; WAL keeps the file consistent.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_seconds * 1000)}")
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.close()
        # The driver begins a transaction right before the first write; IMMEDIATE takes the
        # write lock there, so a transaction that read first never fails to upgrade.
        dbapi_connection.isolation_level = "IMMEDIATE"

    @event.listens_for(engine, "before_cursor_execute")
    def wait_for_write_slot(
        connection: Connection, cursor: Any, statement: str, *args: Any
    ) -> None:
        driver_connection = connection.connection.dbapi_connection
        if turns.holds(driver_connection) or not _WRITE.match(statement):
            return
        try:
            driver_connection.run_async(  # type: ignore[union-attr]
                lambda _: turns.take(driver_connection)
            )
        except TimeoutError:
            raise WriteLockTimeoutError from None

    def then_give_back(finish: FinishTransaction) -> FinishTransaction:
        def finish_then_give_back(pooled: PoolProxiedConnection) -> None:
            # Finished here, before the next writer starts, so that it never sleeps in SQLite's
            # busy handler; and the turn is given back even when finishing fails.
            try:
                finish(pooled)
            finally:
                turns.give_back(pooled.dbapi_connection)

        return finish_then_give_back

    # The dialect ends every transaction of the engine (the pool's reset of a connection given
    # back included): commit and rollback hand the write turn on where they happen.
    dialect = engine.dialect
    dialect.do_commit = then_give_back(dialect.do_commit)  # type: ignore[method-assign, assignment]
    dialect.do_rollback = then_give_back(dialect.do_rollback)  # type: ignore[method-assign, assignment]

    @event.listens_for(engine, "invalidate")
    @event.listens_for(engine, "checkin")
    def give_back_when_returned(
        dbapi_connection: DBAPIConnection | None, record: ConnectionPoolEntry, *args: Any
    ) -> None:
        # A connection given back or dropped without a commit or a rollback.
        turns.give_back(dbapi_connection)
