"""Headers that tell browsers to treat every response as data, never as a page to embed."""

from collections.abc import Collection

from starlette.types import ASGIApp, Message, Receive, Scope, Send

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cache-Control": "no-store",
}
# The API returns JSON only; the interactive docs page needs its scripts, so it is exempt.
CONTENT_SECURITY_POLICY = "default-src 'none'; frame-ancestors 'none'"
STRICT_TRANSPORT_SECURITY = "max-age=63072000; includeSubDomains"


class SecurityHeadersMiddleware:
    """Add the security headers to every response that does not set its own."""

    def __init__(self, app: ASGIApp, *, https_only: bool, docs_paths: Collection[str] = ()) -> None:
        self.app = app
        self.docs_paths = frozenset(docs_paths)
        # Encoded once: MutableHeaders would encode and search the header list for each one.
        defaults = dict(SECURITY_HEADERS)
        if https_only:
            defaults["Strict-Transport-Security"] = STRICT_TRANSPORT_SECURITY
        self._headers = _encoded(defaults)
        self._csp = _encoded({"Content-Security-Policy": CONTENT_SECURITY_POLICY})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = self._headers if scope["path"] in self.docs_paths else self._headers + self._csp

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = message["headers"] = list(message.get("headers", ()))
                present = {name.lower() for name, _ in headers}
                headers.extend(header for header in added if header[0] not in present)
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _encoded(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    return [
        (name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()
    ]
