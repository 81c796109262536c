"""Where a route puts the emails it sends: {% if cookiecutter.task_queue == "celery" %}queued for the Celery worker{% else %}sent in the background, after the response{% endif %}."""

from email.message import EmailMessage
from typing import Annotated

from fastapi import {% if cookiecutter.task_queue == "background" %}BackgroundTasks, {% endif %}Depends
{%- if cookiecutter.task_queue == "celery" %}

from {{ cookiecutter.package_name }}.core.task_queue import enqueue
from {{ cookiecutter.package_name }}.emails.tasks import SEND_EMAIL_TASK
{%- else %}

from {{ cookiecutter.package_name }}.emails.backends import EmailBackend
from {{ cookiecutter.package_name }}.emails.dependencies import EmailBackendDep
from {{ cookiecutter.package_name }}.emails.service import send_in_background
{%- endif %}
{%- if cookiecutter.task_queue == "celery" %}


class EmailOutbox:
    async def put(self, message: EmailMessage) -> None:
        """Queue for the worker; raises QueueUnavailableError (a 503) when the broker is down."""
        await enqueue(SEND_EMAIL_TASK, message.as_string())


async def get_outbox() -> EmailOutbox:
    return EmailOutbox()
{%- else %}


class EmailOutbox:
    def __init__(self, *, backend: EmailBackend, background_tasks: BackgroundTasks) -> None:
        self.backend = backend
        self.background_tasks = background_tasks

    async def put(self, message: EmailMessage) -> None:
        """Send once the response has gone; a failure is reported, never raised."""
        self.background_tasks.add_task(send_in_background, message=message, backend=self.backend)


async def get_outbox(backend: EmailBackendDep, background_tasks: BackgroundTasks) -> EmailOutbox:
    return EmailOutbox(backend=backend, background_tasks=background_tasks)
{%- endif %}


EmailOutboxDep = Annotated[EmailOutbox, Depends(get_outbox)]
