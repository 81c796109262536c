"""Where emails go: the console in development, an SMTP server otherwise."""

import asyncio
from email.message import EmailMessage
from typing import Protocol

import aiosmtplib

from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.observability import terminal_only_logger


class EmailBackend(Protocol):
    name: str

    async def send(self, message: EmailMessage) -> None: ...


class ConsoleEmailBackend:
    """For development: each email, links included, in the developer's terminal and nowhere else."""

    name = "console"

    def __init__(self) -> None:
        # An email names its recipient and holds links that act for them: never sent to Sentry.
        self.logger = terminal_only_logger(f"{__name__}.console")

    async def send(self, message: EmailMessage) -> None:
        self.logger.info(
            "Email to %s: %s\n%s", message["To"], message["Subject"], message.get_content()
        )


class SmtpEmailBackend:
    name = "smtp"

    def __init__(self, *, host: str, port: int, timeout: float) -> None:
        self.host = host
        self.port = port
        self.timeout = timeout

    async def send(self, message: EmailMessage) -> None:
        # One deadline for the whole exchange. aiosmtplib's own timeout goes through
        # asyncio.wait_for, which on Python 3.11 runs each step in a task of its own, and the
        # task factory (observability/asyncio_tasks.py) would report a refused connection there
        # before we handle it.
        async with asyncio.timeout(self.timeout):
            await aiosmtplib.send(message, hostname=self.host, port=self.port, timeout=None)


def build_email_backend(settings: Settings) -> EmailBackend:
    if settings.email_backend == "smtp":
        return SmtpEmailBackend(
            host=settings.smtp_host, port=settings.smtp_port, timeout=settings.smtp_timeout_seconds
        )
    return ConsoleEmailBackend()
