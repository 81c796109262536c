from fastapi import APIRouter, BackgroundTasks, status

from {{ cookiecutter.package_name }}.auth.dependencies import CurrentUser
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.core.errors import BODY_ERRORS, error_response
from {{ cookiecutter.package_name }}.emails import service
from {{ cookiecutter.package_name }}.emails.dependencies import EmailBackendDep
from {{ cookiecutter.package_name }}.emails.schemas import EmailQueued, EmailRequest

router = APIRouter(prefix="/emails", tags=["emails"])


@router.post(
    "/send",
    response_model=EmailQueued,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **error_response(status.HTTP_401_UNAUTHORIZED, "Missing or invalid bearer token"),
        **BODY_ERRORS,
    },
)
async def send_email(
    request: EmailRequest,
    user: CurrentUser,
    backend: EmailBackendDep,
    settings: SettingsDep,
    background_tasks: BackgroundTasks,
) -> EmailQueued:
    """Queue an email from the signed-in user; it is sent after the response."""
    message = service.render(
        request=request,
        sender=settings.email_sender,
        sender_name=user.username,
        service_name=settings.project_name,
    )
    background_tasks.add_task(service.send_in_background, message=message, backend=backend)
    service.queued(request=request)
    return EmailQueued()
