"""What auth sends: a welcome with the verification link, a new link, notices to the owner."""

from email.message import EmailMessage

from {{ cookiecutter.package_name }}.core.config import Settings


def _message(*, settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.email_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(f"{body}\n\n--\n{settings.project_name}")
    return message


def _expiry(settings: Settings) -> str:
    return f"The link works once, within {settings.email_verification_expire_hours} hours."


def welcome(*, settings: Settings, to: str, username: str, verification_link: str) -> EmailMessage:
    return _message(
        settings=settings,
        to=to,
        subject=f"Welcome to {settings.project_name}",
        body=(
            f"Your account {username} is ready: log in with this email address.\n\n"
            f"Confirm that this address is yours:\n{verification_link}\n\n{_expiry(settings)}"
        ),
    )


def verification(*, settings: Settings, to: str, verification_link: str) -> EmailMessage:
    return _message(
        settings=settings,
        to=to,
        subject=f"Confirm your email address for {settings.project_name}",
        body=f"Confirm that this address is yours:\n{verification_link}\n\n{_expiry(settings)}",
    )


def already_registered(*, settings: Settings, to: str) -> EmailMessage:
    return _message(
        settings=settings,
        to=to,
        subject=f"Sign-up attempt at {settings.project_name}",
        body=(
            "Someone tried to create an account with this email address, which already has one. "
            "If it was you, log in instead. If not, you can ignore this message."
        ),
    )


def password_changed(*, settings: Settings, to: str) -> EmailMessage:
    return _message(
        settings=settings,
        to=to,
        subject=f"Your {settings.project_name} password was changed",
        body=(
            "The password of your account was changed, and every device was signed out. "
            "If this was not you, contact us at once."
        ),
    )
