from typing import Annotated, Any

from fastapi import APIRouter, Form, Response, status

from {{ cookiecutter.package_name }}.auth import emails, service
from {{ cookiecutter.package_name }}.auth.account_emails import AccountEmailsDep
from {{ cookiecutter.package_name }}.auth.dependencies import CurrentUser, RecordedClientDep
from {{ cookiecutter.package_name }}.auth.schemas import (
    EmailVerification,
    EmailVerified,
    LoginForm,
    PasswordChange,
    PasswordReset,
    PasswordResetRequest,
    PasswordResetSent,
    PasswordWasReset,
    RefreshRequest,
    RegistrationAccepted,
    Token,
    VerificationRequest,
    VerificationSent,
)
from {{ cookiecutter.package_name }}.auth.service import AccountEmail
from {{ cookiecutter.package_name }}.auth.throttling import (
    AuthThrottle,
    AuthThrottleDep,
    ClientAddressDep,
    EmailThrottleDep,
)
from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.core.errors import (
    BODY_ERRORS,
    BODY_TOO_LARGE,
    TooManyRequestsError,
    error_response,
)
from {{ cookiecutter.package_name }}.core.security import hash_refresh_token
from {{ cookiecutter.package_name }}.core.security_events import report_security_event
from {{ cookiecutter.package_name }}.emails.outbox import EmailOutboxDep
from {{ cookiecutter.package_name }}.emails.recipients import MailBudget
from {{ cookiecutter.package_name }}.users import service as users_service
from {{ cookiecutter.package_name }}.users.schemas import UserCreate

router = APIRouter(prefix="/auth", tags=["auth"])

THROTTLED = error_response(status.HTTP_429_TOO_MANY_REQUESTS, "Too many attempts; try again later")
UNAUTHENTICATED = error_response(status.HTTP_401_UNAUTHORIZED, "Missing or invalid bearer token")
INVALID_REFRESH = error_response(status.HTTP_401_UNAUTHORIZED, service.INVALID_REFRESH_TOKEN)
# The database{% if cookiecutter.task_queue == "celery" %} or the task queue{% endif %} is down, or the process is saturated.
{%- if cookiecutter.task_queue == "celery" %}
UNAVAILABLE = error_response(
    status.HTTP_503_SERVICE_UNAVAILABLE, "The service or its task queue is unavailable"
)
{%- else %}
UNAVAILABLE = error_response(status.HTTP_503_SERVICE_UNAVAILABLE, "The service is unavailable")
{%- endif %}


def token_links(*, check_out: bool) -> dict[str, Any]:
    """OpenAPI links from a token response to what its tokens open."""
    refresh_body = {"refresh_token": "$response.body#/refresh_token"}
    links: dict[str, Any] = {
        "Refresh": {"operationId": "refresh", "requestBody": refresh_body},
        "LogOut": {"operationId": "log_out", "requestBody": refresh_body},
        "ReadMe": {
            "operationId": "read_me",
            "parameters": {"header.Authorization": "Bearer {$response.body#/access_token}"},
        },
    }
    if check_out:
        links["CheckOut"] = {
            "operationId": "check_out",
            "parameters": {"header.Authorization": "Bearer {$response.body#/access_token}"},
        }
    return {"links": links}


async def count_for_address(
    throttle: AuthThrottle, action: str, *, client_address: str, email: str
) -> None:
    """Throttle an attempt that mails an address; a flood is abuse worth a look in Sentry."""
    try:
        await throttle.hit(action, client_address=client_address, account=email)
    except TooManyRequestsError:
        report_security_event(
            f"{action}_throttled",
            message=f"Too many {action} attempts for one address or from one client",
        )
        raise


def token_response(pair: service.TokenPair) -> Token:
    return Token(
        access_token=pair.access_token,
        expires_in=pair.expires_in,
        refresh_token=pair.refresh_token,
    )


