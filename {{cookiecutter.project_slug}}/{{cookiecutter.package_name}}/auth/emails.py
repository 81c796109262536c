"""What auth sends: a welcome with the verification link, a new link, reset links, notices.

Nothing here carries text that whoever asked for the email chose (a username, a note): the
address may belong to someone else, and the service must never relay a stranger's words.
"""

from email.message import EmailMessage

from {{ cookiecutter.package_name }}.core.config import Settings


def _message(*, settings: Settings, to: str, subject: str, body: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings.email_sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(f"{body}\n\n--\n{settings.project_name}")
    return message


def _verification_expiry(settings: Settings) -> str:
    return (
        f"The link works once, within {settings.email_verification_expire_hours} hours, with "
        "the password chosen at sign-up. You can log in once the address is confirmed.\n\n"
        "If you did not sign up, do not use this link: someone else chose the password. To "
        "make the account yours, ask for a password reset for this address; or ignore this "
        f"email: the account is removed after {settings.unverified_account_expire_hours} hours."
    )


def _reset_expiry(settings: Settings) -> str:
    return (
        f"The link works once, within {settings.password_reset_expire_minutes} minutes, and "
        "signs every device out."
    )


def welcome(*, settings: Settings, to: str, verification_link: str) -> EmailMessage:
    return _message(
        settings=settings,
        to=to,
        subject=f"Welcome to {settings.project_name}",
        body=(
            "An account was created with this email address.\n\n"
            f"If you created it, confirm the address:\n{verification_link}\n\n"
            f"{_verification_expiry(settings)}"
        ),
    )


def verification(*, settings: Settings, to: str, verification_link: str) -> EmailMessage:
    return _message(
        settings=settings,
        to=to,
        subject=f"Confirm your email address for {settings.project_name}",
        body=(
            f"If you created an account with this address, confirm it:\n{verification_link}\n\n"
            f"{_verification_expiry(settings)}"
        ),
    )


def already_registered(*, settings: Settings, to: str, reset_link: str) -> EmailMessage:
    """To the address of a verified account, when someone signs up with it again."""
    return _message(
        settings=settings,
        to=to,
        subject=f"Sign-up attempt at {settings.project_name}",
        body=(
            "Someone tried to create an account with this email address, which already has one. "
            "If it was you, log in instead, or set a new password here if you forgot it:\n"
            f"{reset_link}\n\n{_reset_expiry(settings)} If it was not you, ignore this email."
        ),
    )


def claim_address(*, settings: Settings, to: str, reset_link: str) -> EmailMessage:
    """To an address held by an unverified account, when someone signs up with it again.

    The reset link lets whoever reads this inbox, the owner, take the account and its address:
    a stranger who signed up with it first loses it.
    """
    return _message(
        settings=settings,
        to=to,
        subject=f"Claim your email address at {settings.project_name}",
        body=(
            "Someone tried to create an account with this email address, which is waiting for "
            "its owner to confirm it. To use the account, set a password of your own; that also "
            f"confirms the address:\n{reset_link}\n\n{_reset_expiry(settings)} "
            "If you do not want an account, ignore this email."
        ),
    )


def password_reset(*, settings: Settings, to: str, reset_link: str) -> EmailMessage:
    return _message(
        settings=settings,
        to=to,
        subject=f"Set a new password for {settings.project_name}",
        body=(
            f"Someone asked to set a new password for this email address:\n{reset_link}\n\n"
            f"{_reset_expiry(settings)} If it was not you, ignore this email: "
            "your password stays as it is."
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
