from typing import Annotated

from fastapi import APIRouter, Depends, status
from fastapi.security import OAuth2PasswordRequestForm

from {{ cookiecutter.package_name }}.auth import service
from {{ cookiecutter.package_name }}.auth.schemas import Token
from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.dependencies import SettingsDep
from {{ cookiecutter.package_name }}.core.errors import error_response
from {{ cookiecutter.package_name }}.users import service as users_service
from {{ cookiecutter.package_name }}.users.models import User
from {{ cookiecutter.package_name }}.users.schemas import UserCreate, UserRead

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post(
    "/register",
    response_model=UserRead,
    status_code=status.HTTP_201_CREATED,
    responses=error_response(status.HTTP_409_CONFLICT, "Email or username already taken"),
)
async def register(data: UserCreate, session: SessionDep) -> User:
    """Create an account on the free plan."""
    return await users_service.register(session=session, data=data)


@router.post(
    "/login",
    response_model=Token,
    responses=error_response(status.HTTP_401_UNAUTHORIZED, "Incorrect email or password"),
)
async def login(
    form: Annotated[OAuth2PasswordRequestForm, Depends()],
    session: SessionDep,
    settings: SettingsDep,
) -> Token:
    """Exchange an email and password for a bearer token."""
    token = await service.log_in(
        session=session, settings=settings, email=form.username, password=form.password
    )
    return Token(access_token=token)