@router.post(
    "/register",
    response_model=RegistrationAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        status.HTTP_202_ACCEPTED: {
            "links": {
                "LogIn": {
                    "operationId": "login",
                    "requestBody": {
                        "username": "$request.body#/email",
                        "password": "$request.body#/password",
                    },
                }
            }
        },
        **error_response(status.HTTP_409_CONFLICT, "This username is taken"),
        **BODY_ERRORS,
        **THROTTLED,
        **UNAVAILABLE,
    },
)
async def register(
    data: UserCreate,
    session: SessionDep,
    settings: SettingsDep,
    throttle: AuthThrottleDep,
    client_address: ClientAddressDep,
    outbox: EmailOutboxDep,
) -> RegistrationAccepted:
    """Sign up on the free plan; a link to verify the address is sent to it.

    The same answer whether or not the address has an account. The account signs in once
    the address is verified; unverified, it is removed after UNVERIFIED_ACCOUNT_EXPIRE_HOURS.
    """
    await count_for_address(throttle, "sign_up", client_address=client_address, email=data.email)
    user, created = await users_service.register(session=session, data=data)
    if created:
        link = service.verification_link(settings=settings, user=user)
        message = emails.welcome(settings=settings, to=user.email, verification_link=link)
    elif user.email_verified:
        link = service.password_reset_link(settings=settings, user=user)
        message = emails.already_registered(settings=settings, to=user.email, reset_link=link)
    else:
        # The account may be a stranger's: the owner of the address can take it with this link.
        link = service.password_reset_link(settings=settings, user=user)
        message = emails.claim_address(settings=settings, to=user.email, reset_link=link)
{%- if cookiecutter.task_queue == "celery" %}
    # Committed before the broker is called, so that no transaction waits on it.
    await session.commit()
{%- endif %}
    await outbox.put(message, budget=MailBudget.SIGN_UP)
    return RegistrationAccepted()


@router.post(
    "/login",
    response_model=Token,
    responses={
        status.HTTP_200_OK: token_links(check_out=True),
        **error_response(status.HTTP_401_UNAUTHORIZED, service.INCORRECT_CREDENTIALS),
        **BODY_ERRORS,
        **THROTTLED,
        **UNAVAILABLE,
    },
)
async def login(
    form: Annotated[LoginForm, Form()],
    session: SessionDep,
    settings: SettingsDep,
    throttle: AuthThrottleDep,
    recorded_client: RecordedClientDep,
    client_address: ClientAddressDep,
) -> Token:
    """Exchange an email and password for an access token and a refresh token."""
    async with throttle.log_in_attempt(
        "login", client_address=client_address, account=form.username
    ):
        pair = await service.log_in(
            session=session,
            settings=settings,
            email=form.username,
            password=form.password,
            recorded_client=recorded_client,
        )
    return token_response(pair)


@router.post(
    "/refresh",
    response_model=Token,
    responses={
        status.HTTP_200_OK: token_links(check_out=False),
        **INVALID_REFRESH,
        **BODY_ERRORS,
        **THROTTLED,
        **UNAVAILABLE,
    },
)
async def refresh(
    data: RefreshRequest,
    session: SessionDep,
    settings: SettingsDep,
    throttle: AuthThrottleDep,
    recorded_client: RecordedClientDep,
    client_address: ClientAddressDep,
) -> Token:
    """Exchange a refresh token for a new pair; the one presented can never be used again."""
    await throttle.hit(
        "refresh", client_address=client_address, account=hash_refresh_token(data.refresh_token)
    )
    pair = await service.refresh(
        session=session,
        settings=settings,
        refresh_token=data.refresh_token,
        recorded_client=recorded_client,
    )
    return token_response(pair)


@router.post(
    "/logout",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**BODY_ERRORS, **UNAVAILABLE},
)
async def log_out(data: RefreshRequest, session: SessionDep) -> None:
    """Log out this session: its refresh token, and those it was rotated from, stop working."""
    await service.log_out(session=session, refresh_token=data.refresh_token)


@router.post(
    "/logout-all",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses={**UNAUTHENTICATED, **UNAVAILABLE},
)
async def log_out_everywhere(user: CurrentUser, session: SessionDep) -> None:
    """Log out every session of the user: all refresh tokens and all access tokens so far."""
    await service.log_out_everywhere(session=session, user=user)


