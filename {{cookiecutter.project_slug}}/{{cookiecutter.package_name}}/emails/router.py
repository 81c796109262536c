from fastapi import APIRouter, {% if cookiecutter.task_queue == "background" %}BackgroundTasks, {% endif %}status

from {{ cookiecutter.package_name }}.auth.dependencies import UserWithoutConnection
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.core.errors import BODY_ERRORS, error_response
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.core.task_queue import enqueue
{%- endif %}
from {{ cookiecutter.package_name }}.emails import service
{%- if cookiecutter.task_queue == "background" %}
from {{ cookiecutter.package_name }}.emails.dependencies import EmailBackendDep
{%- endif %}
from {{ cookiecutter.package_name }}.emails.schemas import EmailQueued, EmailRequest
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.emails.tasks import SEND_EMAIL_TASK
{%- endif %}

router = APIRouter(prefix="/emails", tags=["emails"])


@router.post(
    "/send",
    response_model=EmailQueued,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        **error_response(status.HTTP_401_UNAUTHORIZED, "Missing or invalid bearer token"),
        **BODY_ERRORS,
{%- if cookiecutter.task_queue == "celery" %}
        **error_response(status.HTTP_503_SERVICE_UNAVAILABLE, "The task queue is unavailable"),
{%- endif %}
    },
)
async def send_email(
    request: EmailRequest,
    user: UserWithoutConnection,
    settings: SettingsDep,
{%- if cookiecutter.task_queue == "background" %}
    backend: EmailBackendDep,
    background_tasks: BackgroundTasks,
{%- endif %}
) -> EmailQueued:
    """Queue an email from the signed-in user; it is sent after the response."""
    message = service.render(
        request=request,
        sender=settings.email_sender,
        sender_name=user.username,
        service_name=settings.project_name,
    )
{%- if cookiecutter.task_queue == "celery" %}
    await enqueue(SEND_EMAIL_TASK, message.as_string())
{%- else %}
    background_tasks.add_task(service.send_in_background, message=message, backend=backend)
{%- endif %}
    service.queued(request=request)
    return EmailQueued()
