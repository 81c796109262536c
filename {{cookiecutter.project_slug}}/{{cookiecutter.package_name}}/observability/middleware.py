"""Per-request Sentry context, as a pure ASGI middleware.

Pure ASGI rather than `@app.middleware("http")`: Starlette's `BaseHTTPMiddleware` runs the
route in another task, and what the route adds to the scope is then missing from its errors.
"""

import os
import re
from collections.abc import Callable
from contextvars import ContextVar

import sentry_sdk
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "X-Request-ID"
_VALID_REQUEST_ID = re.compile(r"^[\w\-.:]{8,128}$")
_API_VERSION = re.compile(r"^/api/(v\d+)(/|$)")

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)

# Takes the Authorization header, returns the user id of a token that verifies, else None.
IdentifyUser = Callable[[str], str | int | None]


def current_request_id() -> str | None:
    return request_id_var.get()


class SentryContextMiddleware:
    """Tags every request with its id and API version, identifies the user, leaves a breadcrumb.

    The user id comes only from `identify_user`, which must verify the token: an unverified
    header would let any client speak for any user.
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
        if sentry_sdk.get_client().is_active():
            self._describe_request(scope, headers, request_id)

        async def send_with_request_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                MutableHeaders(scope=message)[REQUEST_ID_HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_request_id)
        finally:
            request_id_var.reset(reset_token)

    def _describe_request(self, scope: Scope, headers: Headers, request_id: str) -> None:
        sentry_sdk.set_tag("request_id", request_id)
        if version := _API_VERSION.match(scope["path"]):
            sentry_sdk.set_tag("api_version", version.group(1))
        user_id = self._identify(headers.get("authorization"))
        sentry_sdk.set_user({"id": str(user_id)} if user_id is not None else None)
        sentry_sdk.add_breadcrumb(
            category="request",
            message=f"{scope['method']} {scope['path']}",
            level="info",
            data={"request_id": request_id},
        )

    def _identify(self, authorization: str | None) -> str | int | None:
        if self.identify_user is None or not authorization:
            return None
        return self.identify_user(authorization)
