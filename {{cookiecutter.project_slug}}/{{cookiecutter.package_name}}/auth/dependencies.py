from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends
from fastapi.security import OAuth2PasswordBearer

from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.core.errors import UnauthorizedError
from {{ cookiecutter.package_name }}.core.security import (
    AccessToken,
    InvalidTokenError,
    decode_access_token,
)
from {{ cookiecutter.package_name }}.observability import bind_user
from {{ cookiecutter.package_name }}.users import service as users_service
from {{ cookiecutter.package_name }}.users.models import User

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/login", auto_error=False)

# The Sentry middleware verifies the bearer token before the route does; the verified token is
# kept in the request's context, so that its signature is checked once per request.
_verified: ContextVar[tuple[str, AccessToken] | None] = ContextVar("verified", default=None)


def _verified_user_id(token: str, secret_key: str) -> int:
    known = _verified.get()
    if known is not None and known[0] == token and known[1].expires_at > datetime.now(UTC):
        return known[1].user_id
    verified = decode_access_token(token, secret_key=secret_key)
    _verified.set((token, verified))
    return verified.user_id


async def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    if token is None:
        raise UnauthorizedError("Not authenticated")
    try:
        user_id = _verified_user_id(token, settings.secret_key.get_secret_value())
    except InvalidTokenError:
        raise UnauthorizedError() from None
    user = await users_service.get_active(session=session, user_id=user_id)
    if user is None:
        raise UnauthorizedError()
    bind_user(user_id=user.id, username=user.username, email=user.email, plan=user.plan.value)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def token_user_id(secret_key: str) -> Callable[[Mapping[str, str]], int | None]:
    """For the Sentry middleware: the user id of a bearer token that verifies, else None."""

    def identify(headers: Mapping[str, str]) -> int | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return _verified_user_id(token, secret_key)
        except InvalidTokenError:
            return None

    return identify
