"""Whether a session wrote anything, so that a request that only read needs no commit."""

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Session, SessionTransaction


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
