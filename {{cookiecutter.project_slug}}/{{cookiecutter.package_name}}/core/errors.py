"""The application's one error type and the handlers that turn errors into JSON."""

import json
from typing import Any

from fastapi import FastAPI, Request, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from {{ cookiecutter.package_name }}.observability import capture_handled


class AppError(Exception):
    """An expected failure with a message safe to show to the client."""

    status_code: int = status.HTTP_400_BAD_REQUEST

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.headers = headers


class ForbiddenError(AppError):
    status_code = status.HTTP_403_FORBIDDEN


class NotFoundError(AppError):
    status_code = status.HTTP_404_NOT_FOUND


class ConflictError(AppError):
    status_code = status.HTTP_409_CONFLICT


class UnauthorizedError(AppError):
    status_code = status.HTTP_401_UNAUTHORIZED

    def __init__(self, message: str = "Could not validate credentials") -> None:
        super().__init__(message, headers={"WWW-Authenticate": "Bearer"})


class TooManyRequestsError(AppError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS

    def __init__(self, *, retry_after_seconds: int) -> None:
        super().__init__(
            "Too many attempts; try again later",
            headers={"Retry-After": str(retry_after_seconds)},
        )


class ServiceUnavailableError(Exception):
    """A dependency is down or saturated: a 503 the client should retry after `Retry-After`.

    Reported to Sentry by its handler as a handled error grouped by `fingerprint`, so that an
    outage is one issue with a count, not an unhandled 500 per request; `reason` tells the cases
    apart. Not an AppError on purpose: the SDK reports every handled exception whose
    `status_code` is 5xx by itself, without a fingerprint, which would make two events of one.
    """

    def __init__(self, message: str, *, reason: str, retry_after_seconds: int) -> None:
        super().__init__(message)
        self.message = message
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds
        self.fingerprint = ["unavailable", reason]


class DatabaseUnavailableError(ServiceUnavailableError):
    """The database is down, restarting, unreachable or saturated."""

    def __init__(self, *, reason: str, retry_after_seconds: int = 5) -> None:
        super().__init__(
            "The service is unavailable; try again later",
            reason=reason,
            retry_after_seconds=retry_after_seconds,
        )
        self.fingerprint = ["database", "unavailable"]


def error_response(status_code: int, detail: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI description of an error status, for a route's `responses=`."""
    return {
        status_code: {
            "description": detail,
            "content": {"application/json": {"example": {"detail": detail}}},
        }
    }


# More than the configured limit; alone for routes that describe their own 400.
BODY_TOO_LARGE = error_response(status.HTTP_413_CONTENT_TOO_LARGE, "Request body too large")
# Any route that reads a body: undecodable bytes, or more than the configured limit.
BODY_ERRORS = {
    **error_response(status.HTTP_400_BAD_REQUEST, "There was an error parsing the body"),
    **BODY_TOO_LARGE,
}


async def handle_app_error(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, AppError)  # noqa: S101 - registered for AppError only
    return JSONResponse(
        {"detail": error.message}, status_code=error.status_code, headers=error.headers
    )


class EscapedJSONResponse(JSONResponse):
    """JSON with everything beyond ASCII escaped: encodes even unpaired surrogates."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, separators=(",", ":")).encode()


async def handle_validation_error(request: Request, error: Exception) -> JSONResponse:
    """FastAPI's 422, safe when it echoes input that cannot be encoded as UTF-8 (`"\\ud800"`)."""
    assert isinstance(error, RequestValidationError)  # noqa: S101 - registered for it only
    return EscapedJSONResponse(
        {"detail": jsonable_encoder(error.errors())},
        status_code=status.HTTP_422_UNPROCESSABLE_CONTENT,
    )


async def handle_service_unavailable(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceUnavailableError)  # noqa: S101 - registered for it only
    capture_handled(
        error.__cause__ or error,
        fingerprint=error.fingerprint,
        message=f"Answered 503: {error.message}",
        reason=error.reason,
        path=request.url.path,
    )
    return JSONResponse(
        {"detail": error.message},
        status_code=status.HTTP_503_SERVICE_UNAVAILABLE,
        headers={"Retry-After": str(error.retry_after_seconds)},
    )


async def handle_pool_timeout(request: Request, error: Exception) -> JSONResponse:
    """Every pooled connection stayed busy for the pool timeout: a 503, not a 500."""
    unavailable = DatabaseUnavailableError(reason="pool_timeout", retry_after_seconds=1)
    unavailable.__cause__ = error
    return await handle_service_unavailable(request, unavailable)


def register_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(AppError, handle_app_error)
    app.add_exception_handler(ServiceUnavailableError, handle_service_unavailable)
    app.add_exception_handler(PoolTimeoutError, handle_pool_timeout)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
