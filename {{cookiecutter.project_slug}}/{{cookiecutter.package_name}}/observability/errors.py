"""Errors: the 500 response that names its event, and captures where the app recovers."""

import contextlib
import logging
import uuid
from collections.abc import Sequence
from typing import Any

import sentry_sdk
from sentry_sdk.utils import event_from_exception
from starlette.requests import Request
from starlette.responses import JSONResponse

from .filters import EVENT_ID_ATTRIBUTE
from .middleware import REQUEST_ID_HEADER, request_id_var

logger = logging.getLogger(__name__)
# The log line of an error already captured: the logging integration leaves this logger alone,
# instead of building the same event again only to drop it as a duplicate.
UNHANDLED_LOGGER = f"{__name__}.unhandled"
unhandled_logger = logging.getLogger(UNHANDLED_LOGGER)


def remember_event_id(error: BaseException, event_id: str | None) -> None:
    """Name the event of `error`: a later capture of it is dropped, its 500 names this event."""
    if event_id is not None:
        # An exception type with __slots__ cannot keep it.
        with contextlib.suppress(AttributeError, TypeError):
            setattr(error, EVENT_ID_ATTRIBUTE, event_id)


def capture_unhandled(error: BaseException) -> str | None:
    """Capture as unhandled, as the integrations would; they skip it later as a duplicate."""
    client = sentry_sdk.get_client()
    if not client.is_active():
        return None
    already_captured: str | None = getattr(error, EVENT_ID_ATTRIBUTE, None)
    if already_captured is not None:
        return already_captured
    event, hint = event_from_exception(
        error, client_options=client.options, mechanism={"type": "fastapi", "handled": False}
    )
    event_id = sentry_sdk.capture_event(event, hint=hint)
    remember_event_id(error, event_id)
    return event_id


async def unhandled_error_response(request: Request, error: Exception) -> JSONResponse:
    """The body of every 500: an `error_id` the user can quote, which is the Sentry event id."""
    error_id = capture_unhandled(error) or uuid.uuid4().hex
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        # This response leaves after the Sentry middleware has returned: the server's access
        # line for it reads the request id from here.
        request_id_var.set(request_id)
    unhandled_logger.error(
        "Unhandled error on %s %s",
        request.method,
        request.url.path,
        exc_info=error,
        extra={"error_id": error_id, "request_id": request_id},
    )
    # Starlette re-raises the error once this response is sent, and the server then drops the
    # connection: say so, or a client reusing it loses its next request.
    headers = {"Connection": "close"}
    if request_id:
        headers[REQUEST_ID_HEADER] = request_id
    return JSONResponse(
        {"detail": "Internal server error", "error_id": error_id},
        status_code=500,
        headers=headers,
    )


def capture_handled(
    error: BaseException,
    *,
    fingerprint: Sequence[str],
    message: str,
    **fields: Any,
) -> str | None:
    """Report an error the app recovered from, grouped by `fingerprint`, and log a warning.

    Group by what failed and how (provider and error kind), never by the message text,
    which often carries ids and makes every occurrence a new issue.
    """
    with sentry_sdk.new_scope() as scope:
        scope.fingerprint = ["handled", *fingerprint]
        scope.set_context("recovery", fields)
        event_id = sentry_sdk.capture_exception(error)
    logger.warning(message, extra={**fields, "error": repr(error), "error_id": event_id})
    return event_id
