from fastapi import APIRouter, status

from {{ cookiecutter.package_name }}.auth.dependencies import UserWithoutConnection
from {{ cookiecutter.package_name }}.auth.throttling import ClientAddressDep, EmailThrottleDep
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.core.errors import BODY_ERRORS, error_response
from {{ cookiecutter.package_name }}.emails import service
from {{ cookiecutter.package_name }}.emails.outbox import EmailOutboxDep
from {{ cookiecutter.package_name }}.emails.recipients import MailBudget
from {{ cookiecutter.package_name }}.emails.schemas import EmailQueued, InvitationRequest

router = APIRouter(prefix="/emails", tags=["emails"])


@router.post(
    "/send",
    response_model=EmailQueued,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **error_response(status.HTTP_401_UNAUTHORIZED, "Missing or invalid bearer token"),
        **error_response(status.HTTP_429_TOO_MANY_REQUESTS, "Too many attempts; try again later"),
        **BODY_ERRORS,
{%- if cookiecutter.task_queue == "celery" %}
        **error_response(status.HTTP_503_SERVICE_UNAVAILABLE, "The task queue is unavailable"),
{%- endif %}
    },
)
async def send_email(
    request: InvitationRequest,
    user: UserWithoutConnection,
    settings: SettingsDep,
    throttle: EmailThrottleDep,
    client_address: ClientAddressDep,
    outbox: EmailOutboxDep,
) -> EmailQueued:
    """Invite someone by email, with a short note; the email is sent after the response."""
    await service.authorize_sender(user=user, throttle=throttle, client_address=client_address)
    message = service.render_invitation(
        request=request,
        inviter=user.username,
        sender=settings.email_sender,
        service_name=settings.project_name,
        signup_url=settings.frontend_url,
    )
    await outbox.put(message, budget=MailBudget.INVITATION)
    service.queued(request=request)
    return EmailQueued()
