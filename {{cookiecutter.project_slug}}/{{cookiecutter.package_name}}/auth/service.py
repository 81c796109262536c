"""Log-in, refresh-token rotation, log-out, password change and reset, email verification."""

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession

from {{ cookiecutter.package_name }}.auth import emails, repository
from {{ cookiecutter.package_name }}.auth.models import RefreshToken
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.db import utcnow
from {{ cookiecutter.package_name }}.core.errors import AppError, UnauthorizedError
from {{ cookiecutter.package_name }}.core.security import (
    InvalidTokenError,
    create_access_token,
    create_email_verification_token,
    create_password_reset_token,
    decode_email_verification_token,
    decode_password_reset_token,
    hash_password,
    hash_refresh_token,
    new_refresh_token,
    password_fingerprint,
    truncate_to_milliseconds,
    verify_password,
)
from {{ cookiecutter.package_name }}.core.security_events import report_security_event
from {{ cookiecutter.package_name }}.emails.outbox import EmailOutbox
from {{ cookiecutter.package_name }}.emails.recipients import MailBudget
from {{ cookiecutter.package_name }}.observability import bind_user
from {{ cookiecutter.package_name }}.users import repository as users_repository
from {{ cookiecutter.package_name }}.users import service as users_service
from {{ cookiecutter.package_name }}.users.models import User

INVALID_REFRESH_TOKEN = "Invalid or expired refresh token"  # noqa: S105 - a message
# Of a verification or reset link.
INVALID_LINK = "This link is invalid, has expired or was already used"
NOT_THE_ACCOUNT_CREATOR = (
    "This is not the password the account was created with; if you did not create it, "
    "ask for a password reset for this address to make the account yours"
)
WRONG_CURRENT_PASSWORD = "The current password is incorrect"  # noqa: S105 - a message
INCORRECT_CREDENTIALS = "Incorrect email or password"


class RecordedClient(NamedTuple):
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
    recorded_client: RecordedClient,
    family_id: str | None = None,
) -> TokenPair:
    """A short-lived access token and a refresh token, of a new family unless one is given."""
    refresh_token = new_refresh_token()
    stored = RefreshToken(
        user_id=user.id,
        family_id=family_id or uuid.uuid4().hex,
        token_hash=hash_refresh_token(refresh_token),
        expires_at=utcnow() + timedelta(days=settings.refresh_token_expire_days),
        user_agent=recorded_client.user_agent,
        ip_address=recorded_client.address,
    )
    await repository.add(session, stored)
    expires_in = timedelta(minutes=settings.access_token_expire_minutes)
    access_token = create_access_token(
        subject=user.id, keys=settings.token_keys(), expires_in=expires_in
    )
    return TokenPair(access_token, refresh_token, int(expires_in.total_seconds()))


async def log_in(
    *,
    session: AsyncSession,
    settings: Settings,
    email: str,
    password: str,
    recorded_client: RecordedClient,
) -> TokenPair:
    """Unknown emails, wrong passwords and unverified addresses fail alike, in the same time.

    An unverified account never signs in: its address may be someone else's, and the owner
    wins it by verifying it or by a password reset. Answering as a wrong password does also
    tells a stranger nothing about whether the address has an account.
    """
    user = await users_repository.get_by_email(session, email)
    password_ok = await verify_password(password, user.hashed_password if user else None)
    if user is None or not password_ok or not user.is_active or not user.email_verified:
        raise UnauthorizedError(INCORRECT_CREDENTIALS)
    return await _issue(
        session=session, settings=settings, user=user, recorded_client=recorded_client
    )


async def refresh(
    *,
    session: AsyncSession,
    settings: Settings,
    refresh_token: str,
    recorded_client: RecordedClient,
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
    if user is None or not user.email_verified:
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
            presented_by_user_agent=recorded_client.user_agent,
        )
        raise UnauthorizedError(INVALID_REFRESH_TOKEN)
    return await _issue(
        session=session,
        settings=settings,
        user=user,
        recorded_client=recorded_client,
        family_id=stored.family_id,
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
    recorded_client: RecordedClient,
) -> TokenPair:
    """Set a new password, sign every session out, and return a pair for this one."""
    if not await verify_password(current_password, user.hashed_password):
        raise AppError(WRONG_CURRENT_PASSWORD)
    user.hashed_password = await hash_password(new_password)
    await log_out_everywhere(session=session, user=user)
    return await _issue(
        session=session, settings=settings, user=user, recorded_client=recorded_client
    )


