"""Database engine, declarative base and the per-request session."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from fastapi import Depends, Request
from sqlalchemy import DateTime, Dialect, Enum, MetaData, String, TypeDecorator, event, make_url
from sqlalchemy.engine import Connection, ExceptionContext
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, SessionTransaction, mapped_column

from {{ cookiecutter.package_name }}.core.config import DatabaseOptions
from {{ cookiecutter.package_name }}.core.errors import DatabaseUnavailableError
from {{ cookiecutter.package_name }}.core.sqlite import configure_sqlite

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in UTC, also on SQLite, which stores them without a zone."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value


class _Unlogged(str):
    """A bound value shown as [Filtered] by whatever logs statements with their parameters."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'[Filtered]'"


class UnloggedString(TypeDecorator[str]):
    """A string column whose values never reach a log: SQL echo and driver debug lines alike."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        return None if value is None else _Unlogged(value)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime}


def string_enum(enum: type[StrEnum]) -> Enum:
    """Store an enum by its values in a plain string column, so new members need no DDL."""
    return Enum(
        enum,
        native_enum=False,
        length=20,
        values_callable=lambda members: [member.value for member in members],
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


def create_engine(
    database_url: str, *, echo: bool = False, options: DatabaseOptions | None = None
) -> AsyncEngine:
    """The engine for SQLite (WAL, one writer at a time) or PostgreSQL (bounded pool and waits)."""
    options = options or DatabaseOptions()
    pool: dict[str, Any] = {
        "pool_size": options.pool_size,
        "max_overflow": options.max_overflow,
        "pool_timeout": options.pool_timeout_seconds,
        # A database error's message names its statement without the values bound to it
        # (password hashes, emails): the message goes to logs and error events.
        "hide_parameters": True,
    }
    if make_url(database_url).get_backend_name() == "sqlite":
        # A file cannot drop the connection: a pre-ping would only cost a round trip.
        engine = create_async_engine(database_url, echo=echo, **pool)
        configure_sqlite(
            engine.sync_engine,
            busy_timeout_seconds=options.pool_timeout_seconds,
            foreign_keys=options.foreign_keys,
        )
    else:
        server_settings = {"application_name": "{{ cookiecutter.project_slug }}"}
        if options.statement_timeout_seconds:
            server_settings["statement_timeout"] = str(
                int(options.statement_timeout_seconds * 1000)
            )
        engine = create_async_engine(
            database_url,
            echo=echo,
            pool_pre_ping=options.pool_pre_ping,
            connect_args={
                "server_settings": server_settings,
                "timeout": options.connect_timeout_seconds,
            },
            **pool,
        )
    event.listen(engine.sync_engine, "do_connect", connect_or_raise_unavailable)
    event.listen(engine.sync_engine, "before_execute", note_write)
    event.listen(engine.sync_engine, "handle_error", raise_unavailable)
    return engine


def connect_or_raise_unavailable(
    dialect: Dialect, record: Any, cargs: tuple[Any, ...], cparams: dict[str, Any]
) -> Any:
    """Open a connection; failing to (refused, timed out, server starting) is an outage.

    Some drivers (asyncpg) raise their own errors here, which SQLAlchemy passes on unwrapped.
    """
    try:
        return dialect.connect(*cargs, **cparams)
    except Exception as error:
        raise DatabaseUnavailableError(reason="unreachable") from error


# SQLSTATEs of a database that is there but cannot serve now: query cancelled (statement
# timeout), lock timeout, too many connections, shutting down or starting up.
UNAVAILABLE_SQLSTATES = {"57014": "statement_timeout", "55P03": "lock_timeout"}
UNAVAILABLE_SQLSTATE_CLASSES = {"53": "insufficient_resources", "57": "shutting_down"}


def unavailable_reason(context: ExceptionContext) -> str | None:
    """Why the database cannot serve right now, or None when the error is the query's own."""
    error = context.original_exception
    if context.is_disconnect:
        return "disconnected"
    if context.connection is None:
        # No connection yet: refused, timed out, or the server is starting or shutting down.
        return "unreachable"
    sqlstate = getattr(error, "sqlstate", None) or getattr(error, "pgcode", None)
    if isinstance(sqlstate, str):
        return UNAVAILABLE_SQLSTATES.get(sqlstate) or UNAVAILABLE_SQLSTATE_CLASSES.get(sqlstate[:2])
    if "database is locked" in str(error):
        return "locked"
    return None


def raise_unavailable(context: ExceptionContext) -> None:
    """Turn an outage into a 503 with Retry-After; let every other database error through."""
    if context.is_pre_ping:
        return  # the pool handles it: it reconnects
    reason = unavailable_reason(context)
    if reason is not None:
        retry_after = 5 if reason in ("disconnected", "unreachable", "shutting_down") else 1
        raise DatabaseUnavailableError(reason=reason, retry_after_seconds=retry_after)


class Writes:
    """Whether a session's transaction wrote anything; its connection's statements tell it."""

    __slots__ = ("seen",)

    def __init__(self) -> None:
        self.seen = False


_WRITES = "writes"


class TrackedSession(Session):
    """A session that knows whether it has anything to commit (`has_writes`)."""


@event.listens_for(TrackedSession, "after_begin")
def track_writes(session: Session, transaction: SessionTransaction, connection: Connection) -> None:
    # Also called for a savepoint: it shares the writes of the transaction it is part of.
    writes = session.info.setdefault(_WRITES, Writes())
    connection.info[_WRITES] = writes


@event.listens_for(TrackedSession, "after_transaction_end")
def forget_writes(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_WRITES, None)


def note_write(connection: Connection, statement: Any, *args: Any) -> None:
    """Any statement but a SELECT writes: ORM flushes, Core DML, text and driver SQL alike."""
    if not getattr(statement, "is_select", False):
        writes: Writes | None = connection.info.get(_WRITES)
        if writes is not None:
            writes.seen = True


def has_writes(session: AsyncSession) -> bool:
    """Whether a commit would change anything: changes not flushed yet, or statements that wrote."""
    if not isinstance(session.sync_session, TrackedSession):
        return True  # nothing tracks what it did
    if session.new or session.dirty or session.deleted:
        return True
    writes: Writes | None = session.info.get(_WRITES)
    return writes is not None and writes.seen


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


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request: committed when the route returns, rolled back when it raises.

    A session that only read is closed instead: a commit would change nothing, and the reads
    that most requests are would pay for its work.
    """
    sessionmaker: async_sessionmaker[AsyncSession] = request.app.state.sessionmaker
    async with sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        if has_writes(session):
            await session.commit()


# scope="function" commits before the response is sent, so a failed commit is a 500, not a lie.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]
