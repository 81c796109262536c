"""Log-in, refresh-token rotation, log-out, password change and email verification."""

import uuid
from datetime import timedelta
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.auth import repository
from {{ cookiecutter.package_name }}.auth.models import RefreshToken
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.db import utcnow
from {{ cookiecutter.package_name }}.core.errors import AppError, UnauthorizedError
from {{ cookiecutter.package_name }}.core.security import (
    InvalidTokenError,
    create_access_token,
    create_email_verification_token,
    decode_email_verification_token,
    hash_password,
    hash_refresh_token,
    new_refresh_token,
    truncate_to_milliseconds,
    verify_password,
)
from {{ cookiecutter.package_name }}.core.security_events import report_security_event
from {{ cookiecutter.package_name }}.observability import bind_user
from {{ cookiecutter.package_name }}.users import repository as users_repository
from {{ cookiecutter.package_name }}.users import service as users_service
from {{ cookiecutter.package_name }}.users.models import User

INVALID_REFRESH_TOKEN = "Invalid or expired refresh token"  # noqa: S105 - a message
INVALID_VERIFICATION_LINK = "This link is invalid, has expired or was already used"
WRONG_CURRENT_PASSWORD = "The current password is incorrect"  # noqa: S105 - a message


class Client(NamedTuple):
    """The client a refresh token is issued to, as recorded; never used to decide anything."""

    address: str | None
    user_agent: str | None


class TokenPair(NamedTuple):
    access_token: str
    refresh_token: str
    expires_in: int


async def _issue(
    *,
    session: AsyncSession,
    settings: Settings,
    user: User,
    client: Client,
    family_id: str | None = None,
) -> TokenPair:
    """A short-lived access token and a refresh token, of a new family unless one is given."""
    refresh_token = new_refresh_token()
    stored = RefreshToken(
        user_id=user.id,
        family_id=family_id or uuid.uuid4().hex,
        token_hash=hash_refresh_token(refresh_token),
        expires_at=utcnow() + timedelta(days=settings.refresh_token_expire_days),
        user_agent=client.user_agent,
        ip_address=client.address,
    )
    await repository.add(session, stored)
    expires_in = timedelta(minutes=settings.access_token_expire_minutes)
    access_token = create_access_token(
        subject=user.id, keys=settings.token_keys(), expires_in=expires_in
    )
    return TokenPair(access_token, refresh_token, int(expires_in.total_seconds()))


async def log_in(
    *, session: AsyncSession, settings: Settings, email: str, password: str, client: Client
) -> TokenPair:
    """Unknown emails and wrong passwords fail alike, in the same time."""
    user = await users_repository.get_by_email(session, email)
    password_ok = await verify_password(password, user.hashed_password if user else None)
    if user is None or not password_ok or not user.is_active:
        raise UnauthorizedError("Incorrect email or password")
    return await _issue(session=session, settings=settings, user=user, client=client)


async def refresh(
    *, session: AsyncSession, settings: Settings, refresh_token: str, client: Client
) -> TokenPair:
    """Exchange a refresh token for a new pair; the old one is retired.

    A retired token presented again means two parties hold it, one of them a thief: the
    whole family is revoked, so both must log in again, and the event is reported.
    """
    now = utcnow()
    stored = await repository.get_by_hash(session, hash_refresh_token(refresh_token))
    if stored is None or stored.revoked_at is not None or stored.expires_at <= now:
        raise UnauthorizedError(INVALID_REFRESH_TOKEN)
    user = await users_service.get_active(session=session, user_id=stored.user_id)
    if user is None:
        raise UnauthorizedError(INVALID_REFRESH_TOKEN)
    if stored.used_at is not None or not await repository.mark_used(session, stored.id, at=now):
        await repository.revoke_family(session, stored.family_id, at=now)
        # Kept although the request fails: the session is rolled back when a route raises.
        await session.commit()
        bind_user(user_id=user.id, username=user.username, plan=user.plan.value)
        report_security_event(
            "refresh_token_reuse",
            message="A retired refresh token was presented again; its family is revoked",
            refresh_token_id=stored.id,
            issued_to_user_agent=stored.user_agent,
            presented_by_user_agent=client.user_agent,
        )
        raise UnauthorizedError(INVALID_REFRESH_TOKEN)
    return await _issue(
        session=session, settings=settings, user=user, client=client, family_id=stored.family_id
    )


async def log_out(*, session: AsyncSession, refresh_token: str) -> None:
    """Revoke the family of a refresh token; an unknown token is no error."""
    stored = await repository.get_by_hash(session, hash_refresh_token(refresh_token))
    if stored is not None:
        await repository.revoke_family(session, stored.family_id, at=utcnow())


def _revoke_access_tokens(user: User) -> None:
    # Milliseconds, as access tokens record their issue time: the next one issued is valid.
    user.tokens_valid_after = truncate_to_milliseconds(utcnow())


async def log_out_everywhere(*, session: AsyncSession, user: User) -> None:
    """Revoke every refresh token of the user and every access token issued until now."""
    _revoke_access_tokens(user)
    await repository.revoke_all_of_user(session, user.id, at=utcnow())


async def change_password(
    *,
    session: AsyncSession,
    settings: Settings,
    user: User,
    current_password: str,
    new_password: str,
    client: Client,
) -> TokenPair:
    """Set a new password, sign every session out, and return a pair for this one."""
    if not await verify_password(current_password, user.hashed_password):
        raise AppError(WRONG_CURRENT_PASSWORD)
    user.hashed_password = await hash_password(new_password)
    await log_out_everywhere(session=session, user=user)
    return await _issue(session=session, settings=settings, user=user, client=client)


def verification_link(*, settings: Settings, user: User) -> str:
    token = create_email_verification_token(
        user_id=user.id,
        email=user.email,
        keys=settings.token_keys(),
        expires_in=timedelta(hours=settings.email_verification_expire_hours),
    )
    return f"{settings.frontend_url.rstrip('/')}/verify-email?token={token}"


async def verify_email(*, session: AsyncSession, settings: Settings, token: str) -> None:
    """Mark the address verified; a link works once, for the address it was sent to."""
    try:
        user_id, email = decode_email_verification_token(token, keys=settings.token_keys())
    except InvalidTokenError:
        raise AppError(INVALID_VERIFICATION_LINK) from None
    user = await users_repository.get_by_id(session, user_id)
    if user is None or user.email != email or user.email_verified_at is not None:
        raise AppError(INVALID_VERIFICATION_LINK)
    user.email_verified_at = utcnow()
