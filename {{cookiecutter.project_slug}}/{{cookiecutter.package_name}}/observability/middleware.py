"""Per-request Sentry context, as a pure ASGI middleware.

Pure ASGI rather than `@app.middleware("http")`: Starlette's `BaseHTTPMiddleware` runs the
route in another task, and what the route adds to the scope is then missing from its errors.
"""

import os
import re
from collections.abc import Callable, Mapping
from contextvars import ContextVar

import sentry_sdk
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[\w\-.:]{8,128}$")
_API_VERSION = re.compile(r"^/api/(v\d+)(/|$)")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
# The user as given to Sentry, for what the SDK does not fill in itself (Sentry log records).
sentry_user_var: ContextVar[dict[str, str] | None] = ContextVar("sentry_user", default=None)

# Takes the request's headers (case-insensitive), returns the user id of credentials that
# verify, else None. `identity.py` has one for each common scheme.
IdentifyUser = Callable[[Mapping[str, str]], str | int | None]


def current_request_id() -> str | None:
    return request_id_var.get()


def current_sentry_user() -> dict[str, str] | None:
    return sentry_user_var.get()


class SentryContextMiddleware:
    """Tags every request with its id and API version, identifies the user, leaves a breadcrumb.

    The user id comes only from `identify_user`, which must verify the credentials: an
    unverified header would let any client speak for any user. Add it last, so that it is the
    outermost middleware and every other one runs inside the request's context.
    """

    def __init__(self, app: ASGIApp, *, identify_user: IdentifyUser | None = None) -> None:
        self.app = app
        self.identify_user = identify_user

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        headers = Headers(scope=scope)
        incoming_id = headers.get(REQUEST_ID_HEADER, "")
        request_id = incoming_id if _VALID_REQUEST_ID.match(incoming_id) else os.urandom(16).hex()
        scope.setdefault("state", {})["request_id"] = request_id
        reset_token = request_id_var.set(request_id)

        # Without a client nothing is sent: the scope is left alone (the SDK would log a line
        # for every breadcrumb it drops).
        user_token = None
        if sentry_sdk.get_client().is_active():
            user = self._describe_request(scope, headers, request_id)
            user_token = sentry_user_var.set(user)

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            request_id_var.reset(reset_token)
            if user_token is not None:
                sentry_user_var.reset(user_token)

    def _describe_request(
        self, scope: Scope, headers: Headers, request_id: str
    ) -> dict[str, str] | None:
        """Tag the request and set its user; returns the user given to Sentry."""
        sentry_sdk.set_tag("request_id", request_id)
        if version := _API_VERSION.match(scope["path"]):
            sentry_sdk.set_tag("api_version", version.group(1))
        user_id = self.identify_user(headers) if self.identify_user is not None else None
        user = {"id": str(user_id)} if user_id is not None else None
        sentry_sdk.set_user(user)
        sentry_sdk.add_breadcrumb(
            category="request",
            message=f"{scope['method']} {scope['path']}",
            level="info",
            data={"request_id": request_id},
        )
        return user
