from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.errors import ServiceUnavailableError

router = APIRouter(tags=["health"])


class HealthStatus(BaseModel):
    status: Literal["ok", "unavailable"]


@router.get("/health", response_model=HealthStatus)
async def health() -> HealthStatus:
    """Answer while the process is alive."""
    return HealthStatus(status="ok")


@router.get(
    "/health/ready",
    response_model=HealthStatus,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": HealthStatus}},
)
async def ready(session: SessionDep, response: Response) -> HealthStatus:
    """Answer 200 when the database can be reached, 503 otherwise."""
    try:
        await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, ServiceUnavailableError):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthStatus(status="unavailable")
    return HealthStatus(status="ok")
