"""Rendering and sending emails{% if cookiecutter.task_queue == "celery" %}; the worker sends them{% else %}, in the background of the request that asked for them{% endif %}."""

from email.message import EmailMessage

import sentry_sdk

from {{ cookiecutter.package_name }}.emails.backends import EmailBackend
from {{ cookiecutter.package_name }}.emails.schemas import EmailRequest
{%- if cookiecutter.task_queue == "background" %}
from {{ cookiecutter.package_name }}.observability import capture_handled
{%- endif %}


def render(
    *, request: EmailRequest, sender: str, sender_name: str, service_name: str
) -> EmailMessage:
    with sentry_sdk.start_span(op="email.render", name="render email") as span:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = str(request.to)
        message["Subject"] = request.subject
        message.set_content(
            f"{request.body}\n\nFrom {sender_name}.\n\n--\n"
            f"Sent by {service_name}. Reply to this email to reach us."
        )
        span.set_data("body_length", len(request.body))
        return message


def queued(*, request: EmailRequest) -> None:
    sentry_sdk.add_breadcrumb(
        category="email", message="Email queued", data={"subject_length": len(request.subject)}
    )


async def send(*, message: EmailMessage, backend: EmailBackend) -> None:
    with sentry_sdk.start_span(op="email.send", name=f"send email via {backend.name}") as span:
        span.set_data("backend", backend.name)
        try:
            await backend.send(message)
        except Exception:
            span.set_status("internal_error")
            raise
    sentry_sdk.add_breadcrumb(
        category="email", message="Email sent", data={"backend": backend.name}
    )
{%- if cookiecutter.task_queue == "background" %}


async def send_in_background(*, message: EmailMessage, backend: EmailBackend) -> None:
    """Send, and report a failure instead of raising: the response has already gone."""
    try:
        await send(message=message, backend=backend)
    except Exception as error:  # any failure of the backend is recovered from
        capture_handled(
            error,
            fingerprint=["email", backend.name, type(error).__name__],
            message="Email could not be sent",
            backend=backend.name,
        )
{%- endif %}
