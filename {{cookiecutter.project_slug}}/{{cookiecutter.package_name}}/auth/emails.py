"""What a sign-up sends: a welcome, or a notice that the address already has an account."""

from email.message import EmailMessage

from {{ cookiecutter.package_name }}.core.config import Settings


def _message(*, settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.email_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(f"{body}\n\n--\n{settings.project_name}")
    return message


def welcome(*, settings: Settings, to: str, username: str) -> EmailMessage:
    return _message(
        settings=settings,
        to=to,
        subject=f"Welcome to {settings.project_name}",
        body=f"Your account {username} is ready: log in with this email address.",
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
