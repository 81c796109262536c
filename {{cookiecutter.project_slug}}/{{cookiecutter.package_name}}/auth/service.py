from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.errors import UnauthorizedError
from {{ cookiecutter.package_name }}.core.security import create_access_token, verify_password
from {{ cookiecutter.package_name }}.users import repository as users_repository


async def log_in(*, session: AsyncSession, settings: Settings, email: str, password: str) -> str:
    """Return an access token; unknown emails and wrong passwords fail alike, in the same time."""
    user = await users_repository.get_by_email(session, email)
    password_ok = await verify_password(password, user.hashed_password if user else None)
    if user is None or not password_ok or not user.is_active:
        raise UnauthorizedError("Incorrect email or password")
    return create_access_token(
        subject=user.id,
        secret_key=settings.secret_key.get_secret_value(),
        expires_in=timedelta(minutes=settings.access_token_expire_minutes),
    )
