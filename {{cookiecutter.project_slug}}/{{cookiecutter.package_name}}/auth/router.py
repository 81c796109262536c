from typing import Annotated

from fastapi import APIRouter, {% if cookiecutter.task_queue == "background" %}BackgroundTasks, {% endif %}Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from {{ cookiecutter.package_name }}.auth import emails, service
from {{ cookiecutter.package_name }}.auth.schemas import RegistrationAccepted, Token
from {{ cookiecutter.package_name }}.auth.throttling import AuthThrottleDep, ClientAddressDep
from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.core.errors import BODY_ERRORS, error_response
{%- if cookiecutter.task_queue == "celery" %}
from {{ cookiecutter.package_name }}.core.task_queue import enqueue
from {{ cookiecutter.package_name }}.emails.tasks import SEND_EMAIL_TASK
{%- else %}
from {{ cookiecutter.package_name }}.emails.dependencies import EmailBackendDep
from {{ cookiecutter.package_name }}.emails.service import send_in_background
{%- endif %}
from {{ cookiecutter.package_name }}.users import service as users_service
from {{ cookiecutter.package_name }}.users.schemas import UserCreate

router = APIRouter(prefix="/auth", tags=["auth"])

THROTTLED = error_response(status.HTTP_429_TOO_MANY_REQUESTS, "Too many attempts; try again later")


@router.post(
    "/register",
    response_model=RegistrationAccepted,
    status_code=status.HTTP_202_ACCEPTED,
    responses={
        status.HTTP_202_ACCEPTED: {
            "links": {
                "LogIn": {
                    "operationId": "login",
                    "requestBody": {
                        "username": "$request.body#/email",
                        "password": "$request.body#/password",
                    },
                }
            }
        },
        **error_response(status.HTTP_409_CONFLICT, "This username is taken"),
        **BODY_ERRORS,
        **THROTTLED,
{%- if cookiecutter.task_queue == "celery" %}
        **error_response(status.HTTP_503_SERVICE_UNAVAILABLE, "The task queue is unavailable"),
{%- endif %}
    },
)
async def register(
    data: UserCreate,
    session: SessionDep,
    settings: SettingsDep,
    throttle: AuthThrottleDep,
    client: ClientAddressDep,
{%- if cookiecutter.task_queue == "background" %}
    email_backend: EmailBackendDep,
    background_tasks: BackgroundTasks,
{%- endif %}
) -> RegistrationAccepted:
    """Sign up on the free plan; whether the email was already registered is told by email only."""
    await throttle.hit("register", client=client, account=data.email)
    user = await users_service.register(session=session, data=data)
    if user is None:
        message = emails.already_registered(settings=settings, to=data.email)
    else:
        message = emails.welcome(settings=settings, to=user.email, username=user.username)
{%- if cookiecutter.task_queue == "celery" %}
    # Committed before the broker is called, so that no transaction waits on it.
    await session.commit()
    await enqueue(SEND_EMAIL_TASK, message.as_string())
{%- else %}
    background_tasks.add_task(send_in_background, message=message, backend=email_backend)
{%- endif %}
    return RegistrationAccepted()


@router.post(
    "/login",
    response_model=Token,
    responses={
        status.HTTP_200_OK: {
            "links": {
                "CheckOut": {
                    "operationId": "check_out",
                    "parameters": {"header.Authorization": "Bearer {$response.body#/access_token}"},
                }
            }
        },
        **error_response(status.HTTP_401_UNAUTHORIZED, "Incorrect email or password"),
        **BODY_ERRORS,
        **THROTTLED,
    },
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
    throttle: AuthThrottleDep,
    client: ClientAddressDep,
) -> Token:
    """Exchange an email and password for a bearer token."""
    await throttle.hit("login", client=client, account=form.username)
    token = await service.log_in(
        session=session, settings=settings, email=form.username, password=form.password
    )
    return Token(access_token=token)
