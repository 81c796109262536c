"""Health probes served without the SDK's per-request instrumentation.

Load balancers and orchestrators call probes several times a second. They are never traced,
yet the ASGI integration would still open a scope, decide on a transaction and read the request
for each one, which costs more than the probe itself.
"""

from collections.abc import Collection

import sentry_sdk
from sentry_sdk.integrations import asgi as sentry_asgi
from starlette.types import ASGIApp, Receive, Scope, Send

# The SDK's own marker for "a Sentry ASGI middleware already handles this request": with it set,
# the integration passes the request straight to the app. Absent in another SDK version, probes
# are instrumented like every other request, and nothing else changes.
_ALREADY_INSTRUMENTED = getattr(sentry_asgi, "_asgi_middleware_applied", None)


class UninstrumentedProbes:
    """Pass `GET`/`HEAD` requests for `paths` to `app` outside of Sentry's request handling.

    Wrap the finished application, outermost: `UninstrumentedProbes(app, paths={"/health"})`.
    An error in a probe is still reported by the app's own error handler, in a scope of its own.
    """

    def __init__(self, app: ASGIApp, *, paths: Collection[str]) -> None:
        self.app = app
        self.paths = frozenset(paths)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            _ALREADY_INSTRUMENTED is None
            or scope["type"] != "http"
            or scope["path"] not in self.paths
            or scope["method"] not in ("GET", "HEAD")
        ):
            await self.app(scope, receive, send)
            return
        reset_token = _ALREADY_INSTRUMENTED.set(True)
        try:
            with sentry_sdk.isolation_scope():
                await self.app(scope, receive, send)
        finally:
            _ALREADY_INSTRUMENTED.reset(reset_token)