def _frontend_link(settings: Settings, page: str, token: str) -> str:
    """A link to a page of the frontend that carries a token for it."""
    return f"{settings.frontend_url.rstrip('/')}/{page}?token={token}"


@contextmanager
def _invalid_token_as_invalid_link() -> Iterator[None]:
    """A link whose token does not verify is answered as any link that no longer works."""
    try:
        yield
    except InvalidTokenError:
        raise AppError(INVALID_LINK) from None


def verification_link(*, settings: Settings, user: User) -> str:
    token = create_email_verification_token(
        user_id=user.id,
        email=user.email,
        keys=settings.token_keys(),
        expires_in=timedelta(hours=settings.email_verification_expire_hours),
    )
    return _frontend_link(settings, "verify-email", token)


async def verify_email(
    *, session: AsyncSession, settings: Settings, token: str, password: str
) -> None:
    """Mark the address verified; a link works once, for the address it was sent to.

    Only with the account's password: the link proves the inbox, the password that whoever
    reads it created the account. Else a stranger who signed up with someone's address would
    get a verified account once its owner followed the link; the owner takes it by a reset.
    """
    with _invalid_token_as_invalid_link():
        user_id, email = decode_email_verification_token(token, keys=settings.token_keys())
    user = await users_repository.get_by_id(session, user_id)
    if user is None or user.email != email or user.email_verified_at is not None:
        raise AppError(INVALID_LINK)
    if not await verify_password(password, user.hashed_password):
        raise AppError(NOT_THE_ACCOUNT_CREATOR)
    user.email_verified_at = utcnow()


def password_reset_link(*, settings: Settings, user: User) -> str:
    token = create_password_reset_token(
        user_id=user.id,
        email=user.email,
        hashed_password=user.hashed_password,
        keys=settings.token_keys(),
        expires_in=timedelta(minutes=settings.password_reset_expire_minutes),
    )
    return _frontend_link(settings, "reset-password", token)


async def reset_password(
    *, session: AsyncSession, settings: Settings, token: str, new_password: str
) -> User:
    """Set a new password with the token of a reset link; the link then never works again.

    The link proved the address, so it is verified. Every session ends. An unverified account
    is taken over by whoever reads the inbox: if a stranger created it, they lose it (its
    username is replaced too, as they chose it) and the event is reported.
    """
    with _invalid_token_as_invalid_link():
        reset = decode_password_reset_token(token, keys=settings.token_keys())
    user = await users_repository.get_by_id(session, reset.user_id)
    if (
        user is None
        or not user.is_active
        or user.email != reset.email
        or password_fingerprint(user.hashed_password) != reset.password_fingerprint
    ):
        raise AppError(INVALID_LINK)
    old_hash = user.hashed_password
    new_hash = await hash_password(new_password)
    # Conditional: of two requests with one link, only the first sets a password.
    if not await users_repository.replace_password(
        session, user.id, old_hash=old_hash, new_hash=new_hash
    ):
        raise AppError(INVALID_LINK)
    user.hashed_password = new_hash
    if not user.email_verified:
        user.username = f"user#{user.id}"  # a form no sign-up can choose
        bind_user(user_id=user.id, username=user.username, plan=user.plan.value)
        report_security_event(
            "unverified_account_claimed",
            message="An unverified account was taken over by its address's owner",
        )
    user.email_verified_at = user.email_verified_at or utcnow()
    await log_out_everywhere(session=session, user=user)
    return user


class AccountEmail(StrEnum):
    """An email anyone may ask for by address alone."""

    PASSWORD_RESET = "password_reset"  # noqa: S105 - a name
    VERIFICATION = "verification"


async def send_account_email(
    kind: AccountEmail,
    *,
    session: AsyncSession,
    settings: Settings,
    email: str,
    outbox: EmailOutbox,
) -> None:
    """Mail a reset link, or a new verification link, to the account that holds the address.

    Nothing for an address without an active account, nor a verification link to one already
    verified. Runs {% if cookiecutter.task_queue == "celery" %}in the worker{% else %}after the response{% endif %}: the request did the same work for any address.
    """
    user = await users_service.get_active_by_email(session=session, email=email)
    if user is None:
        return
    if kind is AccountEmail.PASSWORD_RESET:
        link = password_reset_link(settings=settings, user=user)
        message = emails.password_reset(settings=settings, to=user.email, reset_link=link)
        await outbox.put(message, budget=MailBudget.PASSWORD_RESET)
    elif not user.email_verified:
        link = verification_link(settings=settings, user=user)
        message = emails.verification(settings=settings, to=user.email, verification_link=link)
        await outbox.put(message, budget=MailBudget.VERIFICATION)
