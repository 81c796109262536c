from sqlalchemy import bindparam, select
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