@router.post(
    "/password",
    response_model=Token,
    responses={
        status.HTTP_200_OK: token_links(check_out=True),
        **error_response(status.HTTP_400_BAD_REQUEST, service.WRONG_CURRENT_PASSWORD),
        **UNAUTHENTICATED,
        **THROTTLED,
        **UNAVAILABLE,
        **BODY_TOO_LARGE,
    },
)
async def change_password(
    data: PasswordChange,
    user: CurrentUser,
    session: SessionDep,
    settings: SettingsDep,
    throttle: AuthThrottleDep,
    recorded_client: RecordedClientDep,
    client_address: ClientAddressDep,
    outbox: EmailOutboxDep,
) -> Token:
    """Change the password; every other session is logged out, this one gets new tokens."""
    await throttle.hit("password", client_address=client_address, account=f"user:{user.id}")
    pair = await service.change_password(
        session=session,
        settings=settings,
        user=user,
        current_password=data.current_password,
        new_password=data.new_password,
        recorded_client=recorded_client,
    )
    await outbox.put(emails.password_changed(settings=settings, to=user.email), budget=None)
    return token_response(pair)


@router.post(
    "/verify-email",
    response_model=EmailVerified,
    responses={
        **error_response(
            status.HTTP_400_BAD_REQUEST,
            f"{service.INVALID_LINK}; or: {service.NOT_THE_ACCOUNT_CREATOR}",
        ),
        **BODY_TOO_LARGE,
        **THROTTLED,
        **UNAVAILABLE,
    },
)
async def verify_email(
    data: EmailVerification,
    session: SessionDep,
    settings: SettingsDep,
    throttle: AuthThrottleDep,
    client_address: ClientAddressDep,
) -> EmailVerified:
    """Verify an email address with the token of the link sent to it and the account's password.

    The link works once. An owner of the address who did not sign up cannot verify a
    stranger's account: a password reset makes it theirs.
    """
    await throttle.hit("verify_email", client_address=client_address, account=client_address)
    await service.verify_email(
        session=session, settings=settings, token=data.token, password=data.password
    )
    return EmailVerified()


@router.post(
    "/verify-email/resend",
    response_model=VerificationSent,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**BODY_ERRORS, **THROTTLED, **UNAVAILABLE},
)
async def resend_verification(
    data: VerificationRequest,
    throttle: EmailThrottleDep,
    client_address: ClientAddressDep,
    account_emails: AccountEmailsDep,
) -> VerificationSent:
    """Send a new verification link to an address whose account is not verified yet.

    No sign-in needed (an unverified account cannot sign in); the same answer for any address.
    """
    await count_for_address(
        throttle, "verification", client_address=client_address, email=data.email
    )
    await account_emails.send(AccountEmail.VERIFICATION, data.email)
    return VerificationSent()


@router.post(
    "/password-reset",
    response_model=PasswordResetSent,
    status_code=status.HTTP_202_ACCEPTED,
    responses={**BODY_ERRORS, **THROTTLED, **UNAVAILABLE},
)
async def request_password_reset(
    data: PasswordResetRequest,
    throttle: AuthThrottleDep,
    client_address: ClientAddressDep,
    account_emails: AccountEmailsDep,
) -> PasswordResetSent:
    """Send a link to set a new password to the address; the same answer for any address."""
    await count_for_address(
        throttle, "password_reset", client_address=client_address, email=data.email
    )
    await account_emails.send(AccountEmail.PASSWORD_RESET, data.email)
    return PasswordResetSent()


@router.post(
    "/password-reset/confirm",
    response_model=PasswordWasReset,
    responses={
        **error_response(status.HTTP_400_BAD_REQUEST, service.INVALID_LINK),
        **BODY_TOO_LARGE,
        **THROTTLED,
        **UNAVAILABLE,
    },
)
async def reset_password(
    data: PasswordReset,
    session: SessionDep,
    settings: SettingsDep,
    throttle: AuthThrottleDep,
    client_address: ClientAddressDep,
    outbox: EmailOutboxDep,
) -> PasswordWasReset:
    """Set a new password with the token of a reset link; it verifies the address too.

    The link works once; every session of the account ends, so log in again.
    """
    await throttle.hit(
        "password_reset_confirm", client_address=client_address, account=client_address
    )
    user = await service.reset_password(
        session=session, settings=settings, token=data.token, new_password=data.new_password
    )
{%- if cookiecutter.task_queue == "celery" %}
    await session.commit()
{%- endif %}
    await outbox.put(emails.password_changed(settings=settings, to=user.email), budget=None)
    return PasswordWasReset()
