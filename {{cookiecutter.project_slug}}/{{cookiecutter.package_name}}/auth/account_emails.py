"""Emails asked for by address alone (password reset, a new verification link).

The request only hands the address on: {% if cookiecutter.task_queue == "celery" %}a task is queued for any address, and the worker{% else %}after the response, a background task{% endif %} looks
it up and mails it if it has an account. Whether it has one changes nothing the request does, so
the answer takes as long for an address nobody registered.
"""

from typing import Annotated

from fastapi import {% if cookiecutter.task_queue == "background" %}BackgroundTasks, {% endif %}Depends{% if cookiecutter.task_queue == "background" %}, Request{% endif %}
{%- if cookiecutter.task_queue == "background" %}
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
{%- endif %}
{% if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.auth.service import AccountEmail
from {{ cookiecutter.package_name }}.auth.tasks import SEND_ACCOUNT_EMAIL_TASK
from {{ cookiecutter.package_name }}.core.task_queue import enqueue
{%- else %}
from {{ cookiecutter.package_name }}.auth.service import AccountEmail, send_account_email
from {{ cookiecutter.package_name }}.core.config import Settings
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.emails.backends import EmailBackend
from {{ cookiecutter.package_name }}.emails.dependencies import EmailBackendDep
from {{ cookiecutter.package_name }}.emails.outbox import EmailOutbox
from {{ cookiecutter.package_name }}.emails.recipients import RecipientLimit, RecipientLimitDep
from {{ cookiecutter.package_name }}.observability import capture_handled
{%- endif %}
{%- if cookiecutter.task_queue == "celery" %}


class AccountEmails:
    async def send(self, kind: AccountEmail, email: str) -> None:
        """Queue the lookup and the email; raises QueueUnavailableError (a 503) when the broker
        is down, for any address alike."""
        await enqueue(SEND_ACCOUNT_EMAIL_TASK, kind.value, email)


async def get_account_emails() -> AccountEmails:
    return AccountEmails()
{%- else %}


async def send_after_response(
    kind: AccountEmail,
    email: str,
    *,
    transactions: async_sessionmaker[AsyncSession],
    settings: Settings,
    recipients: RecipientLimit,
    backend: EmailBackend,
) -> None:
    """Look the address up and mail it; a failure is reported, never raised."""
    # The email goes once the session is closed: no connection waits on the mail server.
    mail = BackgroundTasks()
    outbox = EmailOutbox(recipients=recipients, backend=backend, background_tasks=mail)
    try:
        async with transactions() as session:
            await send_account_email(
                kind, session=session, settings=settings, email=email, outbox=outbox
            )
    except Exception as error:  # the response has gone; the reader can ask again
        capture_handled(
            error,
            fingerprint=["email", kind.value, type(error).__name__],
            message="An account email could not be prepared",
        )
        return
    await mail()


class AccountEmails:
    def __init__(
        self,
        *,
        background_tasks: BackgroundTasks,
        transactions: async_sessionmaker[AsyncSession],
        settings: Settings,
        recipients: RecipientLimit,
        backend: EmailBackend,
    ) -> None:
        self.background_tasks = background_tasks
        self.transactions = transactions
        self.settings = settings
        self.recipients = recipients
        self.backend = backend

    async def send(self, kind: AccountEmail, email: str) -> None:
        self.background_tasks.add_task(
            send_after_response,
            kind,
            email,
            transactions=self.transactions,
            settings=self.settings,
            recipients=self.recipients,
            backend=self.backend,
        )


async def get_account_emails(
    request: Request,
    background_tasks: BackgroundTasks,
    settings: SettingsDep,
    recipients: RecipientLimitDep,
    backend: EmailBackendDep,
) -> AccountEmails:
    return AccountEmails(
        background_tasks=background_tasks,
        # Sessions of its own: the request's is closed by the time the task runs.
        transactions=request.app.state.sessionmaker,
        settings=settings,
        recipients=recipients,
        backend=backend,
    )
{%- endif %}


AccountEmailsDep = Annotated[AccountEmails, Depends(get_account_emails)]
