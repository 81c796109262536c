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
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.engine.interfaces import DBAPIConnection
from sqlalchemy.pool import ConnectionPoolEntry

from {{ cookiecutter.package_name }}.core.errors import DatabaseUnavailableError

# The statements before which the driver opens a transaction (and SAVEPOINT, which opens one
# too): the first of them in a transaction waits for the lock.
_WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE|SAVEPOINT)\b", re.IGNORECASE)
_HOLDS_LOCK = "holds_write_lock"


class WriteLockTimeoutError(DatabaseUnavailableError):
    """No write slot within the busy timeout: a writer holds the lock for too long."""

    def __init__(self) -> None:
        super().__init__(reason="write_lock_timeout", retry_after_seconds=1)


def configure_sqlite(
    engine: Engine, *, busy_timeout_seconds: float, foreign_keys: bool = True
) -> None:
    """Set the pragmas on every new connection and queue writers on an in-process lock."""
    lock = asyncio.Lock()

    async def take_lock() -> None:
        # asyncio.timeout rather than wait_for, which on Python 3.11 runs the wait in a task.
        async with asyncio.timeout(busy_timeout_seconds):
            await lock.acquire()

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
        info = connection.connection.info
        if info.get(_HOLDS_LOCK) or not _WRITE.match(statement):
            return
        driver_connection = connection.connection.dbapi_connection
        try:
            driver_connection.run_async(lambda _: take_lock())  # type: ignore[union-attr]
        except TimeoutError:
            raise WriteLockTimeoutError from None
        info[_HOLDS_LOCK] = True

    def release(info: dict[Any, Any]) -> None:
        if info.pop(_HOLDS_LOCK, False):
            lock.release()

    @event.listens_for(engine, "commit")
    def commit_then_release(connection: Connection) -> None:
        # This event comes before the driver's commit. Committing here first lets the next
        # writer start on a free database instead of sleeping in SQLite's busy handler; the
        # driver's own commit that follows finds no transaction and does nothing.
        finish_then_release(connection, "commit")

    @event.listens_for(engine, "rollback")
    def roll_back_then_release(connection: Connection) -> None:
        finish_then_release(connection, "rollback")

    def finish_then_release(connection: Connection, finish: str) -> None:
        # An invalidated connection has no pool entry here; "invalidate" released its lock.
        if connection.invalidated:
            return
        pooled = connection.connection
        if not pooled.info.get(_HOLDS_LOCK):
            return
        try:
            getattr(pooled.dbapi_connection, finish)()
        finally:
            release(pooled.info)

    @event.listens_for(engine, "invalidate")
    @event.listens_for(engine, "checkin")
    def release_when_returned(
        dbapi_connection: DBAPIConnection | None, record: ConnectionPoolEntry, *args: Any
    ) -> None:
        # A connection given back or dropped without a commit or a rollback.
        release(record.info)
