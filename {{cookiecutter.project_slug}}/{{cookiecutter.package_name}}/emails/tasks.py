"""Email tasks, run by the Celery worker."""

import asyncio
import email
from email.policy import default as default_policy

from aiosmtplib import SMTPException
from celery import shared_task

from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.core.task_queue import retried_on
from {{ cookiecutter.package_name }}.emails import service
from {{ cookiecutter.package_name }}.emails.backends import build_email_backend

SEND_EMAIL_TASK = "{{ cookiecutter.package_name }}.emails.send_email"


@shared_task(name=SEND_EMAIL_TASK, **retried_on(SMTPException, OSError))
def send_email(raw_message: str) -> None:
    """Send a rendered email, retried with backoff while the mail server cannot be reached."""
    message = email.message_from_string(raw_message, policy=default_policy)
    backend = build_email_backend(get_settings())
    asyncio.run(service.send(message=message, backend=backend))
