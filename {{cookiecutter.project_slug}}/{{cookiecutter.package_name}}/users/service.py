from datetime import timedelta
from typing import NamedTuple

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from {{ cookiecutter.package_name }}.core.db import utcnow
from {{ cookiecutter.package_name }}.core.errors import ConflictError
from {{ cookiecutter.package_name }}.core.security import hash_password
from {{ cookiecutter.package_name }}.users import repository
from {{ cookiecutter.package_name }}.users.models import User
from {{ cookiecutter.package_name }}.users.schemas import UserCreate

USERNAME_TAKEN = "This username is taken"
# Unverified accounts removed per transaction; a longer backlog takes several.
EXPIRY_BATCH_SIZE = 500


class Registration(NamedTuple):
    """The account that holds the address: the new one, or the one that held it already."""

    user: User
    created: bool


async def register(*, session: AsyncSession, data: UserCreate) -> Registration:
    """Create a user on the free plan, unless the email is already registered.

    The plan is never taken from the client. The password is hashed either way, so a taken
    email answers in the same time as a free one, and first: a request waiting for its turn to
    hash holds no database connection.
    """
    hashed_password = await hash_password(data.password)
    if await repository.exists_with_username(session, data.username):
        raise ConflictError(USERNAME_TAKEN)
    existing = await repository.get_by_email(session, data.email)
    if existing is not None:
        return Registration(existing, created=False)
    user = User(email=data.email.lower(), username=data.username, hashed_password=hashed_password)
    try:
        async with session.begin_nested():
            return Registration(await repository.add(session, user), created=True)
    except IntegrityError:
        # Another sign-up took the email or the username since the checks above.
        existing = await repository.get_by_email(session, data.email)
        if existing is None:
            raise ConflictError(USERNAME_TAKEN) from None
        return Registration(existing, created=False)


async def get_active(*, session: AsyncSession, user_id: int) -> User | None:
    user = await repository.get_by_id(session, user_id)
    return user if user is not None and user.is_active else None


async def get_active_by_email(*, session: AsyncSession, email: str) -> User | None:
    user = await repository.get_by_email(session, email)
    return user if user is not None and user.is_active else None


async def remove_expired_unverified(
    *, transactions: async_sessionmaker[AsyncSession], max_age: timedelta
) -> int:
    """Delete accounts whose address was not verified within `max_age`; returns how many.

    Their address is free again: whoever owns it can sign up. Short transactions, one batch each.
    """
    removed = 0
    while True:
        async with transactions() as session, session.begin():
            user_ids = await repository.unverified_ids_created_before(
                session, utcnow() - max_age, limit=EXPIRY_BATCH_SIZE
            )
            if user_ids:
                removed += await repository.delete_unverified(session, user_ids)
        if len(user_ids) < EXPIRY_BATCH_SIZE:
            return removed
