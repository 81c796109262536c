from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.errors import ConflictError
from {{ cookiecutter.package_name }}.core.security import hash_password
from {{ cookiecutter.package_name }}.users import repository
from {{ cookiecutter.package_name }}.users.models import User
from {{ cookiecutter.package_name }}.users.schemas import UserCreate


async def register(*, session: AsyncSession, data: UserCreate) -> User:
    """Create a user on the free plan; the plan is never taken from the client."""
    if await repository.exists_with_email_or_username(
        session, email=data.email, username=data.username
    ):
        raise ConflictError("A user with this email or username already exists")
    user = User(
        email=data.email.lower(),
        username=data.username,
        hashed_password=hash_password(data.password),
    )
    return await repository.add(session, user)


async def get_active(*, session: AsyncSession, user_id: int) -> User | None:
    user = await repository.get_by_id(session, user_id)
    return user if user is not None and user.is_active else None
