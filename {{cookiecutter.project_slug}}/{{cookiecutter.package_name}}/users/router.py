from fastapi import APIRouter, status

from {{ cookiecutter.package_name }}.auth.dependencies import CurrentUser
from {{ cookiecutter.package_name }}.core.errors import error_response
from {{ cookiecutter.package_name }}.users.models import User
from {{ cookiecutter.package_name }}.users.schemas import UserRead

router = APIRouter(prefix="/users", tags=["users"])


@router.get(
    "/me",
    response_model=UserRead,
    responses=error_response(status.HTTP_401_UNAUTHORIZED, "Missing or invalid bearer token"),
)
async def read_me(user: CurrentUser) -> User:
    """Return the signed-in user."""
    return user
