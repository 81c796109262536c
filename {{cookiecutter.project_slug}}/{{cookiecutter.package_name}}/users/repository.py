from datetime import datetime
from typing import Any, cast

from sqlalchemy import CursorResult, bindparam, delete, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.users.models import User

# Built once: the statement remembers its cache key, which `session.get` works out on every call.
_BY_ID = select(User).where(User.id == bindparam("user_id"))


async def get_by_id(session: AsyncSession, user_id: int) -> User | None:
    return await session.scalar(_BY_ID, {"user_id": user_id})


async def get_by_email(session: AsyncSession, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email.lower()))


async def exists_with_username(session: AsyncSession, username: str) -> bool:
    query = select(User.id).where(User.username == username)
    return await session.scalar(query.limit(1)) is not None


async def add(session: AsyncSession, user: User) -> User:
    session.add(user)
    await session.flush()
    return user


async def replace_password(
    session: AsyncSession, user_id: int, *, old_hash: str, new_hash: str
) -> bool:
    """Set a new password hash unless the password changed meanwhile; True when this one did."""
    result = await session.execute(
        update(User)
        .where(User.id == user_id, User.hashed_password == old_hash)
        .values(hashed_password=new_hash)
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", result).rowcount == 1


async def unverified_ids_created_before(
    session: AsyncSession, cutoff: datetime, *, limit: int
) -> list[int]:
    query = (
        select(User.id)
        .where(User.email_verified_at.is_(None), User.created_at < cutoff)
        .order_by(User.id)
        .limit(limit)
    )
    return list(await session.scalars(query))


async def delete_unverified(session: AsyncSession, user_ids: list[int]) -> int:
    """Delete these users unless verified since they were picked; returns how many."""
    result = await session.execute(
        delete(User)
        .where(User.id.in_(user_ids), User.email_verified_at.is_(None))
        .execution_options(synchronize_session=False)
    )
    return cast("CursorResult[Any]", result).rowcount
