from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import ConflictError
from {{ cookiecutter.package_name }}.core.security import hash_password
from {{ cookiecutter.package_name }}.users import repository
from {{ cookiecutter.package_name }}.users.models import User
from {{ cookiecutter.package_name }}.users.schemas import UserCreate

USERNAME_TAKEN = "This username is taken"


async def register(*, session: AsyncSession, data: UserCreate) -> User | None:
    """Create a user on the free plan, or return None when the email is already registered.

    The plan is never taken from the client. The password is hashed either way, so a taken
    email answers in the same time as a free one, and first: a request waiting for its turn to
    hash holds no database connection.
    """
    hashed_password = await hash_password(data.password)
    if await repository.exists_with_username(session, data.username):
        raise ConflictError(USERNAME_TAKEN)
    if await repository.get_by_email(session, data.email) is not None:
        return None
    user = User(email=data.email.lower(), username=data.username, hashed_password=hashed_password)
    try:
        async with session.begin_nested():
            return await repository.add(session, user)
    except IntegrityError:
        # Another sign-up took the email or the username since the checks above.
        if await repository.exists_with_username(session, data.username):
            raise ConflictError(USERNAME_TAKEN) from None
        return None


async def get_active(*, session: AsyncSession, user_id: int) -> User | None:
    user = await repository.get_by_id(session, user_id)
    return user if user is not None and user.is_active else None
