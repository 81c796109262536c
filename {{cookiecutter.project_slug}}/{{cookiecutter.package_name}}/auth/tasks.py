"""Account tasks, run by the Celery worker: emails asked for by address alone."""

import asyncio

from celery import shared_task

from {{ cookiecutter.package_name }}.auth import service
from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.db import standalone_session
from {{ cookiecutter.package_name }}.core.errors import DatabaseUnavailableError
from {{ cookiecutter.package_name }}.core.task_queue import QueueUnavailableError, retried_on
from {{ cookiecutter.package_name }}.emails.outbox import EmailOutbox
from {{ cookiecutter.package_name }}.emails.recipients import RecipientLimit

SEND_ACCOUNT_EMAIL_TASK = "{{ cookiecutter.package_name }}.auth.send_account_email"


@shared_task(
    name=SEND_ACCOUNT_EMAIL_TASK, **retried_on(DatabaseUnavailableError, QueueUnavailableError)
)
def send_account_email(kind: str, email: str) -> None:
    """Queue the email `kind` names for the account of `email`; nothing if it has none."""
    asyncio.run(_send_account_email(service.AccountEmail(kind), email))


async def _send_account_email(kind: service.AccountEmail, email: str) -> None:
    settings = get_settings()
    # Counted in the counters every process shares (RATE_LIMIT_STORAGE_URL).
    outbox = EmailOutbox(recipients=RecipientLimit.from_settings(settings))
    async with standalone_session(settings.database_url, settings.database_options()) as session:
        await service.send_account_email(
            kind, session=session, settings=settings, email=email, outbox=outbox
        )
