"""Error tracking and logs for the service, with no imports from the rest of the app.

To use it in another service, see README.md in this folder: `init_sentry(SentryOptions(...))`
first thing in the entry module, then `instrument_app(app, identify_user=...)`.
"""

from .context import bind_user
from .errors import capture_handled, unhandled_error_response
from .logging import configure_logging, terminal_only_logger
from .middleware import REQUEST_ID_HEADER, SentryContextMiddleware, current_request_id
from .outages import record_failure, record_success
from .probes import UninstrumentedProbes
from .sentry import SentryOptions, enable_asyncio_tracking, flush_sentry, init_sentry
from .wiring import instrument_app, with_sentry_hooks

# The version of this package, for a service that copied it (CHANGELOG.md says what changed).
__version__ = "1.0.0"

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
    "instrument_app",
    "record_failure",
    "record_success",
    "terminal_only_logger",
    "unhandled_error_response",
    "with_sentry_hooks",
]
