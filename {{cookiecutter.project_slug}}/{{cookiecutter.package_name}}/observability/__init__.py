"""Error tracking and logs for the service, with no imports from the rest of the app.

Copy this folder into another service, then call `init_sentry(SentryOptions(...))` first thing
in its entry module, and add `SentryContextMiddleware` and `unhandled_error_response` to its app.
"""

from .context import bind_user
from .errors import capture_handled, unhandled_error_response
from .logging import configure_logging
from .middleware import REQUEST_ID_HEADER, SentryContextMiddleware, current_request_id
from .outages import record_failure, record_success
from .probes import UninstrumentedProbes
from .sentry import SentryOptions, enable_asyncio_tracking, flush_sentry, init_sentry

__all__ = [
    "REQUEST_ID_HEADER",
    "SentryContextMiddleware",
    "SentryOptions",
    "UninstrumentedProbes",
    "bind_user",
    "capture_handled",
    "configure_logging",
    "current_request_id",
    "enable_asyncio_tracking",
    "flush_sentry",
    "init_sentry",
    "record_failure",
    "record_success",
    "unhandled_error_response",
]
