from collections.abc import Callable, Mapping
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from {{ cookiecutter.package_name }}.auth.service import RecordedClient
from {{ cookiecutter.package_name }}.auth.throttling import client_address
from {{ cookiecutter.package_name }}.core.config import API_PREFIX
from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.core.errors import UnauthorizedError
from {{ cookiecutter.package_name }}.core.security import (
    AccessToken,
    InvalidTokenError,
    TokenKeys,
    decode_access_token,
)
from {{ cookiecutter.package_name }}.observability import bind_user
from {{ cookiecutter.package_name }}.users import service as users_service
from {{ cookiecutter.package_name }}.users.models import User

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl=f"{API_PREFIX}/auth/login", refreshUrl=f"{API_PREFIX}/auth/refresh", auto_error=False
)

# The Sentry middleware verifies the bearer token before the route does; the verified token is
# kept in the request's context, so that its signature is checked once per request.
_verified: ContextVar[tuple[str, AccessToken] | None] = ContextVar("verified", default=None)


def _verified_token(token: str, keys: TokenKeys) -> AccessToken:
    known = _verified.get()
    if known is not None and known[0] == token and known[1].expires_at > datetime.now(UTC):
        return known[1]
    verified = decode_access_token(token, keys=keys)
    _verified.set((token, verified))
    return verified


async def get_current_user(
    settings: SettingsDep,
    session: SessionDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    if token is None:
        raise UnauthorizedError("Not authenticated")
    try:
        verified = _verified_token(token, settings.token_keys())
    except InvalidTokenError:
        raise UnauthorizedError() from None
    # One query: the revocation time comes with the user.
    user = await users_service.get_active(session=session, user_id=verified.user_id)
    # Unverified accounts never sign in; a token issued to one before that rule is refused too.
    if user is None or not user.email_verified:
        raise UnauthorizedError()
    if user.tokens_valid_after is not None and verified.issued_at < user.tokens_valid_after:
        raise UnauthorizedError("The token was revoked; log in again")
    bind_user(user_id=user.id, username=user.username, email=user.email, plan=user.plan.value)
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


async def get_user_without_connection(user: CurrentUser, session: SessionDep) -> User:
    """The signed-in user, with the request's session ended, so that it holds no connection."""
    await session.commit()
    return user


# For routes that call a remote service: the lookup of the user must not keep a connection
# (on PostgreSQL, one idle in a transaction) while the remote service takes its time.
UserWithoutConnection = Annotated[User, Depends(get_user_without_connection)]


def token_user_id(keys: TokenKeys) -> Callable[[Mapping[str, str]], int | None]:
    """For the Sentry middleware: the user id of a bearer token that verifies, else None."""

    def identify(headers: Mapping[str, str]) -> int | None:
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            return _verified_token(token, keys).user_id
        except InvalidTokenError:
            return None

    return identify


async def get_recorded_client(request: Request) -> RecordedClient:
    """Who a refresh token is issued to, kept with it for the user and for investigations."""
    address = client_address(request)
    user_agent = request.headers.get("user-agent")
    return RecordedClient(
        address=None if address == "unknown" else address,
        user_agent=user_agent[:200] if user_agent else None,
    )


RecordedClientDep = Annotated[RecordedClient, Depends(get_recorded_client)]
