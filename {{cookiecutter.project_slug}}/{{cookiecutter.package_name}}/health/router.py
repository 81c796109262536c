from typing import Literal

from fastapi import APIRouter, Response, status
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from {{ cookiecutter.package_name }}.core.db import SessionDep
from {{ cookiecutter.package_name }}.core.dependencies import WorkloadDep
from {{ cookiecutter.package_name }}.core.errors import ServiceUnavailableError

router = APIRouter(tags=["health"])


class HealthStatus(BaseModel):
    status: Literal["ok", "unavailable", "saturated"]


@router.get("/health", response_model=HealthStatus)
async def health() -> HealthStatus:
    """Answer while the process is alive."""
    return HealthStatus(status="ok")


@router.get(
    "/health/ready",
    response_model=HealthStatus,
    responses={status.HTTP_503_SERVICE_UNAVAILABLE: {"model": HealthStatus}},
)
async def ready(session: SessionDep, workload: WorkloadDep, response: Response) -> HealthStatus:
    """Answer 200 when the process takes requests and the database can be reached, else 503.

    `saturated`: as many requests in progress as the concurrency limit allows, so the next one
    would be refused; an orchestrator sends traffic elsewhere until it answers 200 again.
    `/health` stays 200 meanwhile: the process is busy, not broken, and must not be restarted.
    """
    if workload.saturated:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthStatus(status="saturated")
    try:
        await session.execute(text("SELECT 1"))
    except (SQLAlchemyError, OSError, ServiceUnavailableError):
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return HealthStatus(status="unavailable")
    return HealthStatus(status="ok")
