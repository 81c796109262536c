"""ASGI entry point: `uvicorn {{ cookiecutter.package_name }}.main:app`.

Error tracking starts before the application is imported, so that everything imported after
it, and every error from then on, is seen.
"""

from {{ cookiecutter.package_name }}.core.config import get_settings
from {{ cookiecutter.package_name }}.observability import (
    UninstrumentedProbes,
    configure_logging,
    init_sentry,
)

settings = get_settings()
sentry_options = settings.sentry_options()
init_sentry(sentry_options)
configure_logging(json_lines=settings.logs_as_json, level=settings.log_level)

from {{ cookiecutter.package_name }}.app import create_app  # noqa: E402 - after Sentry, on purpose
from {{ cookiecutter.package_name }}.core.middleware.concurrency import (  # noqa: E402
    ConcurrencyLimitMiddleware,
)
from {{ cookiecutter.package_name }}.core.middleware.request_body import RequestBodyMiddleware  # noqa: E402

PROBES = sentry_options.untraced_paths
api = create_app(settings)
# Outermost, each body is read within its size and time limits, before the request counts
# against the concurrency limit; then an overloaded process refuses the excess before doing
# anything else for it.
app = RequestBodyMiddleware(
    ConcurrencyLimitMiddleware(
        UninstrumentedProbes(api, paths=PROBES),
        workload=api.state.workload,
        exempt_paths=PROBES,
    ),
    max_bytes=settings.max_request_body_bytes,
    timeout_seconds=settings.request_body_timeout_seconds,
    max_buffered_bytes=settings.max_buffered_body_bytes,
)
