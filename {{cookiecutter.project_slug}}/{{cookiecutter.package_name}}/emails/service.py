"""Invitations: who may send them, what they say, and how emails are sent{% if cookiecutter.task_queue == "celery" %} (by the worker){% endif %}."""

from email.message import EmailMessage

import sentry_sdk

from {{ cookiecutter.package_name }}.auth.throttling import AuthThrottle
from {{ cookiecutter.package_name }}.core.errors import TooManyRequestsError
from {{ cookiecutter.package_name }}.core.security_events import report_security_event
from {{ cookiecutter.package_name }}.emails.backends import EmailBackend
from {{ cookiecutter.package_name }}.emails.schemas import InvitationRequest
{%- if cookiecutter.task_queue == "background" %}
from {{ cookiecutter.package_name }}.observability import capture_handled
{%- endif %}
from {{ cookiecutter.package_name }}.users.models import User


async def authorize_sender(*, user: User, throttle: AuthThrottle, client_address: str) -> None:
    """Only so many: the service must never relay spam. Senders are verified accounts, as
    every signed-in user is (auth/dependencies.py)."""
    try:
        await throttle.hit("email", client_address=client_address, account=f"user:{user.id}")
    except TooManyRequestsError:
        report_security_event("email_throttled", message="Email refused: too many sent")
        raise


def render_invitation(
    *, request: InvitationRequest, inviter: str, sender: str, service_name: str, signup_url: str
) -> EmailMessage:
    with sentry_sdk.start_span(op="email.render", name="render invitation") as span:
        message = EmailMessage()
        message["From"] = sender
        message["To"] = str(request.to)
        message["Subject"] = f"{inviter} invites you to {service_name}"
        note = f'\n\nTheir note: "{request.note}"' if request.note else ""
        message.set_content(
            f"{inviter} invites you to join {service_name}.{note}\n\n"
            f"Sign up at {signup_url}\n\n--\n"
            f"Sent by {service_name} for one of its users. If you do not know them, "
            "ignore this email."
        )
        span.set_data("note_length", len(request.note))
        return message


def queued(*, request: InvitationRequest) -> None:
    sentry_sdk.add_breadcrumb(
        category="email", message="Email queued", data={"note_length": len(request.note)}
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
