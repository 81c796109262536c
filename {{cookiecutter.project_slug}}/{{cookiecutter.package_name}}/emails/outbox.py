"""Where a route puts the emails it sends: {% if cookiecutter.task_queue == "celery" %}queued for the Celery worker{% else %}sent in the background, after the response{% endif %}."""

from email.message import EmailMessage
from typing import Annotated

from fastapi import {% if cookiecutter.task_queue == "background" %}BackgroundTasks, {% endif %}Depends

from {{ cookiecutter.package_name }}.core.security_events import report_security_event
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.core.task_queue import enqueue
{%- else %}
from {{ cookiecutter.package_name }}.emails.backends import EmailBackend
from {{ cookiecutter.package_name }}.emails.dependencies import EmailBackendDep
{%- endif %}
from {{ cookiecutter.package_name }}.emails.recipients import (
    MailBudget,
    RecipientLimit,
    RecipientLimitDep,
)
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.emails.tasks import SEND_EMAIL_TASK
{%- else %}
from {{ cookiecutter.package_name }}.emails.service import send_in_background
{%- endif %}


class EmailOutbox:
{%- if cookiecutter.task_queue == "celery" %}
    def __init__(self, *, recipients: RecipientLimit) -> None:
        self.recipients = recipients
{%- else %}
    def __init__(
        self,
        *,
        recipients: RecipientLimit,
        backend: EmailBackend,
        background_tasks: BackgroundTasks,
    ) -> None:
        self.recipients = recipients
        self.backend = backend
        self.background_tasks = background_tasks
{%- endif %}

    async def put(self, message: EmailMessage, *, budget: MailBudget | None) -> None:
{%- if cookiecutter.task_queue == "celery" %}
        """Queue for the worker; raises QueueUnavailableError (a 503) when the broker is down.
{%- else %}
        """Send once the response has gone; a failure is reported, never raised.
{%- endif %}

        Past the limit of its budget for its address, the email is dropped and reported, never
        refused: the caller answers as if it went, so the answer tells nothing about the address.
        No budget: the owner caused it, signed in or with a single-use link; it always goes.
        """
        if budget is not None and not await self.recipients.allows(str(message["To"]), budget):
            report_security_event(
                "email_to_address_throttled",
                message="Email not sent: too many to one address",
                subject=str(message["Subject"]),
            )
            return
{%- if cookiecutter.task_queue == "celery" %}
        await enqueue(SEND_EMAIL_TASK, message.as_string())
{%- else %}
        self.background_tasks.add_task(send_in_background, message=message, backend=self.backend)
{%- endif %}
{%- if cookiecutter.task_queue == "celery" %}


async def get_outbox(recipients: RecipientLimitDep) -> EmailOutbox:
    return EmailOutbox(recipients=recipients)
{%- else %}


async def get_outbox(
    recipients: RecipientLimitDep, backend: EmailBackendDep, background_tasks: BackgroundTasks
) -> EmailOutbox:
    return EmailOutbox(recipients=recipients, backend=backend, background_tasks=background_tasks)
{%- endif %}


EmailOutboxDep = Annotated[EmailOutbox, Depends(get_outbox)]
